package ipvsadm

import (
	"bytes"
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/lvs"
)

// saveTable exercises every part of the -S format. Its services and real
// servers are not in ipvsadm's order.
func saveTable() *lvs.Table {
	return &lvs.Table{
		// Timeouts are never saved.
		Timeouts: lvs.Timeouts{TCP: 900 * time.Second, TCPFin: 120 * time.Second, UDP: 300 * time.Second},
		Services: []lvs.Service{
			{Key: lvs.MarkKey(lvs.IPv6, 4), Opts: lvs.ServiceOpts{Scheduler: "sh", SchedFlags: lvs.SchedFlag3, Netmask: 128}},
			{Key: lvs.MarkKey(lvs.IPv4, 3), Opts: lvs.ServiceOpts{Scheduler: "wlc", Persistent: true, Timeout: 400, Netmask: 32},
				Dests: []lvs.Dest{{Addr: ap("172.16.11.76:0"), Opts: lvs.DestOpts{Forward: lvs.Route, Weight: 1}}}},
			{Key: lvs.AddrKey(lvs.TCP, ap("[2001:db8::80]:80")), Opts: lvs.ServiceOpts{Scheduler: "rr", Persistent: true, Timeout: 300, Netmask: 64},
				Dests: []lvs.Dest{
					{Addr: ap("[2001:db8::1]:80"), Opts: lvs.DestOpts{Forward: lvs.Route, Weight: 2}},
					{Addr: ap("10.0.0.1:80"), Opts: lvs.DestOpts{Forward: lvs.Tunnel, Weight: 1}},
				}},
			{Key: lvs.AddrKey(lvs.SCTP, ap("10.0.0.1:3868")), Opts: lvs.ServiceOpts{Scheduler: "wrr", SchedFlags: lvs.SchedFlag1 | lvs.SchedFlag3, Netmask: 32}},
			{Key: lvs.AddrKey(lvs.UDP, ap("10.0.0.1:53")), Opts: lvs.ServiceOpts{Scheduler: "mh", SchedFlags: 7, OnePacket: true, Netmask: 32}},
			{Key: lvs.AddrKey(lvs.TCP, ap("10.0.0.1:443")), Opts: lvs.ServiceOpts{Scheduler: "sh", SchedFlags: 3, Persistent: true, Timeout: 360, Netmask: 24, PE: "sip"}},
			{Key: lvs.AddrKey(lvs.TCP, ap("10.0.0.1:0")), Opts: lvs.ServiceOpts{Scheduler: "lc", Persistent: true, Timeout: 60, Netmask: 0}},
			{Key: lvs.AddrKey(lvs.TCP, ap("192.168.1.10:80")), Opts: lvs.ServiceOpts{Scheduler: "wlc", Netmask: 32},
				Dests: []lvs.Dest{
					{Addr: ap("10.0.0.9:80"), Opts: lvs.DestOpts{Forward: lvs.Tunnel, Weight: 0, TunnelType: lvs.GUE, TunnelPort: 6081, TunnelFlags: lvs.TunnelRemCsum}},
					{Addr: ap("10.0.0.8:80"), Opts: lvs.DestOpts{Forward: lvs.Tunnel, Weight: 1, TunnelType: lvs.IPIP}},
					{Addr: ap("10.0.0.7:80"), Opts: lvs.DestOpts{Forward: lvs.Tunnel, Weight: 1, TunnelType: lvs.GRE}},
					{Addr: ap("10.0.0.6:80"), Opts: lvs.DestOpts{Forward: lvs.Tunnel, Weight: 1, TunnelType: lvs.GUE, TunnelPort: 6080, TunnelFlags: lvs.TunnelCsum}},
					// Thresholds are never saved.
					{Addr: ap("10.0.0.5:8080"), Opts: lvs.DestOpts{Forward: lvs.Masq, Weight: 1, UpperThreshold: 100, LowerThreshold: 50}},
					// Local is saved as -g.
					{Addr: ap("192.168.0.8:80"), Opts: lvs.DestOpts{Forward: lvs.Local, Weight: 65535}},
				}},
		},
	}
}

