# Health-checked LVS-NAT web service: lvsctl check probes each real server over
# HTTP and keeps the failing ones out of rotation.
#
# Check it:   lvsctl validate -f examples/check-http.hcl
# Run it:     lvsctl check -f examples/check-http.hcl --metrics 127.0.0.1:9276
#
# real1 and real2 are probed every 2 seconds with GET /health. Two failures in a
# row (fall) quiesce a real server: its weight drops to 0, so no new connections
# go to it while the established ones finish. Three passes in a row (rise) put it
# back at its weight. While neither is healthy the sorry server, a static "we'll
# be right back" page, stands in; it leaves when one of them comes back.
#
# The same table by hand, with both healthy:
#   ipvsadm -A -t 10.0.0.2:80 -s wlc
#   ipvsadm -a -t 10.0.0.2:80 -r 192.168.10.100:80 -m -w 3
#   ipvsadm -a -t 10.0.0.2:80 -r 192.168.10.101:80 -m -w 1

virtual_server "web" {
  address      = "10.0.0.2:80"
  protocol     = "tcp"
  scheduler    = "wlc"
  forwarding   = "nat"
  sorry_server = "192.168.10.200:80"

  health_check {
    type       = "http"
    method     = "GET"
    path       = "/health"
    host       = "www.example.com" # the Host header the application expects
    status     = [200]
    body_regex = "^ok"
    interval   = "2s"
    timeout    = "1s"
    fall       = 2
    rise       = 3
    on_failure = "quiesce"
  }

  real_server "real1" {
    address = "192.168.10.100:80"
    weight  = 3
  }

  real_server "real2" {
    address = "192.168.10.101:80"
    weight  = 1
    # real2 answers its health check on a management port.
    health_check {
      port = 8081
      path = "/ready"
    }
  }
}
