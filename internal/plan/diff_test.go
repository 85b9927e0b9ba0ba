package plan

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/lvs"
)

func TestDiffCreatesEverythingOnAnEmptyTable(t *testing.T) {
	web := tcp("10.0.0.2:80")
	r1, r2 := named(dest("192.168.10.100:80", 1), "real1"), named(dest("192.168.10.101:80", 2), "real2")
	desired := table(service(web, "web", r2, r1))
	p := Diff(table(), desired, Options{})
	wantOpts := desired.Services[0].Opts
	assertOps(t, p.Ops, []Op{
		{Action: AddService, Service: web, ServiceName: "web", To: wantOpts},
		{Action: AddDest, Service: web, ServiceName: "web", ToDest: r1},
		{Action: AddDest, Service: web, ServiceName: "web", ToDest: r2},
	})
	if add, chg, del := p.Summary(); add != 3 || chg != 0 || del != 0 {
		t.Errorf("Summary() = %d, %d, %d; want 3, 0, 0", add, chg, del)
	}
}

func TestDiffEqualTablesIsEmpty(t *testing.T) {
	mk := func() *lvs.Table {
		s := service(tcp("10.0.0.2:80"), "web", dest("192.168.10.100:80", 1))
		s.Opts.Persistent, s.Opts.Timeout, s.Opts.Netmask = true, 360, 24
		return table(s, service(lvs.MarkKey(lvs.IPv6, 7), "", dest("[2001:db8::1]:0", 3)))
	}
	live := mk()
	live.Timeouts = kernelTimeouts
	live.Services[0].Dests[0].Live = lvs.DestLive{ActiveConns: 5, Stats: lvs.Stats{Conns: 99}}
	live.Services[0].Stats.Conns = 1000
	p := Diff(live, mk(), Options{Drain: true})
	if !p.Empty() || len(p.Waiting) != 0 || len(p.Dropped) != 0 {
		t.Errorf("Diff of equal tables = %+v, want an empty plan", p)
	}
}

// Every in-place setting changes with exactly one edit, never delete+add.
func TestDiffEditsInPlace(t *testing.T) {
	k := tcp("10.0.0.2:80")
	base := func() *lvs.Table {
		d := dest("192.168.10.100:80", 1)
		s := service(k, "web", d)
		return table(s)
	}
	serviceEdits := map[string]func(o *lvs.ServiceOpts){
		"scheduler":  func(o *lvs.ServiceOpts) { o.Scheduler = "rr" },
		"persistent": func(o *lvs.ServiceOpts) { o.Persistent, o.Timeout = true, 300 },
		"timeout":    func(o *lvs.ServiceOpts) { o.Persistent, o.Timeout = true, 600 },
		"netmask":    func(o *lvs.ServiceOpts) { o.Persistent, o.Timeout, o.Netmask = true, 300, 24 },
		"flags":      func(o *lvs.ServiceOpts) { o.Scheduler, o.SchedFlags = "sh", lvs.SchedFlag1|lvs.SchedFlag2 },
		"pe":         func(o *lvs.ServiceOpts) { o.Persistent, o.Timeout, o.PE = true, 300, "sip" },
		"one-packet": func(o *lvs.ServiceOpts) { o.OnePacket = true },
	}
	for name, edit := range serviceEdits {
		t.Run("service/"+name, func(t *testing.T) {
			live, desired := base(), base()
			if name == "timeout" {
				live.Services[0].Opts.Persistent, live.Services[0].Opts.Timeout = true, 300
			}
			edit(&desired.Services[0].Opts)
			p := Diff(live, desired, Options{Drain: true})
			assertOps(t, p.Ops, []Op{{Action: EditService, Service: k, ServiceName: "web", From: live.Services[0].Opts, To: desired.Services[0].Opts}})
		})
	}
	destEdits := map[string]func(o *lvs.DestOpts){
		"weight":      func(o *lvs.DestOpts) { o.Weight = 5 },
		"weight-zero": func(o *lvs.DestOpts) { o.Weight = 0 },
		"forwarding":  func(o *lvs.DestOpts) { o.Forward = lvs.Route },
		"upper":       func(o *lvs.DestOpts) { o.UpperThreshold = 100 },
		"lower":       func(o *lvs.DestOpts) { o.UpperThreshold, o.LowerThreshold = 100, 10 },
		"tunnel":      func(o *lvs.DestOpts) { o.Forward = lvs.Tunnel },
		"tunnel-type": func(o *lvs.DestOpts) { o.Forward, o.TunnelType = lvs.Tunnel, lvs.GRE },
		"tunnel-port": func(o *lvs.DestOpts) { o.Forward, o.TunnelType, o.TunnelPort = lvs.Tunnel, lvs.GUE, 6080 },
		"tunnel-csum": func(o *lvs.DestOpts) { o.Forward, o.TunnelType, o.TunnelFlags = lvs.Tunnel, lvs.GRE, lvs.TunnelCsum },
	}
	for name, edit := range destEdits {
		t.Run("dest/"+name, func(t *testing.T) {
			live, desired := base(), base()
			edit(&desired.Services[0].Dests[0].Opts)
			p := Diff(live, desired, Options{Drain: true})
			assertOps(t, p.Ops, []Op{{Action: EditDest, Service: k, ServiceName: "web", FromDest: live.Services[0].Dests[0], ToDest: desired.Services[0].Dests[0]}})
			if add, chg, del := p.Summary(); add != 0 || chg != 1 || del != 0 {
				t.Errorf("Summary() = %d, %d, %d; want 0, 1, 0", add, chg, del)
			}
		})
	}
}