// wantSave is what ipvsadm 1.31 prints for saveTable, from the printf
// formats of print_service_entry and print_tunnel_rule. Note the order:
// 192.168.x sorts before 10.x because libipvs subtracts addresses as
// unsigned numbers into an int; "-b " is left empty for sh and flag-3.
const wantSave = `-A -t 192.168.1.10:80 -s wlc
-a -t 192.168.1.10:80 -r 192.168.0.8:80 -g -w 65535
-a -t 192.168.1.10:80 -r 10.0.0.5:8080 -m -w 1
-a -t 192.168.1.10:80 -r 10.0.0.6:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum
-a -t 192.168.1.10:80 -r 10.0.0.7:80 -i -w 1 --tun-type gre --tun-nocsum
-a -t 192.168.1.10:80 -r 10.0.0.8:80 -i -w 1 --tun-type ipip
-a -t 192.168.1.10:80 -r 10.0.0.9:80 -i -w 0 --tun-type gue --tun-port 6081 --tun-remcsum
-A -t 10.0.0.1:0 -s lc -p 60 -M 0.0.0.0
-A -t 10.0.0.1:443 -s sh -p 360 -M 255.255.255.0 --pe sip -b sh-fallback,sh-port
-A -u 10.0.0.1:53 -s mh -o -b mh-fallback,mh-port
-A --sctp-service 10.0.0.1:3868 -s wrr -b flag-1,flag-3
-A -t [2001:db8::80]:80 -s rr -p 300 -M 64
-a -t [2001:db8::80]:80 -r 10.0.0.1:80 -i -w 1 --tun-type ipip
-a -t [2001:db8::80]:80 -r [2001:db8::1]:80 -g -w 2
-A -f 3 -s wlc -p 400
-a -f 3 -r 172.16.11.76:0 -g -w 1
-A -f 4 -6 -s sh -b 
`

func TestWriteSave(t *testing.T) {
	tab := saveTable()
	var b bytes.Buffer
	if err := WriteSave(&b, tab); err != nil {
		t.Fatal(err)
	}
	if b.String() != wantSave {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), wantSave)
	}
	if tab.Services[0].Key != lvs.MarkKey(lvs.IPv6, 4) {
		t.Errorf("WriteSave reordered the table it was given")
	}
}

func TestWriteSaveEmpty(t *testing.T) {
	var b bytes.Buffer
	if err := WriteSave(&b, &lvs.Table{Timeouts: lvs.Timeouts{TCP: time.Minute}}); err != nil {
		t.Fatal(err)
	}
	if b.Len() != 0 {
		t.Errorf("an empty table saved as %q, want nothing", b.String())
	}
}

// A firewall mark of 2^31 or more sorts before the address services (the
// difference wraps negative) and prints unsigned.
func TestWriteSaveHighMark(t *testing.T) {
	tab := &lvs.Table{Services: []lvs.Service{
		{Key: lvs.AddrKey(lvs.TCP, ap("10.0.0.1:80")), Opts: lvs.ServiceOpts{Scheduler: "wlc", Netmask: 32}},
		{Key: lvs.MarkKey(lvs.IPv4, 0x80000001), Opts: lvs.ServiceOpts{Scheduler: "rr", Netmask: 32}},
	}}
	var b bytes.Buffer
	if err := WriteSave(&b, tab); err != nil {
		t.Fatal(err)
	}
	want := "-A -f 2147483649 -s rr\n-A -t 10.0.0.1:80 -s wlc\n"
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestSchedFlagNames(t *testing.T) {
	for _, tc := range []struct {
		sched string
		f     lvs.SchedFlags
		want  string
	}{
		{"sh", 0, ""},
		{"sh", lvs.SchedFlag1, "sh-fallback"},
		{"sh", lvs.SchedFlag2, "sh-port"},
		{"sh", lvs.SchedFlag3, ""},
		{"mh", 7, "mh-fallback,mh-port"},
		{"wlc", 7, "flag-1,flag-2,flag-3"},
		{"rr", lvs.SchedFlag2, "flag-2"},
	} {
		if got := SchedFlagNames(tc.sched, tc.f); got != tc.want {
			t.Errorf("SchedFlagNames(%q, %d) = %q, want %q", tc.sched, tc.f, got, tc.want)
		}
	}
}
