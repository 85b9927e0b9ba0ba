# Every setting lvsctl knows, each at least once. A reference, not a
# recommendation: copy the parts you need.

# Removing or replacing a real server drains it: weight 0 at once, then
# deleted when its connections reach zero or after this long. "0s" or
# leaving it out deletes at once.
drain_timeout = "5m"

# The kernel's connection timeouts (ipvsadm --set tcp tcpfin udp). An
# omitted field is left as it is.
timeouts {
  tcp     = "15m"
  tcp_fin = "2m"
  udp     = "5m"
}

# Services lvsctl never creates, changes or deletes: other tools own them.
ignore {
  addresses = ["10.96.0.0/12", "10.0.0.99"] # kube-proxy's cluster IPs, a hand-made VIP
  fwmarks   = [4096]
  ports     = [6443]
}

virtual_server "web" {
  address         = "10.0.0.2:80"
  protocol        = "tcp" # tcp | udp | sctp
  scheduler       = "sh"  # rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh twos
  scheduler_flags = ["sh-fallback", "sh-port"]
  forwarding      = "nat" # nat | dr | tun: default for the real servers below

  persistence {
    timeout = "360s"          # "6m", or a number of seconds
    netmask = "255.255.255.0" # or 24
  }

  real_server "real1" {
    address         = "192.168.10.100:80"
    weight          = 1 # 0..65535, 0 = no new connections
    upper_threshold = 1000
    lower_threshold = 800
  }

  real_server "real2" {
    address    = "192.168.10.101" # port: the virtual port
    forwarding = "dr"             # overrides the virtual server's
    weight     = 2
  }

  real_server "real3" {
    address    = "172.16.1.10"
    forwarding = "tun"
    tunnel {
      type     = "gue"  # ipip (default) | gue | gre
      port     = 6080   # gue only, required there
      checksum = "csum" # nocsum (default) | csum | remcsum (gue only)
    }
  }
}

virtual_server "sip" {
  address         = "10.0.0.2:5060"
  protocol        = "udp"
  scheduler       = "mh"
  scheduler_flags = ["mh-fallback", "mh-port"]
  one_packet      = true
  pe              = "sip"

  persistence {
    timeout = 900
  }

  real_server "pbx1" {
    address = "192.168.10.110:5060"
  }
}

virtual_server "sctp" {
  address         = "[2001:db8::2]:3868"
  protocol        = "sctp"
  scheduler       = "fo" # weighted failover: always the highest-weight server
  scheduler_flags = ["flag-3"]

  real_server "diameter1" {
    address = "[2001:db8::41]:3868"
    weight  = 10
  }
  real_server "diameter2" {
    address = "2001:db8::42"
    weight  = 5
  }
}

virtual_server "mark" {
  fwmark     = 100
  family     = "ipv4"
  scheduler  = "lblcr"
  forwarding = "dr"
  one_packet = false

  persistence {
    netmask = 24
  }

  real_server "cache1" {
    address = "10.0.0.21"
  }
}

virtual_server "all-ports" {
  # Port 0: every port of the VIP. It needs persistence.
  address    = "10.0.0.3:0"
  forwarding = "dr"

  persistence {
    timeout = "1h"
  }

  real_server "gw1" {
    address = "10.0.0.31"
  }
}

virtual_server "tunnels" {
  address    = "10.0.0.4:443"
  scheduler  = "ovf" # weighted overflow
  forwarding = "tun"

  real_server "ipip" {
    address = "172.16.1.20"
  }
  real_server "gre" {
    address = "172.16.1.21"
    tunnel {
      type     = "gre"
      checksum = "nocsum"
    }
  }
  real_server "gue-remcsum" {
    address = "172.16.1.22"
    tunnel {
      type     = "gue"
      port     = 6080
      checksum = "remcsum"
    }
  }
}
