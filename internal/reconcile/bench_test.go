package reconcile_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/internal/apply/applytest"
	"github.com/lvsctl/lvsctl/internal/bench/gen"
	"github.com/lvsctl/lvsctl/internal/bench/transition"
	"github.com/lvsctl/lvsctl/internal/health"
	"github.com/lvsctl/lvsctl/internal/reconcile"
	"github.com/lvsctl/lvsctl/lvs"
)

// BenchmarkHealthTransition runs a check-mode Reconciler (Failover off)
// that owns a table of 10,000 services × 4 real servers, each virtual
// server with a tcp health_check, on applytest's in-memory kernel, and
// makes b.N health transitions: a real server reported down, then up
// again, by a health source that, like check's engine, holds a state for
// all 40,000 real servers and hands out a copy of them on each look.
//
// Transitions come 0.5 to 1.5 s apart, at random points of the loop's
// period (its 1-second timer, restarted after each look), so some wait for
// a periodic look to end; give -benchtime 20x (about half a minute), since
// the default would stop after a transition or two.
//
// It reports the time from the health change (and the Kick that check's
// engine sends with it) to the end of the kernel call that carries it out
// (ns/transition, which also stands as ns/op; p50 and max too), the kernel
// operations and whole-table reads per transition, the in-memory parts of
// such a converge timed alone (snapshot-ns: the copy of every state;
// compute-ns: reconcile.Compute; diff-ns: plan.Diff of the kept view;
// settle-ns: the copy kept as the next view), and, for comparison, a no-op
// plan on the same kernel (read the whole table and diff it, as lvsctl plan
// does after parsing): noop-plan-ns. The in-VM section of bench (go run
// ./bench -only health) measures the same on the real kernel, where a
// whole-table read costs far more than this fake's copy of a slice.
//
//	go test -run '^$' -bench HealthTransition -benchtime 20x ./reconcile/
func BenchmarkHealthTransition(b *testing.B) {
	t, src, err := benchInput()
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	path := filepath.Join(dir, "lvsctl.hcl")
	if err := os.WriteFile(path, src, 0o600); err != nil {
		b.Fatal(err)
	}
	cfg, err := transition.Load(path)
	if err != nil {
		b.Fatal(err)
	}
	fake := applytest.New()
	fake.Seed(t)
	k, c := transition.Wrap(fake)
	h := transition.NewHealth(cfg)
	if h.Len() != services*dests {
		b.Fatalf("%d real servers with a health state, want %d: the health_check blocks did not apply", h.Len(), services*dests)
	}

	var noop []time.Duration
	for range 3 {
		read, diff, err := transition.NoopPlan(fake, cfg.Table)
		if err != nil {
			b.Fatal(err)
		}
		noop = append(noop, read+diff)
	}

	r := &reconcile.Reconciler{
		Kernel: k, LockPath: filepath.Join(dir, "default.lock"), LockInfo: "bench",
		Source: &reconcile.Source{Path: path, Load: transition.Load},
		Health: h,
		Log:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		// No periodic re-read of the whole table during the run; it
		// comes once per Resync (30 s by default), not per transition.
		Resync: time.Hour,
	}
	if _, err := r.Start(); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, time.Second) }()
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		return <-done
	}
	defer stop()
	<-r.Ready()
	if c.Ops() != 0 || c.Reads() != 1 {
		b.Fatalf("start-up on a loaded table: %d operations, %d reads; want 0 and 1", c.Ops(), c.Reads())
	}

	runtime.GC() // the setup's garbage, not the transitions'
	b.ResetTimer()
	rs, err := transition.Run(ctx, r, h, c, transition.Options{
		Keys: transition.Keys(t, (b.N+1)/2),
		N:    b.N,
		// Past the end of the converge's step (it keeps the table it
		// settled on), and, over a window as long as the loop's period
		// (its 1-second timer, restarted after each look), at a random
		// point of it: sometimes while a periodic look is under way.
		Pause: 500 * time.Millisecond, PauseJitter: time.Second,
		// The fake's own table, not through the counting wrapper.
		Verify: func(key health.Key, down bool) error {
			live, err := fake.Table()
			if err != nil {
				return err
			}
			i := slices.IndexFunc(live.Services, func(s lvs.Service) bool { return s.Key == key.Service })
			if i < 0 {
				return fmt.Errorf("service %s gone", key.Service)
			}
			has := slices.ContainsFunc(live.Services[i].Dests, func(d lvs.Dest) bool { return d.Addr == key.Dest })
			if has == down {
				return fmt.Errorf("real server present=%v after the transition", has)
			}
			return nil
		},
	})
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	// Stop the loop before timing the parts alone.
	if err := stop(); err != nil {
		b.Fatal(err)
	}
	if err := transition.Check(rs); err != nil {
		b.Fatal(err)
	}
	var lat []time.Duration
	var sum time.Duration
	var ops, reads int64
	for _, r := range rs {
		lat = append(lat, r.Latency)
		sum += r.Latency
		ops += r.Ops
		reads += r.Reads
	}
	slices.Sort(lat)
	n := float64(len(rs))
	mean := float64(sum) / n
	sl, sn := transition.Summarize(lat), transition.Summarize(noop)
	b.ReportMetric(mean, "ns/op")
	b.ReportMetric(mean, "ns/transition")
	b.ReportMetric(float64(sl.Median), "p50-ns/transition")
	b.ReportMetric(float64(sl.Max), "max-ns/transition")
	b.ReportMetric(float64(ops)/n, "ops/transition")
	b.ReportMetric(float64(reads)/n, "reads/transition")
	b.ReportMetric(float64(sn.Median), "noop-plan-ns")
	var snap, comp, diff, settle []time.Duration
	for i := range 5 {
		p, err := transition.Time(cfg, h, cfg.Table, transition.Keys(t, 5)[i])
		if err != nil {
			b.Fatal(err)
		}
		snap, comp, diff, settle = append(snap, p.Snapshot), append(comp, p.Compute), append(diff, p.Diff), append(settle, p.Settle)
	}
	b.ReportMetric(float64(transition.Summarize(snap).Median), "snapshot-ns")
	b.ReportMetric(float64(transition.Summarize(comp).Median), "compute-ns")
	b.ReportMetric(float64(transition.Summarize(diff).Median), "diff-ns")
	b.ReportMetric(float64(transition.Summarize(settle).Median), "settle-ns")
	b.ReportMetric(float64(sl.Median)/float64(sn.Median), "p50/noop-plan")
}

const services, dests = 10000, 4

// benchInput is the table and its HCL with health checks, made once for
// every round of the benchmark.
func benchInput() (*lvs.Table, []byte, error) {
	inputOnce.Do(func() {
		inputTable = gen.Table(services, dests)
		inputHCL, inputErr = transition.HCL(inputTable)
	})
	return inputTable, inputHCL, inputErr
}

var (
	inputOnce  sync.Once
	inputTable *lvs.Table
	inputHCL   []byte
	inputErr   error
)
