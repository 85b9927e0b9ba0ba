# The table of foreign.ipvsadm (written for ipvsadm -R in its own style:
# long options, defaults left out, real servers without ports) as lvsctl's
# configuration. TestKernelForeignWriter loads the one with ipvsadm and
# expects lvsctl plan with the other to find nothing to do.

virtual_server "dns" {
  address         = "10.0.0.2:53"
  protocol        = "udp"
  scheduler       = "sh"
  scheduler_flags = ["sh-port"]
  one_packet      = true

  real_server "ns1" {
    address    = "192.168.10.100:53"
    forwarding = "dr"
  }
  real_server "far" {
    address    = "172.16.1.20:53"
    forwarding = "tun"
    tunnel {
      type     = "gue"
      port     = 6080
      checksum = "csum"
    }
  }
}

virtual_server "web" {
  address   = "10.0.0.2:80"
  scheduler = "rr"

  persistence {
    timeout = "10m"
    netmask = 24
  }

  real_server "real1" {
    address = "192.168.10.100"
  }
  real_server "real2" {
    address = "192.168.10.101:80"
    weight  = 3
  }
}

virtual_server "smtp" {
  address = "10.0.0.3:25"
}

virtual_server "mark" {
  fwmark    = 7
  scheduler = "wrr"

  real_server "cache" {
    address         = "192.168.10.100"
    forwarding      = "dr"
    weight          = 2
    upper_threshold = 100
    lower_threshold = 50
  }
}

virtual_server "v6" {
  address   = "[2001:db8::2]:443"
  scheduler = "rr"
  forwarding = "dr"

  persistence {
    timeout = "6m"
    netmask = 64
  }

  real_server "a" {
    address = "[2001:db8:1::10]:443"
  }
}
