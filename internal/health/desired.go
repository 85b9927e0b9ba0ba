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
	Key  Key
	Name string // the real server's name in the configuration
	VS   string // the virtual server's name
	// Check is the real server's check; its More, when it has any, are
	// checks that must pass too (see [Target.Probe]).
	Check *model.HealthCheck
	// Addr is where the probe goes: the real server's address with the
	// check's port, or the real server's own port.
	Addr netip.AddrPort
}

// Probes returns how many checks t has: 1, and one for each of More.
func (t Target) Probes() int { return 1 + len(t.Check.More) }

// Probe returns check i of t (0 is Check, then its More) and where that
// check probes: the real server's address with the check's port, or the
// real server's own port.
func (t Target) Probe(i int) (*model.HealthCheck, netip.AddrPort) {
	if i == 0 {
		return t.Check, t.Addr
	}
	hc := t.Check.More[i-1]
	addr := t.Key.Dest
	if hc.Port != 0 {
		addr = netip.AddrPortFrom(addr.Addr(), hc.Port)
	}
	return hc, addr
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

// Quorums holds, by service, whether each virtual server that sets a
// quorum ([model.ServiceSettings.Quorum]) has lost it: the memory its
// hysteresis needs. A service not in it has not been judged yet, and is
// judged as keepalived does at start (see [QuorumLost]).
type Quorums map[lvs.ServiceKey]bool

// QuorumLost says whether a virtual server with quorum q and hysteresis h
// has lost its quorum while its healthy real servers' weights sum to sum,
// as keepalived's update_quorum_state: one that held its quorum loses it
// when the sum falls below q - h, or to 0; one that lost it regains it
// when the sum reaches q + h; one not judged yet (known false) holds it
// from q + h. It is pure, and judging a sum again gives the same answer.
func QuorumLost(sum, q, h int, wasLost, known bool) bool {
	if !known || wasLost {
		return sum < q+h
	}
	return sum == 0 || sum < q-h
}

// Desired returns the table cfg asks for with the health in states laid
// over it, at time now: a real server that is down (or, with alpha, not
// probed yet) is removed, or kept at weight 0 when its check says
// on_failure = "quiesce"; one that is up has the weight its probe gave
// (a dynamic exec check), and, when it came back less than pol.SlowStart
// ago, that weight ramped. A virtual server that sets a quorum and has
// lost it (quorums says whether it had, see [QuorumLost]) is served by its
// sorry server alone, its quiesced real servers at weight 0; one without
// a quorum of its own gets its sorry server beside the healthy ones while
// fewer than pol.Quorum are healthy. Real servers without a check, or not
// in states yet, count as healthy (unless a check of theirs has alpha). cfg is
// not changed. Desired is pure.
func Desired(cfg *model.Config, states States, quorums Quorums, pol Policy, now time.Time) *lvs.Table {
	t := cfg.Table.Clone()
	for i := range t.Services {
		overlay(&t.Services[i], cfg.Settings(t.Services[i].Name), states, quorums, pol, now)
	}
	t.Normalize()
	return t
}

// DesiredFor is [Desired] for the services keys names only: their desired
// versions, in table order, each as Desired would give it. A reconciler
// that knows which real servers changed recomputes just their services
// instead of the whole table. It is pure.
func DesiredFor(cfg *model.Config, keys map[lvs.ServiceKey]bool, states States, quorums Quorums, pol Policy, now time.Time) []lvs.Service {
	var out []lvs.Service
	for _, s := range cfg.Table.Services {
		if !keys[s.Key] {
			continue
		}
		one := &lvs.Table{Services: []lvs.Service{s}}
		one.Services[0].Dests = slices.Clone(s.Dests)
		overlay(&one.Services[0], cfg.Settings(s.Name), states, quorums, pol, now)
		one.Normalize()
		out = append(out, one.Services[0])
	}
	return out
}

// health is what the health says of the real server d of s, whose
// settings are st: whether it is up, and its weight before slow start.
func health(s *lvs.Service, st *model.ServiceSettings, d *lvs.Dest, states States) (up bool, weight int) {
	hc := st.RealServers[d.Name]
	state, known := states[Key{s.Key, d.Addr}]
	switch {
	case hc == nil:
		return true, d.Opts.Weight
	case !known:
		return !hc.StartsDown(), d.Opts.Weight
	case state.Down:
		return false, d.Opts.Weight
	case state.Weight != nil && hc.SetsWeight() && *state.Weight >= 0 && *state.Weight <= lvs.MaxWeight:
		// (A weight out of the kernel's range, or for a check that sets
		// none, comes from no probe, only from a damaged or older state
		// file: the configured one stands.)
		return true, *state.Weight
	}
	return true, d.Opts.Weight
}

// HealthyWeight returns the sum of the weights of the healthy real
// servers of s (whose settings are st) as the health in states has them:
// what its quorum is measured against.
func HealthyWeight(s *lvs.Service, st *model.ServiceSettings, states States) int {
	sum := 0
	for i := range s.Dests {
		if up, w := health(s, st, &s.Dests[i], states); up {
			sum += w
		}
	}
	return sum
}

// JudgeQuorums returns the quorum of every virtual server of cfg that
// sets one, judged from the health in states and what prev said (see
// [QuorumLost]). It is pure.
func JudgeQuorums(cfg *model.Config, states States, prev Quorums) Quorums {
	q := Quorums{}
	for i := range cfg.Table.Services {
		s := &cfg.Table.Services[i]
		st := cfg.Settings(s.Name)
		if st == nil || st.Quorum == 0 {
			continue
		}
		was, known := prev[s.Key]
		q[s.Key] = QuorumLost(HealthyWeight(s, st, states), st.Quorum, st.Hysteresis, was, known)
	}
	return q
}

// overlay lays the health in states over s, whose settings are st (nil:
// none, and nothing to do): see [Desired].
func overlay(s *lvs.Service, st *model.ServiceSettings, states States, quorums Quorums, pol Policy, now time.Time) {
	if st == nil {
		return
	}
	fwd := lvs.Masq
	if len(s.Dests) > 0 {
		fwd = s.Dests[0].Opts.Forward
	}
	lost := false
	if st.Quorum > 0 {
		was, known := quorums[s.Key]
		lost = QuorumLost(HealthyWeight(s, st, states), st.Quorum, st.Hysteresis, was, known)
	}
	healthy := 0
	s.Dests = slices.DeleteFunc(s.Dests, func(d lvs.Dest) bool {
		up, w := health(s, st, &d, states)
		if up && !lost {
			if w > 0 {
				healthy++
			}
			return false
		}
		// Down, or up in a service whose sorry server stands in for a lost
		// quorum (without one, the table stays as the health makes it).
		if up && st.SorryServer.IsValid() || !up {
			hc := st.RealServers[d.Name]
			return hc == nil || hc.OnFailure != model.OnFailureQuiesce
		}
		return false
	})
	for j := range s.Dests {
		d := &s.Dests[j]
		up, w := health(s, st, d, states)
		switch {
		case !up || lost && st.SorryServer.IsValid():
			d.Opts.Weight = 0
		default:
			state := states[Key{s.Key, d.Addr}]
			d.Opts.Weight = ramp(w, state.Since, pol.SlowStart, now)
		}
	}
	sorry := lost
	if st.Quorum == 0 {
		sorry = healthy < max(pol.Quorum, 1)
	}
	if sorry && st.SorryServer.IsValid() {
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