func TestDiffIgnoredServicesAreInvisible(t *testing.T) {
	kube := tcp("10.96.0.1:443")
	dns := udp("10.0.0.53:53")
	mark := lvs.MarkKey(lvs.IPv4, 42)
	web := tcp("10.0.0.2:80")
	live := table(
		service(kube, "", dest("172.16.0.10:6443", 1)),
		service(dns, "", dest("172.16.0.11:53", 1)),
		service(mark, "", dest("172.16.0.12:0", 1)),
		service(web, "", dest("192.168.10.100:80", 1)),
	)
	desired := table(service(web, "web", dest("192.168.10.100:80", 1)))
	desired.Ignore = lvs.Ignore{
		Prefixes: []netip.Prefix{netip.MustParsePrefix("10.96.0.0/12")},
		FWMarks:  []uint32{42},
		Ports:    []uint16{53},
	}
	if p := Diff(live, desired, Options{}); !p.Empty() {
		t.Errorf("ignored services planned:%s", opsString(p.Ops))
	}
	if fp1, fp2 := Fingerprint(live, desired.Ignore), Fingerprint(table(*live.Service(web)), desired.Ignore); fp1 != fp2 {
		t.Errorf("Fingerprint depends on ignored services: %s != %s", fp1, fp2)
	}

	// Without the ignore block the same services are deleted.
	desired.Ignore = lvs.Ignore{}
	p := Diff(live, desired, Options{})
	var deleted []lvs.ServiceKey
	for _, op := range p.Ops {
		if op.Action == DeleteService {
			deleted = append(deleted, op.Service)
		}
	}
	if want := []lvs.ServiceKey{kube, dns, mark}; !slices.Equal(deleted, want) {
		t.Errorf("deleted %v, want %v", deleted, want)
	}
}

