package lvs

import (
	"math"
	"strings"
	"testing"
	"time"
)

// TestKernelRangeValues pins the ranges to the kernel's numbers, so that
// a change to one is a deliberate one.
func TestKernelRangeValues(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want int64
	}{
		{"MaxConnTimeout = INT_MAX/1000", MaxConnTimeout, 2147483},
		{"MaxPersistTimeout = 31 days", MaxPersistTimeout, 2678400},
		{"MaxPersistTimeout*HZ fits an unsigned int for HZ=1000", MaxPersistTimeout * AssumedMaxHZ, min(MaxPersistTimeout*AssumedMaxHZ, math.MaxUint32)},
		{"MaxWeight", MaxWeight, 65535},
		{"MaxThreshold = INT_MAX", MaxThreshold, math.MaxInt32},
		{"MaxSchedNameLen = IP_VS_SCHEDNAME_MAXLEN-1", MaxSchedNameLen, 15},
		{"MaxPENameLen = IP_VS_PENAME_MAXLEN", MaxPENameLen, 16},
		{"MaxIfNameLen = IP_VS_IFNAME_MAXLEN-1", MaxIfNameLen, 15},
		{"MaxSyncID", MaxSyncID, 255},
		{"MaxForward = IP_VS_CONN_F_DROUTE", int64(MaxForward), 3},
		{"MaxTunnelType = IP_VS_CONN_F_TUNNEL_TYPE_GRE", int64(MaxTunnelType), 2},
		{"MinIPv6Netmask", MinIPv6Netmask, 1},
		{"MaxIPv6Netmask", MaxIPv6Netmask, 128},
		{"SchedFlagsMask = IP_VS_SVC_F_SCHED1..3 >> 3", int64(SchedFlagsMask), 7},
		{"TunnelFlagsMask", int64(TunnelFlagsMask), 3},
	} {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", c.name, c.got, c.want)
		}
	}
	for _, s := range Schedulers {
		if len(s) > MaxSchedNameLen {
			t.Errorf("scheduler %q is longer than the kernel takes", s)
		}
	}
}

