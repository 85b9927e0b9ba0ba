package apply_test

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/lvsctl/lvsctl/internal/apply"
	"github.com/lvsctl/lvsctl/internal/apply/applytest"
	"github.com/lvsctl/lvsctl/internal/plan"
	"github.com/lvsctl/lvsctl/lvs"
)

var (
	dns1 = netip.MustParseAddrPort("192.168.10.100:53")
	dns2 = netip.MustParseAddrPort("192.168.10.101:53")
)

// drainSetup returns a kernel with web (real1, real2) and dns (dns1, dns2),
// every real server busy, and a desired table without real2 and dns2.
func drainSetup(t *testing.T) (*applytest.Kernel, *lvs.Table) {
	t.Helper()
	k := applytest.New()
	k.Seed(&lvs.Table{Services: []lvs.Service{
		{Key: web, Opts: opts("wlc"), Dests: []lvs.Dest{dest(real1, 1), dest(real2, 3)}},
		{Key: dns, Opts: opts("rr"), Dests: []lvs.Dest{dest(dns1, 1), dest(dns2, 1)}},
	}})
	for _, c := range []struct {
		k lvs.ServiceKey
		a netip.AddrPort
	}{{web, real1}, {web, real2}, {dns, dns1}, {dns, dns2}} {
		if err := k.SetConns(c.k, c.a, 5, 2); err != nil {
			t.Fatal(err)
		}
	}
	desired := &lvs.Table{Services: []lvs.Service{
		{Key: web, Opts: opts("wlc"), Dests: []lvs.Dest{dest(real1, 1)}},
		{Key: dns, Opts: opts("rr"), Dests: []lvs.Dest{dest(dns1, 1)}},
	}}
	desired.Normalize()
	return k, desired
}

func hasDest(t *testing.T, k apply.Kernel, s lvs.ServiceKey, a netip.AddrPort) *lvs.Dest {
	t.Helper()
	tb, err := k.Table()
	if err != nil {
		t.Fatal(err)
	}
	svc := tb.Service(s)
	if svc == nil {
		return nil
	}
	return svc.Dest(a)
}

func TestConvergeDrainsUntilIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k, desired := drainSetup(t)
		start := time.Now()
		done := make(chan struct{})
		defer func() { <-done }()
		go func() {
			defer close(done)
			// Checked while draining: weight 0, still there; UDP gone.
			time.Sleep(5 * time.Second)
			if d := hasDest(t, k, web, real2); d == nil || d.Opts.Weight != 0 {
				t.Errorf("at 5s real2 = %+v, want present at weight 0", d)
			}
			if hasDest(t, k, dns, dns2) != nil {
				t.Error("the UDP real server was not deleted at once")
			}
			time.Sleep(5 * time.Second)
			_ = k.SetConns(web, real2, 0, 0)
		}()
		waits := 0
		rep, err := apply.Converge(context.Background(), k, desired, apply.ConvergeOptions{
			DrainTimeout: time.Minute, Poll: time.Second,
			Progress: func(p plan.Plan) { waits += len(p.Waiting) },
		})
		if err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		if took < 10*time.Second || took > 12*time.Second {
			t.Errorf("converge took %v, want about 10s (until the connections ended)", took)
		}
		if hasDest(t, k, web, real2) != nil {
			t.Error("real2 is still there after its connections ended")
		}
		if waits == 0 {
			t.Error("Progress never saw a waiting real server")
		}
		if a, c, d := rep.Summary(); a != 0 || c != 1 || d != 2 || !rep.OK() {
			t.Errorf("report: %d added, %d changed, %d destroyed, OK=%v; want 0, 1 (drain), 2", a, c, d, rep.OK())
		}
	})
}

func TestConvergeDeletesAtTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k, desired := drainSetup(t)
		start := time.Now()
		rep, err := apply.Converge(context.Background(), k, desired, apply.ConvergeOptions{DrainTimeout: 30 * time.Second, Poll: 7 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took != 30*time.Second {
			t.Errorf("converge took %v, want exactly the 30s timeout", took)
		}
		if hasDest(t, k, web, real2) != nil {
			t.Error("real2 survived the drain timeout")
		}
		if len(rep.Waiting) != 0 {
			t.Errorf("report still lists waiting real servers: %v", rep.Waiting)
		}
	})
}

func TestConvergeIdleServersGoAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k, desired := drainSetup(t)
		_ = k.SetConns(web, real2, 0, 0)
		start := time.Now()
		if _, err := apply.Converge(context.Background(), k, desired, apply.ConvergeOptions{DrainTimeout: time.Hour}); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took != 0 {
			t.Errorf("converge waited %v for an idle real server", took)
		}
		if hasDest(t, k, web, real2) != nil {
			t.Error("idle real2 was not deleted")
		}
	})
}

func TestConvergeWithoutDrainTimeout(t *testing.T) {
	k, desired := drainSetup(t)
	if _, err := apply.Converge(context.Background(), k, desired, apply.ConvergeOptions{}); err != nil {
		t.Fatal(err)
	}
	if hasDest(t, k, web, real2) != nil || k.Ops() != 2 {
		t.Errorf("without a drain timeout: real2 present=%v, %d calls; want deleted in 2 calls", hasDest(t, k, web, real2) != nil, k.Ops())
	}
}

