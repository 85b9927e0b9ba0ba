package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/internal/apply"
	"github.com/lvsctl/lvsctl/internal/cmd"
	"github.com/lvsctl/lvsctl/internal/ipvstest"
	"github.com/lvsctl/lvsctl/internal/netns"
	"github.com/lvsctl/lvsctl/internal/syncbuf"
	"github.com/lvsctl/lvsctl/kernel"
)

// checkConfig is the four-host NAT layout on port 8080, where the test's
// web servers can be stopped and started (newFourHost's own servers hold
// port 80 until the end), probed over HTTP every second. The sorry server
// is a third address on real2's host, a web server of its own.
const checkConfig = `
virtual_server "web" {
  address      = "10.0.0.2:8080"
  protocol     = "tcp"
  scheduler    = "rr"
  forwarding   = "nat"
  sorry_server = "192.168.10.102:8080"

  health_check {
    type       = "http"
    path       = "/"
    status     = [200]
    interval   = "1s"
    timeout    = "1s"
    fall       = 2
    rise       = 2
    on_failure = "quiesce"
  }

  real_server "real1" {
    address = "192.168.10.100:8080"
    weight  = 1
  }
  real_server "real2" {
    address = "192.168.10.101:8080"
    weight  = 1
  }
}
`

const (
	checkInterval = time.Second
	checkTimeout  = time.Second
	checkFall     = 2
	checkRise     = 2
	// slack covers what the bound does not count: a plan and apply in the
	// emulated VM, and this test's polling.
	slack = 1500 * time.Millisecond
)

// web is a web server in a namespace that can be stopped and started.
type web struct {
	t          *testing.T
	ns, addr   string
	name       string
	mu         sync.Mutex
	srv        *http.Server
	registered bool
}

func (w *web) start() {
	w.t.Helper()
	var ln net.Listener
	err := netns.Do(nsPath(w.ns), func() (err error) {
		ln, err = net.Listen("tcp", w.addr)
		return err
	})
	if err != nil {
		w.t.Fatalf("listening on %s in %s: %v", w.addr, w.ns, err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(rw, "%s\n", w.name)
	})}
	go srv.Serve(ln)
	w.mu.Lock()
	w.srv = srv
	w.mu.Unlock()
	if !w.registered {
		w.registered = true
		w.t.Cleanup(w.stop)
	}
}

func (w *web) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.srv != nil {
		w.srv.Close()
		w.srv = nil
	}
}

// tryGet is one request to the VIP on a new connection from the client:
// the name of whoever answered, or why nobody did.
func (h *fourHost) tryGet(addr string) (string, error) {
	var c net.Conn
	err := netns.Do(nsPath(h.client), func() (err error) {
		c, err = net.DialTimeout("tcp", addr, 2*time.Second)
		return err
	})
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.(*net.TCPConn).SetLinger(0) // see fetch
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := fmt.Fprintf(c, "GET / HTTP/1.0\r\nHost: %s\r\n\r\n", addr); err != nil {
		return "", err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return strings.TrimSpace(b.String()), nil
}

// answers makes n requests and returns who answered each.
func (h *fourHost) answers(t *testing.T, addr string, n int) []string {
	t.Helper()
	var got []string
	for range n {
		s, err := h.tryGet(addr)
		if err != nil {
			t.Fatalf("a request to http://%s/ from the client failed: %v", addr, err)
		}
		got = append(got, s)
	}
	return got
}

// within polls cond every 50ms until it holds and returns how long that
// took, or fails the test after limit.
func within(t *testing.T, limit time.Duration, what string, cond func() bool, diag func() string) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > limit {
			t.Fatalf("%s: not within %s\n%s", what, limit, diag())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start)
}

