# Health checks beyond HTTP: a conversation over TCP (send/expect, as piranha's
# nanny did), a DNS query, and an external program.
#
# Check it:   lvsctl validate -f examples/check-send-expect.hcl
# Run it:     lvsctl check -f examples/check-send-expect.hcl
#
# Failing real servers are removed (the default on_failure); they come back
# after two passes in a row.

# SMTP: connect, wait for the greeting, say QUIT. The greeting must start with
# "220"; anything else (or no answer within the timeout) is a failure.
virtual_server "smtp" {
  address    = "10.0.0.2:25"
  protocol   = "tcp"
  scheduler  = "rr"
  forwarding = "nat"

  health_check {
    type     = "send_expect"
    send     = "QUIT\r\n"
    expect   = "220"
    interval = "5s"
    timeout  = "3s"
    rise     = 2
  }

  real_server "mx1" {
    address = "192.168.10.110:25"
  }
  real_server "mx2" {
    address = "192.168.10.111:25"
  }
}

# DNS over UDP: ask for the zone's SOA; NOERROR with an answer passes.
virtual_server "dns" {
  address    = "10.0.0.2:53"
  protocol   = "udp"
  scheduler  = "rr"
  forwarding = "nat"

  health_check {
    type       = "dns"
    query_name = "example.com"
    query_type = "SOA"
    interval   = "5s"
    timeout    = "2s"
    rise       = 2
  }

  real_server "ns1" {
    address = "192.168.10.120:53"
  }
  real_server "ns2" {
    address = "192.168.10.121:53"
  }
}

# Anything else: an external program decides by its exit status. It runs
# without a shell; %h and %p become the real server's address and port, each
# inside its own argument, so an address can never become a command.
virtual_server "imap" {
  address    = "10.0.0.2:143"
  protocol   = "tcp"
  scheduler  = "wlc"
  forwarding = "nat"

  health_check {
    type     = "exec"
    program  = "/usr/local/lib/lvsctl/check-imap --host %h --port %p"
    interval = "10s"
    timeout  = "5s"
    rise     = 2
  }

  real_server "imap1" {
    address = "192.168.10.130:143"
  }
  real_server "imap2" {
    address = "192.168.10.131:143"
  }
}
