package lvs

import (
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestNormalize(t *testing.T) {
	tab := &Table{Services: []Service{
		{Key: MarkKey(IPv6, 9), Opts: ServiceOpts{}},
		{Key: ServiceKey{Family: IPv6, Protocol: TCP, Addr: netip.MustParseAddr("::ffff:10.0.0.2"), Port: 80},
			Opts: ServiceOpts{Scheduler: "rr", Timeout: 99, Netmask: 8},
			Dests: []Dest{
				{Addr: ap("10.0.0.9:80"), Opts: DestOpts{Forward: Route, TunnelType: GUE, TunnelPort: 5, TunnelFlags: TunnelCsum}},
				{Addr: netip.AddrPortFrom(netip.MustParseAddr("::ffff:10.0.0.3"), 80), Opts: DestOpts{Forward: Tunnel, TunnelType: GUE, TunnelPort: 5}},
			}},
		// A fwmark service has no protocol, address or port.
		{Key: ServiceKey{Family: IPv4, FWMark: 2, Protocol: TCP, Addr: netip.MustParseAddr("10.0.0.1"), Port: 80},
			Opts: ServiceOpts{Scheduler: "sh", Persistent: true, Timeout: 60, Netmask: 24}},
	}}
	tab.Normalize()
	want := &Table{Services: []Service{
		{Key: AddrKey(TCP, ap("10.0.0.2:80")), Opts: ServiceOpts{Scheduler: "rr", Netmask: 32},
			Dests: []Dest{
				{Addr: ap("10.0.0.3:80"), Opts: DestOpts{Forward: Tunnel, TunnelType: GUE, TunnelPort: 5}},
				{Addr: ap("10.0.0.9:80"), Opts: DestOpts{Forward: Route}},
			}},
		{Key: MarkKey(IPv4, 2), Opts: ServiceOpts{Scheduler: "sh", Persistent: true, Timeout: 60, Netmask: 24}},
		{Key: MarkKey(IPv6, 9), Opts: ServiceOpts{Scheduler: "wlc", Netmask: 128}},
	}}
	if !reflect.DeepEqual(tab, want) {
		t.Errorf("got\n%+v\nwant\n%+v", tab, want)
	}
	again := tab.Clone()
	again.Normalize()
	if !reflect.DeepEqual(again, tab) {
		t.Errorf("Normalize is not idempotent")
	}
	if tab.Service(AddrKey(TCP, ap("10.0.0.2:80"))) == nil || tab.Service(MarkKey(IPv6, 9)) == nil || tab.Service(MarkKey(IPv4, 9)) != nil {
		t.Errorf("Service lookup after Normalize")
	}
	if s := tab.Service(AddrKey(TCP, ap("10.0.0.2:80"))); s.Dest(ap("10.0.0.9:80")) == nil || s.Dest(ap("10.0.0.9:81")) != nil {
		t.Errorf("Dest lookup after Normalize")
	}
}

func TestClone(t *testing.T) {
	a := &Table{Services: []Service{{Key: MarkKey(IPv4, 1), Dests: []Dest{{Addr: ap("10.0.0.1:0")}}}},
		Ignore: Ignore{Prefixes: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, FWMarks: []uint32{1}, Ports: []uint16{1}}}
	b := a.Clone()
	b.Services[0].Dests[0].Opts.Weight = 9
	b.Ignore.FWMarks[0] = 2
	b.Ignore.Ports[0] = 2
	b.Ignore.Prefixes[0] = netip.MustParsePrefix("0.0.0.0/0")
	if a.Services[0].Dests[0].Opts.Weight != 0 || a.Ignore.FWMarks[0] != 1 || a.Ignore.Ports[0] != 1 || a.Ignore.Prefixes[0].Bits() != 8 {
		t.Errorf("Clone shares memory with the original")
	}
}

func TestServiceKeyCompare(t *testing.T) {
	// In the order Compare promises.
	keys := []ServiceKey{
		AddrKey(TCP, ap("10.0.0.2:80")),
		AddrKey(TCP, ap("10.0.0.2:443")),
		AddrKey(TCP, ap("192.168.0.1:80")),
		AddrKey(UDP, ap("10.0.0.1:53")),
		AddrKey(SCTP, ap("10.0.0.1:3868")),
		AddrKey(TCP, ap("[2001:db8::1]:80")),
		MarkKey(IPv4, 1),
		MarkKey(IPv6, 1),
		MarkKey(IPv4, 2),
	}
	for i := range keys {
		for j := range keys {
			got := keys[i].Compare(keys[j])
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got != want {
				t.Errorf("%s.Compare(%s) = %d, want %d", keys[i], keys[j], got, want)
			}
		}
	}
	for _, tc := range []struct {
		k    ServiceKey
		want string
	}{
		{AddrKey(TCP, ap("10.0.0.2:80")), "tcp 10.0.0.2:80"},
		{AddrKey(UDP, ap("[2001:db8::2]:53")), "udp [2001:db8::2]:53"},
		{AddrKey(SCTP, netip.AddrPortFrom(netip.MustParseAddr("::ffff:10.0.0.1"), 1)), "sctp 10.0.0.1:1"},
		{MarkKey(IPv4, 100), "fwmark 100"},
		{MarkKey(IPv6, 100), "fwmark 100 ipv6"},
	} {
		if got := tc.k.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}

func TestIgnoreMatches(t *testing.T) {
	ig := Ignore{
		Prefixes: []netip.Prefix{netip.MustParsePrefix("10.96.0.0/12"), netip.MustParsePrefix("2001:db8:ff::/48")},
		FWMarks:  []uint32{7},
		Ports:    []uint16{53},
	}
	for _, tc := range []struct {
		k    ServiceKey
		want bool
	}{
		{AddrKey(TCP, ap("10.96.0.1:443")), true},
		{AddrKey(TCP, ap("10.111.255.255:443")), true},
		{AddrKey(TCP, ap("10.112.0.1:443")), false},
		{AddrKey(UDP, ap("192.168.0.1:53")), true},
		{AddrKey(TCP, ap("192.168.0.1:80")), false},
		{AddrKey(TCP, ap("[2001:db8:ff::1]:80")), true},
		{AddrKey(TCP, ap("[2001:db8:fe::1]:80")), false},
		{MarkKey(IPv4, 7), true},
		{MarkKey(IPv6, 7), true},
		{MarkKey(IPv4, 53), false}, // ports select address services only
		{MarkKey(IPv4, 8), false},
	} {
		if got := ig.Matches(tc.k); got != tc.want {
			t.Errorf("Matches(%s) = %v, want %v", tc.k, got, tc.want)
		}
	}
	if ig.IsZero() || !(Ignore{}).IsZero() {
		t.Errorf("IsZero")
	}
	if (Ignore{}).Matches(AddrKey(TCP, ap("10.0.0.1:80"))) {
		t.Errorf("an empty Ignore matches")
	}
}

func TestParsers(t *testing.T) {
	for in, want := range map[string]Protocol{"tcp": TCP, "udp": UDP, "sctp": SCTP} {
		if p, err := ParseProtocol(in); err != nil || p != want || p.String() != in {
			t.Errorf("ParseProtocol(%q) = %v, %v", in, p, err)
		}
	}
	if _, err := ParseProtocol("TCP"); err == nil {
		t.Errorf("ParseProtocol accepts TCP")
	}
	for in, want := range map[string]Forward{"nat": Masq, "masq": Masq, "dr": Route, "route": Route, "gatewaying": Route, "tun": Tunnel, "ipip": Tunnel} {
		if f, err := ParseForward(in); err != nil || f != want {
			t.Errorf("ParseForward(%q) = %v, %v", in, f, err)
		}
	}
	if _, err := ParseForward("local"); err == nil {
		t.Errorf("ParseForward accepts local, which only the kernel sets")
	}
	for in, want := range map[string]TunnelType{"ipip": IPIP, "gue": GUE, "gre": GRE} {
		if tt, err := ParseTunnelType(in); err != nil || tt != want || tt.String() != in {
			t.Errorf("ParseTunnelType(%q) = %v, %v", in, tt, err)
		}
	}
}

// valid is a table that Validate accepts; each case below breaks one rule.
func valid() *Table {
	return &Table{
		Timeouts: Timeouts{TCP: 900 * time.Second},
		Services: []Service{
			{Key: AddrKey(TCP, ap("10.0.0.2:80")), Opts: ServiceOpts{Scheduler: "wlc", Netmask: 32},
				Dests: []Dest{
					{Addr: ap("192.168.0.1:8080"), Opts: DestOpts{Forward: Masq, Weight: 1}},
					{Addr: ap("192.168.0.2:80"), Opts: DestOpts{Forward: Route, Weight: 1, UpperThreshold: 10, LowerThreshold: 5}},
					{Addr: ap("[2001:db8::3]:80"), Opts: DestOpts{Forward: Tunnel, Weight: 1, TunnelType: GUE, TunnelPort: 6080, TunnelFlags: TunnelRemCsum}},
				}},
			{Key: AddrKey(UDP, ap("[2001:db8::2]:0")), Opts: ServiceOpts{Scheduler: "sh", Persistent: true, Timeout: 360, Netmask: 64, PE: "sip", OnePacket: true}},
			{Key: MarkKey(IPv6, 3), Opts: ServiceOpts{Persistent: true, Timeout: MaxPersistTimeout, Netmask: 128, OnePacket: true},
				Dests: []Dest{{Addr: ap("10.0.0.9:0"), Opts: DestOpts{Forward: Tunnel, TunnelType: GRE, TunnelFlags: TunnelCsum}}}},
		},
	}
}

func TestValidateAcceptsValid(t *testing.T) {
	if ps := valid().Validate(); len(ps) > 0 {
		t.Fatalf("problems in the valid table: %v", ps)
	}
}

func TestValidate(t *testing.T) {
	web := func(t *Table) *Service { return &t.Services[0] }
	for _, tc := range []struct {
		name    string
		breakIt func(t *Table)
		svc     int
		dest    int
		field   string
		msg     string // a part of the message
	}{
		{"negative timeout", func(t *Table) { t.Timeouts.UDP = -time.Second }, -1, -1, FieldTimeouts, "timeout udp must be a whole number of seconds"},
		{"fractional timeout", func(t *Table) { t.Timeouts.TCPFin = 1500 * time.Millisecond }, -1, -1, FieldTimeouts, "timeout tcp_fin"},
		{"fwmark family", func(t *Table) { t.Services[2].Key.Family, t.Services[2].Opts.Netmask = 0, 32 }, 2, -1, FieldFamily, "family must be ipv4 or ipv6"},
		{"no address", func(t *Table) { web(t).Key = ServiceKey{Protocol: TCP, Port: 80} }, 0, -1, FieldAddress, "needs an address (or a fwmark)"},
		{"unspecified address", func(t *Table) { web(t).Key.Addr = netip.IPv4Unspecified() }, 0, -1, FieldAddress, "0.0.0.0 is not a usable virtual address"},
		{"protocol", func(t *Table) { web(t).Key.Protocol = 1 }, 0, -1, FieldProtocol, "protocol must be tcp, udp or sctp"},
		{"port 0 without persistence", func(t *Table) { t.Services[1].Opts.Persistent = false; t.Services[1].Opts.PE = "" }, 1, -1, FieldPort, "port 0 (all ports) needs persistence"},
		{"duplicate service", func(t *Table) { t.Services = append(t.Services, Service{Key: web(t).Key, Opts: web(t).Opts}) }, 3, -1, FieldDuplicate, "tcp 10.0.0.2:80 is declared twice (first as service #1)"},
		{"duplicate through a mapped address", func(t *Table) {
			k := web(t).Key
			k.Addr = netip.AddrFrom16(k.Addr.As16())
			t.Services = append(t.Services, Service{Key: k, Opts: web(t).Opts})
		}, 3, -1, FieldDuplicate, "declared twice"},
		{"ignored service", func(t *Table) { t.Ignore.Ports = []uint16{80} }, 0, -1, FieldAddress, "matched by the ignore block"},
		{"scheduler", func(t *Table) { web(t).Opts.Scheduler = "fastest" }, 0, -1, FieldScheduler, `unknown scheduler "fastest"`},
		{"persistence timeout 0", func(t *Table) { t.Services[1].Opts.Timeout = 0 }, 1, -1, FieldTimeout, "between 1s and 31 days (2678400s), not 0s"},
		{"persistence timeout too long", func(t *Table) { t.Services[2].Opts.Timeout = MaxPersistTimeout + 1 }, 2, -1, FieldTimeout, "not 2678401s"},
		{"IPv6 netmask 0", func(t *Table) { t.Services[1].Opts.Netmask = 0 }, 1, -1, FieldNetmask, "prefix length from 1 to 128, not 0"},
		{"IPv6 netmask 129", func(t *Table) { t.Services[2].Opts.Netmask = 129 }, 2, -1, FieldNetmask, "not 129"},
		{"IPv4 netmask 33", func(t *Table) { web(t).Opts.Persistent, web(t).Opts.Timeout, web(t).Opts.Netmask = true, 60, 33 }, 0, -1, FieldNetmask, "at most 32 bits, not 33"},
		{"pe without persistence", func(t *Table) { web(t).Opts.PE = "sip" }, 0, -1, FieldPE, `persistence engine "sip" needs persistence`},
		{"unknown pe", func(t *Table) { t.Services[1].Opts.PE = "rtsp" }, 1, -1, FieldPE, `unknown persistence engine "rtsp"`},
		{"one-packet on tcp", func(t *Table) { web(t).Opts.OnePacket = true }, 0, -1, FieldOnePacket, "not tcp"},
		{"dest without address", func(t *Table) { web(t).Dests[0].Addr = netip.AddrPort{} }, 0, 0, FieldAddress, "a real server needs an address"},
		{"dest unspecified", func(t *Table) { web(t).Dests[0].Addr = ap("0.0.0.0:80") }, 0, 0, FieldAddress, "0.0.0.0 is not a usable real server address"},
		{"dest family without tunnel", func(t *Table) { web(t).Dests[2].Opts = DestOpts{Forward: Masq} }, 0, 2, FieldAddress, "mixing families works only with forwarding = \"tun\""},
		{"dr port", func(t *Table) { web(t).Dests[1].Addr = ap("192.168.0.2:81") }, 0, 1, FieldPort, `with forwarding = "dr" the real server port must equal the virtual port 80, not 81`},
		{"tun port", func(t *Table) { web(t).Dests[2].Addr = ap("[2001:db8::3]:81") }, 0, 2, FieldPort, `with forwarding = "tun"`},
		{"masq port 0", func(t *Table) { web(t).Dests[0].Addr = ap("192.168.0.1:0") }, 0, 0, FieldPort, "real server 192.168.0.1 needs a port"},
		{"forwarding", func(t *Table) { web(t).Dests[0].Opts.Forward = 4 }, 0, 0, FieldForwarding, "unknown forwarding method 4"},
		{"weight", func(t *Table) { web(t).Dests[0].Opts.Weight = 65536 }, 0, 0, FieldWeight, "not 65536"},
		{"negative weight", func(t *Table) { web(t).Dests[0].Opts.Weight = -1 }, 0, 0, FieldWeight, "not -1"},
		{"lower above upper", func(t *Table) { web(t).Dests[1].Opts.LowerThreshold = 11 }, 0, 1, FieldLower, "lower threshold 11 is above the upper threshold 10"},
		{"lower without upper", func(t *Table) { web(t).Dests[0].Opts.LowerThreshold = 1 }, 0, 0, FieldLower, "above the upper threshold 0"},
		{"tunnel settings without tun", func(t *Table) { web(t).Dests[0].Opts.TunnelPort = 1 }, 0, 0, FieldTunnelType, `tunnel settings need forwarding = "tun"`},
		{"ipip port", func(t *Table) { web(t).Dests[2].Opts = DestOpts{Forward: Tunnel, TunnelType: IPIP, TunnelPort: 1} }, 0, 2, FieldTunnelPort, "tunnel_port is for gue tunnels only"},
		{"ipip checksum", func(t *Table) {
			web(t).Dests[2].Opts = DestOpts{Forward: Tunnel, TunnelType: IPIP, TunnelFlags: TunnelCsum}
		}, 0, 2, FieldTunnelCsum, "for gue and gre tunnels only"},
		{"gue without port", func(t *Table) { web(t).Dests[2].Opts.TunnelPort = 0 }, 0, 2, FieldTunnelPort, "a gue tunnel needs tunnel_port"},
		{"gre port", func(t *Table) { t.Services[2].Dests[0].Opts.TunnelPort = 1 }, 2, 0, FieldTunnelPort, "tunnel_port is for gue tunnels only"},
		{"gre remcsum", func(t *Table) { t.Services[2].Dests[0].Opts.TunnelFlags = TunnelRemCsum }, 2, 0, FieldTunnelCsum, "remcsum) is for gue tunnels only"},
		{"tunnel type", func(t *Table) { web(t).Dests[2].Opts.TunnelType = 3 }, 0, 2, FieldTunnelType, "unknown tunnel type 3"},
		{"both checksums", func(t *Table) { web(t).Dests[2].Opts.TunnelFlags = TunnelCsum | TunnelRemCsum }, 0, 2, FieldTunnelCsum, "choose one checksum option"},
		{"unknown checksum bits", func(t *Table) { web(t).Dests[2].Opts.TunnelFlags = 4 }, 0, 2, FieldTunnelCsum, "choose one checksum option"},
		{"duplicate dest", func(t *Table) { web(t).Dests = append(web(t).Dests, web(t).Dests[1]) }, 0, 3, FieldDuplicate, "real server 192.168.0.2:80 appears twice in tcp 10.0.0.2:80 (first as #2)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tab := valid()
			tc.breakIt(tab)
			ps := tab.Validate()
			if len(ps) != 1 {
				t.Fatalf("got %d problems, want 1: %v", len(ps), ps)
			}
			p := ps[0]
			if p.Service != tc.svc || p.Dest != tc.dest || p.Field != tc.field || !strings.Contains(p.Msg, tc.msg) {
				t.Errorf("got %+v\nwant service %d dest %d field %q message with %q", p, tc.svc, tc.dest, tc.field, tc.msg)
			}
			if p.Error() != p.Msg {
				t.Errorf("Error() = %q", p.Error())
			}
		})
	}
}

// Validate reports every problem, in table order.
func TestValidateAll(t *testing.T) {
	tab := valid()
	tab.Timeouts.TCP = -1
	tab.Services[0].Opts.Scheduler = "x"
	tab.Services[0].Dests[0].Opts.Weight = -1
	tab.Services[2].Opts.Timeout = 0
	var got [][2]int
	for _, p := range tab.Validate() {
		got = append(got, [2]int{p.Service, p.Dest})
	}
	want := [][2]int{{-1, -1}, {0, -1}, {0, 0}, {2, -1}}
	if !slices.Equal(got, want) {
		t.Errorf("problems at %v, want %v", got, want)
	}
}
