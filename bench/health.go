package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/lvsctl/lvsctl/internal/bench/gen"
	"github.com/lvsctl/lvsctl/internal/bench/transition"
	"github.com/lvsctl/lvsctl/internal/health"
	"github.com/lvsctl/lvsctl/internal/reconcile"
	"github.com/lvsctl/lvsctl/kernel"
	"github.com/lvsctl/lvsctl/lvs"
)

// healthResult is the health-transition section's outcome.
type healthResult struct {
	services, dests int
	results         []transition.Result
	coldLoad        time.Duration // the reconciler's first converge into the empty namespace
	coldOps         int64
	noopRead        []time.Duration // in-process no-op plan: the whole-table read
	noopDiff        []time.Duration // and plan.Diff
	cliPlan         []time.Duration // lvsctl plan --detailed-exitcode (HCL parse included)
	parts           []transition.Parts
}

// measureHealth times health transitions on the real kernel: the
// reconciler that lvsctl check runs (reconcile.Reconciler, Failover off),
// in this process, on the production kernel handle (kernel.Open of a fresh
// namespace, as check --netns opens it), its apply lock in a temporary
// directory, and a configuration of n services × dests real servers with a
// tcp health_check on every virtual server, loaded with config.Load. The
// health source holds a state for every real server, as check's engine
// does after its first round.
//
// The reconciler first loads the empty namespace (its cold converge,
// timed for the record). Then each transition marks one real server down,
// or up again, in the health source and Kicks the reconciler (what check's
// engine does on a transition); the time runs until the kernel has
// acknowledged the mutating call, seen by a wrapper around the kernel
// handle that also counts operations and whole-table reads. Transitions are
// spread over the table and 1 to 2.5 s apart, so that each comes at a
// random point of the reconciler's periodic look (every second, each as
// long as a transition's converge) and some wait for one to end, as in
// production; after each one, "ipvsadm -L -n -t" of that
// service checks the kernel, outside the timing. Then, with the reconciler
// stopped, the no-op plan: read the whole table through the same handle and
// diff it against the configuration (what lvsctl plan costs once the HCL
// is parsed), and "lvsctl plan" itself.
//
// The process collects garbage as lvsctl does (GOGC=400 unless set). The
// reconciler's periodic re-read of the whole table (Resync, 30 s by
// default) is set to an hour so that none falls inside the run: it is one
// read per period, not per transition.
func measureHealth(dir string, n, dests, transitions, reps int) (*healthResult, error) {
	hr := &healthResult{services: n, dests: dests}
	fmt.Printf("\n== health transitions: %d services × %d real servers, every virtual server with a tcp health_check; lvsctl check's reconciler in this process\n", n, dests)
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(400))
	}
	t := gen.Table(n, dests)
	src, err := transition.HCL(t)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "health.hcl")
	if err := os.WriteFile(path, src, 0o600); err != nil {
		return nil, err
	}
	plain, _, want, err := writeInputs(dir, "health-plain", t)
	if err != nil {
		return nil, err
	}
	const ns = "bhealth"
	if err := addNamespace(ns); err != nil {
		return nil, err
	}
	k, err := kernel.Open(ns)
	if err != nil {
		return nil, err
	}
	defer k.Close()
	wk, c := transition.Wrap(k)

	r := &reconcile.Reconciler{
		Kernel: wk, LockPath: filepath.Join(dir, ns+".lock"), LockInfo: "lvsctl-bench health",
		Source: &reconcile.Source{Path: path, Load: transition.Load},
		// Records as check writes them, thrown away.
		Log:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Resync: time.Hour,
	}
	start := time.Now()
	cfg, err := r.Start()
	if err != nil {
		return nil, err
	}
	fmt.Printf("  configuration: %d bytes, loaded in %.3fs\n", len(src), time.Since(start).Seconds())
	h := transition.NewHealth(cfg)
	if h.Len() != n*dests {
		return nil, fmt.Errorf("%d real servers with a health state, want %d: the health_check blocks did not apply", h.Len(), n*dests)
	}
	r.Health = h

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	start = time.Now()
	go func() { done <- r.Run(ctx, 10*time.Second) }()
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
	select {
	case <-r.Ready():
	case <-time.After(5 * time.Minute):
		return nil, fmt.Errorf("the reconciler's first converge did not finish in 5 minutes: %+v", r.Stats())
	}
	hr.coldLoad, hr.coldOps = time.Since(start), c.Ops()
	fmt.Printf("  reconciler's cold load into the empty namespace: %.3fs, %d operations, %d table read\n", hr.coldLoad.Seconds(), c.Ops(), c.Reads())
	if err := checkTable(ns, want); err != nil {
		return nil, fmt.Errorf("after the reconciler's cold load: %w", err)
	}

	keys := transition.Keys(t, (transitions+1)/2)
	rs, err := transition.Run(ctx, r, h, c, transition.Options{
		Keys: keys, N: transitions,
		// Longer than the loop's period (a 1-second timer restarted after
		// each look, plus the look itself), so that each transition comes
		// at a random point of it, as probes' results do: sometimes while
		// a periodic look is under way.
		Pause: time.Second, PauseJitter: 1500 * time.Millisecond,
		Timeout: 2 * time.Minute,
		Verify:  func(key health.Key, down bool) error { return checkDest(ns, key, down) },
	})
	for i, x := range rs {
		way := "up  "
		if x.Down {
			way = "down"
		}
		fmt.Printf("  %2d %s %-44s %8.1f ms  (kernel call %.2f ms)  %d op in %d call, %d reads\n",
			i+1, way, x.Key.String(), ms(x.Latency), ms(x.Kernel), x.Ops, x.Calls, x.Reads)
	}
	if err != nil {
		return nil, err
	}
	if err := transition.Check(rs); err != nil {
		return nil, err
	}
	hr.results = rs
	if err := stop(); err != nil {
		return nil, fmt.Errorf("the reconciler: %w", err)
	}
	if err := checkTable(ns, want); err != nil {
		return nil, fmt.Errorf("after the transitions (every real server up again): %w", err)
	}

	fmt.Printf("\n  the in-memory parts of a transition's converge, one by one (reconciler stopped)\n")
	for i := range 5 {
		p, err := transition.Time(cfg, h, cfg.Table, keys[i%len(keys)])
		if err != nil {
			return nil, err
		}
		hr.parts = append(hr.parts, p)
		fmt.Printf("  rep %d  health snapshot %6.1f ms   Compute %6.1f ms   plan.Diff %6.1f ms   copy of the settled table %6.1f ms\n",
			i+1, ms(p.Snapshot), ms(p.Compute), ms(p.Diff), ms(p.Settle))
	}

	fmt.Printf("\n  no-op plan against the same table (reconciler stopped)\n")
	for rep := range reps {
		read, diff, err := transition.NoopPlan(k, cfg.Table)
		if err != nil {
			return nil, err
		}
		hr.noopRead, hr.noopDiff = append(hr.noopRead, read), append(hr.noopDiff, diff)
		d, err := timed("", nil, "ip", "netns", "exec", ns, guestLvsctl, "plan", "--detailed-exitcode", "-f", plain)
		if err != nil {
			return nil, fmt.Errorf("no-op lvsctl plan (exit 0 = no changes expected): %w", err)
		}
		hr.cliPlan = append(hr.cliPlan, d)
		fmt.Printf("  rep %d  read + diff in process %8.3fs (read %.3fs, diff %.3fs)   lvsctl plan %8.3fs\n",
			rep+1, (read + diff).Seconds(), read.Seconds(), diff.Seconds(), d.Seconds())
	}
	if err := dropNamespace(ns); err != nil {
		return nil, err
	}
	return hr, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// checkDest checks, with "ipvsadm -L -n -t|-u VIP:PORT" in ns (one
