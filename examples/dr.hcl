# LVS-DR (direct routing): the director only rewrites the destination MAC
# address, and the real servers answer the clients directly. This is the
# fastest method and the usual one for web farms.
#
# Requirements:
#   - the director and the real servers share a layer-2 segment;
#   - each real server holds the VIP on a non-ARPing interface and does not
#     answer ARP for it, for example:
#       ip addr add 10.0.0.2/32 dev lo
#       sysctl -w net.ipv4.conf.all.arp_ignore=1
#       sysctl -w net.ipv4.conf.all.arp_announce=2
#   - the real servers listen on the virtual port: the packet is not
#     rewritten, so a real server's port must equal the virtual port (leave
#     it out and lvsctl uses the virtual port).

virtual_server "http" {
  address    = "10.0.0.2:80"
  scheduler  = "wrr" # weighted round-robin: web1 gets twice the requests
  forwarding = "dr"

  real_server "web1" {
    address = "10.0.0.11"
    weight  = 200
  }
  real_server "web2" {
    address = "10.0.0.12"
    weight  = 100
  }
  # Kept in the pool at weight 0: existing connections finish, new ones go
  # elsewhere (a maintenance window).
  real_server "web3" {
    address = "10.0.0.13"
    weight  = 0
  }
}

virtual_server "https" {
  address    = "10.0.0.2:443"
  scheduler  = "lc" # least-connection
  forwarding = "dr"

  # TLS sessions are expensive to set up: keep a client on one server.
  persistence {
    timeout = "10m"
  }

  real_server "web1" {
    address = "10.0.0.11:443"
    # Stop sending new connections above 5000 active ones, and resume below
    # 4000 (without lower_threshold the kernel resumes below 3/4 of upper).
    upper_threshold = 5000
    lower_threshold = 4000
  }
  real_server "web2" {
    address         = "10.0.0.12:443"
    upper_threshold = 5000
    lower_threshold = 4000
  }
}
