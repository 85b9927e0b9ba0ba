# The LVS-NAT HOWTO layout, with the real servers written out of order:
# the table comes out sorted.
virtual_server "web" {
  address    = "10.0.0.2:80"
  protocol   = "tcp"
  scheduler  = "wlc"
  forwarding = "nat"
  persistence {
    timeout = "6m"
    netmask = "255.255.255.0"
  }
  real_server "real2" {
    address = "192.168.10.101:80"
    weight  = 2
  }
  real_server "real1" {
    address = "192.168.10.100:8080"
  }
}
