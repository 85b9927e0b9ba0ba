# Two LVS-NAT directors failing over with lvsctl pulse: the four-host layout
# of the LVS HOWTO with a second director.
#
#                          client 10.0.0.10
#                                |
#          ------------------ 10.0.0.0/24 ------------------
#           |  eth0 10.0.0.3                 eth0 10.0.0.4 |
#        primary  ------- hb0 172.31.0.1/.2 -------  backup
#           |  eth1 192.168.10.252     eth1 192.168.10.253 |
#          --------------- 192.168.10.0/24 ----------------
#                 |                              |
#       real1 192.168.10.100          real2 192.168.10.101
#
# Both directors run the same file; each knows its role from which of
# primary and backup is one of its addresses. The active one holds the VIP
# 10.0.0.2 (eth0:1) and the real servers' default gateway 192.168.10.254
# (eth1:1) and the IPVS table below; the standby one holds neither and an
# empty table. The IPVS sync daemon runs as master on the active director
# and backup on the standby one, over the direct link hb0, so that
# established connections survive a failover.
#
# On both directors (the active one sets net.ipv4.ip_forward=1 itself, with
# its table):
#   install -m 0600 /dev/null /etc/lvsctl/pulse.key   # then the same 32+ random bytes on both
#   lvsctl pulse -f /etc/lvsctl/pulse-nat.hcl
#   lvsctl pulse status
#
# On the real servers: default route via 192.168.10.254.

pulse {
  primary         = "10.0.0.3"
  backup          = "10.0.0.4"
  primary_private = "172.31.0.1" # a second heartbeat path, over hb0
  backup_private  = "172.31.0.2"

  keepalive = "2s" # piranha's defaults; sub-second values work too
  deadtime  = "5s"
  # key_file = "/etc/lvsctl/pulse.key"

  nat_router {
    address = "192.168.10.254"
    device  = "eth1:1"
    netmask = "255.255.255.0"
  }

  sync_daemon {
    interface = "hb0"
    id        = 1
  }
}

virtual_server "web" {
  address    = "10.0.0.2:80"
  protocol   = "tcp"
  scheduler  = "rr"
  forwarding = "nat"

  vip {
    device  = "eth0:1"
    netmask = "255.255.255.0"
  }

  real_server "real1" {
    address = "192.168.10.100:80"
  }

  real_server "real2" {
    address = "192.168.10.101:80"
  }
}
