drain_timeout = "2m"

timeouts {
  tcp     = "15m"
  tcp_fin = 120
}

ignore {
  addresses = ["10.96.0.1/12", "10.0.0.99", "2001:db8:ffff::/48"]
  fwmarks   = [4096, 16384]
  ports     = [6443]
}

# Declared before the address services: the table sorts fwmark services last.
virtual_server "web-v6-mark" {
  fwmark          = 2
  family          = "ipv6"
  scheduler       = "mh"
  scheduler_flags = ["mh-port", "mh-fallback"]
  persistence {
    netmask = 64
  }
  real_server "a" {
    address = "[2001:db8::10]"
  }
}

virtual_server "web-mark" {
  fwmark     = 1
  forwarding = "dr"
  one_packet = true
  persistence {}
  real_server "a" {
    address = "192.168.10.100"
  }
  real_server "b" {
    address = "192.168.10.101:0"
    weight  = 0
  }
}

virtual_server "dns" {
  address         = "10.0.0.2:53"
  protocol        = "udp"
  scheduler       = "sh"
  scheduler_flags = ["sh-fallback", "flag-3"]
  one_packet      = true
  real_server "ns1" {
    address         = "192.168.10.100:5353"
    upper_threshold = 1000
    lower_threshold = 800
  }
}

virtual_server "sip" {
  address  = "[::ffff:10.0.0.2]:5060"
  protocol = "sctp"
  pe       = "sip"
  persistence {
    timeout = 30
    netmask = "/24"
  }
  real_server "pbx" {
    address = "192.168.10.100"
  }
}

virtual_server "all-ports" {
  address = "10.0.0.3:0"
  persistence {
    timeout = "1h"
  }
  real_server "a" {
    address    = "192.168.10.100"
    forwarding = "dr"
  }
}

virtual_server "v6" {
  address   = "[2001:db8::2]:443"
  scheduler = "twos"
  real_server "a" {
    address = "[2001:db8::10]:8443"
  }
  real_server "b" {
    address = "2001:db8::11"
  }
}
