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
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/lvsctl/lvsctl/internal/model"
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
	// Checks is where each check stands, for a real server with several
	// ([model.HealthCheck.More]), in the order of its checks; nil for
	// one with a single check, whose state is the fields above. Passes,
	// Fails and Reason above are then those of the last check probed.
	Checks CheckStates `json:"checks,omitempty"`
}

// CheckState is where one check of a real server with several stands: up
// or down by its own rise and fall, as [Step] decides for a real server
// with one check.
type CheckState struct {
	Down   bool   `json:"down"`
	Passes int    `json:"passes"`
	Fails  int    `json:"fails"`
	Reason string `json:"reason,omitempty"`
}

// CheckStates are the states of a real server's checks.
type CheckStates []CheckState

// UnmarshalJSON reads the list element by element and refuses one longer
// than [model.MaxChecks], so that a state file of empty elements cannot
// make a reader allocate more than the file holds.
func (cs *CheckStates) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		*cs = nil
		return nil
	}
	if tok != json.Delim('[') {
		return errors.New("checks: not a list")
	}
	var out CheckStates
	for dec.More() {
		if len(out) == model.MaxChecks {
			return fmt.Errorf("checks: more than %d checks", model.MaxChecks)
		}
		var c CheckState
		if err := dec.Decode(&c); err != nil {
			return err
		}
		out = append(out, c)
	}
	*cs = out
	return nil
}

// Result is the outcome of one probe: Err nil is a pass.
type Result struct {
	Err     error
	Latency time.Duration
	At      time.Time
	// Start is when the probe began.
	Start time.Time
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

// StepCheck applies one result of check i of a real server whose checks
// are checks (the check and its More, each with its own rise and fall):
// the check goes down or up by itself as [Step] decides, and the real
// server is up only while every check is, as keepalived decides
// (ipwrapper.c, update_svr_checker_state: a real server goes down at the
// first checker that fails and comes back when the last failed one
// passes). Checks not known yet (a state from before they were
// configured) start as the real server is. With one check it is Step.
// It returns the new state and, when the real server changes side, the
// transition. StepCheck is pure.
func StepCheck(s State, i int, checks []*model.HealthCheck, r Result) (State, *Transition) {
	n := len(checks)
	if n <= 1 {
		s.Checks = nil
		rise, fall := 1, 1
		if n == 1 {
			rise, fall = checks[0].Rise, checks[0].Fall
		}
		return Step(s, rise, fall, r)
	}
	if len(s.Checks) != n {
		s.Checks = make(CheckStates, n)
		for j := range s.Checks {
			s.Checks[j].Down = s.Down
		}
	} else {
		s.Checks = slices.Clone(s.Checks)
	}
	c := checks[i]
	one, _ := Step(State{Down: s.Checks[i].Down, Passes: s.Checks[i].Passes, Fails: s.Checks[i].Fails}, c.Rise, c.Fall, r)
	s.Checks[i] = CheckState{Down: one.Down, Passes: one.Passes, Fails: one.Fails, Reason: one.Reason}
	name := fmt.Sprintf("check %d of %d (%s)", i+1, n, c.Type())
	s.Probed = r.At
	s.Passes, s.Fails = one.Passes, one.Fails
	s.Reason = name + ": " + one.Reason
	if r.Err == nil && r.Weight != nil {
		s.Weight = r.Weight
	}
	down := slices.ContainsFunc(s.Checks, func(c CheckState) bool { return c.Down })
	if down {
		s.Weight = nil // as Step: down ends what a dynamic check said
	}
	if down == s.Down {
		return s, nil
	}
	s.Down, s.Since = down, r.At
	rise, fall := max(c.Rise, 1), max(c.Fall, 1)
	if down {
		return s, &Transition{Up: false, At: r.At, Reason: fmt.Sprintf("%s: %s (%s failed in a row, fall %d)", name, one.Reason, plural(one.Fails, "probe"), fall)}
	}
	return s, &Transition{Up: true, At: r.At, Reason: fmt.Sprintf("every check passes: %s came back, %s passed in a row (rise %d)", name, plural(one.Passes, "probe"), rise)}
}

// Pending reports whether s's last result disagrees with its side, a rise
// or fall under way: of any of its checks when it has several.
func (s State) Pending() bool {
	if len(s.Checks) > 0 {
		return slices.ContainsFunc(s.Checks, func(c CheckState) bool {
			return c.Down && c.Passes > 0 || !c.Down && c.Fails > 0
		})
	}
	return s.Down && s.Passes > 0 || !s.Down && s.Fails > 0
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
