# Only what is required: every default comes from the parser and Normalize.
virtual_server "web" {
  address = "10.0.0.2:80"
  real_server "real1" {
    address = "192.168.10.100"
  }
}
