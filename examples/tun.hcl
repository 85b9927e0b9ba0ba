# LVS-TUN (IP tunnelling): the director encapsulates each packet and sends it
# to a real server that may be in another network or data centre; the real
# server decapsulates it and answers the client directly.
#
# Each real server holds the VIP on its tunnel device and does not answer
# ARP for it, for example for IPIP:
#   ip link set tunl0 up
#   ip addr add 10.0.0.2/32 dev tunl0
#   sysctl -w net.ipv4.conf.tunl0.rp_filter=0
#
# GUE (Generic UDP Encapsulation, kernel 5.2 and later) wraps the packet in
# UDP, which crosses firewalls and spreads over NIC receive queues; the real
# server needs a matching FOU/GUE receive port:
#   ip fou add port 6080 gue

virtual_server "web" {
  address    = "10.0.0.2:80"
  scheduler  = "wlc"
  forwarding = "tun"

  # Classic IPIP tunnel: the default when there is no tunnel block.
  real_server "remote1" {
    address = "172.16.1.10"
  }

  # Written out: the same as above.
  real_server "remote2" {
    address = "172.16.1.11:80"
    tunnel {
      type     = "ipip"
      checksum = "nocsum"
    }
  }

  # GUE on UDP port 6080, with remote checksum offload.
  real_server "remote3" {
    address = "172.16.2.10"
    tunnel {
      type     = "gue"
      port     = 6080
      checksum = "remcsum"
    }
  }

  # GRE with checksums.
  real_server "remote4" {
    address = "172.16.3.10"
    tunnel {
      type     = "gre"
      checksum = "csum"
    }
  }

  # Only tunnelling can carry IPv4 clients to an IPv6 real server.
  real_server "remote-v6" {
    address = "[2001:db8:10::10]:80"
  }
}
