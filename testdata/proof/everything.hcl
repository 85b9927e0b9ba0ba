# Every feature the kernel keeps, for TestKernelEverything: every protocol,
# both families, fwmarks, every scheduler of kernel 6.1 (twos, added in 6.2,
# is the fault case of TestKernelFaults), persistence with netmasks,
# scheduler flags, one-packet scheduling, the SIP persistence engine, all
# three forwarding methods, every tunnel type, weights, thresholds and the
# connection timeouts. everything.ipvsadm is what ipvsadm -S -n must print
# after lvsctl apply.

timeouts {
  tcp     = "1h"
  tcp_fin = "1m"
  udp     = "2m"
}

virtual_server "web" {
  address   = "10.0.0.2:80"
  scheduler = "wlc"

  real_server "full" {
    address         = "192.168.10.100:8080"
    weight          = 65535
    upper_threshold = 1000
    lower_threshold = 750
  }
  real_server "idle" {
    address = "192.168.10.101:8080"
    weight  = 0
  }
  real_server "capped" {
    address         = "192.168.10.102:8080"
    upper_threshold = 50
  }
}

virtual_server "https" {
  address         = "10.0.0.2:443"
  scheduler       = "sh"
  scheduler_flags = ["sh-fallback", "sh-port"]
  forwarding      = "dr"

  persistence {
    timeout = "6m"
    netmask = "255.255.255.0"
  }

  real_server "a" {
    address = "192.168.10.100"
    weight  = 3
  }
  real_server "b" {
    address = "192.168.10.101"
  }
}

virtual_server "dns" {
  address    = "10.0.0.3:53"
  protocol   = "udp"
  scheduler  = "rr"
  one_packet = true
  forwarding = "tun"

  real_server "ipip" {
    address = "172.16.1.20"
  }
  real_server "gue" {
    address = "172.16.1.21"
    weight  = 2
    tunnel {
      type     = "gue"
      port     = 6080
      checksum = "remcsum"
    }
  }
  real_server "gre" {
    address = "172.16.1.22"
    tunnel {
      type     = "gre"
      checksum = "csum"
    }
  }
  real_server "gue-csum" {
    address = "172.16.1.23"
    tunnel {
      type     = "gue"
      port     = 5555
      checksum = "csum"
    }
  }
}

virtual_server "sip" {
  address         = "10.0.0.4:5060"
  protocol        = "udp"
  scheduler       = "mh"
  scheduler_flags = ["mh-fallback", "mh-port"]
  pe              = "sip"
  forwarding      = "dr"

  persistence {
    timeout = 900
  }

  real_server "pbx1" {
    address = "192.168.10.110"
  }
  real_server "pbx2" {
    address = "192.168.10.111"
  }
}

virtual_server "diameter" {
  address   = "10.0.0.5:3868"
  protocol  = "sctp"
  scheduler = "wrr"

  real_server "d1" {
    address = "192.168.10.120:3868"
    weight  = 10
  }
  real_server "d2" {
    address = "192.168.10.121:3869"
    weight  = 5
  }
}

virtual_server "all-ports" {
  address    = "10.0.0.6:0"
  scheduler  = "lc"
  forwarding = "dr"

  persistence {
    timeout = "1h"
    netmask = "255.255.0.0"
  }

  real_server "gw" {
    address = "192.168.10.130"
  }
}

virtual_server "mail" {
  address   = "10.0.0.7:25"
  scheduler = "fo"

  real_server "primary" {
    address = "192.168.10.140:25"
    weight  = 100
  }
  real_server "backup" {
    address = "192.168.10.141:25"
  }
}

virtual_server "overflow" {
  address   = "10.0.0.8:8080"
  scheduler = "ovf"

  real_server "first" {
    address = "192.168.10.150:8080"
    weight  = 20
  }
}

virtual_server "web6" {
  address   = "[2001:db8::2]:80"
  scheduler = "lblc"

  persistence {
    timeout = 300
    netmask = 64
  }

  real_server "a" {
    address = "[2001:db8:1::10]:8080"
    weight  = 2
  }
  real_server "b" {
    address    = "[2001:db8:1::11]:80"
    forwarding = "dr"
  }
}

virtual_server "dns6" {
  address    = "[2001:db8::3]:53"
  protocol   = "udp"
  scheduler  = "lblcr"
  forwarding = "dr"

  real_server "ns1" {
    address = "[2001:db8:1::53]"
  }
}

virtual_server "diameter6" {
  address   = "[2001:db8::4]:3868"
  protocol  = "sctp"
  scheduler = "dh"

  real_server "d1" {
    address = "[2001:db8:1::41]:3868"
  }
}

virtual_server "mark" {
  fwmark     = 100
  family     = "ipv4"
  scheduler  = "sed"
  forwarding = "dr"
  one_packet = true

  persistence {
    timeout = 400
    netmask = "255.255.255.0"
  }

  real_server "cache1" {
    address = "192.168.10.160"
  }
  real_server "cache2" {
    address    = "192.168.10.161:80"
    forwarding = "nat"
  }
}

virtual_server "mark6" {
  fwmark     = 101
  family     = "ipv6"
  scheduler  = "nq"
  forwarding = "dr"

  persistence {
    netmask = 48
  }

  real_server "cache1" {
    address = "2001:db8:1::60"
  }
}
