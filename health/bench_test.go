package health

import (
	"context"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"
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
