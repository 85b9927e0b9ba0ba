# Converted from piranha-nat.cf by lvsctl convert.
# A piranha lvs.cf for the LVS-NAT four-host layout of the LVS HOWTO
# (the same table as nat-four-host.hcl), as piranha's GUI wrote them.
#
#                     client
#                        |
#              VIP 10.0.0.2 (eth0:1)
#            director pair 10.0.0.10 / 10.0.0.11
#          192.168.10.254 (eth1:1, the real servers' default gateway)
#                 /            \
#     real1 192.168.10.100   real2 192.168.10.101
#
# lvsctl runs it as it is:   lvsctl plan -f examples/piranha-nat.cf
# or converts it to HCL:     lvsctl convert examples/piranha-nat.cf
# (examples/piranha-nat.hcl is that conversion).
# NOTE: serial_no = 27 (line 15) was the piranha GUI's revision counter; lvsctl keeps none (use version control).
# NOTE: heartbeat = 1 (line 20) was never read by piranha's pulse; the pulse block decides.
# NOTE: debug_level = NONE (line 28) was never read by piranha; lvsctl logs what it does.
# NOTE: lvsctl sets net.ipv4.ip_forward = 1 itself, as IPv4 NAT needs it (piranha left it to /etc/sysctl.conf); to keep it there, add sysctl { manage_forwarding = false }.

# NOTE: lvsctl's heartbeats are authenticated (key_file, default /etc/lvsctl/pulse.key) and do not talk to piranha's pulse; set piranha_compat = true only while the partner still runs piranha.
pulse {
  primary  = "10.0.0.10"
  backup   = "10.0.0.11"
  deadtime = "6s"
  # The real servers' default gateway, held by the active director.
  nat_router {
    address = "192.168.10.254"
    device  = "eth1:1"
    netmask = "255.255.255.0"
  }
  # Connection sync, so that a failover keeps established connections.
  sync_daemon {
    interface = "eth1"
    id        = 1
  }
}

virtual_server "web" {
  address = "10.0.0.2:80"
  # Shown when both real servers are down.
  sorry_server = "192.168.10.200"
  persistence {
    timeout = "6m"
  }
  vip {
    device  = "eth0:1"
    netmask = "255.255.255.0"
  }
  health_check {
    type = "send_expect"
    # nanny's probe: a HEAD request must get an HTTP answer.
    send       = "HEAD / HTTP/1.0\r\n\r\n"
    expect     = "HTTP"
    interval   = "6s"
    rise       = 3
    on_failure = "quiesce"
  }
  real_server "real1" {
    address = "192.168.10.100"
  }
  real_server "real2" {
    address = "192.168.10.101"
  }
}
