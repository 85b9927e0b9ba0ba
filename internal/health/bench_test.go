package health

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/internal/apply"
	"github.com/lvsctl/lvsctl/internal/apply/applytest"
	"github.com/lvsctl/lvsctl/lvs"
)

// BenchmarkOnce5000 is one `check --once` round over 5,000 real servers,
// each a TCP listener on loopback, per iteration: every real server probed
// once, then the health laid over the configuration and applied, under the
// apply lock, to an in-memory kernel that holds the table already (what a
// cron run finds on a director). One more real server is a closed port:
// the first round takes it out of the kernel, and after the loop the
// kernel must hold exactly the 5,000 that answer. It reports the CPU time
// (user+system, this process: probes, listeners and the apply) per round.
func BenchmarkOnce5000(b *testing.B) {
	const n = 5000
	var src strings.Builder
	src.WriteString("virtual_server \"big\" {\n  address = \"10.0.0.1:80\"\n  health_check {\n    type = \"tcp\"\n    interval = \"1s\"\n  }\n")
	for i := range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { ln.Close() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		fmt.Fprintf(&src, "  real_server \"r%d\" {\n    address = %q\n  }\n", i, ln.Addr().String())
	}
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	deadAddr := netip.MustParseAddrPort(dead.Addr().String())
	dead.Close() // connections to it are refused
	fmt.Fprintf(&src, "  real_server \"dead\" {\n    address = %q\n  }\n}\n", deadAddr.String())
	cfg := loadConfig(b, src.String())
	c := &Checker{}
	if err := c.Load(cfg); err != nil {
		b.Fatal(err)
	}
	if len(c.targets) != n+1 {
		b.Fatalf("%d targets", len(c.targets))
	}
	k := applytest.New()
	k.Seed(cfg.Table)
	lockPath := filepath.Join(b.TempDir(), "apply.lock")
	ctx := context.Background()
	cpu0 := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		if err := c.Once(ctx); err != nil {
			b.Fatal(err)
		}
		// What check --once does next (cmd's applyHealth).
		states, q, pol := c.Snapshot()
		unlock, err := apply.Lock(lockPath, 0, "BenchmarkOnce5000")
		if err != nil {
			b.Fatal(err)
		}
		_, err = apply.Converge(ctx, k, Desired(cfg, states, q, pol, time.Now()), apply.ConvergeOptions{})
		unlock()
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	for key, s := range c.states {
		if s.Down != (key.Dest == deadAddr) {
			b.Fatalf("%s: down = %v (%s)", key, s.Down, s.Reason)
		}
	}
	t, _ := k.Table()
	got := t.Service(cfg.Table.Services[0].Key)
	if got == nil || len(got.Dests) != n || got.Dest(deadAddr) != nil {
		b.Fatalf("the kernel does not hold exactly the %d real servers that answer", n)
	}
	if k.Ops() != 1 {
		b.Fatalf("%d kernel operations, want 1: the dead real server's delete in the first round", k.Ops())
	}
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/round")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRun5000 runs the checker loop (Run) over 5,000 loopback
// listeners probed every second (tcp, fall 1), applying each transition to
// an in-memory kernel through plan → apply. It reports the CPU time spent
// per second of steady probing (this process: probes, listeners and the
// loop), then closes 500 listeners at random moments over 5 seconds and
// reports the latency from a listener closing to the kernel's answer to the
// delete of its real server (when the delete call returned): p50, p90, p99
// and max, and how much of it came after check logged the transition. At the end the kernel must hold exactly the 4,500 real servers
// still listening. Each iteration is one whole ~20 s run; use
// -benchtime=1x.
func BenchmarkRun5000(b *testing.B) {
	const (
		n      = 5000
		closed = 500
	)
	for range b.N {
		runDetection(b, n, closed)
	}
}

// deleteClock is a kernel that notes when each delete of a real server
// was done.
type deleteClock struct {
	*applytest.Kernel
	mu      sync.Mutex
	deleted map[netip.AddrPort]time.Time
}

func (k *deleteClock) DeleteDest(key lvs.ServiceKey, addr netip.AddrPort) error {
	err := k.Kernel.DeleteDest(key, addr)
	if err == nil {
		now := time.Now()
		k.mu.Lock()
		k.deleted[addr] = now
		k.mu.Unlock()
	}
	return err
}

func (k *deleteClock) snapshot() map[netip.AddrPort]time.Time {
	k.mu.Lock()
	defer k.mu.Unlock()
	return maps.Clone(k.deleted)
}

func runDetection(b *testing.B, n, closed int) {
	var src strings.Builder
	src.WriteString("virtual_server \"big\" {\n  address = \"10.0.0.1:80\"\n  health_check {\n    type = \"tcp\"\n    interval = \"1s\"\n  }\n")
	lns := make([]net.Listener, n)
	for i := range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		lns[i] = ln
		b.Cleanup(func() { ln.Close() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		fmt.Fprintf(&src, "  real_server \"r%d\" {\n    address = %q\n  }\n", i, ln.Addr().String())
	}
	src.WriteString("}\n")
	cfg := loadConfig(b, src.String())

	downs := &downLog{at: map[string]time.Time{}}
	k := &deleteClock{Kernel: applytest.New(), deleted: map[netip.AddrPort]time.Time{}}
	k.Seed(cfg.Table) // the director runs the configuration already
	c := &Checker{
		Log: slog.New(downs),
	}
	ctx, cancel := context.WithCancel(context.Background())
	// What the reconciler does on a change, without its kept view: the
	// benchmark is of the probing.
	c.Changed = func() {
		st, q, pol := c.Snapshot()
		_, _ = apply.Converge(ctx, k, Desired(cfg, st, q, pol, time.Now()), apply.ConvergeOptions{})
	}
	if err := c.Load(cfg); err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, nil) }()

	time.Sleep(3 * time.Second) // every real server probed at least twice
	b.ResetTimer()
	cpu0, wall0 := cpuTime(), time.Now()
	time.Sleep(5 * time.Second)
	cpuPerSec := float64((cpuTime() - cpu0).Microseconds()) / 1000 / time.Since(wall0).Seconds()
	if got := downs.count(); got != 0 || len(k.snapshot()) != 0 {
		b.Fatalf("%d healthy real servers went down, %d were deleted", got, len(k.snapshot()))
	}

	// Close listeners at moments spread over 5 s, unrelated to the probes'.
	closedAt := map[netip.AddrPort]time.Time{}
	for _, i := range rand.Perm(n)[:closed] {
		time.Sleep(time.Duration(rand.Int64N(int64(20 * time.Millisecond))))
		addr := netip.MustParseAddrPort(lns[i].Addr().String())
		closedAt[addr] = time.Now()
		lns[i].Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(k.snapshot()) < closed && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	deleted := k.snapshot()
	if len(deleted) != closed || downs.count() != closed {
		b.Fatalf("%d real servers deleted from the kernel and %d logged down, want %d", len(deleted), downs.count(), closed)
	}
	// The kernel holds exactly the real servers still listening.
	t, _ := k.Table()
	got := t.Service(cfg.Table.Services[0].Key)
	if got == nil {
		b.Fatal("the kernel lost the virtual server")
	}
	if len(got.Dests) != n-closed {
		b.Fatalf("the kernel holds %d real servers, want %d", len(got.Dests), n-closed)
	}
	for addr := range closedAt {
		if got.Dest(addr) != nil {
			b.Fatalf("%s was closed but is still in the kernel", addr)
		}
	}
	logged := downs.snapshot()
	var lat, apl []time.Duration
	for addr, at := range deleted {
		c, ok := closedAt[addr]
		if !ok {
			b.Fatalf("%s was deleted but was not closed", addr)
		}
		lat = append(lat, at.Sub(c))
		apl = append(apl, at.Sub(logged[addr.String()]))
	}
	pct := func(ds []time.Duration, p float64) float64 {
		slices.Sort(ds)
		return float64(ds[int(p*float64(len(ds)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(cpuPerSec, "cpu-ms/s")
	b.ReportMetric(pct(lat, .5), "p50-ms")
	b.ReportMetric(pct(lat, .9), "p90-ms")
	b.ReportMetric(pct(lat, .99), "p99-ms")
	b.ReportMetric(pct(lat, 1), "max-ms")
	// Of which from check's log line to the kernel's answer: the plan and
	// apply of the 5,000-real-server table.
	b.ReportMetric(pct(apl, .5), "apply-p50-ms")
	b.ReportMetric(pct(apl, 1), "apply-max-ms")
}

// downLog is a slog handler that notes when each real server went down.
type downLog struct {
	mu sync.Mutex
	at map[string]time.Time
}

func (d *downLog) Enabled(context.Context, slog.Level) bool { return true }
func (d *downLog) WithAttrs([]slog.Attr) slog.Handler       { return d }
func (d *downLog) WithGroup(string) slog.Handler            { return d }
func (d *downLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "real server down" {
		return nil
	}
	now := time.Now()
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "address" {
			d.mu.Lock()
			d.at[a.Value.String()] = now
			d.mu.Unlock()
			return false
		}
		return true
	})
	return nil
}

func (d *downLog) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.at)
}

func (d *downLog) snapshot() map[string]time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return maps.Clone(d.at)
}
