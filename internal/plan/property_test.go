package plan

import (
	"fmt"
	"math/rand"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/lvs"
)

// gen makes random valid tables from small pools of addresses, so that a
// live and a desired table share many services and destinations.
type gen struct{ r *rand.Rand }

func (g gen) pick(n int) int        { return g.r.Intn(n) }
func (g gen) chance(p float64) bool { return g.r.Float64() < p }

var (
	vips4 = []string{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.96.0.1"}
	vips6 = []string{"2001:db8::1", "2001:db8::2"}
	rips4 = []string{"192.168.0.1", "192.168.0.2", "192.168.0.3", "192.168.0.4"}
	rips6 = []string{"2001:db8:1::1", "2001:db8:1::2", "2001:db8:1::3"}
)

func (g gen) key() lvs.ServiceKey {
	fam := lvs.IPv4
	if g.chance(0.3) {
		fam = lvs.IPv6
	}
	if g.chance(0.25) {
		return lvs.MarkKey(fam, uint32(1+g.pick(3)))
	}
	vips := vips4
	if fam == lvs.IPv6 {
		vips = vips6
	}
	proto := []lvs.Protocol{lvs.TCP, lvs.TCP, lvs.UDP, lvs.SCTP}[g.pick(4)]
	port := []uint16{80, 443, 53, 0}[g.pick(4)]
	return lvs.AddrKey(proto, netip.AddrPortFrom(netip.MustParseAddr(vips[g.pick(len(vips))]), port))
}

func (g gen) serviceOpts(k lvs.ServiceKey) lvs.ServiceOpts {
	o := lvs.ServiceOpts{Scheduler: lvs.Schedulers[g.pick(len(lvs.Schedulers))]}
	if o.Scheduler == "sh" || o.Scheduler == "mh" {
		o.SchedFlags = lvs.SchedFlags(g.pick(4))
	}
	if g.chance(0.5) || (!k.IsFWMark() && k.Port == 0) {
		o.Persistent = true
		o.Timeout = uint32([]int{60, 300, 360, 3600}[g.pick(4)])
		if k.Family == lvs.IPv6 {
			o.Netmask = uint8([]int{48, 64, 128}[g.pick(3)])
		} else {
			o.Netmask = uint8([]int{16, 24, 32}[g.pick(3)])
		}
		if g.chance(0.2) {
			o.PE = "sip"
		}
	}
	if (k.IsFWMark() || k.Protocol == lvs.UDP) && g.chance(0.3) {
		o.OnePacket = true
	}
	return o
}

func (g gen) destOpts() lvs.DestOpts {
	o := lvs.DestOpts{Forward: []lvs.Forward{lvs.Masq, lvs.Route, lvs.Tunnel}[g.pick(3)], Weight: g.pick(4)}
	if g.chance(0.3) {
		o.UpperThreshold = 100
		if g.chance(0.5) {
			o.LowerThreshold = 10
		}
	}
	if o.Forward == lvs.Tunnel {
		o.TunnelType = lvs.TunnelType(g.pick(3))
		switch o.TunnelType {
		case lvs.GUE:
			o.TunnelPort = 6080
			o.TunnelFlags = []lvs.TunnelFlags{0, lvs.TunnelCsum, lvs.TunnelRemCsum}[g.pick(3)]
		case lvs.GRE:
			o.TunnelFlags = []lvs.TunnelFlags{0, lvs.TunnelCsum}[g.pick(2)]
		}
	}
	return o
}

// dest makes a destination valid for service k with options o.
func (g gen) dest(k lvs.ServiceKey, o lvs.DestOpts) lvs.Dest {
	rips := rips4
	if k.Family == lvs.IPv6 {
		rips = rips6
	}
	port := k.Port
	if k.IsFWMark() || (o.Forward == lvs.Masq && port != 0) {
		port = []uint16{80, 8080}[g.pick(2)]
	}
	d := lvs.Dest{Addr: netip.AddrPortFrom(netip.MustParseAddr(rips[g.pick(len(rips))]), port), Opts: o}
	if g.chance(0.5) {
		d.Live = lvs.DestLive{ActiveConns: uint32(g.pick(3)), InactConns: uint32(g.pick(3)), Stats: lvs.Stats{Conns: uint64(g.pick(1000))}}
	}
	return d
}

// fixPorts keeps a destination valid after its forwarding changed.
func (g gen) fixPorts(k lvs.ServiceKey, d *lvs.Dest) {
	if k.IsFWMark() {
		return
	}
	switch {
	case d.Opts.Forward != lvs.Masq:
		d.Addr = netip.AddrPortFrom(d.Addr.Addr(), k.Port)
	case k.Port != 0 && d.Addr.Port() == 0:
		d.Addr = netip.AddrPortFrom(d.Addr.Addr(), 8080)
	}
}

func (g gen) service(k lvs.ServiceKey) lvs.Service {
	s := lvs.Service{Key: k, Opts: g.serviceOpts(k), Stats: lvs.Stats{Conns: uint64(g.pick(100))}}
	for range g.pick(5) {
		s.Dests = append(s.Dests, g.dest(k, g.destOpts()))
	}
	return s
}

// table makes a normalized table without duplicate services or
// destinations.
func (g gen) table() *lvs.Table {
	t := &lvs.Table{Timeouts: lvs.Timeouts{
		TCP:    time.Duration(1+g.pick(3)) * 300 * time.Second,
		TCPFin: time.Duration(1+g.pick(2)) * 60 * time.Second,
		UDP:    time.Duration(1+g.pick(2)) * 300 * time.Second,
	}}
	for range g.pick(7) {
		t.Services = append(t.Services, g.service(g.key()))
	}
	return dedup(t)
}

func dedup(t *lvs.Table) *lvs.Table {
	seen := map[lvs.ServiceKey]bool{}
	t.Services = slices.DeleteFunc(t.Services, func(s lvs.Service) bool {
		dup := seen[s.Key]
		seen[s.Key] = true
		return dup
	})
	for i := range t.Services {
		s := &t.Services[i]
		seenD := map[netip.AddrPort]bool{}
		s.Dests = slices.DeleteFunc(s.Dests, func(d lvs.Dest) bool {
			dup := seenD[d.Addr]
			seenD[d.Addr] = true
			return dup
		})
	}
	t.Normalize()
	return t
}

// desiredFrom derives a desired table from live: some services and
// destinations kept as they are, some edited, some dropped, some new.
func (g gen) desiredFrom(live *lvs.Table) *lvs.Table {
	d := &lvs.Table{}
	if g.chance(0.5) {
		d.Ignore.Ports = []uint16{443}
	}
	if g.chance(0.3) {
		d.Ignore.FWMarks = []uint32{3}
		d.Ignore.Prefixes = []netip.Prefix{netip.MustParsePrefix("10.96.0.0/12")}
	}
	for _, f := range []*time.Duration{&d.Timeouts.TCP, &d.Timeouts.TCPFin, &d.Timeouts.UDP} {
		if g.chance(0.3) {
			*f = time.Duration(1+g.pick(3)) * 300 * time.Second
		}
	}
	for _, ls := range live.Services {
		if g.chance(0.2) {
			continue
		}
		s := lvs.Service{Key: ls.Key, Name: fmt.Sprintf("vs%d", len(d.Services)), Opts: ls.Opts}
		if g.chance(0.4) {
			s.Opts = g.serviceOpts(s.Key)
		}
		for _, ld := range ls.Dests {
			switch {
			case g.chance(0.2):
				continue
			case g.chance(0.4):
				ld.Opts = g.destOpts()
				g.fixPorts(s.Key, &ld)
			}
			ld.Live = lvs.DestLive{}
			ld.Name = ld.Addr.String()
			s.Dests = append(s.Dests, ld)
		}
		for range g.pick(2) {
			nd := g.dest(s.Key, g.destOpts())
			nd.Live = lvs.DestLive{}
			s.Dests = append(s.Dests, nd)
		}
		d.Services = append(d.Services, s)
	}
	for range g.pick(3) {
		s := g.service(g.key())
		s.Stats = lvs.Stats{}
		for i := range s.Dests {
			s.Dests[i].Live = lvs.DestLive{}
		}
		d.Services = append(d.Services, s)
	}
	// A configuration cannot name an ignored service (Validate refuses it).
	d.Services = slices.DeleteFunc(d.Services, func(s lvs.Service) bool { return !d.Ignore.IsZero() && d.Ignore.Matches(s.Key) })
	return dedup(d)
}

// simulate runs p against t the way the kernel would, failing on any
// operation the kernel would refuse (adding what exists, editing or
// deleting what does not).
func simulate(t *testing.T, tab *lvs.Table, ig lvs.Ignore, p Plan) {
	t.Helper()
	svc := func(op Op) *lvs.Service {
		s := tab.Service(op.Service)
		if s == nil {
			t.Fatalf("%s: no such service", opString(op))
		}
		return s
	}
	for _, op := range p.Ops {
		if op.Action != SetTimeouts && !ig.IsZero() && ig.Matches(op.Service) {
			t.Fatalf("%s touches an ignored service", opString(op))
		}
		switch op.Action {
		case SetTimeouts:
			tab.Timeouts = op.ToTimeouts
		case AddService:
			if tab.Service(op.Service) != nil {
				t.Fatalf("%s: service exists", opString(op))
			}
			tab.Services = append(tab.Services, lvs.Service{Key: op.Service, Opts: op.To})
		case EditService:
			svc(op).Opts = op.To
		case DeleteService:
			s := svc(op)
			tab.Services = slices.DeleteFunc(tab.Services, func(x lvs.Service) bool { return x.Key == s.Key })
		case AddDest:
			s := svc(op)
			if s.Dest(op.ToDest.Addr) != nil {
				t.Fatalf("%s: destination exists", opString(op))
			}
			s.Dests = append(s.Dests, lvs.Dest{Addr: op.ToDest.Addr, Opts: op.ToDest.Opts})
		case EditDest, DrainDest:
			d := svc(op).Dest(op.ToDest.Addr)
			if d == nil {
				t.Fatalf("%s: no such destination", opString(op))
			}
			d.Opts = op.ToDest.Opts
		case DeleteDest:
			s := svc(op)
			if s.Dest(op.FromDest.Addr) == nil {
				t.Fatalf("%s: no such destination", opString(op))
			}
			s.Dests = slices.DeleteFunc(s.Dests, func(x lvs.Dest) bool { return x.Addr == op.FromDest.Addr })
		default:
			t.Fatalf("unknown op %v", op.Action)
		}
		// Keep the table sorted for the lookups of the next op.
		tab.Normalize()
	}
}

// managedPart is what a desired table decides: the services ig does not
// select, without names and counters.
func managedPart(tab *lvs.Table, ig lvs.Ignore) []lvs.Service {
	var out []lvs.Service
	for _, s := range tab.Services {
		if !ig.IsZero() && ig.Matches(s.Key) {
			continue
		}
		s.Name, s.Stats = "", lvs.Stats{}
		s.Dests = slices.Clone(s.Dests)
		for i := range s.Dests {
			s.Dests[i].Name, s.Dests[i].Live = "", lvs.DestLive{}
		}
		out = append(out, s)
	}
	return out
}

func ignoredPart(tab *lvs.Table, ig lvs.Ignore) []lvs.Service {
	var out []lvs.Service
	for _, s := range tab.Services {
		if !ig.IsZero() && ig.Matches(s.Key) {
			out = append(out, s)
		}
	}
	return out
}

func servicesEqual(a, b []lvs.Service) bool {
	return slices.EqualFunc(a, b, func(x, y lvs.Service) bool {
		return x.Key == y.Key && x.Name == y.Name && x.Opts == y.Opts && x.Stats == y.Stats && slices.Equal(x.Dests, y.Dests)
	})
}

func checkConverged(t *testing.T, live, result, desired *lvs.Table) {
	t.Helper()
	ig := desired.Ignore
	if got, want := managedPart(result, ig), managedPart(desired, ig); !servicesEqual(got, want) {
		t.Fatalf("after the plan the table is\n%+v\nwant\n%+v", got, want)
	}
	if want, _ := timeoutsTo(live.Timeouts, desired.Timeouts, 0); result.Timeouts != want {
		t.Fatalf("timeouts = %+v, want %+v", result.Timeouts, want)
	}
	if got, want := ignoredPart(result, ig), ignoredPart(live, ig); !servicesEqual(got, want) {
		t.Fatalf("ignored services changed:\n%+v\nwant\n%+v", got, want)
	}
	if again := Diff(result, desired, Options{}); !again.Empty() || len(again.Dropped) != 0 {
		t.Fatalf("Diff after applying is not empty:%s", opsString(again.Ops))
	}
}

// Applying a plan to live gives desired, and planning again gives nothing.
func TestDiffConverges(t *testing.T) {
	for seed := range int64(2000) {
		g := gen{rand.New(rand.NewSource(seed))}
		live := g.table()
		desired := g.desiredFrom(live)
		if ps := desired.Validate(); len(ps) > 0 {
			t.Fatalf("seed %d: generator made an invalid table: %v", seed, ps)
		}
		p := Diff(live, desired, Options{})
		result := live.Clone()
		simulate(t, result, desired.Ignore, p)
		checkConverged(t, live, result, desired)
		if t.Failed() {
			t.Logf("seed %d", seed)
			return
		}
	}
}

// Planning with Drain in rounds, the connections ending between rounds,
// reaches desired too, and never deletes a destination that still takes
// traffic.
func TestDiffDrainConverges(t *testing.T) {
	for seed := range int64(1000) {
		g := gen{rand.New(rand.NewSource(seed))}
		live := g.table()
		desired := g.desiredFrom(live)
		cur := live.Clone()
		for round := 0; ; round++ {
			if round == 4 {
				t.Fatalf("seed %d: drain did not converge in 3 rounds", seed)
			}
			p := Diff(cur, desired, Options{Drain: true})
			if p.Empty() && len(p.Waiting) == 0 {
				break
			}
			for _, op := range p.Ops {
				var gone []lvs.Dest
				switch op.Action {
				case DeleteDest:
					gone = []lvs.Dest{op.FromDest}
				case DeleteService:
					gone = cur.Service(op.Service).Dests
				}
				for _, d := range gone {
					if op.Service.Protocol != lvs.UDP && (d.Opts.Weight != 0 || d.Live.ActiveConns+d.Live.InactConns != 0) {
						t.Fatalf("seed %d: %s deletes %v with weight %d and %d+%d connections",
							seed, opString(op), d.Addr, d.Opts.Weight, d.Live.ActiveConns, d.Live.InactConns)
					}
				}
			}
			simulate(t, cur, desired.Ignore, p)
			// Time passes: draining connections end (those of ignored
			// services too, but the comparison must see them untouched).
			for i := range cur.Services {
				if ig := desired.Ignore; !ig.IsZero() && ig.Matches(cur.Services[i].Key) {
					continue
				}
				for j := range cur.Services[i].Dests {
					if d := &cur.Services[i].Dests[j]; d.Opts.Weight == 0 {
						d.Live = lvs.DestLive{}
					}
				}
			}
		}
		checkConverged(t, live, cur, desired)
	}
}