func TestConvergeDrainsARemovedService(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k, _ := drainSetup(t)
		desired := &lvs.Table{Services: []lvs.Service{{Key: dns, Opts: opts("rr"), Dests: []lvs.Dest{dest(dns1, 1), dest(dns2, 1)}}}}
		desired.Normalize()
		done := make(chan struct{})
		defer func() { <-done }()
		go func() {
			defer close(done)
			time.Sleep(3 * time.Second)
			tb, _ := k.Table()
			if tb.Service(web) == nil {
				t.Error("web was deleted while its real servers drained")
			}
			_ = k.SetConns(web, real1, 0, 0)
			_ = k.SetConns(web, real2, 0, 0)
		}()
		if _, err := apply.Converge(context.Background(), k, desired, apply.ConvergeOptions{DrainTimeout: time.Minute}); err != nil {
			t.Fatal(err)
		}
		tb, _ := k.Table()
		if tb.Service(web) != nil {
			t.Error("web is still there after its real servers drained")
		}
	})
}

func TestConvergeInterruptedWhileDraining(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k, desired := drainSetup(t)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		defer func() { <-done }()
		go func() {
			defer close(done)
			time.Sleep(4500 * time.Millisecond)
			cancel()
		}()
		start := time.Now()
		rep, err := apply.Converge(ctx, k, desired, apply.ConvergeOptions{DrainTimeout: time.Minute})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if took := time.Since(start); took != 4500*time.Millisecond {
			t.Errorf("stopped after %v, want at the cancel (4.5s)", took)
		}
		if !strings.Contains(err.Error(), "1 real server left at weight 0; run apply again to finish") {
			t.Errorf("err = %q", err)
		}
		if d := hasDest(t, k, web, real2); d == nil || d.Opts.Weight != 0 {
			t.Errorf("real2 = %+v, want left at weight 0", d)
		}
		if !rep.Interrupted || len(rep.Waiting) != 1 {
			t.Errorf("report: interrupted=%v waiting=%v", rep.Interrupted, rep.Waiting)
		}
	})
}

func TestApplySavedRefusesStalePlan(t *testing.T) {
	k, desired := drainSetup(t)
	live, _ := k.Table()
	f := &plan.File{Fingerprint: plan.Fingerprint(live, desired.Ignore), Desired: desired, Plan: plan.Diff(live, desired, plan.Options{})}
	// Someone changes a weight after the plan was made.
	if err := k.EditDest(web, dest(real1, 9)); err != nil {
		t.Fatal(err)
	}
	k.ResetCalls()
	rep, err := apply.ApplySaved(context.Background(), k, f, apply.ConvergeOptions{})
	if !errors.Is(err, apply.ErrStale) || rep != nil {
		t.Fatalf("ApplySaved = %v, %v; want ErrStale", rep, err)
	}
	if !strings.HasPrefix(err.Error(), "saved plan is stale") || k.Ops() != 0 {
		t.Errorf("err %q after %d kernel calls", err, k.Ops())
	}
	// Traffic alone does not make a plan stale.
	_ = k.EditDest(web, dest(real1, 1))
	_ = k.SetConns(web, real1, 100, 100)
	if _, err := apply.ApplySaved(context.Background(), k, f, apply.ConvergeOptions{}); err != nil {
		t.Errorf("ApplySaved after counters changed: %v", err)
	}
}

func TestApplySavedContinuesDrain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k, desired := drainSetup(t)
		live, _ := k.Table()
		p := plan.Diff(live, desired, plan.Options{Drain: true})
		f := &plan.File{Fingerprint: plan.Fingerprint(live, desired.Ignore), DrainTimeout: 20 * time.Second, Desired: desired, Plan: p}
		start := time.Now()
		rep, err := apply.ApplySaved(context.Background(), k, f, apply.ConvergeOptions{Poll: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took != 20*time.Second {
			t.Errorf("took %v, want the plan's 20s drain timeout", took)
		}
		if hasDest(t, k, web, real2) != nil {
			t.Error("real2 survived the saved plan's drain timeout")
		}
		// The recorded ops ran first, verbatim.
		for i, op := range p.Ops {
			if rep.Ops[i].Op != op || rep.Ops[i].Status != apply.Done {
				t.Errorf("report op %d = %+v, want the plan's %+v done", i, rep.Ops[i], op)
			}
		}
	})
}

// TestConvergeThroughFileKernel stages a kernel error in the middle of an
// apply the way a CLI test does, through the fake kernel's file.
func TestConvergeThroughFileKernel(t *testing.T) {
	path := t.TempDir() + "/kernel.json"
	if err := os.WriteFile(path, []byte(`{"fail": {"after": 2, "errno": "EIO"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	fk, err := applytest.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	desired := &lvs.Table{Services: []lvs.Service{{Key: web, Name: "web", Opts: opts("wlc"), Dests: []lvs.Dest{dest(real1, 1), dest(real2, 1), dest(real3, 1)}}}}
	desired.Normalize()
	_, err = apply.Converge(context.Background(), fk, desired, apply.ConvergeOptions{})
	if !errors.Is(err, syscall.EIO) || !strings.Contains(err.Error(), "2 of 4 changes were made; run apply again to converge") {
		t.Fatalf("first apply: %v, want EIO after 2 of 4", err)
	}
	rep, err := apply.Converge(context.Background(), fk, desired, apply.ConvergeOptions{})
	if err != nil {
		t.Fatalf("second apply: %v", err)
	}
	if a, _, _ := rep.Summary(); a != 2 {
		t.Errorf("second apply added %d, want the 2 left", a)
	}
	checkConverged(t, fk, desired)
}
