package apply_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lvsctl/lvsctl/internal/apply"
	"github.com/lvsctl/lvsctl/internal/apply/applytest"
	"github.com/lvsctl/lvsctl/internal/plan"
	"github.com/lvsctl/lvsctl/lvs"
)

// Small pools, so that two random tables share many services and real
// servers and their diff has edits, not only adds and deletes.
var (
	vips4 = []string{"10.0.0.1", "10.0.0.2"}
	vips6 = []string{"2001:db8::1"}
	rips4 = []string{"192.168.1.1", "192.168.1.2", "192.168.1.3"}
	rips6 = []string{"2001:db8:1::1", "2001:db8:1::2"}
	ports = []uint16{80, 443}
)

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// randomTable returns a valid, normalized table.
func randomTable(r *rand.Rand) *lvs.Table {
	for {
		t := &lvs.Table{}
		if r.IntN(3) == 0 {
			t.Timeouts = lvs.Timeouts{TCP: time.Duration(1+r.IntN(900)) * time.Second, UDP: time.Duration(r.IntN(2)*60) * time.Second}
		}
		seen := map[lvs.ServiceKey]bool{}
		for range r.IntN(5) {
			s := randomService(r)
			if seen[s.Key] {
				continue
			}
			seen[s.Key] = true
			t.Services = append(t.Services, s)
		}
		if len(t.Validate()) == 0 {
			t.Normalize()
			return t
		}
	}
}

func randomService(r *rand.Rand) lvs.Service {
	var s lvs.Service
	v6 := r.IntN(4) == 0
	switch {
	case r.IntN(5) == 0:
		fam := lvs.IPv4
		if v6 {
			fam = lvs.IPv6
		}
		s.Key = lvs.MarkKey(fam, uint32(1+r.IntN(2)))
	case v6:
		s.Key = lvs.AddrKey(pick(r, []lvs.Protocol{lvs.TCP, lvs.UDP}), netip.AddrPortFrom(netip.MustParseAddr(pick(r, vips6)), pick(r, ports)))
	default:
		s.Key = lvs.AddrKey(pick(r, []lvs.Protocol{lvs.TCP, lvs.UDP, lvs.SCTP}), netip.AddrPortFrom(netip.MustParseAddr(pick(r, vips4)), pick(r, ports)))
	}
	o := lvs.ServiceOpts{Scheduler: pick(r, lvs.Schedulers), Netmask: lvs.FullMask(s.Key.Family)}
	if r.IntN(2) == 0 {
		o.Persistent, o.Timeout = true, uint32(1+r.IntN(3600))
		o.Netmask = pick(r, []uint8{24, lvs.FullMask(s.Key.Family)})
		if r.IntN(4) == 0 {
			o.PE = "sip"
		}
	}
	if s.Key.IsFWMark() || s.Key.Protocol == lvs.UDP {
		o.OnePacket = r.IntN(3) == 0
	}
	if o.Scheduler == "sh" || o.Scheduler == "mh" {
		o.SchedFlags = lvs.SchedFlags(r.IntN(4))
	}
	s.Opts = o
	rips := rips4
	if s.Key.Family == lvs.IPv6 {
		rips = rips6
	}
	used := map[string]bool{}
	for range r.IntN(4) {
		ip := pick(r, rips)
		if used[ip] {
			continue
		}
		used[ip] = true
		d := lvs.Dest{Opts: lvs.DestOpts{Weight: r.IntN(4), Forward: pick(r, []lvs.Forward{lvs.Masq, lvs.Route, lvs.Tunnel})}}
		port := s.Key.Port
		if d.Opts.Forward == lvs.Masq && !s.Key.IsFWMark() {
			port = pick(r, []uint16{8080, s.Key.Port})
		}
		if s.Key.IsFWMark() {
			port = 0
		}
		d.Addr = netip.AddrPortFrom(netip.MustParseAddr(ip), port)
		if r.IntN(3) == 0 {
			d.Opts.UpperThreshold = uint32(r.IntN(100))
			d.Opts.LowerThreshold = uint32(r.IntN(int(d.Opts.UpperThreshold) + 1))
		}
		if d.Opts.Forward == lvs.Tunnel {
			switch r.IntN(3) {
			case 1:
				d.Opts.TunnelType, d.Opts.TunnelPort, d.Opts.TunnelFlags = lvs.GUE, 6080, lvs.TunnelFlags(r.IntN(3))
			case 2:
				d.Opts.TunnelType, d.Opts.TunnelFlags = lvs.GRE, lvs.TunnelFlags(r.IntN(2))
			}
		}
		s.Dests = append(s.Dests, d)
	}
	return s
}

