package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/internal/apply"
	"github.com/lvsctl/lvsctl/internal/cmd"
	"github.com/lvsctl/lvsctl/internal/ipvstest"
	"github.com/lvsctl/lvsctl/internal/netns"
	"github.com/lvsctl/lvsctl/internal/pulse"
	"github.com/lvsctl/lvsctl/kernel"
)

func init() { helpers["pulse"] = pulseHelper }

// pulseHelper is `lvsctl pulse` as a director runs it: the real command
// line in-process, the production kernel adapter, in the network namespace
// that `ip netns exec` put this process in. Its arguments come in
// LVSCTL_E2E_ARGS, one per line; SIGTERM stops it (with the clean release),
// SIGKILL is the crash.
func pulseHelper() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	args := append([]string{"lvsctl"}, strings.Split(os.Getenv("LVSCTL_E2E_ARGS"), "\n")...)
	return cmd.Main(ctx, args, cmd.Env{
		Stdin:  strings.NewReader(""),
		Stdout: os.Stderr,
		Stderr: stamped{os.Stderr},
		OpenKernel: func(ns string) (apply.Kernel, error) {
			k, err := kernel.Open(ns)
			if err != nil {
				return nil, err
			}
			return k, nil
		},
		StateDir: os.Getenv("LVSCTL_E2E_LOCKDIR"),
		Getenv:   func(string) string { return "" },
	})
}

// stamped prefixes each write with the time, for reading a failure's log.
type stamped struct{ w io.Writer }

func (s stamped) Write(b []byte) (int, error) {
	_, err := fmt.Fprintf(s.w, "%s %s", time.Now().Format("15:04:05.000"), b)
	return len(b), err
}

// pulsePair is the four-host NAT layout with two directors: the client
// 10.0.0.10 on one segment, real1 and real2 on 192.168.10.0/24, and the
// primary (10.0.0.3, 192.168.10.252) and backup (10.0.0.4,
// 192.168.10.253) directors on both, plus a direct link between the two
// (hb0, 172.31.0.1 and .2) for the second heartbeat path and connection
// sync. The two segments are bridges in a "switch" namespace. The VIP
// 10.0.0.2 and the real servers' gateway 192.168.10.254 belong to neither
// director: pulse puts them on the active one.
type pulsePair struct {
	*fourHost // client, reals; director is the primary
	primary   string
	backup    string
	dir       string
	procs     map[string]*exec.Cmd
}

func newPulsePair(t *testing.T) *pulsePair {
	t.Helper()
	n := seq.Add(1)
	p := &pulsePair{
		fourHost: &fourHost{
			client: fmt.Sprintf("client-%d", n),
			reals:  []string{fmt.Sprintf("real1-%d", n), fmt.Sprintf("real2-%d", n)},
		},
		primary: fmt.Sprintf("primary-%d", n),
		backup:  fmt.Sprintf("backup-%d", n),
		dir:     t.TempDir(),
		procs:   map[string]*exec.Cmd{},
	}
	p.director = p.primary
	p.stateDir = p.dir
	sw := fmt.Sprintf("switch-%d", n)
	for _, ns := range append([]string{sw, p.client, p.primary, p.backup}, p.reals...) {
		run(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { exec.Command("ip", "netns", "delete", ns).Run() })
		run(t, "ip", "-n", ns, "link", "set", "lo", "up")
	}
	for _, br := range []string{"br0", "br1"} {
		run(t, "ip", "-n", sw, "link", "add", br, "type", "bridge")
		run(t, "ip", "-n", sw, "link", "set", br, "up")
	}
	port := 0
	plug := func(ns, dev, br, addr string) {
		port++
		name := fmt.Sprintf("p%d", port)
		run(t, "ip", "-n", sw, "link", "add", name, "type", "veth", "peer", "name", dev, "netns", ns)
		run(t, "ip", "-n", sw, "link", "set", name, "master", br, "up")
		run(t, "ip", "-n", ns, "addr", "add", addr, "dev", dev)
		run(t, "ip", "-n", ns, "link", "set", dev, "up")
	}
	plug(p.client, "eth0", "br0", "10.0.0.10/24")
	for i, ns := range []string{p.primary, p.backup} {
		plug(ns, "eth0", "br0", fmt.Sprintf("10.0.0.%d/24", 3+i))
		plug(ns, "eth1", "br1", fmt.Sprintf("192.168.10.%d/24", 252+i))
		writeSysctl(t, ns, "net/ipv4/ip_forward", "1")
	}
	run(t, "ip", "-n", p.primary, "link", "add", "hb0", "type", "veth", "peer", "name", "hb0", "netns", p.backup)
	for i, ns := range []string{p.primary, p.backup} {
		run(t, "ip", "-n", ns, "addr", "add", fmt.Sprintf("172.31.0.%d/30", 1+i), "dev", "hb0")
		run(t, "ip", "-n", ns, "link", "set", "hb0", "up")
	}
	for i, ns := range p.reals {
		plug(ns, "eth0", "br1", realIPs[i]+"/24")
		run(t, "ip", "-n", ns, "route", "add", "default", "via", "192.168.10.254")
		serve(t, ns, fmt.Sprintf("real%d", i+1))
	}
	return p
}

