package health

import (
	"net/netip"
	"slices"
	"time"

	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/lvs"
)

// Policy is how health decisions shape the table, beyond what each
// health_check block says.
type Policy struct {
	// Quorum is how many healthy real servers a virtual server needs before
	// its sorry server leaves; below it the sorry server is added beside
	// the healthy ones. Values below 1 mean 1: the sorry server stands in
	// only when no real server is healthy.
	Quorum int
	// SlowStart ramps a real server that comes back from weight 1 up to
	// its configured weight over this long, so a cold cache is not handed
	// a full share at once; zero restores the weight at once.
	SlowStart time.Duration
}

// A Target is one real server to probe, with the probe in effect for it.
type Target struct {
	Key   Key
	Name  string // the real server's name in the configuration
	VS    string // the virtual server's name
	Check *model.HealthCheck
	// Addr is where the probe goes: the real server's address with the
	// check's port, or the real server's own port.
	Addr netip.AddrPort
}

// Targets lists every real server cfg asks to probe, in table order.
func Targets(cfg *model.Config) []Target {
	var ts []Target
	if cfg.Table == nil {
		return nil
	}
	for _, s := range cfg.Table.Services {
		st := cfg.Settings(s.Name)
		if st == nil {
			continue
		}
		for _, d := range s.Dests {
			hc := st.RealServers[d.Name]
			if hc == nil {
				continue
			}
			addr := d.Addr
			if hc.Port != 0 {
				addr = netip.AddrPortFrom(addr.Addr(), hc.Port)
			}
			ts = append(ts, Target{Key: Key{s.Key, d.Addr}, Name: d.Name, VS: s.Name, Check: hc, Addr: addr})
		}
	}
	return ts
}

// Desired returns the table cfg asks for with the health in states laid
// over it, at time now: a real server that is down is removed, or kept at
// weight 0 when its check says on_failure = "quiesce"; one that came back
// less than pol.SlowStart ago has its weight ramped; and a virtual server
// with fewer than pol.Quorum healthy real servers gets its sorry server.
// Real servers without a check, or not in states yet, count as healthy.
// cfg is not changed. Desired is pure.
func Desired(cfg *model.Config, states States, pol Policy, now time.Time) *lvs.Table {
	t := cfg.Table.Clone()
	for i := range t.Services {
		overlay(&t.Services[i], cfg.Settings(t.Services[i].Name), states, pol, now)
	}
	t.Normalize()
	return t
}

// DesiredFor is [Desired] for the services keys names only: their desired
// versions, in table order, each as Desired would give it. A reconciler
// that knows which real servers changed recomputes just their services
// instead of the whole table. It is pure.
func DesiredFor(cfg *model.Config, keys map[lvs.ServiceKey]bool, states States, pol Policy, now time.Time) []lvs.Service {
	var out []lvs.Service
	for _, s := range cfg.Table.Services {
		if !keys[s.Key] {
			continue
		}
		one := &lvs.Table{Services: []lvs.Service{s}}
		one.Services[0].Dests = slices.Clone(s.Dests)
		overlay(&one.Services[0], cfg.Settings(s.Name), states, pol, now)
		one.Normalize()
		out = append(out, one.Services[0])
	}
	return out
}

// overlay lays the health in states over s, whose settings are st (nil:
// none, and nothing to do): see [Desired].
func overlay(s *lvs.Service, st *model.ServiceSettings, states States, pol Policy, now time.Time) {
	if st == nil {
		return
	}
	quorum := max(pol.Quorum, 1)
	healthy := 0
	fwd := lvs.Masq
	if len(s.Dests) > 0 {
		fwd = s.Dests[0].Opts.Forward
	}
	s.Dests = slices.DeleteFunc(s.Dests, func(d lvs.Dest) bool {
		hc := st.RealServers[d.Name]
		state, known := states[Key{s.Key, d.Addr}]
		if hc == nil || !known || !state.Down {
			// A ramped weight is never 0 when the configured one is not.
			if d.Opts.Weight > 0 {
				healthy++
			}
			return false
		}
		return hc.OnFailure != model.OnFailureQuiesce
	})
	for j := range s.Dests {
		d := &s.Dests[j]
		hc := st.RealServers[d.Name]
		state, known := states[Key{s.Key, d.Addr}]
		switch {
		case hc == nil || !known:
		case state.Down:
			d.Opts.Weight = 0
		default:
			d.Opts.Weight = ramp(d.Opts.Weight, state.Since, pol.SlowStart, now)
		}
	}
	if healthy < quorum && st.SorryServer.IsValid() {
		s.Dests = append(s.Dests, lvs.Dest{
			Addr: st.SorryServer,
			Name: "sorry_server",
			Opts: lvs.DestOpts{Forward: fwd, Weight: 1},
		})
	}
}

// ramp gives the weight of a real server that came back at since: from 1
// up to weight, linearly over slow. A weight of 0 (quiesced in the
// configuration) stays 0.
func ramp(weight int, since time.Time, slow time.Duration, now time.Time) int {
	if slow <= 0 || weight <= 1 || since.IsZero() {
		return weight
	}
	el := now.Sub(since)
	if el >= slow || el < 0 {
		return weight
	}
	w := int((int64(weight)*int64(el) + int64(slow) - 1) / int64(slow)) // ceiling
	return max(w, 1)
}

// Ramping reports whether some real server in states is still on its
// slow-start ramp at now, so the caller knows to recompute the table soon.
func Ramping(states States, pol Policy, now time.Time) bool {
	if pol.SlowStart <= 0 {
		return false
	}
	for _, s := range states {
		if !s.Down && !s.Since.IsZero() && now.Sub(s.Since) < pol.SlowStart {
			return true
		}
	}
	return false
}
