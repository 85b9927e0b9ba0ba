package ipvsadm

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lvsctl/lvsctl/lvs"
)

// cmpAddrs lets go-cmp compare the netip types, which have unexported fields.
var cmpAddrs = cmp.Options{
	cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
	cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b }),
	cmp.Comparer(func(a, b netip.Prefix) bool { return a == b }),
}

func mustParse(t *testing.T, in string) *lvs.Table {
	t.Helper()
	tab, err := ParseSave(strings.NewReader(in), "dump.txt")
	if err != nil {
		t.Fatalf("ParseSave:\n%s\nerror: %v", in, err)
	}
	return tab
}

func svc(k lvs.ServiceKey, o lvs.ServiceOpts, ds ...lvs.Dest) lvs.Service {
	return lvs.Service{Key: k, Opts: o, Dests: ds}
}

func dest(a string, fwd lvs.Forward, w int) lvs.Dest {
	return lvs.Dest{Addr: ap(a), Opts: lvs.DestOpts{Forward: fwd, Weight: w}}
}

func TestParseSave(t *testing.T) {
	tcp80 := lvs.AddrKey(lvs.TCP, ap("10.0.0.2:80"))
	wlc := lvs.ServiceOpts{Scheduler: "wlc", Netmask: 32}
	for _, tc := range []struct {
		name string
		in   string
		want lvs.Table
	}{
		{
			name: "ipvsadm's defaults: wlc, -g, weight 1, the service port",
			in:   "-A -t 10.0.0.2:80\n-a -t 10.0.0.2:80 -r 192.168.0.1\n",
			want: lvs.Table{Services: []lvs.Service{svc(tcp80, wlc, dest("192.168.0.1:80", lvs.Route, 1))}},
		},
		{
			name: "-g and -i take the service port, -m keeps its own",
			in: "-A -t 10.0.0.2:80\n" +
				"-a -t 10.0.0.2:80 -r 192.168.0.1:8080 -g\n" +
				"-a -t 10.0.0.2:80 -r 192.168.0.2:8080 -i\n" +
				"-a -t 10.0.0.2:80 -r 192.168.0.3:8080 -m\n",
			want: lvs.Table{Services: []lvs.Service{svc(tcp80, wlc,
				dest("192.168.0.1:80", lvs.Route, 1), dest("192.168.0.2:80", lvs.Tunnel, 1), dest("192.168.0.3:8080", lvs.Masq, 1))}},
		},
		{
			name: "firewall marks keep real-server ports",
			in:   "-A -f 3 -s rr\n-a -f 3 -r 192.168.0.1:8080 -g\n-a -f 3 -r 192.168.0.2 -g\n-A -f 3 -6 -s rr\n-a -f 3 -6 -r [2001:db8::1]:443 -g -w 2\n",
			want: lvs.Table{Services: []lvs.Service{
				svc(lvs.MarkKey(lvs.IPv4, 3), lvs.ServiceOpts{Scheduler: "rr", Netmask: 32}, dest("192.168.0.1:8080", lvs.Route, 1), dest("192.168.0.2:0", lvs.Route, 1)),
				svc(lvs.MarkKey(lvs.IPv6, 3), lvs.ServiceOpts{Scheduler: "rr", Netmask: 128}, dest("[2001:db8::1]:443", lvs.Route, 2)),
			}},
		},
		{
			name: "persistence: -p alone is 360s, -M a dotted quad or a prefix length",
			in: "-A -t 10.0.0.2:80 -p\n" +
				"-A -t 10.0.0.3:80 -p 100 -M 255.255.0.0\n" +
				"-A -t 10.0.0.4:80 --persistent=200 --netmask=255.255.255.255\n" +
				"-A -t 10.0.0.5:80 -p300\n" +
				"-A -t 10.0.0.6:80 -p -M 255.255.255.0\n" +
				"-A -t [2001:db8::1]:80 -p 60 -M 64\n" +
				"-A -f 7 -6 -p -M 48\n",
			want: lvs.Table{Services: []lvs.Service{
				svc(lvs.AddrKey(lvs.TCP, ap("10.0.0.2:80")), lvs.ServiceOpts{Scheduler: "wlc", Persistent: true, Timeout: 360, Netmask: 32}),
				svc(lvs.AddrKey(lvs.TCP, ap("10.0.0.3:80")), lvs.ServiceOpts{Scheduler: "wlc", Persistent: true, Timeout: 100, Netmask: 16}),
				svc(lvs.AddrKey(lvs.TCP, ap("10.0.0.4:80")), lvs.ServiceOpts{Scheduler: "wlc", Persistent: true, Timeout: 200, Netmask: 32}),
				svc(lvs.AddrKey(lvs.TCP, ap("10.0.0.5:80")), lvs.ServiceOpts{Scheduler: "wlc", Persistent: true, Timeout: 300, Netmask: 32}),
				svc(lvs.AddrKey(lvs.TCP, ap("10.0.0.6:80")), lvs.ServiceOpts{Scheduler: "wlc", Persistent: true, Timeout: 360, Netmask: 24}),
				svc(lvs.AddrKey(lvs.TCP, ap("[2001:db8::1]:80")), lvs.ServiceOpts{Scheduler: "wlc", Persistent: true, Timeout: 60, Netmask: 64}),
				svc(lvs.MarkKey(lvs.IPv6, 7), lvs.ServiceOpts{Scheduler: "wlc", Persistent: true, Timeout: 360, Netmask: 48}),
			}},
		},
		{
			name: "long options, bundles, a leading ipvsadm, comments, CRLF",
			in: "# saved by hand\r\n" +
				"\n" +
				"ipvsadm --add-service --udp-service 10.0.0.2:53 --scheduler sh --sched-flags sh-fallback,sh-port --ops --persistent 30 --pe sip\r\n" +
				"/sbin/ipvsadm -a -u 10.0.0.2:53 -r 192.168.0.1:53 -mw3 # weight 3\n" +
				"   -a   --udp-service=10.0.0.2:53\t--real-server=192.168.0.2:5353 --masquerading --weight=0 -x 100 -y 50\n" +
				"--add-service --sctp-service 10.0.0.2:3868 -s wrr -b flag-1,flag-3\n",
			want: lvs.Table{Services: []lvs.Service{
				svc(lvs.AddrKey(lvs.UDP, ap("10.0.0.2:53")), lvs.ServiceOpts{Scheduler: "sh", SchedFlags: 3, OnePacket: true, Persistent: true, Timeout: 30, Netmask: 32, PE: "sip"},
					dest("192.168.0.1:53", lvs.Masq, 3),
					lvs.Dest{Addr: ap("192.168.0.2:5353"), Opts: lvs.DestOpts{Forward: lvs.Masq, Weight: 0, UpperThreshold: 100, LowerThreshold: 50}}),
				svc(lvs.AddrKey(lvs.SCTP, ap("10.0.0.2:3868")), lvs.ServiceOpts{Scheduler: "wrr", SchedFlags: 5, Netmask: 32}),
			}},
		},
		{
			name: "tunnels",
			in: "-A -t [2001:db8::80]:80 -s rr\n" +
				"-a -t [2001:db8::80]:80 -r 10.0.0.1:80 -i --tun-type ipip\n" +
				"-a -t [2001:db8::80]:80 -r 10.0.0.2 -i --tun-type gue --tun-port 6080 --tun-csum\n" +
				"-a -t [2001:db8::80]:80 -r 10.0.0.3 -i --tun-type gue --tun-port 6081 --tun-remcsum\n" +
				"-a -t [2001:db8::80]:80 -r 10.0.0.4 -i --tun-type gre --tun-nocsum\n" +
				"-a -t [2001:db8::80]:80 -r 2001:db8::5 -i\n",
			want: lvs.Table{Services: []lvs.Service{svc(lvs.AddrKey(lvs.TCP, ap("[2001:db8::80]:80")), lvs.ServiceOpts{Scheduler: "rr", Netmask: 128},
				dest("10.0.0.1:80", lvs.Tunnel, 1),
				lvs.Dest{Addr: ap("10.0.0.2:80"), Opts: lvs.DestOpts{Forward: lvs.Tunnel, Weight: 1, TunnelType: lvs.GUE, TunnelPort: 6080, TunnelFlags: lvs.TunnelCsum}},
				lvs.Dest{Addr: ap("10.0.0.3:80"), Opts: lvs.DestOpts{Forward: lvs.Tunnel, Weight: 1, TunnelType: lvs.GUE, TunnelPort: 6081, TunnelFlags: lvs.TunnelRemCsum}},
				lvs.Dest{Addr: ap("10.0.0.4:80"), Opts: lvs.DestOpts{Forward: lvs.Tunnel, Weight: 1, TunnelType: lvs.GRE}},
				dest("[2001:db8::5]:80", lvs.Tunnel, 1),
			)}},
		},
		{
			name: "-E, -e, -d, -D, -Z and --set apply in order",
			in: "--set 900 120 300\n" +
				"-A -t 10.0.0.2:80 -s rr -p 60\n" +
				"-a -t 10.0.0.2:80 -r 192.168.0.1:8080 -m -w 5\n" +
				"-a -t 10.0.0.2:80 -r 192.168.0.2:8080 -m\n" +
				"-E -t 10.0.0.2:80 -s wrr\n" + // replaces every option: no persistence now
				"-e -t 10.0.0.2:80 -r 192.168.0.1:8080 -m -w 7\n" +
				"-d -t 10.0.0.2:80 -r 192.168.0.2:8080\n" +
				"-A -u 10.0.0.3:53\n" +
				"-D -u 10.0.0.3:53\n" +
				"-Z -t 10.0.0.2:80\n" +
				"-Z\n" +
				"--set 0 60 0\n",
			want: lvs.Table{
				Timeouts: lvs.Timeouts{TCP: 900 * time.Second, TCPFin: 60 * time.Second, UDP: 300 * time.Second},
				Services: []lvs.Service{svc(tcp80, lvs.ServiceOpts{Scheduler: "wrr", Netmask: 32}, dest("192.168.0.1:8080", lvs.Masq, 7))},
			},
		},
		{
			name: "-e without -m switches to -g, as ipvsadm sends the whole destination",
			in:   "-A -f 1\n-a -f 1 -r 192.168.0.1:80 -m -w 5\n-e -f 1 -r 192.168.0.1:80 -w 2\n",
			want: lvs.Table{Services: []lvs.Service{svc(lvs.MarkKey(lvs.IPv4, 1), wlc, dest("192.168.0.1:80", lvs.Route, 2))}},
		},
		{
			name: "-C clears the services but not the timeouts",
			in:   "--set 10 20 30\n-A -t 10.0.0.2:80\n-C\n-A -t 10.0.0.3:80\n",
			want: lvs.Table{
				Timeouts: lvs.Timeouts{TCP: 10 * time.Second, TCPFin: 20 * time.Second, UDP: 30 * time.Second},
				Services: []lvs.Service{svc(lvs.AddrKey(lvs.TCP, ap("10.0.0.3:80")), wlc)},
			},
		},
		{
			name: "ipvsadm 1.31 saves marks of 2^31 and more as negative numbers",
			in:   "-A -f -2147483647 -s rr\n-A -f 4294967295 -s rr\n",
			want: lvs.Table{Services: []lvs.Service{
				svc(lvs.MarkKey(lvs.IPv4, 0x80000001), lvs.ServiceOpts{Scheduler: "rr", Netmask: 32}),
				svc(lvs.MarkKey(lvs.IPv4, 0xffffffff), lvs.ServiceOpts{Scheduler: "rr", Netmask: 32}),
			}},
		},
		{
			name: "an IPv6 address without brackets has no port",
			in:   "-A -t 2001:db8::1 -p\n",
			want: lvs.Table{Services: []lvs.Service{svc(lvs.AddrKey(lvs.TCP, ap("[2001:db8::1]:0")), lvs.ServiceOpts{Scheduler: "wlc", Persistent: true, Timeout: 360, Netmask: 128})}},
		},
		{
			name: "empty input is an empty table",
			in:   "\n# nothing\n   \n",
			want: lvs.Table{},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := mustParse(t, tc.in)
			want := tc.want.Clone()
			want.Normalize()
			if d := cmp.Diff(want, got, cmpAddrs); d != "" {
				t.Errorf("table (-want +got):\n%s", d)
			}
		})
	}
}

