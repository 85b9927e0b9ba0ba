package model

import (
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"time"

	"github.com/lvsctl/lvsctl/lvs"
)

// What a health check does with a real server that fails it.
const (
	OnFailureRemove  = "remove"  // delete it from the service (nanny's default)
	OnFailureQuiesce = "quiesce" // set its weight to 0 so its connections drain (nanny -q)
)

// Health check defaults, in effect when a source does not say. The
// defaults of each probe type's settings are its Default method's.
const (
	DefaultCheckInterval = 5 * time.Second
	DefaultCheckRise     = 1
	DefaultCheckFall     = 1
)

// MaxCheckCount bounds rise and fall: counts of consecutive probes.
const MaxCheckCount = 10000

// A HealthCheck is how one real server is probed: its virtual server's
// check, with the real server's own settings merged in when it has any.
// Every field holds the value in effect, defaults filled in.
type HealthCheck struct {
	// Probe is what is sent and expected: the settings of the check's type.
	Probe Probe
	// Port is the port probed; 0 means the real server's own port.
	Port uint16

	Interval  time.Duration // between probes; default 5s
	Timeout   time.Duration // of one probe; default the interval
	Rise      int           // consecutive passes to come back; default 1
	Fall      int           // consecutive failures to go out; default 1
	OnFailure string        // OnFailureRemove (default) or OnFailureQuiesce
	// Alpha starts the real server down until rise probes in a row pass
	// (keepalived's alpha), instead of up until fall probes fail. It
	// counts only where nothing is known of the real server yet: a
	// checker that restarts keeps what it published.
	Alpha bool

	// More are the real server's further checks, nil for the usual one:
	// each runs on its own interval with its own settings, and the real
	// server is up only while this check and every one of More pass, as
	// keepalived counts a real server alive only while none of its
	// checkers has failed (ipwrapper.c, update_svr_checker_state). A
	// check in More has no More of its own; the real server's failure
	// action is this check's OnFailure, which theirs repeat.
	More []*HealthCheck
}

// MaxChecks bounds the checks of one real server (the check and its
// More): more would be a configuration gone wrong, not a real server's
// health.
const MaxChecks = 16

// Checks returns every check of the real server hc is the check of: hc,
// then its More.
func (hc *HealthCheck) Checks() []*HealthCheck {
	if hc == nil {
		return nil
	}
	return append([]*HealthCheck{hc}, hc.More...)
}

// StartsDown reports whether a real server with the checks of hc starts
// out of the table until its probes pass: when one of them has alpha.
func (hc *HealthCheck) StartsDown() bool {
	for _, c := range hc.Checks() {
		if c.Alpha {
			return true
		}
	}
	return false
}

// DefaultHealthCheck returns a check that runs p, with every other
// setting at its default.
func DefaultHealthCheck(p Probe) HealthCheck {
	return HealthCheck{
		Probe:     p,
		Interval:  DefaultCheckInterval,
		Timeout:   DefaultCheckInterval,
		Rise:      DefaultCheckRise,
		Fall:      DefaultCheckFall,
		OnFailure: OnFailureRemove,
	}
}

// Type returns the name of the check's probe type, "" when it has none.
func (hc *HealthCheck) Type() string {
	if hc.Probe == nil {
		return ""
	}
	return hc.Probe.Type()
}

// DefaultCheckProtocol is the probe protocol of a service's checks when
// none is given: UDP for UDP services, TCP otherwise.
func DefaultCheckProtocol(k lvs.ServiceKey) lvs.Protocol {
	if k.Protocol == lvs.UDP {
		return lvs.UDP
	}
	return lvs.TCP
}

// A Problem is a value that a configuration may not hold, named by the
// setting it is about, so that each source can point at where it wrote
// that setting (as [lvs.Problem] does for the table).
type Problem struct {
	// Setting names what is wrong: a setting of the probe ("program"), one
	// of the check's own ("rise", "port"), or "" for the check as a whole.
	Setting string
	// Element is the 1-based position of the wrong element of a list
	// setting (a number, or a block of a list of blocks); 0 when the
	// problem is with the whole setting.
	Element int
	// Field names the setting of that block that is wrong, for a list of
	// blocks ("digest" of the second url); "" for the block as a whole.
	Field string
	// Summary is a short title: "Invalid HTTP status".
	Summary string
	// Msg says what is wrong and what to write instead, as a sentence
	// without its final full stop.
	Msg string
	// Err is the cause, when there is one (a regular expression's error).
	Err error
}

func (p Problem) Error() string { return p.Msg }

