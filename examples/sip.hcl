# SIP with the SIP persistence engine (ip_vs_pe_sip): persistence follows the
# Call-ID header of each SIP message instead of the client address, so all
# messages of one call reach the same proxy even when they come from
# different addresses or through a NAT that many phones share.
#
# The engine needs a persistent service; the timeout is how long a call's
# affinity lasts after its last message.

virtual_server "sip" {
  address    = "10.0.0.2:5060"
  protocol   = "udp"
  scheduler  = "wlc"
  forwarding = "nat"
  pe         = "sip"

  persistence {
    timeout = "15m"
  }

  real_server "proxy1" {
    address = "192.168.10.110:5060"
  }
  real_server "proxy2" {
    address = "192.168.10.111:5060"
  }
}
