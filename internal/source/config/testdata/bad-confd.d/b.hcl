drain_timeout = "2m"
virtual_server "web" {
  address = "10.0.0.2:80"
}