// shape is what must match after an apply: services and settings, without
// names, counters or the timeouts a desired table leaves alone.
func shape(t *lvs.Table) []lvs.Service {
	var ss []lvs.Service
	for _, s := range t.Services {
		s.Name, s.Stats = "", lvs.Stats{}
		var ds []lvs.Dest
		for _, d := range s.Dests {
			d.Name, d.Live = "", lvs.DestLive{}
			ds = append(ds, d)
		}
		s.Dests = ds
		ss = append(ss, s)
	}
	return ss
}

var netipComparers = cmp.Options{
	cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
	cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b }),
}

// checkConverged fails unless k's table is want and a new plan is empty.
func checkConverged(t *testing.T, k apply.Kernel, want *lvs.Table) {
	t.Helper()
	got, err := k.Table()
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(shape(want), shape(got), netipComparers); d != "" {
		t.Fatalf("table after apply differs from the desired one (-want +got):\n%s", d)
	}
	for _, c := range []struct {
		name      string
		want, got time.Duration
	}{{"tcp", want.Timeouts.TCP, got.Timeouts.TCP}, {"tcpfin", want.Timeouts.TCPFin, got.Timeouts.TCPFin}, {"udp", want.Timeouts.UDP, got.Timeouts.UDP}} {
		if c.want != 0 && c.want != c.got {
			t.Errorf("timeout %s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if p := plan.Diff(got, want, plan.Options{}); !p.Empty() {
		t.Fatalf("plan after apply is not empty: %+v", p.Ops)
	}
}

func TestConvergenceProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	seen := map[plan.Action]int{}
	for i := range 500 {
		a, b := randomTable(r), randomTable(r)
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			k := applytest.New()
			k.Seed(a)
			live, _ := k.Table()
			p := plan.Diff(live, b, plan.Options{})
			for _, op := range p.Ops {
				seen[op.Action]++
			}
			if _, err := apply.Run(context.Background(), k, p, apply.RunOptions{}); err != nil {
				t.Fatalf("run: %v\nfrom %+v\nto %+v", err, a.Services, b.Services)
			}
			checkConverged(t, k, b)
		})
	}
	// The generator must exercise every kind of operation.
	for _, a := range []plan.Action{plan.SetTimeouts, plan.AddService, plan.EditService, plan.AddDest, plan.EditDest, plan.DeleteDest, plan.DeleteService} {
		if seen[a] < 20 {
			t.Errorf("only %d %v operations in 500 random plans", seen[a], a)
		}
	}
	t.Logf("operations planned: %v", seen)
}

func TestConvergenceAfterFault(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	faults := 0
	for i := range 500 {
		a, b := randomTable(r), randomTable(r)
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			k := applytest.New()
			k.Seed(a)
			live, _ := k.Table()
			p := plan.Diff(live, b, plan.Options{})
			if len(p.Ops) < 2 {
				return
			}
			n := r.IntN(len(p.Ops))
			k.FailAfter(n, syscall.EIO)
			rep, err := apply.Run(context.Background(), k, p, apply.RunOptions{})
			if err == nil || rep.Count(apply.Done) != n || rep.Ops[n].Status != apply.Failed {
				t.Fatalf("fault after %d of %d ops: err %v, %d done", n, len(p.Ops), err, rep.Count(apply.Done))
			}
			faults++
			// Re-planning from what the kernel has now converges.
			live, _ = k.Table()
			if _, err := apply.Run(context.Background(), k, plan.Diff(live, b, plan.Options{}), apply.RunOptions{}); err != nil {
				t.Fatalf("second run: %v", err)
			}
			checkConverged(t, k, b)
		})
	}
	if faults < 100 {
		t.Errorf("only %d of 500 cases injected a fault; the generator is too weak", faults)
	}
}

