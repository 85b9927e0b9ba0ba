//go:build linux

package pulse

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/internal/apply/applytest"
	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/internal/pulse/wire"
	"github.com/lvsctl/lvsctl/internal/reconcile"
	"github.com/lvsctl/lvsctl/internal/source/config"
)

// The namespace test runs each director as this test binary re-executed
// inside its network namespace (ip netns exec), so that the daemon's
// sockets, netlink calls and packet sockets all live there. helperMain is
// that process.
func TestMain(m *testing.M) {
	switch os.Getenv("PULSE_HELPER") {
	case "":
		os.Exit(m.Run())
	case "daemon":
		os.Exit(helperDaemon())
	case "client":
		os.Exit(helperClient())
	case "inject":
		os.Exit(helperInject())
	}
	os.Exit(2)
}

// helperDaemon runs pulse as `lvsctl pulse` would, with an in-memory IPVS
// table (this host's kernel has no IPVS).
func helperDaemon() int {
	cfg, _, diags := config.Load(os.Getenv("PULSE_CONFIG"))
	if diags.HasErrors() {
		fmt.Fprintln(os.Stderr, diags)
		return 1
	}
	node, err := Setup(cfg, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	paths, err := node.Listen()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	r := &reconcile.Reconciler{
		Kernel: applytest.New(), LockPath: os.Getenv("PULSE_LOCK"), LockInfo: "pulse",
		Source: &reconcile.Source{Path: os.Getenv("PULSE_CONFIG"), Load: func(path string) (*model.Config, error) {
			cfg, _, diags := config.Load(path)
			if diags.HasErrors() {
				return nil, diags
			}
			return cfg, nil
		}},
		Failover: true, Addrs: reconcile.Netlink{}, ARPCount: 3, ARPInterval: 200 * time.Millisecond,
		Log: slog.New(slog.NewTextHandler(stampedStderr{}, nil)),
	}
	if _, err := r.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	rctx, rstop := context.WithCancel(context.Background())
	rdone := make(chan error, 1)
	go func() { rdone <- r.Run(rctx, 5*time.Second) }()
	d := &Daemon{Settings: node.Settings, Paths: paths, Codec: node.Codec(time.Now()), Director: r,
		Release: func() { rstop(); <-rdone }, StatusFile: os.Getenv("PULSE_STATUS"), Log: stampedStderr{}}
	if addr := os.Getenv("PULSE_LISTEN"); addr != "" {
		// A service on every address, the VIP included once it is here:
		// what the takeover benchmark waits for.
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if err := d.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// stampedStderr writes the helpers' logs with the time, for reading a
// failure.
type stampedStderr struct{}

func (stampedStderr) Write(b []byte) (int, error) {
	_, err := fmt.Fprintf(os.Stderr, "%s %s", time.Now().Format("15:04:05.000"), b)
	return len(b), err
}

// helperClient sends one datagram to the VIP, which makes the client
// resolve it by ARP.
func helperClient() int {
	c, err := net.Dial("udp", os.Getenv("PULSE_TARGET"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer c.Close()
	_, _ = c.Write([]byte("x"))
	time.Sleep(100 * time.Millisecond)
	return 0
}

// helperInject sends, from the primary's address, forged heartbeats (a
// wrong key) and replayed ones (the right key, an epoch the backup never
// confirmed, echoing none of its), all claiming the primary is active, for
// a second.
func helperInject() int {
	c, err := net.Dial("udp", os.Getenv("PULSE_TARGET"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer c.Close()
	key, err := os.ReadFile(os.Getenv("PULSE_KEY"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	forger := wire.Sender{Role: wire.Primary, Epoch: uint64(time.Now().UnixNano()), Key: bytes.Repeat([]byte("f"), 32)}
	replayer := wire.Sender{Role: wire.Primary, Epoch: 1, Key: key}
	for end := time.Now().Add(time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		_, _ = c.Write(forger.Next(wire.Active))
		_, _ = c.Write(replayer.Next(wire.Active))
	}
	return 0
}

type lab struct {
	t      testing.TB
	dir    string
	prefix string
}

func (l *lab) ip(args ...string) string {
	l.t.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		l.t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (l *lab) ns(name string) string { return l.prefix + name }

// start runs a helper in namespace ns; its stderr goes to a log file.
func (l *lab) start(ns, mode string, env ...string) *exec.Cmd {
	l.t.Helper()
	log, err := os.OpenFile(filepath.Join(l.dir, ns+"-"+mode+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		l.t.Fatal(err)
	}
	exe, _ := os.Executable()
	cmd := exec.Command("ip", "netns", "exec", l.ns(ns), exe)
	cmd.Env = append(os.Environ(), append([]string{"PULSE_HELPER=" + mode}, env...)...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		l.t.Fatal(err)
	}
	l.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		log.Close()
	})
	return cmd
}

func (l *lab) daemon(ns string, env ...string) *exec.Cmd {
	return l.start(ns, "daemon", append([]string{"PULSE_CONFIG=" + filepath.Join(l.dir, "lvsctl.hcl"),
		"PULSE_STATUS=" + filepath.Join(l.dir, ns+".json"), "PULSE_LOCK=" + filepath.Join(l.dir, ns+".lock")}, env...)...)
}

func (l *lab) status(ns string) *StatusFile {
	sf, err := ReadStatus(filepath.Join(l.dir, ns+".json"))
	if err != nil {
		return nil
	}
	return sf
}

// waitFor polls cond every 10ms until it holds or d passes.
func (l *lab) waitFor(d time.Duration, what string, cond func() bool) time.Duration {
	l.t.Helper()
	start := time.Now()
	for time.Since(start) < d {
		if cond() {
			return time.Since(start)
		}
		time.Sleep(10 * time.Millisecond)
	}
	l.t.Fatalf("after %s: %s did not happen; logs in %s:\n%s", d, what, l.dir, l.logs())
	return 0
}

func (l *lab) logs() string {
	var b strings.Builder
	files, _ := filepath.Glob(filepath.Join(l.dir, "*.log"))
	for _, f := range files {
		data, _ := os.ReadFile(f)
		fmt.Fprintf(&b, "== %s\n%s", filepath.Base(f), data)
	}
	return b.String()
}

func (l *lab) hasVIP(ns string) bool {
	return strings.Contains(l.ip("-n", l.ns(ns), "-4", "addr", "show", "dev", "eth0"), "10.99.0.100/24")
}

func (l *lab) mac(ns string) string {
	out := l.ip("-n", l.ns(ns), "-o", "link", "show", "dev", "eth0")
	f := strings.Fields(out[strings.Index(out, "link/ether"):])
	return f[1]
}

// clientMAC is the client's ARP cache entry for the VIP, "" when none.
func (l *lab) clientMAC() string {
	out := l.ip("-n", l.ns("c"), "neigh", "show", "10.99.0.100")
	if i := strings.Index(out, "lladdr "); i >= 0 {
		return strings.Fields(out[i:])[1]
	}
	return ""
}

// labs numbers the labs of one process, whose namespaces must not collide.
var labs atomic.Int64

// newLab builds the pair and its client in network namespaces. Without
// root, iproute2 or network namespaces it skips, but under CI=true, where
// all three are there, it fails.
func newLab(t testing.TB) *lab {
	skip := t.Skipf
	if os.Getenv("CI") == "true" {
		skip = t.Fatalf
	}
	if os.Geteuid() != 0 {
		skip("needs root for network namespaces")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		skip("needs iproute2's ip")
	}
	l := &lab{t: t, dir: t.TempDir(), prefix: fmt.Sprintf("lvp%d-%d-", os.Getpid()%100000, labs.Add(1))}
	if out, err := exec.Command("ip", "netns", "add", l.ns("hub")).CombinedOutput(); err != nil {
		skip("cannot make network namespaces here: %v %s", err, out)
	}
	t.Cleanup(func() {
		for _, n := range []string{"hub", "d1", "d2", "c"} {
			_ = exec.Command("ip", "netns", "del", l.ns(n)).Run()
		}
	})
	l.ip("-n", l.ns("hub"), "link", "add", "br0", "type", "bridge")
	l.ip("-n", l.ns("hub"), "link", "set", "br0", "up")
	for i, n := range []string{"d1", "d2", "c"} {
		addr := []string{"10.99.0.1/24", "10.99.0.2/24", "10.99.0.10/24"}[i]
		l.ip("netns", "add", l.ns(n))
		l.ip("-n", l.ns(n), "link", "add", "eth0", "type", "veth", "peer", "name", "p-"+n, "netns", l.ns("hub"))
		l.ip("-n", l.ns("hub"), "link", "set", "p-"+n, "master", "br0", "up")
		l.ip("-n", l.ns(n), "addr", "add", addr, "dev", "eth0")
		l.ip("-n", l.ns(n), "link", "set", "eth0", "up")
		l.ip("-n", l.ns(n), "link", "set", "lo", "up")
	}
	key := filepath.Join(l.dir, "pulse.key")
	if err := os.WriteFile(key, bytes.Repeat([]byte{0x5a}, 32), 0o600); err != nil {
		t.Fatal(err)
	}
	l.config("100ms", "400ms")
	return l
}

// config writes the pair's configuration with these timers.
func (l *lab) config(keepalive, deadtime string) {
	l.t.Helper()
	key := filepath.Join(l.dir, "pulse.key")
	hcl := fmt.Sprintf(`pulse {
  primary   = "10.99.0.1"
  backup    = "10.99.0.2"
  keepalive = %q
  deadtime  = %q
  key_file  = %q
}

virtual_server "web" {
  address = "10.99.0.100:80"
  vip {
    device  = "eth0:1"
    netmask = "255.255.255.0"
  }
  real_server "r1" {
    address = "10.99.0.50"
  }
}
`, keepalive, deadtime, key)
	if err := os.WriteFile(filepath.Join(l.dir, "lvsctl.hcl"), []byte(hcl), 0o600); err != nil {
		l.t.Fatal(err)
	}
}

func TestFailoverInNamespaces(t *testing.T) {
	l := newLab(t)
	state := func(ns, want string) func() bool {
		return func() bool { s := l.status(ns); return s != nil && s.State == want }
	}

	primary := l.daemon("d1")
	backup := l.daemon("d2")
	l.waitFor(5*time.Second, "the primary active", state("d1", "active"))
	l.waitFor(5*time.Second, "the primary's VIP", func() bool { return l.hasVIP("d1") })
	time.Sleep(500 * time.Millisecond) // more than a deadtime: the backup must stay standby
	if s := l.status("d2"); s == nil || s.State != "standby" || l.hasVIP("d2") {
		t.Fatalf("backup %+v, VIP on it %v", s, l.hasVIP("d2"))
	}
	if !strings.Contains(l.ip("-n", l.ns("d1"), "-4", "addr", "show", "dev", "eth0"), "eth0:1") {
		t.Fatalf("the VIP has no eth0:1 label")
	}

	// The client learns the VIP's owner by ARP.
	l.start("c", "client", "PULSE_TARGET=10.99.0.100:9")
	l.waitFor(2*time.Second, "the client's ARP entry for the primary", func() bool { return l.clientMAC() == l.mac("d1") })

	// Kill the primary; forged and replayed heartbeats claiming it is
	// alive must not delay the takeover.
	killed := time.Now()
	_ = primary.Process.Signal(syscall.SIGKILL)
	_ = primary.Wait()
	l.start("d1", "inject", "PULSE_TARGET=10.99.0.2:539", "PULSE_KEY="+filepath.Join(l.dir, "pulse.key"))
	l.waitFor(3*time.Second, "the backup's VIP", func() bool { return l.hasVIP("d2") })
	took := time.Since(killed)
	// Deadtime 400ms, plus the 100ms of the status and address polls.
	if took > 400*time.Millisecond+400*time.Millisecond {
		t.Errorf("takeover took %s, deadtime is 400ms", took)
	}
	t.Logf("takeover in %s", took)
	l.waitFor(2*time.Second, "the client's ARP entry moved by gratuitous ARP", func() bool { return l.clientMAC() == l.mac("d2") })
	l.waitFor(2*time.Second, "the forged and replayed heartbeats counted", func() bool {
		s := l.status("d2")
		// The replayer's packets echo no epoch of the backup's: unconfirmed.
		return s != nil && s.Heartbeats.Forged > 0 && s.Heartbeats.Unconfirmed > 0
	})
	if s := l.status("d2"); s.State != "active" {
		t.Fatalf("forged heartbeats moved the backup: %+v", s)
	}

	// The primary returns, still holding the VIP its crashed run left
	// behind: it releases it at start, and stays standby.
	if !l.hasVIP("d1") {
		t.Fatal("the killed primary should still hold the VIP it had")
	}
	l.daemon("d1")
	l.waitFor(3*time.Second, "the returning primary releasing the VIP it had left", func() bool { return !l.hasVIP("d1") })
	l.waitFor(3*time.Second, "the returning primary hearing the backup", func() bool {
		s := l.status("d1")
		return s != nil && s.Peer == "active"
	})
	time.Sleep(time.Second)
	if s := l.status("d1"); s.State != "standby" || l.hasVIP("d1") {
		t.Fatalf("the returning primary preempted: %+v", s)
	}
	if !l.hasVIP("d2") {
		t.Fatal("the backup lost its VIP")
	}

	// SIGTERM on the active backup releases the VIP; the primary takes
	// over at once.
	released := time.Now()
	t.Logf("%s SIGTERM to the backup", released.Format("15:04:05.000"))
	_ = backup.Process.Signal(syscall.SIGTERM)
	l.waitFor(time.Second, "the primary taking over from the released backup", func() bool { return l.hasVIP("d1") })
	// The partner said it released: no need to wait out the deadtime.
	if d := time.Since(released); d > 400*time.Millisecond {
		t.Errorf("the primary took %s to take over a released VIP:\n%s", d, l.logs())
	}
	done := make(chan error, 1)
	go func() { done <- backup.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the backup exited with %v:\n%s", err, l.logs())
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("the backup did not exit on SIGTERM:\n%s", l.logs())
	}
	if l.hasVIP("d2") {
		t.Fatal("SIGTERM left the VIP on the backup")
	}
	l.waitFor(2*time.Second, "the client's ARP entry back on the primary", func() bool { return l.clientMAC() == l.mac("d1") })
}

// TestSplitBrainHeals cuts only the heartbeats between the directors (a
// blackhole route each way; the client still reaches both): both become
// active; when the cut heals, the backup yields and the primary's
// gratuitous ARPs bring the client back to it.
func TestSplitBrainHeals(t *testing.T) {
	l := newLab(t)
	state := func(ns, want string) func() bool {
		return func() bool { s := l.status(ns); return s != nil && s.State == want }
	}
	l.daemon("d1")
	l.daemon("d2")
	l.waitFor(5*time.Second, "the primary active", state("d1", "active"))
	l.start("c", "client", "PULSE_TARGET=10.99.0.100:9")
	l.waitFor(2*time.Second, "the client's ARP entry for the primary", func() bool { return l.clientMAC() == l.mac("d1") })

	l.ip("-n", l.ns("d1"), "route", "add", "blackhole", "10.99.0.2/32")
	l.ip("-n", l.ns("d2"), "route", "add", "blackhole", "10.99.0.1/32")
	l.waitFor(2*time.Second, "the backup going active in the split", func() bool { return l.hasVIP("d2") })
	l.waitFor(2*time.Second, "the client's ARP entry moved to the backup", func() bool { return l.clientMAC() == l.mac("d2") })
	if s := l.status("d1"); s.State != "active" || !l.hasVIP("d1") {
		t.Fatalf("the primary gave up in the split: %+v", s)
	}

	l.ip("-n", l.ns("d1"), "route", "del", "blackhole", "10.99.0.2/32")
	l.ip("-n", l.ns("d2"), "route", "del", "blackhole", "10.99.0.1/32")
	l.waitFor(2*time.Second, "the backup yielding", func() bool { return !l.hasVIP("d2") })
	if s := l.status("d1"); s.State != "active" || !l.hasVIP("d1") {
		t.Fatalf("the primary lost the VIP when the split healed: %+v", s)
	}
	l.waitFor(3*time.Second, "the client's ARP entry back on the primary", func() bool { return l.clientMAC() == l.mac("d1") })
}
