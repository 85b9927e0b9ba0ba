drain_timeout = "1m"
virtual_server "web" {
  address = "10.0.0.2:80"
}
