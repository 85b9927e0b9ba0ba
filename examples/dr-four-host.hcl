# LVS-DR: the four-host layout of the LVS HOWTO with direct routing.
#
#     client 10.0.0.10 ----+---- director 10.0.0.1, VIP 10.0.0.2, 192.168.10.254
#                          |
#            one layer-2 segment (a switch)
#                 /                      \
#     real1 192.168.10.100        real2 192.168.10.101
#     (VIP 10.0.0.2 on lo)        (VIP 10.0.0.2 on lo)
#
# The director forwards each request unchanged to the chosen real server's
# MAC address; the real server accepts it because it holds the VIP on lo,
# and answers the client directly, so replies never cross the director.
# The director and the real servers must share the segment, and the real
# servers must not answer ARP for the VIP. On each real server:
#
#   lvsctl realserver --mode dr --vip 10.0.0.2
#
# (the VIP as 10.0.0.2/32 on lo, net.ipv4.conf.all/lo.arp_ignore=1 and
# arp_announce=2; "lvsctl realserver --undo" reverses it). The packet is not
# rewritten, so the real servers listen on the virtual port: their port is
# left out here and is the virtual port.
#
# The same as:
#   ipvsadm -A -t 10.0.0.2:80 -s wlc -p 360
#   ipvsadm -a -t 10.0.0.2:80 -r 192.168.10.100:80 -g -w 1
#   ipvsadm -a -t 10.0.0.2:80 -r 192.168.10.101:80 -g -w 1

virtual_server "web" {
  address    = "10.0.0.2:80"
  protocol   = "tcp"
  scheduler  = "wlc"
  forwarding = "dr"

  persistence {
    timeout = "360s"
  }

  real_server "real1" {
    address = "192.168.10.100"
    weight  = 1
  }

  real_server "real2" {
    address = "192.168.10.101"
    weight  = 1
  }
}