func TestConvergenceWithDrain(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for i := range 200 {
		a, b := randomTable(r), randomTable(r)
		// Give some live real servers connections that never end.
		for si := range a.Services {
			for di := range a.Services[si].Dests {
				if r.IntN(2) == 0 {
					a.Services[si].Dests[di].Live.ActiveConns = 3
				}
			}
		}
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				k := applytest.New()
				k.Seed(a)
				if _, err := apply.Converge(context.Background(), k, b, apply.ConvergeOptions{DrainTimeout: 10 * time.Second}); err != nil {
					t.Fatal(err)
				}
				checkConverged(t, k, b)
			})
		})
	}
}

// TestInPlaceChangesAreOneCall checks that every setting the kernel edits in
// place costs exactly one kernel call, and no delete.
func TestInPlaceChangesAreOneCall(t *testing.T) {
	udp := lvs.AddrKey(lvs.UDP, netip.MustParseAddrPort("10.0.0.2:80"))
	base := func(key lvs.ServiceKey) *lvs.Table {
		t := &lvs.Table{Services: []lvs.Service{{Key: key, Opts: lvs.ServiceOpts{Scheduler: "wlc", Netmask: 32}, Dests: []lvs.Dest{
			{Addr: real1, Opts: lvs.DestOpts{Forward: lvs.Masq, Weight: 1}},
		}}}}
		t.Normalize()
		return t
	}
	svc := func(f func(*lvs.ServiceOpts)) func(*lvs.Table) { return func(t *lvs.Table) { f(&t.Services[0].Opts) } }
	dst := func(f func(*lvs.DestOpts)) func(*lvs.Table) {
		return func(t *lvs.Table) { f(&t.Services[0].Dests[0].Opts) }
	}
	for _, c := range []struct {
		name   string
		key    lvs.ServiceKey
		change func(*lvs.Table)
		method string
	}{
		{"scheduler", web, svc(func(o *lvs.ServiceOpts) { o.Scheduler = "rr" }), "EditService"},
		{"persistence on", web, svc(func(o *lvs.ServiceOpts) { o.Persistent, o.Timeout = true, 300 }), "EditService"},
		{"persistence netmask", web, svc(func(o *lvs.ServiceOpts) { o.Persistent, o.Timeout, o.Netmask = true, 300, 24 }), "EditService"},
		{"persistence engine", web, svc(func(o *lvs.ServiceOpts) { o.Persistent, o.Timeout, o.PE = true, 300, "sip" }), "EditService"},
		{"one packet", udp, svc(func(o *lvs.ServiceOpts) { o.OnePacket = true }), "EditService"},
		{"scheduler flags", web, svc(func(o *lvs.ServiceOpts) { o.Scheduler, o.SchedFlags = "sh", lvs.SchedFlag1 }), "EditService"},
		{"weight", web, dst(func(o *lvs.DestOpts) { o.Weight = 7 }), "EditDest"},
		{"weight to 0", web, dst(func(o *lvs.DestOpts) { o.Weight = 0 }), "EditDest"},
		{"forwarding", web, dst(func(o *lvs.DestOpts) { o.Forward = lvs.Route }), "EditDest"},
		{"tunnel", web, dst(func(o *lvs.DestOpts) { o.Forward, o.TunnelType, o.TunnelPort = lvs.Tunnel, lvs.GUE, 6080 }), "EditDest"},
		{"thresholds", web, dst(func(o *lvs.DestOpts) { o.UpperThreshold, o.LowerThreshold = 100, 10 }), "EditDest"},
		{"timeouts", web, func(t *lvs.Table) { t.Timeouts.TCP = 60 * time.Second }, "SetTimeouts"},
	} {
		t.Run(c.name, func(t *testing.T) {
			live, want := base(c.key), base(c.key)
			c.change(want)
			if ps := want.Validate(); len(ps) > 0 {
				t.Fatalf("test table invalid: %v", ps)
			}
			k := applytest.New()
			k.Seed(live)
			_ = k.SetConns(c.key, real1, 9, 9)
			cur, _ := k.Table()
			if _, err := apply.Run(context.Background(), k, plan.Diff(cur, want, plan.Options{Drain: true}), apply.RunOptions{}); err != nil {
				t.Fatal(err)
			}
			if calls := k.Calls(); len(calls) != 1 || calls[0].Method != c.method {
				t.Errorf("kernel calls = %v, want one %s", calls, c.method)
			}
			checkConverged(t, k, want)
			if d := hasDest(t, k, c.key, real1); d == nil || d.Live.ActiveConns != 9 {
				t.Errorf("the real server lost its connections: %+v", d)
			}
		})
	}
}
