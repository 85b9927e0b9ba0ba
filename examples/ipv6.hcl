# IPv6 virtual services. Write IPv6 addresses with a port in brackets, as
# "[2001:db8::2]:80"; a real server's port may be left out (then it is the
# virtual port), and then the brackets are optional.

virtual_server "web6" {
  address    = "[2001:db8::2]:80"
  scheduler  = "rr"
  forwarding = "dr"

  persistence {
    timeout = "5m"
    # IPv6 persistence granularity is a prefix length: clients in the same
    # /64 (one household or office) stick to one real server.
    netmask = 64
  }

  real_server "web1" {
    address = "2001:db8::11"
  }
  real_server "web2" {
    address = "[2001:db8::12]:80"
  }
}

# NAT works for IPv6 too; the real servers route through the director.
virtual_server "api6" {
  address    = "[2001:db8::2]:443"
  scheduler  = "sed" # shortest expected delay
  forwarding = "nat"

  real_server "api1" {
    address = "[fd00:10::21]:8443"
    weight  = 3
  }
  real_server "api2" {
    address = "[fd00:10::22]:8443"
    weight  = 1
  }
}

# An IPv6 firewall-mark service (ip6tables -t mangle ... -j MARK --set-mark 6).
virtual_server "mail6" {
  fwmark = 6
  family = "ipv6"

  persistence {
    netmask = 48
  }

  real_server "mx1" {
    address = "2001:db8::31"
  }
}
