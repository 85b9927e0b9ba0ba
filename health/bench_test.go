package health

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/apply"
	"github.com/lvsctl/lvsctl/apply/applytest"
)

// BenchmarkOnce5000 probes 5,000 real servers, each a TCP listener on
// loopback, once per iteration: what `check` spends per second when every
// real server has interval = "1s". It reports the CPU time (user+system,
// this process: probes and listeners alike) per round.
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
	src.WriteString("}\n")
	cfg := loadConfig(b, src.String())
	c := &Checker{}
	if err := c.Load(cfg); err != nil {
		b.Fatal(err)
	}
	if len(c.targets) != n {
		b.Fatalf("%d targets", len(c.targets))
	}
	cpu0 := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		if err := c.Once(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	for k, s := range c.states {
		if s.Down {
			b.Fatalf("%s went down: %s", k, s.Reason)
		}
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/round")
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
// reports the detection latency, from the listener closing to the
// transition being logged: p50, p90, p99 and max. Each iteration is one
// whole ~20 s run; use -benchtime=1x.
func BenchmarkRun5000(b *testing.B) {
	const (
		n      = 5000
		closed = 500
	)
	for range b.N {
		runDetection(b, n, closed)
	}
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
	k := applytest.New()
	c := &Checker{
		Log: slog.New(downs),
	}
	ctx, cancel := context.WithCancel(context.Background())
	// What the reconciler does on a change, without its kept view: the
	// benchmark is of the probing.
	c.Changed = func() {
		st, pol := c.Snapshot()
		_, _ = apply.Converge(ctx, k, Desired(cfg, st, pol, time.Now()), apply.ConvergeOptions{})
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
	if got := downs.count(); got != 0 {
		b.Fatalf("%d healthy real servers went down", got)
	}

	// Close listeners at moments spread over 5 s, unrelated to the probes'.
	closedAt := map[string]time.Time{}
	for _, i := range rand.Perm(n)[:closed] {
		time.Sleep(time.Duration(rand.Int64N(int64(20 * time.Millisecond))))
		addr := lns[i].Addr().String()
		closedAt[addr] = time.Now()
		lns[i].Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for downs.count() < closed && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if got := downs.count(); got != closed {
		b.Fatalf("%d real servers went down, want %d", got, closed)
	}
	var lat []time.Duration
	for addr, at := range downs.snapshot() {
		c, ok := closedAt[addr]
		if !ok {
			b.Fatalf("%s went down but was not closed", addr)
		}
		lat = append(lat, at.Sub(c))
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(cpuPerSec, "cpu-ms/s")
	b.ReportMetric(pct(.5), "p50-ms")
	b.ReportMetric(pct(.9), "p90-ms")
	b.ReportMetric(pct(.99), "p99-ms")
	b.ReportMetric(pct(1), "max-ms")
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
