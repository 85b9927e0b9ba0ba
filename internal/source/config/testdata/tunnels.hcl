virtual_server "tun" {
  address    = "10.0.0.2:80"
  forwarding = "tun"
  real_server "ipip" {
    address = "192.168.10.100"
  }
  real_server "ipip-explicit" {
    address = "192.168.10.101:80"
    tunnel {
      type     = "ipip"
      checksum = "nocsum"
    }
  }
  real_server "gue" {
    address = "192.168.10.102"
    tunnel {
      type     = "gue"
      port     = 6080
      checksum = "remcsum"
    }
  }
  real_server "gre" {
    address = "192.168.10.103"
    tunnel {
      type     = "gre"
      checksum = "csum"
    }
  }
  real_server "v6-over-tun" {
    address = "[2001:db8::10]:80"
  }
  real_server "nat-override" {
    address    = "192.168.10.104:8080"
    forwarding = "masq"
  }
}
