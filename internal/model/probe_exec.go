package model

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/lvsctl/lvsctl/lvs"
)

// CheckExec is the type of an external program, run without a shell.
const CheckExec = "exec"

// ExecProbe runs a program; its exit status decides, or its output does
// when Expect is set. The check's timeout bounds it (keepalived's
// misc_timeout).
type ExecProbe struct {
	// Expect, when set, is compared with the program's whole output, as
	// nanny did: no output at all also passes.
	Expect string `setting:"expect"`
	// Program is the command line, split on blanks and run without a
	// shell; %h and %p are replaced by the real server's address and port.
	Program string `setting:"program"`
	// Dynamic lets the exit status set the real server's weight, as
	// keepalived's misc_dynamic: 0 passes and leaves the weight as it is
	// (the one the program set since the real server was last down,
	// else the configured one), 1 fails, 2 to 255 pass with the weight status - 2
	// (0 to 253).
	Dynamic bool `setting:"dynamic"`
}

// SetsWeight reports whether hc's probe, or one of its More, sets the real
// server's weight (an exec check with dynamic): only then does a weight in
// its state count.
func (hc *HealthCheck) SetsWeight() bool {
	for _, c := range hc.Checks() {
		if p, ok := c.Probe.(ExecProbe); ok && p.Dynamic {
			return true
		}
	}
	return false
}

// DynamicWeight returns what the exit status of a dynamic exec check
// says: whether the real server is up, and its weight (-1: none, the
// weight stays as it is).
func DynamicWeight(status int) (up bool, weight int) {
	switch {
	case status == 0:
		return true, -1
	case status >= 2 && status <= 255:
		return true, status - 2
	}
	return false, -1
}

// Type implements [Probe].
func (ExecProbe) Type() string { return CheckExec }

// Default implements [Probe].
func (ExecProbe) Default(lvs.ServiceKey) Probe { return ExecProbe{} }

// Validate implements [Probe].
func (p ExecProbe) Validate(func(string) bool) []Problem {
	f := strings.Fields(p.Program)
	switch {
	case len(f) == 0:
		return []Problem{{Setting: "program", Summary: "Missing program", Msg: `An exec check needs program = "/path/to/check %h %p"; %h and %p become the real server's address and port`}}
	case !filepath.IsAbs(f[0]):
		return []Problem{{Setting: "program", Summary: "Program path not absolute", Msg: fmt.Sprintf("%q is not an absolute path; lvsctl runs the program without a shell or PATH search, so write the full path", f[0])}}
	case p.Dynamic && p.Expect != "":
		return []Problem{{Setting: "dynamic", Summary: "Conflicting exec results", Msg: "With dynamic = true the exit status decides and sets the weight, so expect would be ignored; remove one of them"}}
	}
	return nil
}

// The program gets the port as %p, but need not connect to it.
func (ExecProbe) portless() {}
