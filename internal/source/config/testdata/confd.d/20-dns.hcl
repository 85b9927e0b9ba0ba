virtual_server "dns" {
  address  = "10.0.0.2:53"
  protocol = "udp"
  real_server "ns1" {
    address = "192.168.10.100"
  }
}
