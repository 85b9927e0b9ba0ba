package ipvsadm

import (
	"bytes"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/lvs"
)

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// listTable is the table that testdata/list/list.sh prints by hand. Its
// services are deliberately not in ipvsadm's order.
func listTable() *lvs.Table {
	return &lvs.Table{
		Timeouts: lvs.Timeouts{TCP: 900 * time.Second, TCPFin: 120 * time.Second, UDP: 300 * time.Second},
		Services: []lvs.Service{
			{Key: lvs.MarkKey(lvs.IPv6, 5), Opts: lvs.ServiceOpts{Scheduler: "rr", Netmask: 128},
				Dests: []lvs.Dest{{Addr: ap("[2001:db8::5]:0"), Opts: lvs.DestOpts{Forward: lvs.Route, Weight: 1}}}},
			{Key: lvs.MarkKey(lvs.IPv4, 3), Opts: lvs.ServiceOpts{Scheduler: "wlc", Persistent: true, Timeout: 400, Netmask: 32},
				Dests: []lvs.Dest{{Addr: ap("172.16.11.76:5060"), Opts: lvs.DestOpts{Forward: lvs.Route, Weight: 1}, Live: lvs.DestLive{InactConns: 69}}}},
			{Key: lvs.AddrKey(lvs.TCP, ap("[2001:db8::80]:443")), Opts: lvs.ServiceOpts{Scheduler: "wrr", Persistent: true, Timeout: 300, Netmask: 64},
				Dests: []lvs.Dest{{Addr: ap("[2001:db8::1]:443"), Opts: lvs.DestOpts{Forward: lvs.Masq, Weight: 1}}}},
			{Key: lvs.AddrKey(lvs.UDP, ap("10.0.0.1:53")), Opts: lvs.ServiceOpts{Scheduler: "sh", SchedFlags: lvs.SchedFlag1, Persistent: true, Timeout: 360, Netmask: 24, PE: "sip", OnePacket: true}},
			{Key: lvs.AddrKey(lvs.TCP, ap("192.168.1.10:80")), Opts: lvs.ServiceOpts{Scheduler: "wlc", Netmask: 32},
				Stats: lvs.Stats{Conns: 99999999, InPkts: 100000000, OutPkts: 999999999999, InBytes: 123456789012345, OutBytes: 5,
					CPS: 1, InPPS: 2, OutPPS: 3, InBPS: 4000000000, OutBPS: 99},
				Dests: []lvs.Dest{
					{Addr: ap("10.0.0.7:80"), Opts: lvs.DestOpts{Forward: lvs.Tunnel, Weight: 0, TunnelType: lvs.GRE}},
					{Addr: ap("10.0.0.6:80"), Opts: lvs.DestOpts{Forward: lvs.Tunnel, Weight: 1, TunnelType: lvs.GUE, TunnelPort: 6080, TunnelFlags: lvs.TunnelCsum}},
					{Addr: ap("192.168.0.8:80"), Opts: lvs.DestOpts{Forward: lvs.Local, Weight: 3, UpperThreshold: 100, LowerThreshold: 50},
						Live: lvs.DestLive{ActiveConns: 12, InactConns: 345, PersistConns: 6,
							Stats: lvs.Stats{Conns: 1, InPkts: 2, OutPkts: 3, InBytes: 4, OutBytes: 5, CPS: 6, InPPS: 7, OutPPS: 8, InBPS: 100000000, OutBPS: 9}}},
				}},
		},
	}
}

func TestWriteList(t *testing.T) {
	for _, tc := range []struct {
		golden string
		o      ListOptions
	}{
		{"plain", ListOptions{}},
		{"stats", ListOptions{Stats: true}},
		{"stats-exact", ListOptions{Stats: true, Exact: true}},
		{"rate", ListOptions{Rate: true}},
		{"rate-exact", ListOptions{Rate: true, Exact: true}},
		{"thresholds", ListOptions{Thresholds: true}},
		{"persistent-conn", ListOptions{PersistentConn: true}},
		{"tun-info", ListOptions{TunInfo: true}},
		{"timeout", ListOptions{Timeout: true}},
		// ipvsadm lets --stats win over --rate and the others.
		{"stats", ListOptions{Stats: true, Rate: true, TunInfo: true}},
		{"thresholds", ListOptions{Thresholds: true, PersistentConn: true}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			want, err := os.ReadFile("testdata/list/" + tc.golden + ".golden")
			if err != nil {
				t.Fatal(err)
			}
			tab := listTable()
			before := tab.Clone()
			var got bytes.Buffer
			if err := WriteList(&got, tab, tc.o); err != nil {
				t.Fatal(err)
			}
			if got.String() != string(want) {
				t.Errorf("got:\n%s\nwant:\n%s", got.String(), want)
			}
			if tab.Services[0].Key != before.Services[0].Key || tab.Services[4].Dests[0].Addr != before.Services[4].Dests[0].Addr {
				t.Errorf("WriteList reordered the table it was given")
			}
		})
	}
}

func TestWriteListHeaderAndNoSort(t *testing.T) {
	var b bytes.Buffer
	if err := WriteList(&b, listTable(), ListOptions{Version: "1.2.1", Size: 1048576, NoSort: true}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	if lines[0] != "IP Virtual Server version 1.2.1 (size=1048576)" {
		t.Errorf("header = %q", lines[0])
	}
	// --nosort keeps the table's order: the IPv6 fwmark service first.
	if lines[3] != "FWM  5 IPv6 rr" {
		t.Errorf("first service = %q, want the table's first", lines[3])
	}
	var empty bytes.Buffer
	if err := WriteList(&empty, &lvs.Table{}, ListOptions{}); err != nil {
		t.Fatal(err)
	}
	want := "IP Virtual Server version 1.2.1 (size=4096)\n" +
		"Prot LocalAddress:Port Scheduler Flags\n" +
		"  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
	if empty.String() != want {
		t.Errorf("empty table:\n%q\nwant\n%q", empty.String(), want)
	}
}

func TestLargenum(t *testing.T) {
	for _, tc := range []struct {
		in    uint64
		exact bool
		want  string
	}{
		{0, false, "        0"},
		{99999999, false, " 99999999"},
		{100000000, false, "  100000K"},
		{999999999, false, "  999999K"},
		{1000000000, false, "    1000M"},
		{99999999999, false, "   99999M"},
		{100000000000, false, "     100G"},
		{99999999999999, false, "   99999G"},
		{100000000000000, false, "     100T"},
		{18446744073709551615, false, "18446744T"},
		{12345678, true, " 12345678"},
		{123456789, true, " 123456789"},
		{18446744073709551615, true, " 18446744073709551615"},
	} {
		if got := largenum(tc.in, tc.exact); got != tc.want {
			t.Errorf("largenum(%d, %v) = %q, want %q", tc.in, tc.exact, got, tc.want)
		}
	}
}
