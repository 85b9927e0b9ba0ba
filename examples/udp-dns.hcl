# DNS over UDP and TCP. A UDP "connection" in IPVS is a flow that lives for
# the UDP timeout (300s by default), so a resolver that sends thousands of
# queries from one port would stick to one server. One-packet scheduling
# (ipvsadm -o) schedules every datagram on its own and keeps no entry: the
# right choice for DNS, syslog and similar request/response protocols.

timeouts {
  udp = "30s" # forget finished UDP flows sooner (ipvsadm --set 0 0 30)
}

virtual_server "dns-udp" {
  address    = "10.0.0.53:53"
  protocol   = "udp"
  scheduler  = "rr"
  forwarding = "dr"
  one_packet = true

  real_server "ns1" {
    address = "10.0.0.61"
  }
  real_server "ns2" {
    address = "10.0.0.62"
  }
}

# Large answers and zone transfers fall back to TCP: the same servers.
virtual_server "dns-tcp" {
  address    = "10.0.0.53:53"
  protocol   = "tcp"
  scheduler  = "lc"
  forwarding = "dr"

  real_server "ns1" {
    address = "10.0.0.61"
  }
  real_server "ns2" {
    address = "10.0.0.62"
  }
}
