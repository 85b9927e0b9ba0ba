virtual_server "web" {
  address   = "10.0.0.2:80"
  scheduler = "fastest"
  real_server "real1" {
    address = "192.168.10.100:80"
  }
  real_server "real2" {
    weight  = 70000
    address = "192.168.10.101:80"
  }
}

virtual_server "mark" {
  fwmark   = 0
  protocol = "tcp"
  prtocol  = "udp"
}
