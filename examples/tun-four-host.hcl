# LVS-TUN: the four-host layout of the LVS HOWTO with IP tunnelling.
#
#     client 10.0.0.10 ---- director 10.0.0.1, VIP 10.0.0.2, 192.168.10.254
#                                   |  IPIP
#                 /-----------------+----------------\
#     real1 192.168.10.100                  real2 192.168.10.101
#     (VIP 10.0.0.2 on tunl0)               (VIP 10.0.0.2 on tunl0)
#
# The director wraps each request in an IPIP packet to the chosen real
# server, which may be in another network; the real server unwraps it on
# tunl0, where it holds the VIP, and answers the client directly with the
# VIP as source. On each real server:
#
#   lvsctl realserver --mode tun --vip 10.0.0.2
#
# (loads ipip, brings tunl0 up with 10.0.0.2/32, sets arp_ignore=1 and
# arp_announce=2, and turns off strict reverse-path filtering on tunl0,
# which would drop the unwrapped packets; "--undo" reverses it). The real
# servers listen on the virtual port.
#
# The same as:
#   ipvsadm -A -t 10.0.0.2:80 -s wlc -p 360
#   ipvsadm -a -t 10.0.0.2:80 -r 192.168.10.100:80 -i -w 1
#   ipvsadm -a -t 10.0.0.2:80 -r 192.168.10.101:80 -i -w 1

virtual_server "web" {
  address    = "10.0.0.2:80"
  protocol   = "tcp"
  scheduler  = "wlc"
  forwarding = "tun"

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
