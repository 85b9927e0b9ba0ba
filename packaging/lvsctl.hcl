# /etc/lvsctl/lvsctl.hcl: lvsctl's configuration (installed by the
# lvsctl package, which keeps your changes on upgrade).
#
# As shipped it describes no virtual server, so nothing happens until you
# write one: "lvsctl apply" refuses to apply an empty configuration
# (--allow-empty would delete every IPVS service lvsctl manages), and the
# package starts and enables no daemon.
#
#   lvsctl validate            # check this file (no root needed)
#   lvsctl plan                # what apply would change in the IPVS table
#   lvsctl apply               # make the change, after asking
#   man lvsctl                 # every command; /usr/share/doc/lvsctl/examples
#
# A piranha lvs.cf converts with "lvsctl convert /etc/sysconfig/ha/lvs.cf".
#
# An example to start from: a web service on VIP 10.0.0.2, direct routing
# to two real servers, each probed over HTTP. Remove the "# " before each
# line of it and change the addresses. On the real servers, run
#   lvsctl realserver --mode dr --vip 10.0.0.2
#
# virtual_server "web" {
#   address    = "10.0.0.2:80"
#   scheduler  = "wlc"
#   forwarding = "dr"
#
#   health_check {
#     type     = "http"
#     path     = "/"
#     interval = "5s"
#   }
#
#   real_server "web1" {
#     address = "10.0.0.11"
#   }
#   real_server "web2" {
#     address = "10.0.0.12"
#   }
# }
