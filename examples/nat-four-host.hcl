# LVS-NAT: the four-host layout of the LVS HOWTO.
#
#                     client
#                        |
#              VIP 10.0.0.2 (eth0)
#                   director
#          192.168.10.254 (eth1, the real servers' default gateway)
#                 /            \
#     real1 192.168.10.100   real2 192.168.10.101
#
# The director rewrites the destination address of each packet to the chosen
# real server and the source address of each reply back to the VIP, so the
# replies must come back through it: make the director the real servers'
# default gateway. It must forward them, too: lvsctl plans and sets
# net.ipv4.ip_forward=1 itself for NAT (sysctl { manage_forwarding = false }
# leaves it to you).
#
# Check it:   lvsctl validate -f examples/nat-four-host.hcl
# Preview:    lvsctl plan -f examples/nat-four-host.hcl
# Apply:      lvsctl apply -f examples/nat-four-host.hcl
#
# The same as:
#   ipvsadm -A -t 10.0.0.2:80 -s wlc -p 360
#   ipvsadm -a -t 10.0.0.2:80 -r 192.168.10.100:80 -m -w 1
#   ipvsadm -a -t 10.0.0.2:80 -r 192.168.10.101:80 -m -w 1

virtual_server "web" {
  address   = "10.0.0.2:80"
  protocol  = "tcp"
  scheduler = "wlc" # weighted least-connection, the kernel's default

  # The forwarding method of every real server below, unless one overrides it.
  forwarding = "nat"

  # Send a client back to the same real server for 6 minutes after its last
  # connection ends (shopping carts, sessions kept in memory).
  persistence {
    timeout = "360s"
  }

  real_server "real1" {
    address = "192.168.10.100:80"
    weight  = 1
  }

  real_server "real2" {
    address = "192.168.10.101:80"
    weight  = 1
  }
}
