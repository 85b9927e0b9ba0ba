# Real servers with several health checks, each merged over the virtual
# server's: every one must pass.
virtual_server "web" {
  address = "10.0.0.2:80"
  health_check {
    type     = "tcp"
    interval = "2s"
  }
  real_server "a" {
    address = "192.168.10.100"
    health_check {}
    health_check {
      type = "http"
      port = 8080
      rise = 2
      url {
        path   = "/health"
        status = [200]
      }
    }
  }
  real_server "b" {
    address = "192.168.10.101"
    health_check {
      type       = "exec"
      program    = "/usr/local/bin/check %h %p"
      on_failure = "quiesce"
    }
    health_check {
      port       = 8443
      on_failure = "quiesce"
    }
  }
  real_server "c" {
    address = "192.168.10.102"
  }
}