// TestKernelRangeBoundaries checks each range at its edges: the largest
// (or smallest) value the kernel takes is accepted, one past it refused
// with the field the range is about.
func TestKernelRangeBoundaries(t *testing.T) {
	web := func(t *Table) *Service { return &t.Services[0] }
	ipv6 := func(t *Table) *Service { return &t.Services[1] }
	for _, c := range []struct {
		name    string
		ok, bad func(t *Table) // ok sets the edge value, bad one past it
		svc     int
		dest    int
		field   string
		msg     string
	}{
		{"tcp timeout", func(t *Table) { t.Timeouts.TCP = MaxConnTimeout * time.Second },
			func(t *Table) { t.Timeouts.TCP = (MaxConnTimeout + 1) * time.Second }, -1, -1, FieldTimeouts, "timeout tcp of 2147484s is longer than the kernel accepts: at most 2147483s"},
		{"tcp_fin timeout", func(t *Table) { t.Timeouts.TCPFin = MaxConnTimeout * time.Second },
			func(t *Table) { t.Timeouts.TCPFin = (MaxConnTimeout + 1) * time.Second }, -1, -1, FieldTimeouts, "timeout tcp_fin of 2147484s"},
		{"udp timeout", func(t *Table) { t.Timeouts.UDP = MaxConnTimeout * time.Second },
			func(t *Table) { t.Timeouts.UDP = (MaxConnTimeout + 1) * time.Second }, -1, -1, FieldTimeouts, "timeout udp of 2147484s"},
		{"timeout of 2^31-1 s, the old limit", func(t *Table) { t.Timeouts.UDP = 0 },
			func(t *Table) { t.Timeouts.UDP = math.MaxInt32 * time.Second }, -1, -1, FieldTimeouts, "at most 2147483s"},
		{"negative timeout", func(t *Table) { t.Timeouts.UDP = 0 },
			func(t *Table) { t.Timeouts.UDP = -time.Second }, -1, -1, FieldTimeouts, "not negative"},
		{"persistence timeout", func(t *Table) { ipv6(t).Opts.Timeout = MaxPersistTimeout },
			func(t *Table) { ipv6(t).Opts.Timeout = MaxPersistTimeout + 1 }, 1, -1, FieldTimeout, "not 2678401s"},
		{"persistence timeout minimum", func(t *Table) { ipv6(t).Opts.Timeout = MinPersistTimeout },
			func(t *Table) { ipv6(t).Opts.Timeout = MinPersistTimeout - 1 }, 1, -1, FieldTimeout, "not 0s"},
		{"IPv6 netmask maximum", func(t *Table) { ipv6(t).Opts.Netmask = MaxIPv6Netmask },
			func(t *Table) { ipv6(t).Opts.Netmask = MaxIPv6Netmask + 1 }, 1, -1, FieldNetmask, "from 1 to 128, not 129"},
		{"IPv6 netmask minimum", func(t *Table) { ipv6(t).Opts.Netmask = MinIPv6Netmask },
			func(t *Table) { ipv6(t).Opts.Netmask = MinIPv6Netmask - 1 }, 1, -1, FieldNetmask, "from 1 to 128, not 0"},
		{"IPv4 netmask", func(t *Table) {
			web(t).Opts.Persistent, web(t).Opts.Timeout, web(t).Opts.Netmask = true, 60, MaxIPv4Netmask
		},
			func(t *Table) {
				web(t).Opts.Persistent, web(t).Opts.Timeout, web(t).Opts.Netmask = true, 60, MaxIPv4Netmask+1
			}, 0, -1, FieldNetmask, "at most 32 bits, not 33"},
		{"weight", func(t *Table) { web(t).Dests[0].Opts.Weight = MaxWeight },
			func(t *Table) { web(t).Dests[0].Opts.Weight = MaxWeight + 1 }, 0, 0, FieldWeight, "between 0 and 65535, not 65536"},
		{"weight minimum", func(t *Table) { web(t).Dests[0].Opts.Weight = 0 },
			func(t *Table) { web(t).Dests[0].Opts.Weight = -1 }, 0, 0, FieldWeight, "not -1"},
		{"upper threshold", func(t *Table) { web(t).Dests[0].Opts.UpperThreshold = MaxThreshold },
			func(t *Table) { web(t).Dests[0].Opts.UpperThreshold = MaxThreshold + 1 }, 0, 0, FieldUpper, "upper threshold 2147483648 is above the kernel's limit 2147483647"},
		{"lower threshold", func(t *Table) { web(t).Dests[0].Opts.UpperThreshold, web(t).Dests[0].Opts.LowerThreshold = 10, 10 },
			func(t *Table) { web(t).Dests[0].Opts.UpperThreshold, web(t).Dests[0].Opts.LowerThreshold = 10, 11 }, 0, 0, FieldLower, "lower threshold 11 is above the upper threshold 10"},
		{"forwarding method", func(t *Table) { web(t).Dests[1].Opts.Forward = MaxForward },
			func(t *Table) { web(t).Dests[1].Opts.Forward = MaxForward + 1 }, 0, 1, FieldForwarding, "unknown forwarding method 4"},
		{"forwarding method 7", func(t *Table) { web(t).Dests[1].Opts.Forward = Local },
			func(t *Table) { web(t).Dests[1].Opts.Forward = 7 }, 0, 1, FieldForwarding, "unknown forwarding method 7"},
		{"tunnel type", func(t *Table) { web(t).Dests[2].Opts = DestOpts{Forward: Tunnel, Weight: 1, TunnelType: MaxTunnelType} },
			func(t *Table) { web(t).Dests[2].Opts.TunnelType = MaxTunnelType + 1 }, 0, 2, FieldTunnelType, "unknown tunnel type 3"},
		{"gue port", func(t *Table) { web(t).Dests[2].Opts.TunnelPort = 1 },
			func(t *Table) { web(t).Dests[2].Opts.TunnelPort = 0 }, 0, 2, FieldTunnelPort, "a gue tunnel needs tunnel_port"},
		{"tunnel flags", func(t *Table) { web(t).Dests[2].Opts.TunnelFlags = TunnelRemCsum },
			func(t *Table) { web(t).Dests[2].Opts.TunnelFlags = TunnelFlagsMask + 1 }, 0, 2, FieldTunnelCsum, "choose one checksum option"},
		{"scheduler flags", func(t *Table) { web(t).Opts.SchedFlags = SchedFlagsMask },
			func(t *Table) { web(t).Opts.SchedFlags = SchedFlagsMask + 1 }, 0, -1, FieldSchedFlags, "unknown scheduler flags 0x8"},
		{"scheduler name length", func(t *Table) { web(t).Opts.Scheduler = "lblcr" },
			func(t *Table) { web(t).Opts.Scheduler = strings.Repeat("x", MaxSchedNameLen+1) }, 0, -1, FieldScheduler, "unknown scheduler"},
		{"pe name length", func(t *Table) { ipv6(t).Opts.PE = "sip" },
			func(t *Table) { ipv6(t).Opts.PE = strings.Repeat("s", MaxPENameLen+1) }, 1, -1, FieldPE, "unknown persistence engine"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tab := valid()
			c.ok(tab)
			if ps := tab.Validate(); len(ps) > 0 {
				t.Fatalf("the edge value is refused: %v", ps)
			}
			tab = valid()
			c.bad(tab)
			ps := tab.Validate()
			if len(ps) != 1 {
				t.Fatalf("got %d problems, want 1: %v", len(ps), ps)
			}
			p := ps[0]
			if p.Service != c.svc || p.Dest != c.dest || p.Field != c.field || !strings.Contains(p.Msg, c.msg) {
				t.Errorf("got %+v\nwant service %d dest %d field %q message with %q", p, c.svc, c.dest, c.field, c.msg)
			}
		})
	}
}