func TestDiffOrder(t *testing.T) {
	a, b, c, gone := tcp("10.0.0.1:80"), tcp("10.0.0.2:80"), udp("10.0.0.3:53"), tcp("10.0.0.9:80")
	live := table(
		service(b, "", dest("192.168.0.2:80", 1), dest("192.168.0.1:80", 1), dest("192.168.0.3:80", 1)),
		service(a, "", dest("192.168.0.9:80", 1)),
		service(gone, "", dest("192.168.0.5:80", 1), dest("192.168.0.4:80", 1)),
	)
	live.Timeouts = kernelTimeouts
	bOpts := live.Service(b).Opts
	bNew := bOpts
	bNew.Scheduler = "rr"
	desiredB := service(b, "b", dest("192.168.0.1:80", 5), dest("192.168.0.7:80", 1), dest("192.168.0.6:80", 1))
	desiredB.Opts = bNew
	desired := table(
		service(c, "c", dest("192.168.0.8:53", 1)),
		desiredB,
		service(a, "a", dest("192.168.0.9:80", 1)),
	)
	desired.Timeouts.TCP = time.Hour
	p := Diff(live, desired, Options{})
	wantTimeouts := kernelTimeouts
	wantTimeouts.TCP = time.Hour
	assertOps(t, p.Ops, []Op{
		{Action: SetTimeouts, FromTimeouts: kernelTimeouts, ToTimeouts: wantTimeouts},
		{Action: AddService, Service: c, ServiceName: "c", To: desired.Service(c).Opts},
		{Action: EditService, Service: b, ServiceName: "b", From: bOpts, To: bNew},
		{Action: AddDest, Service: b, ServiceName: "b", ToDest: dest("192.168.0.6:80", 1)},
		{Action: AddDest, Service: b, ServiceName: "b", ToDest: dest("192.168.0.7:80", 1)},
		{Action: AddDest, Service: c, ServiceName: "c", ToDest: dest("192.168.0.8:53", 1)},
		{Action: EditDest, Service: b, ServiceName: "b", FromDest: dest("192.168.0.1:80", 1), ToDest: dest("192.168.0.1:80", 5)},
		{Action: DeleteDest, Service: b, ServiceName: "b", FromDest: dest("192.168.0.2:80", 1)},
		{Action: DeleteDest, Service: b, ServiceName: "b", FromDest: dest("192.168.0.3:80", 1)},
		{Action: DeleteService, Service: gone, From: live.Service(gone).Opts},
	})
	// The deleted service's destinations go with it: listed, counted, no ops.
	want := []Dropped{{Service: gone, Dest: dest("192.168.0.4:80", 1)}, {Service: gone, Dest: dest("192.168.0.5:80", 1)}}
	if !slices.Equal(p.Dropped, want) {
		t.Errorf("Dropped = %+v, want %+v", p.Dropped, want)
	}
	if add, chg, del := p.Summary(); add != 4 || chg != 3 || del != 5 {
		t.Errorf("Summary() = %d, %d, %d; want 4, 3, 5", add, chg, del)
	}
}

// The kernel reports Local for destinations on the director itself.
func TestDiffLocalForwardingMatchesAnyMethod(t *testing.T) {
	k := tcp("10.0.0.2:80")
	localDest := dest("10.0.0.2:80", 1)
	localDest.Opts.Forward = lvs.Local
	live := table(service(k, "", localDest))
	for _, fwd := range []lvs.DestOpts{
		{Forward: lvs.Route, Weight: 1},
		{Forward: lvs.Masq, Weight: 1},
		{Forward: lvs.Tunnel, Weight: 1, TunnelType: lvs.GUE, TunnelPort: 6080, TunnelFlags: lvs.TunnelCsum},
	} {
		d := dest("10.0.0.2:80", 1)
		d.Opts = fwd
		if p := Diff(live, table(service(k, "", d)), Options{}); !p.Empty() {
			t.Errorf("live local vs desired %v planned:%s", fwd.Forward, opsString(p.Ops))
		}
		// Another setting still changes, with the desired forwarding.
		d.Opts.Weight = 4
		p := Diff(live, table(service(k, "", d)), Options{})
		assertOps(t, p.Ops, []Op{{Action: EditDest, Service: k, FromDest: localDest, ToDest: d}})
	}
	// A desired Local is no wildcard: live DR is changed to it.
	dr := dest("10.0.0.2:80", 1)
	dr.Opts.Forward = lvs.Route
	if p := Diff(table(service(k, "", dr)), live, Options{}); len(p.Ops) != 1 {
		t.Errorf("live dr vs desired local planned:%s\nwant one EditDest", opsString(p.Ops))
	}
}

