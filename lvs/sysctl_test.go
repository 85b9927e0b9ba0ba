package lvs

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestNeededSysctls(t *testing.T) {
	svc := func(k ServiceKey, fwd ...Forward) Service {
		s := Service{Key: k, Opts: ServiceOpts{Scheduler: "wlc"}}
		for i, f := range fwd {
			s.Dests = append(s.Dests, Dest{Addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 168, 10, byte(100 + i)}), 80), Opts: DestOpts{Forward: f, Weight: 1}})
		}
		return s
	}
	v4 := AddrKey(TCP, netip.MustParseAddrPort("10.0.0.2:80"))
	v6 := AddrKey(TCP, netip.MustParseAddrPort("[2001:db8::2]:80"))
	ipv4 := Sysctl{Name: SysctlIPv4Forward, Value: "1", Reason: "IPv4 NAT"}
	ipv6 := Sysctl{Name: SysctlIPv6Forward, Value: "1", Reason: "IPv6 NAT"}
	for _, tc := range []struct {
		name string
		t    Table
		want []Sysctl
	}{
		{"no services", Table{}, nil},
		{"DR and TUN need nothing", Table{Services: []Service{svc(v4, Route, Tunnel), svc(v6, Route)}}, nil},
		{"a service without real servers", Table{Services: []Service{svc(v4)}}, nil},
		{"one NAT real server among DR ones", Table{Services: []Service{svc(v4, Route, Masq)}}, []Sysctl{ipv4}},
		{"IPv6 NAT", Table{Services: []Service{svc(v6, Masq)}}, []Sysctl{ipv6}},
		{"both", Table{Services: []Service{svc(v6, Masq), svc(v4, Masq)}}, []Sysctl{ipv4, ipv6}},
		{"a fwmark service's family", Table{Services: []Service{svc(MarkKey(IPv6, 7), Masq)}}, []Sysctl{ipv6}},
		{"an ignored service is not the table's", Table{Services: []Service{svc(v4, Masq)}, Ignore: Ignore{Ports: []uint16{80}}}, nil},
	} {
		if got := NeededSysctls(&tc.t); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestValidateSysctl(t *testing.T) {
	for _, tc := range []struct {
		s    Sysctl
		want string // "" for valid
	}{
		{Sysctl{Name: SysctlIPv4Forward, Value: "1"}, ""},
		{Sysctl{Name: "net.ipv4.vs.conn_reuse_mode", Value: "3"}, ""},
		{Sysctl{Name: "net.ipv4.vs.conn_reuse_mode", Value: "4"}, "out of range 0..3"},
		{Sysctl{Name: "net.ipv4.vs.sloppy_tcp", Value: "-1"}, "out of range 0..1"},
		{Sysctl{Name: "net.ipv4.vs.sloppy_tcp", Value: "01"}, "not a decimal integer"},
		{Sysctl{Name: "net.ipv4.vs.sloppy_tcp", Value: " 1"}, "not a decimal integer"},
		{Sysctl{Name: "net.ipv4.vs.sloppy_tcp", Value: ""}, "not a decimal integer"},
		{Sysctl{Name: "net.ipv4.vs.drop_entry", Value: "1"}, "not a kernel setting lvsctl manages"},
		{Sysctl{Name: "kernel.core_pattern", Value: "1"}, "not a kernel setting lvsctl manages"},
		{Sysctl{Name: "net/ipv4/ip_forward", Value: "1"}, "not a kernel setting lvsctl manages"},
	} {
		err := ValidateSysctl(tc.s)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v: %v", tc.s, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%+v: %v, want an error with %q", tc.s, err, tc.want)
		}
	}
}

// The catalog is sorted by name, each name once, every name under net.
// (only /proc/sys/net is per namespace, and the only subtree lvsctl
// writes), each key once, and every range sane.
func TestSysctlCatalog(t *testing.T) {
	if !slices.IsSortedFunc(Sysctls, func(a, b SysctlInfo) int { return strings.Compare(a.Name, b.Name) }) {
		t.Error("Sysctls is not sorted by name")
	}
	names, keys := map[string]bool{}, map[string]bool{}
	for _, i := range Sysctls {
		if names[i.Name] || (i.Key != "" && keys[i.Key]) {
			t.Errorf("%s (key %q) is listed twice", i.Name, i.Key)
		}
		names[i.Name], keys[i.Key] = true, true
		if !strings.HasPrefix(i.Name, "net.") || i.Min > i.Max || i.Min < 0 {
			t.Errorf("%+v", i)
		}
		if i.Key != "" && !strings.HasSuffix(i.Name, "."+i.Key) {
			t.Errorf("%s has the key %q, not its last part", i.Name, i.Key)
		}
		if got, ok := LookupSysctl(i.Name); !ok || got != i {
			t.Errorf("LookupSysctl(%q) = %+v, %v", i.Name, got, ok)
		}
	}
	for _, k := range []string{"expire_nodest_conn", "expire_quiescent_template", "conn_reuse_mode", "sloppy_tcp", "sloppy_sctp", "conntrack"} {
		if _, ok := LookupSysctlKey(k); !ok {
			t.Errorf("the sysctl block has no %s", k)
		}
	}
	if _, ok := LookupSysctlKey("ip_forward"); ok {
		t.Error("the sysctl block names ip_forward, which NAT's need decides (manage_forwarding)")
	}
}
