package lvs

import (
	"slices"
	"strings"
	"testing"
)

// Every word parses back from its name, and every name of the lists
// parses.
func TestWordsRoundTrip(t *testing.T) {
	for i, p := range Protocols {
		if got, err := ParseProtocol(p.String()); err != nil || got != p || ProtocolNames[i] != p.String() {
			t.Errorf("protocol %d: ParseProtocol(%q) = %v, %v", uint16(p), p, got, err)
		}
		if p.IpvsadmOption().Long == "" || p.IpvsadmListName() == "?" {
			t.Errorf("protocol %s has no ipvsadm spelling", p)
		}
	}
	for i, f := range Forwards {
		if got, err := ParseForward(f.String()); err != nil || got != f || ForwardNames[i] != f.String() {
			t.Errorf("forward %d: ParseForward(%q) = %v, %v", uint8(f), f, got, err)
		}
	}
	for f := range MaxForward + 1 {
		if f.IpvsadmOption().Long == "" || f.IpvsadmListName() == "(null)" || strings.HasPrefix(f.String(), "forward(") {
			t.Errorf("forward %d has no name or ipvsadm spelling", uint8(f))
		}
	}
	for i, tt := range TunnelTypes {
		if got, err := ParseTunnelType(tt.String()); err != nil || got != tt || TunnelTypeNames[i] != tt.String() {
			t.Errorf("tunnel type %d: ParseTunnelType(%q) = %v, %v", uint8(tt), tt, got, err)
		}
	}
	for i, c := range Checksums {
		if got, err := ParseChecksum(c.String()); err != nil || got != c || ChecksumNames[i] != c.String() || !c.IsChecksum() {
			t.Errorf("checksum %d: ParseChecksum(%q) = %v, %v", uint16(c), c, got, err)
		}
		if c.IpvsadmOption().Long == "" || c.IpvsadmInfo() == "" {
			t.Errorf("checksum %s has no ipvsadm spelling", c)
		}
	}
	if TunnelFlagsMask.IsChecksum() || TunnelFlagsMask.String() != "flags(3)" {
		t.Errorf("both checksum flags: IsChecksum true or String %q", TunnelFlagsMask)
	}
	for _, pe := range PersistenceEngines {
		if err := CheckPE(pe); err != nil {
			t.Error(err)
		}
	}
}

func TestWordMessages(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{second(ParseProtocol("icmp")), `unknown protocol "icmp": use tcp, udp or sctp`},
		{second(ParseForward("local")), `unknown forwarding method "local": use nat, dr or tun`},
		{second(ParseTunnelType("vxlan")), `unknown tunnel type "vxlan": use ipip, gue or gre`},
		{second(ParseChecksum("none")), `unknown tunnel checksum "none": use nocsum, csum or remcsum`},
		{second(ParseSchedFlag("wlc", "fallback")), `unknown scheduler flag "fallback": use flag-1, flag-2, flag-3, sh-fallback, sh-port, mh-fallback or mh-port`},
		{second(ParseSchedFlag("rr", "sh-port")), `scheduler flag "sh-port" is for the sh scheduler, not rr`},
		{CheckPE("sipp"), `unknown persistence engine "sipp": the kernel has only sip`},
	} {
		if c.err == nil || c.err.Error() != c.want {
			t.Errorf("got %v, want %s", c.err, c.want)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func TestForwardAliases(t *testing.T) {
	for name, want := range map[string]Forward{
		"nat": Masq, "masq": Masq, "masquerading": Masq,
		"dr": Route, "route": Route, "direct": Route, "gatewaying": Route,
		"tun": Tunnel, "tunnel": Tunnel, "ipip": Tunnel,
	} {
		if got, err := ParseForward(name); err != nil || got != want {
			t.Errorf("ParseForward(%q) = %v, %v; want %v", name, got, err, want)
		}
	}
	// The kernel's Local is saved as ipvsadm saves it.
	if Local.IpvsadmOption() != Route.IpvsadmOption() {
		t.Errorf("Local saves as %s, not as %s", Local.IpvsadmOption(), Route.IpvsadmOption())
	}
}

func TestSchedFlagNames(t *testing.T) {
	all := SchedFlag1 | SchedFlag2 | SchedFlag3
	for _, c := range []struct {
		sched          string
		f              SchedFlags
		names, ipvsadm string
	}{
		{"wlc", all, "flag-1,flag-2,flag-3", "flag-1,flag-2,flag-3"},
		{"sh", all, "sh-fallback,sh-port,flag-3", "sh-fallback,sh-port"},
		{"mh", SchedFlag2 | SchedFlag3, "mh-port,flag-3", "mh-port"},
		{"sh", SchedFlag3, "flag-3", ""},
		{"rr", SchedFlag2 | 0x10, "flag-2", "flag-2"},
		{"sh", 0, "", ""},
	} {
		if got := strings.Join(c.f.Names(c.sched), ","); got != c.names {
			t.Errorf("%s %#x: Names = %q, want %q", c.sched, uint8(c.f), got, c.names)
		}
		if got := strings.Join(c.f.IpvsadmNames(c.sched), ","); got != c.ipvsadm {
			t.Errorf("%s %#x: IpvsadmNames = %q, want %q", c.sched, uint8(c.f), got, c.ipvsadm)
		}
		for _, name := range c.f.Names(c.sched) {
			if f, err := ParseSchedFlag(c.sched, name); err != nil || c.f&f == 0 {
				t.Errorf("%s: ParseSchedFlag(%q) = %#x, %v", c.sched, name, uint8(f), err)
			}
		}
	}
	for _, name := range SchedFlagNames {
		f, sched, ok := LookupSchedFlag(name)
		if !ok || f&^SchedFlagsMask != 0 || f == 0 {
			t.Errorf("LookupSchedFlag(%q) = %#x, %q, %v", name, uint8(f), sched, ok)
		}
		if sched != "" && !slices.Contains(Schedulers, sched) {
			t.Errorf("flag %q belongs to %q, which is not a scheduler", name, sched)
		}
	}
}

func TestFormatNetmask(t *testing.T) {
	for _, c := range []struct {
		f    Family
		bits uint8
		want string
	}{
		{IPv4, 0, "0.0.0.0"}, {IPv4, 24, "255.255.255.0"}, {IPv4, 31, "255.255.255.254"},
		{IPv4, 32, "255.255.255.255"}, {IPv4, 40, "255.255.255.255"},
		{IPv6, 64, "64"}, {IPv6, 128, "128"},
	} {
		if got := FormatNetmask(c.f, c.bits); got != c.want {
			t.Errorf("FormatNetmask(%s, %d) = %q, want %q", c.f, c.bits, got, c.want)
		}
	}
}