// config is the pair's configuration: examples/pulse-nat.hcl with the
// test's key file and timers.
func (p *pulsePair) config(t *testing.T, keepalive, deadtime string) string {
	t.Helper()
	key := filepath.Join(p.dir, "pulse.key")
	if err := os.WriteFile(key, bytes.Repeat([]byte{0xa5}, 32), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := example(t, "pulse-nat.hcl",
		replaceRE(`keepalive( *)= "2s"`, fmt.Sprintf("keepalive${1}= %q", keepalive)),
		replaceRE(`deadtime( *)= "5s"`, fmt.Sprintf("deadtime${1}= %q", deadtime)),
		replace(`# key_file = "/etc/lvsctl/pulse.key"`, fmt.Sprintf("key_file = %q", key)),
	)
	f := filepath.Join(p.dir, "lvsctl.hcl")
	if err := os.WriteFile(f, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// start runs lvsctl pulse in director namespace ns as role.
func (p *pulsePair) start(t *testing.T, ns, role, cfg string) {
	t.Helper()
	log, err := os.OpenFile(filepath.Join(p.dir, ns+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	stateDir := filepath.Join(p.dir, ns+"-run")
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	args := []string{"pulse", "-f", cfg, "--role", role, "--status-file", p.statusFile(ns),
		"--arp-count", "3", "--arp-interval", "300ms"}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	c := exec.Command("ip", "netns", "exec", ns, exe)
	c.Env = append(os.Environ(), "LVSCTL_E2E_HELPER=pulse", "LVSCTL_E2E_ARGS="+strings.Join(args, "\n"), "LVSCTL_E2E_LOCKDIR="+stateDir)
	c.Stdout, c.Stderr = log, log
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	p.procs[ns] = c
	t.Cleanup(func() {
		c.Process.Kill()
		c.Wait()
		log.Close()
	})
}

func (p *pulsePair) statusFile(ns string) string { return filepath.Join(p.dir, ns+".json") }

func (p *pulsePair) state(ns string) string {
	sf, err := pulse.ReadStatus(p.statusFile(ns))
	if err != nil {
		return ""
	}
	return sf.State
}

func (p *pulsePair) logs() string {
	var b strings.Builder
	for _, ns := range []string{p.primary, p.backup} {
		data, _ := os.ReadFile(filepath.Join(p.dir, ns+".log"))
		fmt.Fprintf(&b, "== lvsctl pulse in %s\n%s", ns, data)
	}
	return b.String()
}

// waitFor polls cond until it holds or d passes; it returns how long that
// took.
func (p *pulsePair) waitFor(t *testing.T, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < d {
		if cond() {
			return time.Since(start)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("after %s: %s did not happen\n%s", d, what, p.logs())
	return 0
}

func (p *pulsePair) hasAddr(t *testing.T, ns, dev, addr string) bool {
	return strings.Contains(run(t, "ip", "-n", ns, "-4", "addr", "show", "dev", dev), "inet "+addr+"/")
}

// crash is the primary losing power: its links go down and its lvsctl
// dies at once (SIGKILL), without releasing anything.
func (p *pulsePair) crash(t *testing.T, ns string) {
	t.Helper()
	for _, dev := range []string{"eth0", "eth1", "hb0"} {
		run(t, "ip", "-n", ns, "link", "set", dev, "down")
	}
	c := p.procs[ns]
	c.Process.Signal(syscall.SIGKILL)
	c.Wait()
}

// poller fetches http://VIP/ from the client without pause, each request
// on a new connection, and records when requests succeed and fail.
type poller struct {
	mu       sync.Mutex
	ok, fail int
	last     time.Time // when the last successful request started
	stop     chan struct{}
	finished chan struct{}
}

func (p *pulsePair) poll(t *testing.T) *poller {
	pl := &poller{stop: make(chan struct{}), finished: make(chan struct{})}
	go func() {
		defer close(pl.finished)
		for {
			select {
			case <-pl.stop:
				return
			default:
			}
			start := time.Now()
			err := p.fetchOnce()
			pl.mu.Lock()
			if err == nil {
				pl.ok++
				pl.last = start
			} else {
				pl.fail++
			}
			pl.mu.Unlock()
			if err != nil {
				time.Sleep(50 * time.Millisecond)
			}
		}
	}()
	t.Cleanup(pl.halt)
	return pl
}

func (pl *poller) halt() {
	select {
	case <-pl.stop:
	default:
		close(pl.stop)
	}
	<-pl.finished
}

// succeededSince reports whether a request started after t0 succeeded.
func (pl *poller) succeededSince(t0 time.Time) bool {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	return pl.last.After(t0)
}

func (pl *poller) counts() (ok, fail int) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	return pl.ok, pl.fail
}

// fetchOnce makes one request on a new connection, with a short timeout.
func (p *pulsePair) fetchOnce() error {
	var c net.Conn
	err := netns.Do(nsPath(p.client), func() (err error) {
		c, err = net.DialTimeout("tcp", vip+":80", 500*time.Millisecond)
		return err
	})
	if err != nil {
		return err
	}
	defer c.Close()
	c.(*net.TCPConn).SetLinger(0)
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: "+vip+"\r\n\r\n"); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if s := strings.TrimSpace(string(b)); s != "real1" && s != "real2" {
		return fmt.Errorf("unexpected answer %q", s)
	}
	return nil
}

// TestKernelPulseNATFailover runs lvsctl pulse on two directors with real
// IPVS, a client fetching through the VIP all along, and crashes the
// active primary: the backup takes the VIP and the NAT gateway address,
// requests resume through it, and a keep-alive connection opened before
// the crash keeps working because the sync daemon gave the backup its
// IPVS connection entry.
func TestKernelPulseNATFailover(t *testing.T) {
	ipvstest.Require(t)
	p := newPulsePair(t)
	cfg := p.config(t, "200ms", "1s")
	p.start(t, p.primary, "primary", cfg)
	p.start(t, p.backup, "backup", cfg)

	p.waitFor(t, 10*time.Second, "the primary active", func() bool { return p.state(p.primary) == "active" })
	p.waitFor(t, 10*time.Second, "the backup standby", func() bool { return p.state(p.backup) == "standby" })
	p.waitFor(t, 5*time.Second, "the VIP and the gateway on the primary", func() bool {
		return p.hasAddr(t, p.primary, "eth0", vip) && p.hasAddr(t, p.primary, "eth1", "192.168.10.254")
	})
	if p.hasAddr(t, p.backup, "eth0", vip) || p.hasAddr(t, p.backup, "eth1", "192.168.10.254") {
		t.Fatalf("the standby backup holds a floating address")
	}
	save := run(t, "ip", "netns", "exec", p.primary, "ipvsadm", "-S", "-n")
	if !strings.Contains(save, "-A -t "+vip+":80 -s rr") || !strings.Contains(save, "-r 192.168.10.100:80 -m") {
		t.Fatalf("the active primary's table is not the example's:\n%s", save)
	}
	if save := run(t, "ip", "netns", "exec", p.backup, "ipvsadm", "-S", "-n"); strings.Contains(save, "-A ") {
		t.Fatalf("the standby backup has virtual services:\n%s", save)
	}
	daemons := run(t, "ip", "netns", "exec", p.backup, "ipvsadm", "-L", "--daemon")
	if !strings.Contains(daemons, "backup sync daemon") {
		t.Fatalf("no backup sync daemon on the standby backup: %q", daemons)
	}

	// A keep-alive connection, opened and used on the primary.
	c := p.dial(t)
	defer c.Close()
	br := bufio.NewReader(c)
	held := get(t, c, br)
	for range 4 {
		if s := get(t, c, br); s != held {
			t.Fatalf("the keep-alive connection moved from %s to %s", held, s)
		}
	}
	// The master sync daemon sends what it has at least every 2 seconds.
	p.waitFor(t, 10*time.Second, "the backup learning the connection from the sync daemon", func() bool {
		conns := run(t, "ip", "netns", "exec", p.backup, "ipvsadm", "-L", "-n", "-c")
		return strings.Contains(conns, "10.0.0.10:") && strings.Contains(conns, "ESTABLISHED")
	})
	t.Logf("the backup's copy of the connections:\n%s", run(t, "ip", "netns", "exec", p.backup, "ipvsadm", "-L", "-n", "-c"))

	pl := p.poll(t)
	p.waitFor(t, 5*time.Second, "the client fetching through the primary", func() bool { ok, _ := pl.counts(); return ok >= 5 })

	p.crash(t, p.primary)
	// From here on: the ip commands of the crash take a while in the
	// emulated VM, and requests started before the links went down may
	// still have gone through the primary.
	crashed := time.Now()
	took := p.waitFor(t, 10*time.Second, "a request answered through the backup", func() bool { return pl.succeededSince(crashed) })
	t.Logf("requests resumed %s after the primary crashed (deadtime 1s)", took.Round(time.Millisecond))
	if p.state(p.backup) != "active" || !p.hasAddr(t, p.backup, "eth0", vip) || !p.hasAddr(t, p.backup, "eth1", "192.168.10.254") {
		t.Fatalf("requests resumed but the backup is %q without its floating addresses\n%s", p.state(p.backup), p.logs())
	}
	if took > 3*time.Second {
		t.Errorf("requests resumed only %s after the crash, deadtime is 1s", took)
	}
	before, _ := pl.counts()
	time.Sleep(500 * time.Millisecond)
	if after, _ := pl.counts(); after <= before {
		t.Fatalf("requests stopped again after the takeover\n%s", p.logs())
	}

	// The connection opened on the primary goes on through the backup.
	for range 3 {
		if s := get(t, c, br); s != held {
			t.Fatalf("after the failover the keep-alive connection reached %s, not %s", s, held)
		}
	}
	t.Logf("the keep-alive connection to %s survived the failover", held)
	pl.halt()
	ok, fail := pl.counts()
	t.Logf("client: %d requests answered, %d failed", ok, fail)
}
