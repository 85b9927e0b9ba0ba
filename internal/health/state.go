// Package health keeps real servers in or out of rotation by probing them:
// the probes ([Probe]), the pure state machine that turns probe results into
// up/down decisions ([Step]), the table those decisions give ([Desired]) and
// the loop that ties them together ([Checker]).
//
// Each probe type of the model ([model.Probe]) is run by a file of its own
// here (tcp.go, send_expect.go, http.go, dns.go, exec.go), which registers
// it by type; [Probe] looks it up.
//
// Health never touches the kernel. [Desired] computes the table the
// configuration asks for with the health state laid over it; the caller
// hands that to the same plan → apply path `lvsctl apply` uses, so there is
// one code path that changes IPVS.
package health

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/lvsctl/lvsctl/lvs"
)

// A Key names one probed real server: its virtual service and address.
type Key struct {
	Service lvs.ServiceKey
	Dest    netip.AddrPort
}

// String gives the key as "service -> dest", the way logs show it.
func (k Key) String() string { return fmt.Sprintf("%s -> %s", k.Service, k.Dest) }

// State is what the checker knows about one real server. A real server
// starts up: the configuration says it serves, and a probe has to prove
// otherwise, which keeps a restarted checker from emptying a service.
type State struct {
	Down bool `json:"down"`
	// Passes and Fails count the consecutive results of the current run;
	// one of them is always zero.
	Passes int `json:"passes"`
	Fails  int `json:"fails"`
	// Since is when the real server last went up or down; zero when it
	// never changed since the checker first saw it.
	Since time.Time `json:"since,omitzero"`
	// Reason is the outcome of the last probe ("" before the first).
	Reason string `json:"reason,omitempty"`
	// Probed is when the last probe ended.
	Probed time.Time `json:"probed,omitzero"`
	// Weight is the weight the last probe gave the real server (a dynamic
	// exec check); nil keeps the configured one.
	Weight *int `json:"weight,omitempty"`
}

// Result is the outcome of one probe: Err nil is a pass.
type Result struct {
	Err     error
	Latency time.Duration
	At      time.Time
	// Weight is the weight a passing probe gave the real server (a
	// dynamic exec check's exit status); nil leaves the state's as it is.
	Weight *int
}

// A Transition is a real server going up or down.
type Transition struct {
	Key    Key
	Up     bool   // true: came back; false: went out
	Reason string // why: the probe outcome and the counter that decided
	At     time.Time
}

// Step applies one probe result to s, with rise consecutive passes needed
// to come back and fall consecutive failures to go out (values below 1
// count as 1). It returns the new state and, when the real server changes
// side, the transition. Step is pure.
func Step(s State, rise, fall int, r Result) (State, *Transition) {
	rise, fall = max(rise, 1), max(fall, 1)
	s.Probed = r.At
	if r.Err == nil {
		s.Passes++
		s.Fails = 0
		s.Reason = "passed"
		if r.Weight != nil {
			// A pass without a weight (a dynamic check's exit 0) leaves
			// it as it is, as keepalived's misc_dynamic does.
			s.Weight = r.Weight
		}
		if s.Down && s.Passes >= rise {
			s.Down = false
			s.Since = r.At
			return s, &Transition{Up: true, At: r.At, Reason: fmt.Sprintf("%s passed in a row (rise %d)", plural(s.Passes, "probe"), rise)}
		}
		return s, nil
	}
	s.Fails++
	s.Passes = 0
	s.Reason = r.Err.Error()
	if s.Down {
		s.Weight = nil // a real server that is down ends what the program said
	}
	if !s.Down && s.Fails >= fall {
		s.Down = true
		s.Since = r.At
		// Going down ends what the program said. A failure short of
		// fall keeps it: the configured weight would send a sick real
		// server the traffic its program had turned away.
		s.Weight = nil
		return s, &Transition{Up: false, At: r.At, Reason: fmt.Sprintf("%s (%s failed in a row, fall %d)", s.Reason, plural(s.Fails, "probe"), fall)}
	}
	return s, nil
}

// SameWeight reports whether a and b give the same weight: both the
// configured one, or the same number.
func SameWeight(a, b *int) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}

func plural(n int, what string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", what)
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// States is the health of every probed real server.
type States map[Key]State