func TestParseSaveErrors(t *testing.T) {
	const svc80 = "-A -t 10.0.0.2:80\n"
	for _, tc := range []struct {
		in, want string
	}{
		{"-A -t 10.0.0.2:80 -s fastest\n", `dump.txt:1:22: unknown scheduler "fastest": the kernel has rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh, twos`},
		{svc80 + "-a -t 10.0.0.2:80 -r 192.168.10.100:80 -g -w many\n", `dump.txt:2:46: invalid weight "many": a whole number from 0 to 65535`},
		{svc80 + "-a -t 10.0.0.2:80 -r 192.168.10.100:80 -w 65536\n", `dump.txt:2:43: invalid weight "65536": a whole number from 0 to 65535`},
		{"-A -t www.example.com:80\n", `dump.txt:1:7: virtual service "www.example.com:80" names the host "www.example.com": ipvsadm -S without -n writes host names; save the table with ipvsadm -S -n, or pass --resolve to look the names up (the table then depends on what they resolve to now)`},
		{"-A -t 10.0.0.2:http\n", `dump.txt:1:16: invalid port "http" in "10.0.0.2:http": a service name, which lvsctl does not resolve here; save the table with ipvsadm -S -n`},
		{"-A -t 10.0.0.2:65536\n", `dump.txt:1:16: invalid port "65536" in "10.0.0.2:65536": a number from 0 to 65535`},
		{"-A -t 80\n", `dump.txt:1:7: invalid virtual service "80": write ADDRESS[:PORT]`},
		{"-A -t [2001:db8::1]\n", `dump.txt:1:7: invalid virtual service "[2001:db8::1]": write [IPv6]:PORT`},
		{"-A -t ::ffff:10.0.0.2 -p\n", `dump.txt:1:7: invalid virtual service "::ffff:10.0.0.2": write the IPv4 address 10.0.0.2 instead of the IPv4-mapped form`},
		{"-A -t [fe80::1%eth0]:80\n", `dump.txt:1:7: invalid virtual service "[fe80::1%eth0]:80": an address with a zone cannot be a virtual service`},
		{"-t 10.0.0.2:80 -A\n", `dump.txt:1:1: -t comes before the command: start the line with -A, -E, -D, -a, -e, -d, -C, -Z or --set`},
		{"10.0.0.2\n", `dump.txt:1:1: "10.0.0.2" is not a command: a line holds one command such as -A, -a or --set`},
		{"-A -a -t 10.0.0.2:80\n", `dump.txt:1:4: a second command -a: one command per line`},
		{"-Aa -t 10.0.0.2:80\n", `dump.txt:1:3: a second command -a: one command per line`},
		{"-A -t 10.0.0.2:80 -w 3\n", `dump.txt:1:19: -w (weight) cannot be used with -A (add-service)`},
		{"-a -r 10.0.0.3\n", `dump.txt:1:1: -a (add-server) needs a virtual service: -t, -u or --sctp-service ADDRESS:PORT, or -f MARK`},
		{svc80 + "-a -t 10.0.0.2:80\n", `dump.txt:2:1: -a (add-server) needs a real server: -r ADDRESS[:PORT]`},
		{"-A -t 10.0.0.2:0\n", `dump.txt:1:4: port 0 (all ports) needs persistence: add -p [TIMEOUT]`},
		{"-A -t 10.0.0.2:80 -o\n", `dump.txt:1:19: one-packet scheduling (-o) is only for UDP and firewall-mark services`},
		{"-A -t 10.0.0.2:80 -s rr -b sh-port\n", `dump.txt:1:28: scheduler flag "sh-port" is for the sh scheduler, not rr`},
		{"-A -t 10.0.0.2:80 -b flag-1,sh-port\n", `dump.txt:1:29: scheduler flag "sh-port" is for the sh scheduler, not wlc`},
		{"-A -t 10.0.0.2:80 -s sh -b fallback\n", `dump.txt:1:28: unknown scheduler flag "fallback": use flag-1, flag-2, flag-3, sh-fallback, sh-port, mh-fallback or mh-port`},
		{"-A -t 10.0.0.2:80 -s sh -b ,\n", `dump.txt:1:28: -b needs scheduler flags, such as sh-fallback,sh-port`},
		{"-A -t 10.0.0.2:80 -s sh -b\n", `dump.txt:1:25: -b needs a value (ipvsadm -S prints a bare -b for flag-3 of the sh and mh schedulers, which it cannot name: that flag cannot be restored)`},
		{svc80 + "-a -t 10.0.0.2:80 -r [2001:db8::1]:80 -g\n", `dump.txt:2:19: real server 2001:db8::1 is ipv6 but the service is ipv4: mixing families works only with tunnelling (-i)`},
		{svc80 + "-a -t 10.0.0.2:80 -r 10.0.0.3 -m --tun-type gue\n", `dump.txt:2:34: --tun-type needs tunnelling: add -i`},
		{svc80 + "-a -t 10.0.0.2:80 -r 10.0.0.3 -i --tun-type gue\n", `dump.txt:2:34: a gue tunnel needs --tun-port (the UDP port the real server decapsulates on)`},
		{svc80 + "-a -t 10.0.0.2:80 -r 10.0.0.3 -i --tun-type gre --tun-port 5\n", `dump.txt:2:49: --tun-port does not apply to gre tunnels`},
		{svc80 + "-a -t 10.0.0.2:80 -r 10.0.0.3 -i --tun-type gre --tun-remcsum\n", `dump.txt:2:49: --tun-remcsum does not apply to gre tunnels`},
		{svc80 + "-a -t 10.0.0.2:80 -r 10.0.0.3 -i --tun-csum\n", `dump.txt:2:34: --tun-csum does not apply to ipip tunnels`},
		{svc80 + "-a -t 10.0.0.2:80 -r 10.0.0.3 -i --tun-type gue --tun-port 5 --tun-csum --tun-remcsum\n", `dump.txt:2:73: --tun-remcsum conflicts with --tun-csum: choose one checksum option`},
		{svc80 + "-a -t 10.0.0.2:80 -r 10.0.0.3 -i --tun-type vxlan\n", `dump.txt:2:45: unknown tunnel type "vxlan": use ipip, gue or gre`},
		{"-a -t 10.0.0.2:80 -r 10.0.0.3\n", `dump.txt:1:4: there is no service tcp 10.0.0.2:80 (add it with -A before its real servers)`},
		{svc80 + svc80, `dump.txt:2:4: service tcp 10.0.0.2:80 already exists (added on line 1)`},
		{svc80 + "-a -t 10.0.0.2:80 -r 10.0.0.3\n-a -t 10.0.0.2:80 -r 10.0.0.3:80 -w 2\n", `dump.txt:3:19: real server 10.0.0.3:80 already exists in tcp 10.0.0.2:80 (added on line 2)`},
		{svc80 + "-e -t 10.0.0.2:80 -r 10.0.0.3\n", `dump.txt:2:19: -e: there is no real server 10.0.0.3:80 in tcp 10.0.0.2:80`},
		{svc80 + "-d -t 10.0.0.2:80 -r 10.0.0.3\n", `dump.txt:2:19: -d: there is no real server 10.0.0.3:80 in tcp 10.0.0.2:80`},
		{"-E -t 10.0.0.2:80 -s rr\n", `dump.txt:1:4: -E: there is no service tcp 10.0.0.2:80 (add it with -A first)`},
		{"-D -t 10.0.0.2:80\n", `dump.txt:1:4: -D: there is no service tcp 10.0.0.2:80`},
		{"-Z -t 10.0.0.2:80\n", `dump.txt:1:4: -Z: there is no service tcp 10.0.0.2:80`},
		{"-A -t 10.0.0.2:80 -p -M 24\n", `dump.txt:1:25: invalid IPv4 persistence netmask "24": write a dotted quad such as 255.255.255.0 (ipvsadm would read "24" as the address 0.0.0.24)`},
		{"-A -t 10.0.0.2:80 -p -M 255.0.255.0\n", `dump.txt:1:25: persistence netmask 255.0.255.0 is not contiguous: lvsctl keeps netmasks as prefix lengths`},
		{"-A -t [2001:db8::1]:80 -p -M 129\n", `dump.txt:1:30: invalid IPv6 persistence netmask "129": a prefix length from 1 to 128`},
		{"-A -t 10.0.0.2:80 -p 0\n", `dump.txt:1:22: invalid persistence timeout "0": seconds from 1 to 2678400 (31 days)`},
		{"-A -t 10.0.0.2:80 -p 2678401\n", `dump.txt:1:22: invalid persistence timeout "2678401": seconds from 1 to 2678400 (31 days)`},
		{"-A -t 10.0.0.2:80 --pe rtsp\n", `dump.txt:1:24: unknown persistence engine "rtsp": the kernel has only sip`},
		{"-A -f 0\n", `dump.txt:1:7: invalid firewall mark "0": a number from 1 to 4294967295`},
		{"-A -f 4294967296\n", `dump.txt:1:7: invalid firewall mark "4294967296": a number from 1 to 4294967295`},
		{"--set 900 120\n", `dump.txt:1:1: --set needs three timeouts in seconds: tcp tcpfin udp (0 leaves one as it is)`},
		{"--set 900 120 x\n", `dump.txt:1:15: invalid timeout "x": seconds from 0 (leave as it is) to 2678400 (31 days)`},
		{"--set 900 120 300 -t 10.0.0.2:80\n", `dump.txt:1:19: -t (service-address) cannot be used with --set (set)`},
		{"-L -n\n", `dump.txt:1:1: -L (list) changes nothing: a saved table holds -A, -E, -D, -a, -e, -d, -C, -Z and --set lines`},
		{"-R\n", `dump.txt:1:1: -R (restore) changes nothing: a saved table holds -A, -E, -D, -a, -e, -d, -C, -Z and --set lines`},
		{"--start-daemon master --mcast-interface eth1\n", `dump.txt:1:1: --start-daemon is not part of the IPVS table, and lvsctl does not manage the sync daemon: remove the line`},
		{"-A -t 10.0.0.2:80 -6\n", `dump.txt:1:19: -6 belongs after -f MARK: it makes a firewall-mark service IPv6 (the address tells the family of other services)`},
		{"-A -t 10.0.0.2:80 --frobnicate\n", `dump.txt:1:19: unknown option "--frobnicate"`},
		{"-A -t 10.0.0.2:80 -q\n", `dump.txt:1:19: unknown option "-q"`},
		{"-A -t 10.0.0.2:80 --ops=yes\n", `dump.txt:1:19: --ops takes no value (found "--ops=yes")`},
		{"-A -t 10.0.0.2:80 extra\n", `dump.txt:1:19: unexpected argument "extra"`},
		{"-A -t 10.0.0.2:80 -s rr -s wlc\n", `dump.txt:1:25: -s given twice (scheduler)`},
		{svc80 + "-a -t 10.0.0.2:80 -r 10.0.0.3 -g -m\n", `dump.txt:2:34: -m given twice (forwarding-method)`},
		// What only lvs.Validate knows is reported at the line that set it.
		{svc80 + "-a -t 10.0.0.2:80 -r 10.0.0.3:0 -m\n", `dump.txt:2:1: real server 10.0.0.3 needs a port`},
		{svc80 + "-a -t 10.0.0.2:80 -r 10.0.0.3 -x 10 -y 20\n", `dump.txt:2:1: lower threshold 20 is above the upper threshold 10; the kernel refuses it (set upper_threshold too)`},
		{"-A -t 10.0.0.2:80 --pe sip\n", `dump.txt:1:1: persistence engine "sip" needs persistence: add a persistence block`},
		{"-A -t 0.0.0.0:80\n", `dump.txt:1:1: 0.0.0.0 is not a usable virtual address`},
	} {
		_, err := ParseSave(strings.NewReader(tc.in), "dump.txt")
		if err == nil {
			t.Errorf("ParseSave(%q) succeeded, want %s", tc.in, tc.want)
			continue
		}
		if err.Error() != tc.want {
			t.Errorf("ParseSave(%q):\n got %s\nwant %s", tc.in, err, tc.want)
		}
		var pe *Error
		if !errors.As(err, &pe) || pe.File != "dump.txt" {
			t.Errorf("ParseSave(%q): error %T is not an *Error for dump.txt", tc.in, err)
		}
	}
}

func TestParseSaveValidationErrorsTogether(t *testing.T) {
	in := "-A -t 10.0.0.2:80\n" +
		"-a -t 10.0.0.2:80 -r 10.0.0.3:0 -m\n" +
		"-A -t 10.0.0.4:80 --pe sip\n"
	_, err := ParseSave(strings.NewReader(in), "d")
	if err == nil {
		t.Fatal("no error")
	}
	want := "d:2:1: real server 10.0.0.3 needs a port\nd:3:1: persistence engine \"sip\" needs persistence: add a persistence block"
	if err.Error() != want {
		t.Errorf("got\n%s\nwant\n%s", err, want)
	}
}

func TestParseSaveLongLine(t *testing.T) {
	in := "-A -t 10.0.0.2:80\n" + strings.Repeat("x", MaxLineLength+1) + "\n"
	_, err := ParseSave(strings.NewReader(in), "d")
	var pe *Error
	if !errors.As(err, &pe) || pe.Line != 2 {
		t.Fatalf("got %v, want an error on line 2", err)
	}
}
