//go:build linux

package pulse

import (
	"math/rand/v2"
	"net"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/internal/netns"
)

// BenchmarkTakeover times "primary killed -> VIP answering on the backup"
// over repeated trials, each a fresh pair of director namespaces and a
// client (the namespace lab of TestFailoverInNamespaces; an in-memory IPVS
// table, which does not change the timing). The clock starts when the
// primary's only link goes down and its pulse is SIGKILLed, as in a power
// failure; it stops when a TCP connection from the client to the VIP is
// accepted by the backup, which needs the VIP there and the client's ARP
// cache moved by the gratuitous ARP. The kill comes at a random point of
// the keepalive period, so the trials sample the whole range from
// deadtime - keepalive to deadtime. It reports the median and the maximum
// as ms-median and ms-max. Run it once per setting:
//
//	go test -run '^$' -bench Takeover -benchtime 1x ./pulse/
func BenchmarkTakeover(b *testing.B) {
	for _, c := range []struct {
		name                string
		keepalive, deadtime string
		trials              int
	}{
		{"piranha-2s-5s", "2s", "5s", 3},
		{"fast-100ms-300ms", "100ms", "300ms", 20},
	} {
		b.Run(c.name, func(b *testing.B) {
			var times []time.Duration
			for range b.N {
				for range c.trials {
					times = append(times, takeoverTrial(b, c.keepalive, c.deadtime))
				}
			}
			slices.Sort(times)
			med := times[len(times)/2]
			if len(times)%2 == 0 {
				med = (times[len(times)/2-1] + times[len(times)/2]) / 2
			}
			b.ReportMetric(float64(med.Microseconds())/1000, "ms-median")
			b.ReportMetric(float64(times[len(times)-1].Microseconds())/1000, "ms-max")
			b.ReportMetric(0, "ns/op")
			b.Logf("%d trials, keepalive %s, deadtime %s: median %s, max %s, all %v",
				len(times), c.keepalive, c.deadtime, med.Round(time.Millisecond), times[len(times)-1].Round(time.Millisecond), roundAll(times))
		})
	}
}

func roundAll(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(time.Millisecond)
	}
	return out
}

// takeoverTrial builds a pair, lets the primary take the VIP, kills it and
// returns how long until the VIP answers on the backup.
func takeoverTrial(b *testing.B, keepalive, deadtime string) time.Duration {
	b.StopTimer()
	defer b.StartTimer()
	l := newLab(b)
	l.config(keepalive, deadtime)
	primary := l.daemon("d1")
	l.daemon("d2", "PULSE_LISTEN=:9000")
	dead, _ := time.ParseDuration(deadtime)
	keep, _ := time.ParseDuration(keepalive)
	l.waitFor(3*dead+5*time.Second, "the primary's VIP", func() bool { return l.hasVIP("d1") })
	time.Sleep(2 * dead) // settled: the backup standby, heartbeats flowing
	// The client has the primary's MAC address for the VIP in its cache.
	l.start("c", "client", "PULSE_TARGET=10.99.0.100:9")
	l.waitFor(2*time.Second, "the client's ARP entry for the primary", func() bool { return l.clientMAC() == l.mac("d1") })

	// Kill at a random point between two heartbeats, not always at the
	// same phase of the keepalive.
	time.Sleep(rand.N(keep))
	killed := time.Now()
	l.ip("-n", l.ns("d1"), "link", "set", "eth0", "down")
	_ = primary.Process.Signal(syscall.SIGKILL)
	for {
		if time.Since(killed) > 3*dead+5*time.Second {
			b.Fatalf("the VIP did not answer on the backup %s after the primary was killed:\n%s", time.Since(killed), l.logs())
		}
		var c net.Conn
		err := netns.Do("/run/netns/"+l.ns("c"), func() (err error) {
			c, err = net.DialTimeout("tcp", "10.99.0.100:9000", 20*time.Millisecond)
			return err
		})
		if err == nil {
			took := time.Since(killed)
			c.Close()
			return took
		}
		time.Sleep(2 * time.Millisecond)
	}
}
