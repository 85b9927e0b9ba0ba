#!/bin/sh
# The lvsctl demo, run by lab/cmd/demo inside the lab VM: the LVS HOWTO's
# four hosts as network namespaces, then lvsctl at work on the director.
set -eu
IP=/usr/sbin/ip # iproute2's, not busybox's applet
export PATH=/usr/local/bin:$PATH # lvsctl

step() { printf '\n==> %s\n\n' "$*"; }
# on HOST CMD...: show the command as typed on HOST, then run it there.
on() {
	host=$1
	shift
	printf '%s# %s\n' "$host" "$*"
	$IP netns exec "$host" "$@"
}
# fetch N: N requests from the client, each on a new connection.
fetch() {
	i=1
	while [ "$i" -le "$1" ]; do
		page=$(printf 'GET / HTTP/1.0\r\n\r\n' | $IP netns exec client nc 10.0.0.2 80 | tail -n 1)
		printf '  request %d -> %s\n' "$i" "$page"
		i=$((i + 1))
	done
}

step "Building the four hosts of the LVS HOWTO as network namespaces"
cat <<'LAYOUT'
                         client 10.0.0.10
                                |
              10.0.0.1, VIP 10.0.0.2 (eth0)
                            director          (ip_forward=1, IPVS)
                  192.168.10.254 (br1)
                       /              \
        real1 192.168.10.100      real2 192.168.10.101
        (busybox httpd)           (busybox httpd, default gateway .254)
LAYOUT
for ns in client director real1 real2; do
	$IP netns add $ns
	$IP -n $ns link set lo up
done
$IP -n director link add eth0 type veth peer name eth0 netns client
$IP -n director link add br1 type bridge
$IP -n director addr add 10.0.0.1/24 dev eth0
$IP -n director addr add 10.0.0.2/24 dev eth0
$IP -n director addr add 192.168.10.254/24 dev br1
$IP -n director link set eth0 up
$IP -n director link set br1 up
$IP -n client addr add 10.0.0.10/24 dev eth0
$IP -n client link set eth0 up
$IP netns exec director sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'
n=0
for r in real1 real2; do
	addr=192.168.10.10$n
	$IP -n director link add v$r type veth peer name eth0 netns $r
	$IP -n director link set v$r master br1 up
	$IP -n $r addr add $addr/24 dev eth0
	$IP -n $r link set eth0 up
	$IP -n $r route add default via 192.168.10.254
	mkdir -p /srv/$r
	echo "$r ($addr)" >/srv/$r/index.html
	$IP netns exec $r httpd -p 80 -h /srv/$r
	n=$((n + 1))
done
echo "ok: 4 namespaces, HTTP servers on real1 and real2"

cd /demo
step "examples/nat-four-host.hcl: one virtual server, wlc, persistence 360s"
awk 'BEGIN { blank = 1 } /^#/ { next } NF || blank == 0 { print } { blank = (NF == 0) }' nat-four-host.hcl

step "What would change? (the director's IPVS table is empty)"
on director lvsctl plan -f nat-four-host.hcl

step "Apply it"
on director lvsctl apply --auto-approve -f nat-four-host.hcl

step "The live table"
on director lvsctl show

step "The client fetches http://10.0.0.2/ four times: persistence keeps it on one real server"
fetch 4

step "web-rr.hcl: the same with scheduler rr and no persistence — an in-place edit"
on director lvsctl plan -f web-rr.hcl
echo
on director lvsctl apply --auto-approve -f web-rr.hcl

step "The client fetches http://10.0.0.2/ six times: rr alternates between real1 and real2"
fetch 6

step "The table in ipvsadm's format, for ipvsadm -R and old scripts"
on director lvsctl save
echo
on director ipvsadm -L -n

step "Done: run it again with 'make demo'; the VM and everything in it are gone now"
