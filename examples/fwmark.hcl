# Firewall-mark service: one virtual service for HTTP and HTTPS together, so
# that a client's plain and TLS connections, both persistent, reach the same
# real server (a shopping site that moves from http to https at checkout).
#
# Mark the packets on the director first, for example with nftables:
#
#   table ip lvs {
#     chain pre {
#       type filter hook prerouting priority mangle;
#       ip daddr 10.0.0.2 tcp dport { 80, 443 } meta mark set 100
#     }
#   }
#
# or with iptables:
#   iptables -t mangle -A PREROUTING -d 10.0.0.2 -p tcp -m multiport \
#     --dports 80,443 -j MARK --set-mark 100
#
# A fwmark service has no address, port or protocol of its own: the firewall
# rule decides which packets belong to it. The real servers keep each
# packet's destination port, so they carry no port here.

virtual_server "shop" {
  fwmark     = 100
  family     = "ipv4" # the default; "ipv6" for ip6tables/nftables ip6 marks
  scheduler  = "wlc"
  forwarding = "dr"

  persistence {
    timeout = "30m"
    # Clients behind the same /24 (a proxy farm) share one real server.
    netmask = "255.255.255.0"
  }

  real_server "shop1" {
    address = "10.0.0.21"
  }
  real_server "shop2" {
    address = "10.0.0.22"
  }
}