func TestDiffTimeouts(t *testing.T) {
	live := table()
	live.Timeouts = kernelTimeouts
	for _, tc := range []struct {
		name    string
		desired lvs.Timeouts
		want    []Op
	}{
		{"unset", lvs.Timeouts{}, nil},
		{"same", lvs.Timeouts{TCP: 900 * time.Second}, nil},
		{"all same", kernelTimeouts, nil},
		{"tcp", lvs.Timeouts{TCP: time.Hour}, []Op{{Action: SetTimeouts, FromTimeouts: kernelTimeouts,
			ToTimeouts: lvs.Timeouts{TCP: time.Hour, TCPFin: 120 * time.Second, UDP: 300 * time.Second}}}},
		{"udp and fin", lvs.Timeouts{TCPFin: time.Minute, UDP: time.Minute}, []Op{{Action: SetTimeouts, FromTimeouts: kernelTimeouts,
			ToTimeouts: lvs.Timeouts{TCP: 900 * time.Second, TCPFin: time.Minute, UDP: time.Minute}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := table()
			d.Timeouts = tc.desired
			p := Diff(live, d, Options{})
			assertOps(t, p.Ops, tc.want)
		})
	}
}

func TestDiffDrain(t *testing.T) {
	web, dns, mark := tcp("10.0.0.2:80"), udp("10.0.0.2:53"), lvs.MarkKey(lvs.IPv4, 7)
	keep := dest("192.168.10.100:80", 1)
	busy := conns(dest("192.168.10.101:80", 3), 4, 2)    // weight > 0: drain
	waiting := conns(dest("192.168.10.102:80", 0), 0, 1) // weight 0, connections: wait
	idle := dest("192.168.10.103:80", 0)                 // weight 0, nothing left: delete
	drainedTo := func(d lvs.Dest) lvs.Dest { d.Opts.Weight = 0; return d }

	t.Run("dests of a kept service", func(t *testing.T) {
		live := table(service(web, "", keep, busy, waiting, idle))
		desired := table(service(web, "web", keep))
		p := Diff(live, desired, Options{Drain: true})
		assertOps(t, p.Ops, []Op{
			{Action: DrainDest, Service: web, ServiceName: "web", FromDest: busy, ToDest: drainedTo(busy)},
			{Action: DeleteDest, Service: web, ServiceName: "web", FromDest: idle},
		})
		if want := []Waiting{{Service: web, ServiceName: "web", Dest: waiting}}; !slices.Equal(p.Waiting, want) {
			t.Errorf("Waiting = %+v, want %+v", p.Waiting, want)
		}
		if add, chg, del := p.Summary(); add != 0 || chg != 1 || del != 1 {
			t.Errorf("Summary() = %d, %d, %d; want 0, 1, 1", add, chg, del)
		}
		// Without Drain everything goes at once.
		p = Diff(live, desired, Options{})
		assertOps(t, p.Ops, []Op{
			{Action: DeleteDest, Service: web, ServiceName: "web", FromDest: busy},
			{Action: DeleteDest, Service: web, ServiceName: "web", FromDest: waiting},
			{Action: DeleteDest, Service: web, ServiceName: "web", FromDest: idle},
		})
		if len(p.Waiting) != 0 {
			t.Errorf("Waiting without Drain: %+v", p.Waiting)
		}
	})

	t.Run("removed service waits for its dests", func(t *testing.T) {
		live := table(service(web, "", busy, idle))
		p := Diff(live, table(), Options{Drain: true})
		assertOps(t, p.Ops, []Op{
			{Action: DrainDest, Service: web, FromDest: busy, ToDest: drainedTo(busy)},
			{Action: DeleteDest, Service: web, FromDest: idle},
		})
		// Next round: busy is at weight 0 with connections left.
		live = table(service(web, "", drainedTo(busy)))
		p = Diff(live, table(), Options{Drain: true})
		if !p.Empty() || len(p.Waiting) != 1 {
			t.Errorf("draining service: ops%s waiting %+v; want no ops, one waiting", opsString(p.Ops), p.Waiting)
		}
		// Last round: connections gone, the service goes.
		live = table(service(web, "", conns(drainedTo(busy), 0, 0)))
		p = Diff(live, table(), Options{Drain: true})
		assertOps(t, p.Ops, []Op{{Action: DeleteService, Service: web, From: live.Services[0].Opts}})
		if len(p.Dropped) != 1 {
			t.Errorf("Dropped = %+v, want the drained destination", p.Dropped)
		}
	})

	t.Run("udp goes at once", func(t *testing.T) {
		u1, u2 := conns(dest("192.168.10.100:53", 1), 0, 9), dest("192.168.10.101:53", 1)
		live := table(service(dns, "", u1, u2))
		p := Diff(live, table(service(dns, "dns", u2)), Options{Drain: true})
		assertOps(t, p.Ops, []Op{{Action: DeleteDest, Service: dns, ServiceName: "dns", FromDest: u1}})
		p = Diff(live, table(), Options{Drain: true})
		assertOps(t, p.Ops, []Op{{Action: DeleteService, Service: dns, From: live.Services[0].Opts}})
	})

	t.Run("fwmark drains like tcp", func(t *testing.T) {
		m := dest("192.168.10.100:0", 2)
		live := table(service(mark, "", m))
		p := Diff(live, table(), Options{Drain: true})
		assertOps(t, p.Ops, []Op{{Action: DrainDest, Service: mark, FromDest: m, ToDest: drainedTo(m)}})
	})

	t.Run("port change creates before it drains", func(t *testing.T) {
		old := dest("192.168.10.100:80", 1)
		nw := named(dest("192.168.10.100:8080", 1), "real1")
		p := Diff(table(service(web, "", old)), table(service(web, "web", nw)), Options{Drain: true})
		assertOps(t, p.Ops, []Op{
			{Action: AddDest, Service: web, ServiceName: "web", ToDest: nw},
			{Action: DrainDest, Service: web, ServiceName: "web", FromDest: old, ToDest: drainedTo(old)},
		})
	})
}

func TestDiffIsDeterministic(t *testing.T) {
	live := table(
		service(tcp("10.0.0.2:80"), "", dest("192.168.0.1:80", 1), dest("192.168.0.2:80", 1)),
		service(tcp("10.0.0.3:80"), "", dest("192.168.0.1:80", 1)),
	)
	desired := table(service(tcp("10.0.0.4:80"), "x", dest("192.168.0.3:80", 1)))
	first := Diff(live, desired, Options{})
	for range 20 {
		if again := Diff(live, desired, Options{}); !slices.Equal(first.Ops, again.Ops) || !slices.Equal(first.Dropped, again.Dropped) {
			t.Fatalf("Diff differs between runs:%s\nvs:%s", opsString(first.Ops), opsString(again.Ops))
		}
	}
}

// Kernel settings: the desired ones that differ are set first, in name
// order, each from its live value; one live has no entry for (a saved
// table) is left alone, and so is every live one desired does not name.
func TestDiffSysctls(t *testing.T) {
	web := tcp("10.0.0.2:80")
	live := table()
	live.Sysctls = []lvs.Sysctl{
		{Name: lvs.SysctlIPv4Forward, Value: "0"},
		{Name: "net.ipv4.vs.conntrack", Value: "1"}, // not desired: left alone
		{Name: "net.ipv4.vs.expire_nodest_conn", Value: "1"},
		{Name: "net.ipv4.vs.sloppy_tcp", Value: ""}, // absent in this kernel
	}
	desired := table(service(web, "web", dest("192.168.10.100:80", 1)))
	desired.Sysctls = []lvs.Sysctl{
		{Name: lvs.SysctlIPv4Forward, Value: "1", Reason: "IPv4 NAT"},
		{Name: "net.ipv4.vs.conn_reuse_mode", Value: "2"}, // not read: unknown
		{Name: "net.ipv4.vs.expire_nodest_conn", Value: "1"},
		{Name: "net.ipv4.vs.sloppy_tcp", Value: "1"},
	}
	p := Diff(live, desired, Options{})
	assertOps(t, p.Ops, []Op{
		{Action: SetSysctl, FromSysctl: lvs.Sysctl{Name: lvs.SysctlIPv4Forward, Value: "0"}, ToSysctl: desired.Sysctls[0]},
		{Action: SetSysctl, FromSysctl: lvs.Sysctl{Name: "net.ipv4.vs.sloppy_tcp"}, ToSysctl: desired.Sysctls[3]},
		{Action: AddService, Service: web, ServiceName: "web", To: desired.Services[0].Opts},
		{Action: AddDest, Service: web, ServiceName: "web", ToDest: desired.Services[0].Dests[0]},
	})
	if a, c, d := p.Summary(); a != 2 || c != 2 || d != 0 {
		t.Errorf("summary %d/%d/%d, want 2 to add, 2 to change", a, c, d)
	}

	// Settled: the same values read back plan nothing.
	live.Sysctls = []lvs.Sysctl{{Name: lvs.SysctlIPv4Forward, Value: "1"}, {Name: "net.ipv4.vs.expire_nodest_conn", Value: "1"}, {Name: "net.ipv4.vs.sloppy_tcp", Value: "1"}, {Name: "net.ipv4.vs.conn_reuse_mode", Value: "2"}}
	live.Services = desired.Clone().Services
	if p := Diff(live, desired, Options{}); !p.Empty() {
		t.Errorf("settled sysctls planned:%s", opsString(p.Ops))
	}
	// A saved table carries none: nothing about them is planned.
	live.Sysctls = nil
	if p := Diff(live, desired, Options{}); !p.Empty() {
		t.Errorf("sysctls planned against a table that has none:%s", opsString(p.Ops))
	}
}