// The per-object validators report what Validate reports for the same
// object, without indexes.
func TestValidateObjects(t *testing.T) {
	if ps := ValidateTimeouts(Timeouts{TCP: (MaxConnTimeout + 1) * time.Second}); len(ps) != 1 || ps[0].Field != FieldTimeouts || ps[0].Service != -1 {
		t.Errorf("ValidateTimeouts = %v", ps)
	}
	if ps := ValidateTimeouts(Timeouts{TCP: MaxConnTimeout * time.Second, TCPFin: time.Second}); len(ps) != 0 {
		t.Errorf("ValidateTimeouts of valid timeouts = %v", ps)
	}
	k := AddrKey(TCP, ap("10.0.0.2:80"))
	if ps := ValidateService(k, ServiceOpts{Scheduler: "rr", Netmask: 32}); len(ps) != 0 {
		t.Errorf("ValidateService of a valid service = %v", ps)
	}
	if ps := ValidateService(AddrKey(TCP, ap("10.0.0.2:0")), ServiceOpts{Scheduler: "nope"}); len(ps) != 2 || ps[0].Field != FieldPort || ps[1].Field != FieldScheduler {
		t.Errorf("ValidateService = %v, want the port and the scheduler", ps)
	}
	if ps := ValidateDest(k, Dest{Addr: ap("192.168.0.1:80"), Opts: DestOpts{Forward: 7, Weight: 1}}); len(ps) != 1 || ps[0].Field != FieldForwarding || ps[0].Dest != -1 {
		t.Errorf("ValidateDest = %v, want the forwarding method", ps)
	}
	if ps := ValidateDest(k, Dest{Addr: ap("192.168.0.1:80"), Opts: DestOpts{Forward: Masq, Weight: 1}}); len(ps) != 0 {
		t.Errorf("ValidateDest of a valid real server = %v", ps)
	}
}
