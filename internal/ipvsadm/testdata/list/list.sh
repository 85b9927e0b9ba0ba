#!/bin/bash
# list.sh writes the *.golden files of this directory: what ipvsadm -L -n
# prints for the table built by listTable in list_test.go. It uses the
# printf formats of ipvsadm 1.31's print_title, print_service_entry and
# print_largenum verbatim, so the expected text does not come from the
# code under test.  Run: cd testdata/list && ./list.sh
set -eu

largenum() { # value exact
	local i=$1
	if [ "$2" = 1 ]; then
		local len=${#i}
		if [ "$len" -le 8 ]; then printf "%9s" "$i"; else printf "%*s" $((len + 1)) "$i"; fi
		return
	fi
	if [ "$i" -lt 100000000 ]; then printf "%9llu" "$i"
	elif [ "$i" -lt 1000000000 ]; then printf "%8lluK" $((i / 1000))
	elif [ "$i" -lt 100000000000 ]; then printf "%8lluM" $((i / 1000000))
	elif [ "$i" -lt 100000000000000 ]; then printf "%8lluG" $((i / 1000000000))
	else printf "%8lluT" $((i / 1000000000000)); fi
}

header() { printf "IP Virtual Server version 1.2.1 (size=4096)\n"; }

# The table, in ipvsadm's order: service lines and their destinations.
S1="TCP  192.168.1.10:80"; S2="UDP  10.0.0.1:53"; S5="TCP  [2001:db8::80]:443"; S3="FWM  3"; S4="FWM  5 IPv6"
S1STATS="99999999 100000000 999999999999 123456789012345 5"
S1RATE="1 2 3 4000000000 99"
D1=192.168.0.8:80; D1STATS="1 2 3 4 5"; D1RATE="6 7 8 100000000 9"
D2=10.0.0.6:80; D3=10.0.0.7:80; D4=172.16.11.76:5060; D5=[2001:db8::5]:0; D6=[2001:db8::1]:443
Z="0 0 0 0 0"

plain() {
	header
	printf "Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
	printf "%s %s\n" "$S1" wlc
	printf "  -> %-28s %-7s %-6d %-10u %-10u\n" $D1 Local 3 12 345
	printf "  -> %-28s %-7s %-6d %-10u %-10u\n" $D2 Tunnel 1 0 0
	printf "  -> %-28s %-7s %-6d %-10u %-10u\n" $D3 Tunnel 0 0 0
	printf "%s %s (%s) persistent %u mask %s pe %s ops\n" "$S2" sh sh-fallback 360 255.255.255.0 sip
	printf "%s %s persistent %u mask %i\n" "$S5" wrr 300 64
	printf "  -> %-28s %-7s %-6d %-10u %-10u\n" $D6 Masq 1 0 0
	printf "%s %s persistent %u\n" "$S3" wlc 400
	printf "  -> %-28s %-7s %-6d %-10u %-10u\n" $D4 Route 1 0 69
	printf "%s %s\n" "$S4" rr
	printf "  -> %-28s %-7s %-6d %-10u %-10u\n" $D5 Route 1 0 0
}

counters() { # exact title1..5 s1 d1 (stats strings)
	local exact=$1
	header
	printf "%-33s %8s %8s %8s %8s %8s\n  -> RemoteAddress:Port\n" "Prot LocalAddress:Port" "$2" "$3" "$4" "$5" "$6"
	line() { local n=$1; shift; printf "%-33s" "$n"; for v in "$@"; do largenum "$v" "$exact"; done; printf "\n"; }
	dline() { local n=$1; shift; printf "  -> %-28s" "$n"; for v in "$@"; do largenum "$v" "$exact"; done; printf "\n"; }
	line "$S1" $7; dline $D1 $8; dline $D2 $Z; dline $D3 $Z
	line "$S2" $Z
	line "$S5" $Z; dline $D6 $Z
	line "$S3" $Z; dline $D4 $Z
	line "$S4" $Z; dline $D5 $Z
}

rate() {
	local exact=$1
	header
	printf "%-33s %8s %8s %8s %8s %8s\n  -> RemoteAddress:Port\n" "Prot LocalAddress:Port" CPS InPPS OutPPS InBPS OutBPS
	line() { local n=$1; shift; printf "%-33s" "$n"; for v in "$@"; do largenum "$v" "$exact"; done; printf "\n"; }
	dline() { printf "  -> %-28s %8llu %8llu %8llu" "$1" "$2" "$3" "$4"; largenum "$5" "$exact"; largenum "$6" "$exact"; printf "\n"; }
	line "$S1" $S1RATE; dline $D1 $D1RATE; dline $D2 $Z; dline $D3 $Z
	line "$S2" $Z
	line "$S5" $Z; dline $D6 $Z
	line "$S3" $Z; dline $D4 $Z
	line "$S4" $Z; dline $D5 $Z
}

thresholds() {
	header
	printf "%-33s %-10s %-10s %-10s %-10s\n  -> RemoteAddress:Port\n" "Prot LocalAddress:Port" Uthreshold Lthreshold ActiveConn InActConn
	printf "%s %s\n" "$S1" wlc
	printf "  -> %-28s %-10u %-10u %-10u %-10u\n" $D1 100 50 12 345
	printf "  -> %-28s %-10u %-10u %-10u %-10u\n" $D2 0 0 0 0
	printf "  -> %-28s %-10u %-10u %-10u %-10u\n" $D3 0 0 0 0
	printf "%s %s (%s) persistent %u mask %s pe %s ops\n" "$S2" sh sh-fallback 360 255.255.255.0 sip
	printf "%s %s persistent %u mask %i\n" "$S5" wrr 300 64
	printf "  -> %-28s %-10u %-10u %-10u %-10u\n" $D6 0 0 0 0
	printf "%s %s persistent %u\n" "$S3" wlc 400
	printf "  -> %-28s %-10u %-10u %-10u %-10u\n" $D4 0 0 0 69
	printf "%s %s\n" "$S4" rr
	printf "  -> %-28s %-10u %-10u %-10u %-10u\n" $D5 0 0 0 0
}

persistentconn() {
	header
	printf "%-33s %-9s %-11s %-10s %-10s\n  -> RemoteAddress:Port\n" "Prot LocalAddress:Port" Weight PersistConn ActiveConn InActConn
	printf "%s %s\n" "$S1" wlc
	printf "  -> %-28s %-9u %-11u %-10u %-10u\n" $D1 3 6 12 345
	printf "  -> %-28s %-9u %-11u %-10u %-10u\n" $D2 1 0 0 0
	printf "  -> %-28s %-9u %-11u %-10u %-10u\n" $D3 0 0 0 0
	printf "%s %s (%s) persistent %u mask %s pe %s ops\n" "$S2" sh sh-fallback 360 255.255.255.0 sip
	printf "%s %s persistent %u mask %i\n" "$S5" wrr 300 64
	printf "  -> %-28s %-9u %-11u %-10u %-10u\n" $D6 1 0 0 0
	printf "%s %s persistent %u\n" "$S3" wlc 400
	printf "  -> %-28s %-9u %-11u %-10u %-10u\n" $D4 1 0 0 69
	printf "%s %s\n" "$S4" rr
	printf "  -> %-28s %-9u %-11u %-10u %-10u\n" $D5 1 0 0 0
}

tuninfo() {
	header
	printf "Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n"
	printf "%s %s\n" "$S1" wlc
	printf "  -> %-28s %-7s %-13s %-6d %-10u %-10u\n" $D1 Local n/a 3 12 345
	printf "  -> %-28s %-7s %-13s %-6d %-10u %-10u\n" $D2 Tunnel gue:6080:+c 1 0 0
	printf "  -> %-28s %-7s %-13s %-6d %-10u %-10u\n" $D3 Tunnel gre:-c 0 0 0
	printf "%s %s (%s) persistent %u mask %s pe %s ops\n" "$S2" sh sh-fallback 360 255.255.255.0 sip
	printf "%s %s persistent %u mask %i\n" "$S5" wrr 300 64
	printf "  -> %-28s %-7s %-13s %-6d %-10u %-10u\n" $D6 Masq n/a 1 0 0
	printf "%s %s persistent %u\n" "$S3" wlc 400
	printf "  -> %-28s %-7s %-13s %-6d %-10u %-10u\n" $D4 Route n/a 1 0 69
	printf "%s %s\n" "$S4" rr
	printf "  -> %-28s %-7s %-13s %-6d %-10u %-10u\n" $D5 Route n/a 1 0 0
}

plain > plain.golden
counters 0 Conns InPkts OutPkts InBytes OutBytes "$S1STATS" "$D1STATS" > stats.golden
counters 1 Conns InPkts OutPkts InBytes OutBytes "$S1STATS" "$D1STATS" > stats-exact.golden
rate 0 > rate.golden
rate 1 > rate-exact.golden
thresholds > thresholds.golden
persistentconn > persistent-conn.golden
tuninfo > tun-info.golden
printf "Timeout (tcp tcpfin udp): %d %d %d\n" 900 120 300 > timeout.golden
