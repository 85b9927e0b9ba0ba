# What keepalived's checkers do, in lvsctl: url digests (HTTP_GET/SSL_GET),
# SMTP_CHECK, MISC_CHECK with misc_dynamic, alpha, inhibit_on_failure and a
# quorum with hysteresis.
#
# Check it:   lvsctl validate -f examples/check-keepalived.hcl
# Run it:     lvsctl check -f examples/check-keepalived.hcl
#
# web: every url must pass. "/" must hash (MD5 of the body, as keepalived's
# genhash or md5sum prints it) to the digest; "/health" must answer 200 or 204.
# alpha: a real server starts out of the table and enters after rise passes.
# The quorum is a sum of weights: with 3 + 3 + 2, losing real1 and real2 (2 < 5 - 1)
# loses it, and the sorry server alone serves until the healthy weights reach
# 5 + 1 again. real3 (inhibit_on_failure) stays at weight 0 when it fails.
#
# mail: a 220 greeting, HELO answered 250, QUIT; real server m2's weight is what
# its program says (exit 0: up, the weight left as it is; 1: down; 2 to 255: weight status - 2).

virtual_server "web" {
  address      = "10.0.0.2:443"
  forwarding   = "dr"
  sorry_server = "192.168.10.200:443"
  quorum       = 5
  hysteresis   = 1

  health_check {
    type       = "https"
    host       = "www.example.com"
    tls_verify = false
    interval   = "6s"
    timeout    = "3s"
    fall       = 2
    rise       = 2
    alpha      = true
    url {
      path   = "/"
      digest = "9b3a0c85a887a256d6939da88aabd8cd"
    }
    url {
      path   = "/health"
      status = [200, 204]
    }
  }
  real_server "real1" {
    address = "192.168.10.100"
    weight  = 3
  }
  real_server "real2" {
    address = "192.168.10.101"
    weight  = 3
  }
  real_server "real3" {
    address = "192.168.10.102"
    weight  = 2
    health_check {
      on_failure = "quiesce" # keepalived's inhibit_on_failure
    }
  }
}

virtual_server "mail" {
  address = "10.0.0.2:25"

  health_check {
    type      = "smtp"
    helo_name = "director.example.com"
    interval  = "10s"
  }
  real_server "m1" {
    address = "192.168.10.110"
  }
  real_server "m2" {
    address = "192.168.10.111"
    weight  = 10
    health_check {
      type    = "exec"
      program = "/usr/local/lib/lvsctl/mail-load %h %p"
      dynamic = true
      timeout = "5s"
    }
  }
}
