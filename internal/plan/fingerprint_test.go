package plan

import (
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/lvs"
)

// fingerprintTable has every field of what the fingerprint covers set.
func fingerprintTable() *lvs.Table {
	return &lvs.Table{
		Timeouts: lvs.Timeouts{TCP: 900 * time.Second, TCPFin: 120 * time.Second, UDP: 300 * time.Second},
		Services: []lvs.Service{
			{Key: udp("10.0.0.2:53"), Name: "dns", Opts: lvs.ServiceOpts{Scheduler: "sh", Persistent: true, Timeout: 360, Netmask: 24,
				PE: "sip", OnePacket: true, SchedFlags: lvs.SchedFlag1 | lvs.SchedFlag2},
				Dests: []lvs.Dest{{Addr: netip.MustParseAddrPort("192.168.0.2:53"), Opts: lvs.DestOpts{Forward: lvs.Tunnel, Weight: 3,
					UpperThreshold: 100, LowerThreshold: 10, TunnelType: lvs.GUE, TunnelPort: 6080, TunnelFlags: lvs.TunnelRemCsum}}}},
			{Key: lvs.MarkKey(lvs.IPv6, 7), Opts: lvs.ServiceOpts{Scheduler: "wlc", Netmask: 128}},
		},
	}
}

// The fingerprint of a table is what it was before it was derived from
// the lvs types, so that plans saved by earlier versions stay valid.
func TestFingerprintIsStable(t *testing.T) {
	const want = "sha256:a36312d60318674dfe8646f1374270039d3e233fdd29b684cb65f4095e550859"
	if got := Fingerprint(fingerprintTable(), lvs.Ignore{}); got != want {
		t.Errorf("Fingerprint = %s, want %s: plans saved by earlier versions would be refused as stale "+
			"(a field added to the lvs types changes every fingerprint: then bump FileFormatVersion, so that they are refused for what they are, and update want)", got, want)
	}
}

// nonZero returns a value of t that is not its zero value.
func nonZero(t *testing.T, typ reflect.Type) reflect.Value {
	v := reflect.New(typ).Elem()
	switch typ.Kind() {
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(5)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(5)
	case reflect.String:
		v.SetString("x")
	default:
		switch typ {
		case reflect.TypeFor[netip.Addr]():
			v.Set(reflect.ValueOf(netip.MustParseAddr("192.0.2.99")))
		case reflect.TypeFor[netip.AddrPort]():
			v.Set(reflect.ValueOf(netip.MustParseAddrPort("192.0.2.99:5")))
		default:
			t.Fatalf("no test value for a %s", typ)
		}
	}
	return v
}

// eachField calls f with a copy of x that has field i changed, for each
// field of x.
func eachField[T any](t *testing.T, x T, f func(name string, changed T)) {
	v := reflect.ValueOf(&x).Elem()
	for i := range v.NumField() {
		c := x
		cv := reflect.ValueOf(&c).Elem().Field(i)
		nz := nonZero(t, cv.Type())
		if cv.Equal(nz) {
			nz = reflect.Zero(cv.Type())
		}
		cv.Set(nz)
		f(v.Type().Field(i).Name, c)
	}
}

// A field added to the lvs types is part of the fingerprint.
func TestFingerprintCoversEveryField(t *testing.T) {
	base := fingerprintTable()
	fp := Fingerprint(base, lvs.Ignore{})
	check := func(what string, change func(*lvs.Table)) {
		c := base.Clone()
		change(c)
		if Fingerprint(c, lvs.Ignore{}) == fp {
			t.Errorf("changing %s does not change the fingerprint", what)
		}
	}
	eachField(t, base.Timeouts, func(name string, x lvs.Timeouts) { check("Timeouts."+name, func(c *lvs.Table) { c.Timeouts = x }) })
	eachField(t, base.Services[0].Key, func(name string, x lvs.ServiceKey) {
		check("ServiceKey."+name, func(c *lvs.Table) { c.Services[0].Key = x })
	})
	eachField(t, base.Services[0].Opts, func(name string, x lvs.ServiceOpts) {
		check("ServiceOpts."+name, func(c *lvs.Table) { c.Services[0].Opts = x })
	})
	eachField(t, base.Services[0].Dests[0].Opts, func(name string, x lvs.DestOpts) {
		check("DestOpts."+name, func(c *lvs.Table) { c.Services[0].Dests[0].Opts = x })
	})
	check("Dest.Addr", func(c *lvs.Table) { c.Services[0].Dests[0].Addr = netip.MustParseAddrPort("192.168.0.3:53") })
	// The kernel settings read with the table: their values, and whether
	// one was read at all. The reason is the desired side's display only.
	withForward := func(v string) func(*lvs.Table) {
		return func(c *lvs.Table) { c.Sysctls = []lvs.Sysctl{{Name: lvs.SysctlIPv4Forward, Value: v}} }
	}
	check("a sysctl read", withForward("0"))
	c := base.Clone()
	withForward("0")(c)
	fp0 := Fingerprint(c, lvs.Ignore{})
	withForward("1")(c)
	if Fingerprint(c, lvs.Ignore{}) == fp0 {
		t.Errorf("a sysctl's value does not change the fingerprint")
	}
	withForward("")(c)
	if Fingerprint(c, lvs.Ignore{}) == fp0 {
		t.Errorf("a sysctl the kernel lacks has the fingerprint of one at 0")
	}
}

// A field added to the lvs types is carried by the plan file too (the
// wire types mirror them by hand, so that the format does not follow
// renames): a plan that dropped one would apply its zero value.
func TestFileCarriesEveryField(t *testing.T) {
	eachField(t, lvs.ServiceKey{}, func(name string, x lvs.ServiceKey) {
		if got := toWireKey(x).key(); got != x {
			t.Errorf("the plan file loses ServiceKey.%s: %+v became %+v", name, x, got)
		}
	})
	eachField(t, lvs.ServiceOpts{}, func(name string, x lvs.ServiceOpts) {
		if got := toWireServiceOpts(x).opts(); got != x {
			t.Errorf("the plan file loses ServiceOpts.%s: %+v became %+v", name, x, got)
		}
	})
	eachField(t, lvs.DestOpts{}, func(name string, x lvs.DestOpts) {
		if got := toWireDest(lvs.Dest{Opts: x}).dest().Opts; got != x {
			t.Errorf("the plan file loses DestOpts.%s: %+v became %+v", name, x, got)
		}
	})
	eachField(t, lvs.Timeouts{}, func(name string, x lvs.Timeouts) {
		if got := toWireTimeouts(x).timeouts(); got != x {
			t.Errorf("the plan file loses Timeouts.%s: %+v became %+v", name, x, got)
		}
	})
	eachField(t, lvs.Sysctl{}, func(name string, x lvs.Sysctl) {
		w := toWireTable(&lvs.Table{Sysctls: []lvs.Sysctl{x}})
		if got := w.table().Sysctls; len(got) != 1 || got[0] != x {
			t.Errorf("the plan file loses Sysctl.%s in the desired table: %+v became %+v", name, x, got)
		}
		wf := toWireFile(&File{Plan: Plan{Ops: []Op{{Action: SetSysctl, FromSysctl: x, ToSysctl: x}}}})
		wf.Desired = &wireTable{}
		f, err := wf.file()
		if err != nil || f.Plan.Ops[0].FromSysctl != x || f.Plan.Ops[0].ToSysctl != x {
			t.Errorf("the plan file loses Sysctl.%s in an operation: %+v became %+v (%v)", name, x, f, err)
		}
	})
}
