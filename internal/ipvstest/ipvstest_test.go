package ipvstest

import (
	"fmt"
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

func TestRequire(t *testing.T) {
	reason := missing()
	for _, env := range []string{"", "1"} {
		t.Setenv(RequireEnv, env)
		r := &recorder{TB: t}
		Require(r)
		switch {
		case reason == "":
			if r.skipped != "" || r.failed != "" {
				t.Errorf("%s=%q on a kernel with IPVS: skipped %q, failed %q", RequireEnv, env, r.skipped, r.failed)
			}
		case env == "1":
			if r.failed == "" || r.skipped != "" || !strings.Contains(r.failed, reason) {
				t.Errorf("%s=1 without IPVS (%s): want a failure naming the reason, got skipped %q, failed %q", RequireEnv, reason, r.skipped, r.failed)
			}
		default:
			if r.skipped == "" || r.failed != "" || !strings.Contains(r.skipped, reason) {
				t.Errorf("without IPVS (%s): want a skip naming the reason, got skipped %q, failed %q", reason, r.skipped, r.failed)
			}
		}
	}
}
