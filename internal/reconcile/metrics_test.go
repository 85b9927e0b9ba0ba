package reconcile

import (
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/lvsctl/lvsctl/internal/apply/applytest"
)

// expected is the exposition of lvsctl_director_applies_total and
// lvsctl_config_reloads_total with these counts.
func expected(ok, failed, accepted, refused int) string {
	return strings.NewReplacer("OK", strconv.Itoa(ok), "FAILED", strconv.Itoa(failed), "ACCEPTED", strconv.Itoa(accepted), "REFUSED", strconv.Itoa(refused)).Replace(`
# HELP lvsctl_config_reloads_total Configurations read after the first: accepted, or refused (invalid, or deleting every service) with the one in force kept.
# TYPE lvsctl_config_reloads_total counter
lvsctl_config_reloads_total{result="accepted"} ACCEPTED
lvsctl_config_reloads_total{result="refused"} REFUSED
# HELP lvsctl_director_applies_total Plans the daemon applied to the IPVS table under the apply lock, by result: ok, or failed (a kernel error; the daemon reads the table again and retries with backoff).
# TYPE lvsctl_director_applies_total counter
lvsctl_director_applies_total{result="failed"} FAILED
lvsctl_director_applies_total{result="ok"} OK
`)
}

// TestMetricsAppliesAndReloads: the counters of applies and reloads exist
// from the start, at 0, so that a rate() or an alert on them works before
// the first failure; a failed apply and its successful retry, an accepted
// and a refused reload, each count once.
func TestMetricsAppliesAndReloads(t *testing.T) {
	f := newFixture(t, webHCL, false)
	reg := prometheus.NewRegistry()
	if _, err := NewMetrics(reg, f.r); err != nil {
		t.Fatal(err)
	}
	names := []string{"lvsctl_director_applies_total", "lvsctl_config_reloads_total"}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(expected(0, 0, 0, 0)), names...); err != nil {
		t.Errorf("before the first converge: %v", err)
	}

	// The first apply fails in the kernel, the retry works.
	var failed atomic.Bool
	f.k.SetFault(func(applytest.Call) error {
		if failed.CompareAndSwap(false, true) {
			return syscall.ENOMEM
		}
		return nil
	})
	f.run()
	<-f.r.Ready()
	if err := testutil.GatherAndCompare(reg, strings.NewReader(expected(1, 1, 0, 0)), names...); err != nil {
		t.Errorf("after a failed apply and its retry: %v", err)
	}

	// An accepted reload (one more service: one more apply), then a
	// refused one.
	f.write(extraHCL)
	<-f.r.Reload()
	waitFor(t, "the new service", func() bool { return len(f.services()) == 2 })
	f.write("virtual_server {")
	<-f.r.Reload()
	waitFor(t, "the refusal", func() bool { return f.r.Stats().ReloadsRefused == 1 })
	if err := testutil.GatherAndCompare(reg, strings.NewReader(expected(2, 1, 1, 1)), names...); err != nil {
		t.Errorf("after an accepted and a refused reload: %v", err)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("promlint: %v %v", problems, err)
	}
}