// TestKernelCheck runs `lvsctl check --netns director` on the four-host
// NAT layout and takes real1 down and up, then both: within fall × interval
// + timeout a stopped real server is quiesced and every request goes to the
// other; after rise passes it is back; with both stopped the sorry server
// answers, and it leaves when they come back.
func TestKernelCheck(t *testing.T) {
	ipvstest.Require(t)
	h := newFourHost(t, true)
	run(t, "ip", "-n", h.reals[1], "addr", "add", "192.168.10.102/24", "dev", "eth0")
	real1 := &web{t: t, ns: h.reals[0], addr: "192.168.10.100:8080", name: "real1"}
	real2 := &web{t: t, ns: h.reals[1], addr: "192.168.10.101:8080", name: "real2"}
	sorry := &web{t: t, ns: h.reals[1], addr: "192.168.10.102:8080", name: "sorry"}
	for _, w := range []*web{real1, real2, sorry} {
		w.start()
	}

	cfg := writeConfig(t, checkConfig)
	var logs syncbuf.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- cmd.Main(ctx, []string{"lvsctl", "check", "--netns", h.director, "-f", cfg}, cmd.Env{
			Stdin:  strings.NewReader(""),
			Stdout: &logs,
			Stderr: &logs,
			OpenKernel: func(ns string) (apply.Kernel, error) {
				k, err := kernel.Open(ns)
				if err != nil {
					return nil, err
				}
				return k, nil
			},
			StateDir: h.stateDir,
			Getenv:   func(string) string { return "" },
		})
	}()
	stopped := false
	stopCheck := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("check: exit status %d\n%s", code, logs.String())
			}
		case <-time.After(10 * time.Second):
			t.Errorf("check did not stop within 10s of its context ending\n%s", logs.String())
		}
	}
	t.Cleanup(stopCheck)

	const vipPort = vip + ":8080"
	save := func() string { return h.ipvsadmSave(t) }
	diag := func() string { return "ipvsadm -S -n:\n" + save() + "check's log:\n" + logs.String() }
	has := func(re string) func() bool {
		rx := regexp.MustCompile(re)
		return func() bool { return rx.MatchString(save()) }
	}
	real1In := has(`-r 192\.168\.10\.100:8080 -m -w 1`)
	real1Quiesced := has(`-r 192\.168\.10\.100:8080 -m -w 0`)
	real2In := has(`-r 192\.168\.10\.101:8080 -m -w 1`)
	sorryIn := has(`-r 192\.168\.10\.102:8080 -m`)
	// rr: the answers alternate between the two real servers.
	both := func(got []string) bool {
		for i, s := range got {
			if s != "real1" && s != "real2" || i > 0 && s == got[i-1] {
				return false
			}
		}
		return len(got) > 1
	}

	// check applies the configuration itself: both real servers in.
	within(t, 30*time.Second, "check puts both real servers in the table",
		func() bool { return real1In() && real2In() && !sorryIn() }, diag)
	if got := h.answers(t, vipPort, 4); !both(got) {
		t.Fatalf("with both up the answers are %q, want real1 and real2 in turn", got)
	}

	bound := checkFall*checkInterval + checkTimeout
	t.Run("real1 down", func(t *testing.T) {
		real1.stop()
		took := within(t, bound+slack, "real1 quiesced after its web server stopped", real1Quiesced, diag)
		t.Logf("real1 quiesced %s after its web server stopped (fall × interval + timeout = %s)", took.Round(10*time.Millisecond), bound)
		for _, s := range h.answers(t, vipPort, 6) {
			if s != "real2" {
				t.Fatalf("with real1 quiesced %s answered", s)
			}
		}
	})
	t.Run("real1 back", func(t *testing.T) {
		real1.start()
		// rise passes, the first up to an interval after the start.
		limit := checkRise*checkInterval + checkTimeout + slack
		took := within(t, limit, "real1 back at its weight after its web server started", real1In, diag)
		t.Logf("real1 back %s after its web server started (rise %d, interval %s)", took.Round(10*time.Millisecond), checkRise, checkInterval)
		if got := h.answers(t, vipPort, 4); !both(got) {
			t.Fatalf("with real1 back the answers are %q, want real1 and real2 in turn", got)
		}
	})
	t.Run("both down", func(t *testing.T) {
		real1.stop()
		real2.stop()
		took := within(t, bound+slack, "the sorry server in the table after both web servers stopped", sorryIn, diag)
		t.Logf("sorry server in %s after both stopped", took.Round(10*time.Millisecond))
		for _, s := range h.answers(t, vipPort, 4) {
			if s != "sorry" {
				t.Fatalf("with both real servers down %q answered, not the sorry server", s)
			}
		}
	})
	t.Run("both back", func(t *testing.T) {
		real1.start()
		real2.start()
		limit := checkRise*checkInterval + checkTimeout + slack
		within(t, limit, "the sorry server gone and both real servers back",
			func() bool { return real1In() && real2In() && !sorryIn() }, diag)
		if got := h.answers(t, vipPort, 4); !both(got) {
			t.Fatalf("with both back the answers are %q, want real1 and real2 in turn", got)
		}
	})

	stopCheck()
	for _, want := range []string{
		`msg="real server down" virtual_server=web real_server=real1`,
		`msg="real server up" virtual_server=web real_server=real1`,
		`action=quiesced`,
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("check's log has no %q:\n%s", want, logs.String())
		}
	}
	// SIGTERM (here: the context) leaves the table as it is.
	if !real1In() || !real2In() {
		t.Errorf("stopping check changed the table:\n%s", save())
	}
}