// service's listing, not the whole table), that the real server of key is
// absent when down and present when up.
func checkDest(ns string, key health.Key, down bool) error {
	proto := map[lvs.Protocol]string{lvs.TCP: "-t", lvs.UDP: "-u", lvs.SCTP: "--sctp-service"}[key.Service.Protocol]
	out, err := exec.Command("ip", "netns", "exec", ns, "ipvsadm", "-L", "-n", proto, key.Service.AddrPort().String()).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ipvsadm -L -n %s %s: %w\n%s", proto, key.Service.AddrPort(), err, out)
	}
	has := strings.Contains(string(out), "-> "+key.Dest.String()+" ")
	if has == down {
		return fmt.Errorf("the kernel has real server %s in %s: %v, after it went down=%v\n%s", key.Dest, key.Service, has, down, out)
	}
	return nil
}

func sum(a, b []time.Duration) []time.Duration {
	out := make([]time.Duration, len(a))
	for i := range a {
		out[i] = a[i] + b[i]
	}
	return out
}

func (hr *healthResult) print() {
	var all, down, up, kern []time.Duration
	var ops, reads int64
	for _, x := range hr.results {
		all = append(all, x.Latency)
		kern = append(kern, x.Kernel)
		if x.Down {
			down = append(down, x.Latency)
		} else {
			up = append(up, x.Latency)
		}
		ops += x.Ops
		reads += x.Reads
	}
	nt := float64(len(hr.results))
	noop := transition.Summarize(sum(hr.noopRead, hr.noopDiff))
	lat := transition.Summarize(all)
	fmt.Printf("\n== health transitions, %d × %d (median and max of %d; from the health source's change to the kernel's acknowledgement)\n\n", hr.services, hr.dests, len(hr.results))
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight|tabwriter.Debug)
	fmt.Fprintln(tw, "measurement\tmedian\tmax\t")
	row := func(what string, ds []time.Duration) {
		s := transition.Summarize(ds)
		fmt.Fprintf(tw, "%s\t%.1f ms\t%.1f ms\t\n", what, ms(s.Median), ms(s.Max))
	}
	row("transition (down and up)", all)
	row("  down (real server removed)", down)
	row("  up (real server added back)", up)
	row("  of which the kernel call", kern)
	var snap, comp, diff, settle []time.Duration
	for _, p := range hr.parts {
		snap, comp, diff, settle = append(snap, p.Snapshot), append(comp, p.Compute), append(diff, p.Diff), append(settle, p.Settle)
	}
	row("  parts, timed alone: health snapshot (copy of every state)", snap)
	row("    reconcile.Compute (health laid over the configuration)", comp)
	row("    plan.Diff of the kept view", diff)
	row("    copy of the settled table (the next view)", settle)
	row("no-op plan in process: read + diff", sum(hr.noopRead, hr.noopDiff))
	row("  read of the whole table", hr.noopRead)
	row("  plan.Diff", hr.noopDiff)
	row("lvsctl plan (no-op, HCL parse included)", hr.cliPlan)
	tw.Flush()
	ratio := float64(lat.Median) / float64(noop.Median)
	maxRatio := float64(lat.Max) / float64(noop.Median)
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT met"
	}
	fmt.Printf("\n  kernel operations per transition: %.2f (each one netlink request); whole-table reads: %.2f — target 1 and 0: %s\n",
		float64(ops)/nt, float64(reads)/nt, verdict(ops == int64(len(hr.results)) && reads == 0))
	fmt.Printf("  transition / no-op plan (read + diff): median %.3f, max %.3f — target ≤ 0.1: %s (median), %s (max)\n",
		ratio, maxRatio, verdict(ratio <= 0.1), verdict(maxRatio <= 0.1))
	fmt.Printf("  transition / lvsctl plan: median %.3f\n", float64(lat.Median)/float64(transition.Summarize(hr.cliPlan).Median))
	fmt.Printf("  the reconciler's cold load (%d operations) took %.3fs\n", hr.coldOps, hr.coldLoad.Seconds())
}