// Validate returns the problems of hc: its probe's (see [Probe.Validate]
// for written), then its own settings'.
func (hc *HealthCheck) Validate(written func(setting string) bool) []Problem {
	var ps []Problem
	if hc.Probe == nil {
		ps = append(ps, Problem{Summary: "Missing health check type", Msg: "The check has no probe type"})
	} else {
		ps = hc.Probe.Validate(written)
	}
	if hc.Interval <= 0 {
		ps = append(ps, Problem{Setting: "interval", Summary: "Invalid health check interval", Msg: fmt.Sprintf("The interval is %s; write a duration of more than zero", hc.Interval)})
	}
	if hc.Timeout <= 0 {
		ps = append(ps, Problem{Setting: "timeout", Summary: "Invalid health check timeout", Msg: fmt.Sprintf("The timeout is %s; write a duration of more than zero", hc.Timeout)})
	} else if hc.Interval > 0 && hc.Timeout > hc.Interval {
		ps = append(ps, Problem{Setting: "timeout", Summary: "Health check timeout too long",
			Msg: fmt.Sprintf("The timeout (%s) is longer than the interval (%s), so probes would overlap; make the timeout at most the interval", FormatDuration(hc.Timeout), FormatDuration(hc.Interval))})
	}
	for _, c := range []struct {
		name string
		v    int
	}{{"rise", hc.Rise}, {"fall", hc.Fall}} {
		if c.v < 1 || c.v > MaxCheckCount {
			ps = append(ps, Problem{Setting: c.name, Summary: "Invalid " + c.name,
				Msg: fmt.Sprintf("%s is a count of consecutive probes from 1 to %d, not %d", c.name, MaxCheckCount, c.v)})
		}
	}
	if hc.OnFailure != OnFailureRemove && hc.OnFailure != OnFailureQuiesce {
		ps = append(ps, Problem{Setting: "on_failure", Summary: "Invalid on_failure",
			Msg: fmt.Sprintf("%q is not a failure action; use %q (weight 0, connections drain) or %q (delete the real server)", hc.OnFailure, OnFailureQuiesce, OnFailureRemove)})
	}
	return ps
}

// ValidateTarget returns the problem of probing the real server name at
// dest with hc, if any: a probe that connects needs a port, and a real
// server of a firewall-mark service may have none of its own (the packet
// keeps its port).
func (hc *HealthCheck) ValidateTarget(dest netip.AddrPort, name string) *Problem {
	if hc.Port != 0 || !dest.Addr().IsValid() || dest.Port() != 0 || hc.Probe == nil {
		return nil
	}
	if _, ok := hc.Probe.(portless); ok {
		return nil
	}
	return &Problem{Setting: "port", Summary: "Health check without a port",
		Msg: fmt.Sprintf("real_server %q has no port (a firewall-mark service keeps the packet's port), so the check cannot know where to probe; set port in the health_check block", name)}
}

// Normalize puts hc's settings in their canonical form (a list of status
// codes sorted, without repeats), so that equal checks compare equal. A
// source calls it once the check is valid.
func (hc *HealthCheck) Normalize() {
	if n, ok := hc.Probe.(normalizer); ok {
		hc.Probe = n.normalize()
	}
	for _, m := range hc.More {
		m.Normalize()
	}
}

// Equal reports whether a and b are the same check: the same probe type
// and settings, the same common settings, and the same More. An empty
// list equals a nil one.
func (hc *HealthCheck) Equal(b *HealthCheck) bool {
	if hc == b {
		return true
	}
	if hc.Port != b.Port || hc.Interval != b.Interval || hc.Timeout != b.Timeout ||
		hc.Rise != b.Rise || hc.Fall != b.Fall || hc.OnFailure != b.OnFailure || hc.Alpha != b.Alpha ||
		len(hc.More) != len(b.More) {
		return false
	}
	for i := range hc.More {
		if !hc.More[i].Equal(b.More[i]) {
			return false
		}
	}
	return equalProbes(hc.Probe, b.Probe)
}

func equalProbes(a, b Probe) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	if va.Type() != vb.Type() {
		return false
	}
	return equalSettings(settingsOf(va.Type()), va, vb)
}

// EqualSetting reports whether the probes a and b, of one type, have the
// same value of the setting name (an empty list equals a nil one).
func EqualSetting(a, b Probe, name string) bool {
	va, s, ok := findSetting(a, name)
	if !ok {
		return false
	}
	return equalSettings([]SettingInfo{s}, va, reflect.ValueOf(b))
}

// equalSettings compares the settings ss of the structs x and y; an
// empty list equals a nil one.
func equalSettings(ss []SettingInfo, x, y reflect.Value) bool {
	for _, f := range ss {
		a, b := x.FieldByIndex(f.index), y.FieldByIndex(f.index)
		switch f.Kind {
		case SettingNumbers:
			if !slices.Equal(a.Interface().([]int), b.Interface().([]int)) {
				return false
			}
		case SettingBlocks:
			if a.Len() != b.Len() {
				return false
			}
			for i := range a.Len() {
				if !equalSettings(f.Fields, a.Index(i), b.Index(i)) {
					return false
				}
			}
		default:
			if !a.Equal(b) {
				return false
			}
		}
	}
	return true
}

// FormatDuration writes d as a configuration would: "5s", "1m30s",
// "500ms".
func FormatDuration(d time.Duration) string {
	s := d.String()
	if len(s) > 3 && s[len(s)-3:] == "m0s" {
		s = s[:len(s)-2]
	}
	if len(s) > 3 && s[len(s)-3:] == "h0m" {
		s = s[:len(s)-2]
	}
	return s
}
