package ipvstest

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// recorder stands in for a test so that Require's verdict can be observed.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper() {}
func (r *recorder) Skipf(format string, args ...any) {
	r.skipped = fmt.Sprintf(format, args...)
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
}

// gate checks a gate such as [Require]: where reason says why its tests
// cannot run, it skips them, or fails them when variable env is on.
func gate(t *testing.T, name string, g func(testing.TB), env, on, reason string) {
	for _, v := range []string{"", on} {
		t.Setenv(env, v)
		r := &recorder{TB: t}
		g(r)
		switch {
		case reason == "":
			if r.skipped != "" || r.failed != "" {
				t.Errorf("%s with %s=%q where it can run: skipped %q, failed %q", name, env, v, r.skipped, r.failed)
			}
		case v == on:
			if r.failed == "" || r.skipped != "" || !strings.Contains(r.failed, reason) {
				t.Errorf("%s with %s=%s (%s): want a failure naming the reason, got skipped %q, failed %q", name, env, on, reason, r.skipped, r.failed)
			}
		default:
			if r.skipped == "" || r.failed != "" || !strings.Contains(r.skipped, reason) {
				t.Errorf("%s (%s): want a skip naming the reason, got skipped %q, failed %q", name, reason, r.skipped, r.failed)
			}
		}
	}
}

func TestRequire(t *testing.T) {
	gate(t, "Require", Require, RequireEnv, "1", missing())
}

func TestRequireNetns(t *testing.T) {
	reason := ""
	if os.Geteuid() != 0 {
		reason = "needs root"
	} else if p, _ := ipCommand(); p == "" {
		reason = "no iproute2 ip command"
	}
	gate(t, "RequireNetns", RequireNetns, CIEnv, "true", reason)
}
