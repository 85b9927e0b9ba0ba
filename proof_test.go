//go:build linux

package main

// Real-kernel proofs of lvsctl (issue 3): each TestKernel... test works in
// network namespaces of its own, drives the real CLI code path (cmd.Main,
// in process, or this test binary run as lvsctl), and takes ipvsadm as the
// witness of what the kernel holds. On a machine without IPVS they run in
// the QEMU lab (see TestMain and internal/lab/README.md).

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lvsctl/lvsctl/internal/apply"
	"github.com/lvsctl/lvsctl/internal/apply/applytest"
	"github.com/lvsctl/lvsctl/internal/cmd"
	"github.com/lvsctl/lvsctl/internal/ipvstest"
	"github.com/lvsctl/lvsctl/internal/netns"
	"github.com/lvsctl/lvsctl/internal/plan"
	"github.com/lvsctl/lvsctl/internal/rundir"
	"github.com/lvsctl/lvsctl/internal/sysctl"
	"github.com/lvsctl/lvsctl/kernel"
	"github.com/lvsctl/lvsctl/lvs"
)

// result is what one lvsctl command printed and returned.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit status %d\n[stdout]\n%s[stderr]\n%s", r.code, r.stdout, r.stderr)
}

// director is a fresh network namespace whose IPVS table lvsctl manages.
type director struct {
	t        *testing.T
	ns       string
	stateDir string
	// wrap, when set, stands between lvsctl and the kernel (to count
	// operations).
	wrap func(apply.Kernel) apply.Kernel
}

func newDirector(t *testing.T) *director {
	t.Helper()
	ipvstest.Require(t)
	return &director{t: t, ns: ipvstest.NewNetns(t), stateDir: t.TempDir()}
}

// lvsctl runs "lvsctl ARGS..." in process through cmd.Main, on the real
// kernel of the director's namespace.
func (d *director) lvsctl(args ...string) result {
	d.t.Helper()
	var stdout, stderr bytes.Buffer
	code := cmd.Main(context.Background(), append([]string{"lvsctl"}, args...), cmd.Env{
		Stdin:  strings.NewReader(""),
		Stdout: &stdout,
		Stderr: &stderr,
		OpenKernel: func(string) (apply.Kernel, error) {
			h, err := kernel.Open(d.ns)
			if err != nil {
				return nil, err
			}
			if d.wrap != nil {
				return closer{d.wrap(h), h}, nil
			}
			return h, nil
		},
		StateDir: d.stateDir,
		Getenv:   func(string) string { return "" }, // no LVSCTL_CONFIG from the caller
	})
	return result{stdout.String(), stderr.String(), code}
}

// must runs lvsctl and fails the test unless it exits with want.
func (d *director) must(want int, args ...string) result {
	d.t.Helper()
	r := d.lvsctl(args...)
	if r.code != want {
		d.t.Fatalf("lvsctl %s: want exit status %d, got %s", strings.Join(args, " "), want, r)
	}
	return r
}

// ipvsadm runs ipvsadm ARGS... in the director's namespace.
func (d *director) ipvsadm(args ...string) string {
	d.t.Helper()
	return ipvstest.InNetns(d.t, d.ns, "ipvsadm", args...)
}

// closer keeps the real handle's Close reachable through a wrapper, so
// that cmd closes the netlink socket as it does in production.
type closer struct {
	apply.Kernel
	h *kernel.IPVS
}

func (c closer) Close() error { return c.h.Close() }

// countingKernel records every mutating call that reaches the kernel.
type countingKernel struct {
	apply.Kernel
	mu    sync.Mutex
	calls []string
}

func (c *countingKernel) record(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, fmt.Sprintf(format, args...))
}

func (c *countingKernel) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	calls := c.calls
	c.calls = nil
	return calls
}

func (c *countingKernel) AddService(s lvs.Service) error {
	c.record("AddService %s", s.Key)
	return c.Kernel.AddService(s)
}

func (c *countingKernel) EditService(s lvs.Service) error {
	c.record("EditService %s", s.Key)
	return c.Kernel.EditService(s)
}

func (c *countingKernel) DeleteService(k lvs.ServiceKey) error {
	c.record("DeleteService %s", k)
	return c.Kernel.DeleteService(k)
}

func (c *countingKernel) AddDest(k lvs.ServiceKey, d lvs.Dest) error {
	c.record("AddDest %s %s", k, d.Addr)
	return c.Kernel.AddDest(k, d)
}

func (c *countingKernel) EditDest(k lvs.ServiceKey, d lvs.Dest) error {
	c.record("EditDest %s %s", k, d.Addr)
	return c.Kernel.EditDest(k, d)
}

func (c *countingKernel) DeleteDest(k lvs.ServiceKey, addr netip.AddrPort) error {
	c.record("DeleteDest %s %s", k, addr)
	return c.Kernel.DeleteDest(k, addr)
}

func (c *countingKernel) SetSysctl(name, value string) error {
	c.record("SetSysctl %s %s", name, value)
	return c.Kernel.SetSysctl(name, value)
}

func (c *countingKernel) SetTimeouts(t lvs.Timeouts) error {
	c.record("SetTimeouts")
	return c.Kernel.SetTimeouts(t)
}

// Batch is the path apply takes in production (the real handle is an
// [apply.Batcher]): each change is still one kernel command, counted as
// such.
func (c *countingKernel) Batch(cs []kernel.Change) []error {
	for _, ch := range cs {
		switch ch.Kind {
		case kernel.SetTimeouts:
			c.record("SetTimeouts")
		case kernel.AddService:
			c.record("AddService %s", ch.Service)
		case kernel.EditService:
			c.record("EditService %s", ch.Service)
		case kernel.DeleteService:
			c.record("DeleteService %s", ch.Service)
		case kernel.AddDest:
			c.record("AddDest %s %s", ch.Service, ch.Dest.Addr)
		case kernel.EditDest:
			c.record("EditDest %s %s", ch.Service, ch.Dest.Addr)
		case kernel.DeleteDest:
			c.record("DeleteDest %s %s", ch.Service, ch.Dest.Addr)
		default:
			c.record("%s", ch)
		}
	}
	return c.Kernel.(apply.Batcher).Batch(cs)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// diff fails t when got and want differ, showing how.
func diff(t *testing.T, what, want, got string) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("%s (-want +got):\n%s", what, d)
	}
}

// TestKernelEverything applies a table that uses every feature and checks
// it with ipvsadm: the rules, the timeouts, the thresholds and the tunnel
// settings; lvsctl save prints what ipvsadm does, byte for byte.
func TestKernelEverything(t *testing.T) {
	d := newDirector(t)
	const hcl = "testdata/proof/everything.hcl"

	r := d.must(0, "apply", "--auto-approve", "-f", hcl)
	// A fresh namespace has forwarding off; the table's IPv4 and IPv6 NAT
	// real servers need it on.
	if !strings.Contains(r.stdout, "Apply complete! Resources: 37 added, 3 changed, 0 destroyed.") {
		t.Errorf("apply: want 37 added (13 services, 24 real servers) and 3 changed (the timeouts, net.ipv4.ip_forward and net.ipv6.conf.all.forwarding), got %s", r)
	}
	if got := strings.Fields(ipvstest.InNetns(t, d.ns, "cat", "/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/ipv6/conf/all/forwarding")); !cmp.Equal(got, []string{"1", "1"}) {
		t.Errorf("forwarding after apply: %q, want 1 1", got)
	}

	dump := d.ipvsadm("-S", "-n")
	diff(t, "ipvsadm -S -n after lvsctl apply", readFile(t, "testdata/proof/everything.ipvsadm"), dump)
	diff(t, "lvsctl save against ipvsadm -S -n", dump, d.must(0, "save").stdout)

	diff(t, "ipvsadm -L -n --timeout", "Timeout (tcp tcpfin udp): 3600 60 120\n", d.ipvsadm("-L", "-n", "--timeout"))

	th := d.ipvsadm("-L", "-n", "--thresholds")
	for _, re := range []string{
		`(?m)^  -> 192\.168\.10\.100:8080 +1000 +750 +0 +0 *$`,
		`(?m)^  -> 192\.168\.10\.101:8080 +0 +0 +0 +0 *$`,
		`(?m)^  -> 192\.168\.10\.102:8080 +50 +0 +0 +0 *$`,
	} {
		if !regexp.MustCompile(re).MatchString(th) {
			t.Errorf("ipvsadm -L -n --thresholds: no line matching %s in\n%s", re, th)
		}
	}

	tun := d.ipvsadm("-L", "-n", "--tun-info")
	for _, re := range []string{
		`(?m)^  -> 172\.16\.1\.20:53 +Tunnel +ipip +1 +0 +0 *$`,
		`(?m)^  -> 172\.16\.1\.21:53 +Tunnel +gue:6080:r\+c +2 +0 +0 *$`,
		`(?m)^  -> 172\.16\.1\.22:53 +Tunnel +gre:\+c +1 +0 +0 *$`,
		`(?m)^  -> 172\.16\.1\.23:53 +Tunnel +gue:5555:\+c +1 +0 +0 *$`,
	} {
		if !regexp.MustCompile(re).MatchString(tun) {
			t.Errorf("ipvsadm -L -n --tun-info: no line matching %s in\n%s", re, tun)
		}
	}

	// Converged: nothing to do, by lvsctl's own reading of the kernel.
	d.must(0, "plan", "--detailed-exitcode", "-f", hcl)
	if t.Failed() {
		t.Logf("ipvsadm -L -n --thresholds:\n%s\nipvsadm -L -n --tun-info:\n%s", th, tun)
	}
}

// TestKernelForeignWriter loads a table with ipvsadm -R, written in
// ipvsadm's own style, and expects lvsctl plan with the equivalent
// configuration to find nothing to do.
func TestKernelForeignWriter(t *testing.T) {
	d := newDirector(t)
	restore := exec.Command(ipvstest.IPCommand(t), "netns", "exec", d.ns, "ipvsadm", "-R")
	f, err := os.Open("testdata/proof/foreign.ipvsadm")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	restore.Stdin = f
	if out, err := restore.CombinedOutput(); err != nil {
		t.Fatalf("ipvsadm -R < testdata/proof/foreign.ipvsadm: %v: %s", err, out)
	}
	// ... and, as every LVS-NAT guide's script does beside it, forwarding on.
	nsSysctl(t, d.ns, "net/ipv4/ip_forward", "1")

	r := d.lvsctl("plan", "--detailed-exitcode", "-f", "testdata/proof/foreign.hcl")
	if r.code != 0 || !strings.Contains(r.stdout, "No changes.") {
		t.Fatalf("plan after ipvsadm -R: want no changes (exit 0), got %s\nipvsadm -S -n:\n%s", r, d.ipvsadm("-S", "-n"))
	}
	// And the other way round: what lvsctl reads is what ipvsadm prints.
	diff(t, "lvsctl save against ipvsadm -S -n", d.ipvsadm("-S", "-n"), d.must(0, "save").stdout)
}

// inNetns runs fn on an OS thread that has joined network namespace ns,
// so that the sockets fn creates live there; they keep working from any
// thread afterwards.
func inNetns(ns string, fn func() error) error {
	return netns.Do(filepath.Join("/run/netns", ns), fn)
}

// ip runs iproute2's ip with args and fails t if it fails.
func ip(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(ipvstest.IPCommand(t), args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// nsSysctl sets /proc/sys/KEY (with slashes) to value inside namespace ns.
func nsSysctl(t *testing.T, ns, key, value string) {
	t.Helper()
	err := inNetns(ns, func() error { return sysctl.Write(key, value) })
	if err != nil {
		t.Fatalf("sysctl %s=%s in %s: %v", key, value, ns, err)
	}
}

// natLab joins three namespaces as in the LVS-NAT howto: the client
// (10.0.0.10) and the director (10.0.0.1, VIP 10.0.0.2) on one link, the
// director (192.168.10.254) and a real server (192.168.10.100, default
// gateway .254) on another. It returns the client's and the real server's
// namespaces.
func natLab(t *testing.T, dir string) (client, real string) {
	t.Helper()
	client, real = ipvstest.NewNetns(t), ipvstest.NewNetns(t)
	ip(t, "-n", client, "link", "add", "c0", "type", "veth", "peer", "name", "d0", "netns", dir)
	ip(t, "-n", real, "link", "add", "r0", "type", "veth", "peer", "name", "d1", "netns", dir)
	ip(t, "-n", client, "addr", "add", "10.0.0.10/24", "dev", "c0")
	ip(t, "-n", client, "link", "set", "c0", "up")
	ip(t, "-n", client, "route", "add", "default", "via", "10.0.0.1")
	ip(t, "-n", dir, "addr", "add", "10.0.0.1/24", "dev", "d0")
	ip(t, "-n", dir, "addr", "add", "10.0.0.2/24", "dev", "d0")
	ip(t, "-n", dir, "addr", "add", "192.168.10.254/24", "dev", "d1")
	ip(t, "-n", dir, "link", "set", "d0", "up")
	ip(t, "-n", dir, "link", "set", "d1", "up")
	ip(t, "-n", real, "addr", "add", "192.168.10.100/24", "dev", "r0")
	ip(t, "-n", real, "link", "set", "r0", "up")
	ip(t, "-n", real, "route", "add", "default", "via", "192.168.10.254")
	nsSysctl(t, dir, "net/ipv4/ip_forward", "1")
	return client, real
}

// echoServer serves lines back, upper-cased, on addr inside ns until the
// test ends.
func echoServer(t *testing.T, ns, addr string) {
	t.Helper()
	var ln net.Listener
	err := inNetns(ns, func() (err error) {
		ln, err = net.Listen("tcp", addr)
		return err
	})
	if err != nil {
		t.Fatalf("listen on %s in %s: %v", addr, ns, err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				s := bufio.NewScanner(c)
				for s.Scan() {
					if _, err := fmt.Fprintf(c, "%s\n", strings.ToUpper(s.Text())); err != nil {
						return
					}
				}
			}()
		}
	}()
}

// TestKernelForwarding (issue 13): an LVS-NAT director whose forwarding
// is off, as on a fresh host, times out every request through the VIP;
// lvsctl plans net.ipv4.ip_forward (and net.ipv6.conf.all.forwarding for
// IPv6 NAT) without being asked, apply sets them, the client is served, and
// a second plan has nothing to do. /proc/sys read in the director's
// namespace by cat, and the traffic itself, are the witnesses.
func TestKernelForwarding(t *testing.T) {
	d := newDirector(t)
	client, real := natLab(t, d.ns)
	// The same layout over IPv6 beside it (nodad: the addresses are usable
	// at once).
	ip(t, "-n", client, "addr", "add", "2001:db8:1::10/64", "dev", "c0", "nodad")
	ip(t, "-n", client, "route", "add", "default", "via", "2001:db8:1::1")
	ip(t, "-n", d.ns, "addr", "add", "2001:db8:1::1/64", "dev", "d0", "nodad")
	ip(t, "-n", d.ns, "addr", "add", "2001:db8:1::2/64", "dev", "d0", "nodad")
	ip(t, "-n", d.ns, "addr", "add", "2001:db8:10::254/64", "dev", "d1", "nodad")
	ip(t, "-n", real, "addr", "add", "2001:db8:10::100/64", "dev", "r0", "nodad")
	ip(t, "-n", real, "route", "add", "default", "via", "2001:db8:10::254")
	// The test's own namespace, which lvsctl must not touch.
	hostBefore, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	if err != nil {
		t.Fatal(err)
	}
	// A fresh host: forwarding off in both families.
	nsSysctl(t, d.ns, "net/ipv4/ip_forward", "0")
	nsSysctl(t, d.ns, "net/ipv6/conf/all/forwarding", "0")
	echoServer(t, real, "192.168.10.100:80")
	echoServer(t, real, "[2001:db8:10::100]:80")
	counter := &countingKernel{}
	d.wrap = func(k apply.Kernel) apply.Kernel { counter.Kernel = k; return counter }

	const services = `
virtual_server "web" {
  address = "10.0.0.2:80"
  real_server "real1" {
    address = "192.168.10.100:80"
  }
}

virtual_server "web6" {
  address = "[2001:db8:1::2]:80"
  real_server "real1" {
    address = "[2001:db8:10::100]:80"
  }
}
`
	dir := t.TempDir()
	unmanaged := filepath.Join(dir, "unmanaged.hcl")
	writeFile(t, unmanaged, "sysctl {\n  manage_forwarding = false\n}\n"+services)
	nat := filepath.Join(dir, "nat.hcl")
	writeFile(t, nat, services)
	forwarding := func() string {
		return strings.Join(strings.Fields(ipvstest.InNetns(t, d.ns, "cat", "/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/ipv6/conf/all/forwarding")), " ")
	}
	// echo asks vip for a line back, within wait.
	echo := func(vip string, wait time.Duration) error {
		return inNetns(client, func() error {
			c, err := net.DialTimeout("tcp", vip, wait)
			if err != nil {
				return err
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(wait))
			if _, err := fmt.Fprintln(c, "hello"); err != nil {
				return err
			}
			got, err := bufio.NewReader(c).ReadString('\n')
			if err == nil && got != "HELLO\n" {
				err = fmt.Errorf("answered %q", got)
			}
			return err
		})
	}
	vips := []string{"10.0.0.2:80", "[2001:db8:1::2]:80"}

	// The table alone, forwarding left to the admin: the services are
	// there, and no client gets an answer.
	d.must(0, "apply", "--auto-approve", "-f", unmanaged)
	if got := counter.take(); len(got) != 2*2 || slices.ContainsFunc(got, func(c string) bool { return strings.HasPrefix(c, "SetSysctl") }) {
		t.Errorf("apply with manage_forwarding = false made %q; want the two services and their real servers only", got)
	}
	if got := forwarding(); got != "0 0" {
		t.Fatalf("forwarding is %q after an apply that leaves it alone; want 0 0", got)
	}
	dump := d.ipvsadm("-S", "-n")
	for _, line := range []string{"-a -t 10.0.0.2:80 -r 192.168.10.100:80 -m -w 1", "-a -t [2001:db8:1::2]:80 -r [2001:db8:10::100]:80 -m -w 1"} {
		if !strings.Contains(dump, line+"\n") {
			t.Fatalf("ipvsadm -S -n has no line %q:\n%s", line, dump)
		}
	}
	for _, vip := range vips {
		if err := echo(vip, 3*time.Second); err == nil {
			t.Fatalf("%s answered with forwarding off: the test does not show what it should", vip)
		} else {
			t.Logf("with forwarding off, %s: %v (as expected)", vip, err)
		}
	}

	// plan shows what NAT needs, before -> after.
	r := d.must(2, "plan", "--detailed-exitcode", "-f", nat)
	for _, want := range []string{
		"# sysctl net.ipv4.ip_forward will be updated in-place (IPv4 NAT needs it)",
		"# sysctl net.ipv6.conf.all.forwarding will be updated in-place (IPv6 NAT needs it)",
		"~ value = 0 -> 1",
		"Plan: 0 to add, 2 to change, 0 to destroy.",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan has no %q:\n%s", want, r)
		}
	}
	if got := counter.take(); len(got) != 0 {
		t.Errorf("plan called the kernel: %q", got)
	}

	r = d.must(0, "apply", "--auto-approve", "-f", nat)
	if got, want := counter.take(), []string{"SetSysctl net.ipv4.ip_forward 1", "SetSysctl net.ipv6.conf.all.forwarding 1"}; !cmp.Equal(got, want) {
		t.Errorf("apply made %q, want %q\n%s", got, want, r)
	}
	if got := forwarding(); got != "1 1" {
		t.Fatalf("forwarding is %q after apply; want 1 1\n%s", got, r)
	}
	if after, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward"); err != nil || !bytes.Equal(after, hostBefore) {
		t.Errorf("the test's own namespace has ip_forward %q after apply, %q before (%v): lvsctl wrote outside --netns", after, hostBefore, err)
	}
	for _, vip := range vips {
		var err error
		for deadline := time.Now().Add(15 * time.Second); ; {
			if err = echo(vip, 2*time.Second); err == nil || time.Now().After(deadline) {
				break
			}
		}
		if err != nil {
			t.Errorf("after apply, %s through the VIP: %v\nipvsadm -L -n -c:\n%s", vip, err, d.ipvsadm("-L", "-n", "-c"))
		}
	}

	// Settled.
	r = d.must(0, "plan", "--detailed-exitcode", "-f", nat)
	if !strings.Contains(r.stdout, "No changes.") {
		t.Errorf("second plan:\n%s", r)
	}
}

// TestKernelMinimal makes four in-place changes — a weight, the scheduler,
// persistence and a forwarding method — and checks that each is exactly
// one kernel edit, and that a TCP connection through the VIP, opened
// before them, keeps working across all of them.
func TestKernelMinimal(t *testing.T) {
	d := newDirector(t)
	client, real := natLab(t, d.ns)
	echoServer(t, real, "192.168.10.100:80")
	dir := t.TempDir()
	counter := &countingKernel{}
	d.wrap = func(k apply.Kernel) apply.Kernel { counter.Kernel = k; return counter }
	var _ apply.Batcher = counter // apply takes the production path

	const base = `
virtual_server "web" {
  address   = "10.0.0.2:80"
  scheduler = "%s"
%s
  real_server "real1" {
    address    = "192.168.10.100:80"
    weight     = %d
    forwarding = "%s"
  }
  real_server "spare" {
    address = "192.168.10.101:80"
    weight  = 0 # no new connections: the long-lived one goes to real1
  }
}
`
	persistence := "  persistence {\n    timeout = 600\n  }\n"
	steps := []struct {
		name, sched, persist string
		weight               int
		fwd                  string
		want                 []string // kernel calls
		rule                 string   // the service's or real1's line in ipvsadm -S -n
	}{
		{"create", "wlc", "", 1, "nat", []string{
			"AddService tcp 10.0.0.2:80",
			"AddDest tcp 10.0.0.2:80 192.168.10.100:80",
			"AddDest tcp 10.0.0.2:80 192.168.10.101:80",
		}, "-a -t 10.0.0.2:80 -r 192.168.10.100:80 -m -w 1"},
		{"weight", "wlc", "", 5, "nat", []string{"EditDest tcp 10.0.0.2:80 192.168.10.100:80"}, "-a -t 10.0.0.2:80 -r 192.168.10.100:80 -m -w 5"},
		{"scheduler", "rr", "", 5, "nat", []string{"EditService tcp 10.0.0.2:80"}, "-A -t 10.0.0.2:80 -s rr"},
		{"persistence", "rr", persistence, 5, "nat", []string{"EditService tcp 10.0.0.2:80"}, "-A -t 10.0.0.2:80 -s rr -p 600"},
		{"forwarding", "rr", persistence, 5, "dr", []string{"EditDest tcp 10.0.0.2:80 192.168.10.100:80"}, "-a -t 10.0.0.2:80 -r 192.168.10.100:80 -g -w 5"},
	}

	var conn net.Conn
	var lines *bufio.Reader
	for i, s := range steps {
		cfg := filepath.Join(dir, s.name+".hcl")
		writeFile(t, cfg, fmt.Sprintf(base, s.sched, s.persist, s.weight, s.fwd))
		r := d.must(0, "apply", "--auto-approve", "-f", cfg)
		if got := counter.take(); !cmp.Equal(got, s.want) {
			t.Errorf("%s: kernel calls %q, want %q\n%s", s.name, got, s.want, r)
		}
		if dump := d.ipvsadm("-S", "-n"); !strings.Contains(dump, s.rule+"\n") {
			t.Errorf("%s: ipvsadm -S -n has no line %q:\n%s", s.name, s.rule, dump)
		}
		d.must(0, "plan", "--detailed-exitcode", "-f", cfg)
		if got := counter.take(); len(got) != 0 {
			t.Errorf("%s: plan called the kernel: %q", s.name, got)
		}

		if i == 0 {
			// The long-lived connection, opened through the VIP before any
			// edit.
			deadline := time.Now().Add(10 * time.Second)
			for conn == nil {
				err := inNetns(client, func() (err error) {
					conn, err = net.DialTimeout("tcp", "10.0.0.2:80", 2*time.Second)
					return err
				})
				if err != nil && time.Now().After(deadline) {
					t.Fatalf("connect to 10.0.0.2:80 from the client: %v\nipvsadm -L -n:\n%s", err, d.ipvsadm("-L", "-n"))
				}
			}
			t.Cleanup(func() { conn.Close() })
			lines = bufio.NewReader(conn)
		}
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := fmt.Fprintf(conn, "after %s\n", s.name); err != nil {
			t.Fatalf("after %s: write on the established connection: %v", s.name, err)
		}
		got, err := lines.ReadString('\n')
		if want := "AFTER " + strings.ToUpper(s.name) + "\n"; err != nil || got != want {
			t.Fatalf("after %s: the established connection answered %q, %v; want %q", s.name, got, err, want)
		}
	}
	if t.Failed() {
		t.Logf("ipvsadm -L -n -c:\n%s", d.ipvsadm("-L", "-n", "-c"))
	}
}

// TestKernelFaults: a kernel error in the middle of an apply leaves a clear
// report and exactly the done part in the table, and the next apply
// converges; two applies on one namespace never interleave.
func TestKernelFaults(t *testing.T) {
	t.Run("refused-mid-batch", testRefusedMidBatch)
	t.Run("concurrent-applies", testConcurrentApplies)
}

var reportLine = regexp.MustCompile(`(?m)^(\S.*?): (created|updated in place|destroyed|failed|not attempted)$`)

// testRefusedMidBatch makes the kernel refuse one operation in the middle
// of an apply, by a means every kernel has: a real server at a multicast
// address, which lvsctl's validation lets through and ip_vs_new_dest
// refuses (EINVAL: only a unicast or local address can be a real server).
func testRefusedMidBatch(t *testing.T) {
	d := newDirector(t)
	dir := t.TempDir()
	base, broken, fixed := filepath.Join(dir, "base.hcl"), filepath.Join(dir, "broken.hcl"), filepath.Join(dir, "fixed.hcl")
	writeFile(t, base, `
virtual_server "old" {
  address = "10.0.0.9:80"
  real_server "one" {
    address = "192.168.10.100:80"
  }
}
`)
	const services = `
virtual_server "web" {
  address = "10.0.0.2:80"
  real_server "real1" {
    address = "192.168.10.100:80"
  }
}
virtual_server "dns" {
  address  = "10.0.0.2:53"
  protocol = "udp"
  real_server "ns1" {
    address = "%s"
  }
}
virtual_server "mail" {
  address = "10.0.0.3:25"
  real_server "mx1" {
    address = "192.168.10.101:25"
  }
}
`
	writeFile(t, broken, fmt.Sprintf(services, "224.0.0.53:53"))
	writeFile(t, fixed, fmt.Sprintf(services, "192.168.10.100:53"))
	d.must(0, "apply", "--auto-approve", "-f", base)
	d.must(0, "validate", "-f", broken) // the fault is the kernel's, not the configuration's

	r := d.must(1, "apply", "--auto-approve", "-f", broken)
	for _, want := range []string{
		"adding virtual_server.dns.real_server.ns1 (224.0.0.53:53): the kernel refused the real server's settings (invalid argument)",
		"6 of 7 changes were made; run apply again to converge",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the failed apply's error does not say %q:\n%s", want, r)
		}
	}
	// Every operation of the plan is reported as done, failed or not
	// attempted. The kernel is sent the whole plan in one batch (see
	// apply.Batcher), so the operations after the refused one ran too and
	// are reported with their own outcome.
	statuses := map[string]string{}
	for _, m := range reportLine.FindAllStringSubmatch(r.stdout, -1) {
		statuses[m[1]] = m[2]
	}
	wantStatuses := map[string]string{
		"virtual_server.web (tcp 10.0.0.2:80)":                     "created",
		"virtual_server.dns (udp 10.0.0.2:53)":                     "created",
		"virtual_server.mail (tcp 10.0.0.3:25)":                    "created",
		"virtual_server.web.real_server.real1 (192.168.10.100:80)": "created",
		"virtual_server.dns.real_server.ns1 (224.0.0.53:53)":       "failed",
		"virtual_server.mail.real_server.mx1 (192.168.10.101:25)":  "created",
		"service tcp 10.0.0.9:80":                                  "destroyed",
	}
	if d := cmp.Diff(wantStatuses, statuses); d != "" {
		t.Errorf("report of the failed apply (-want +got):\n%s\n%s", d, r)
	}
	if !strings.Contains(r.stdout, "Apply incomplete! Resources: 5 added, 0 changed, 2 destroyed. 1 change not made.") {
		t.Errorf("the failed apply's summary does not count what was done:\n%s", r)
	}
	// The table holds exactly what the report says was done.
	diff(t, "ipvsadm -S -n after the failed apply", `-A -t 10.0.0.2:80 -s wlc
-a -t 10.0.0.2:80 -r 192.168.10.100:80 -m -w 1
-A -t 10.0.0.3:25 -s wlc
-a -t 10.0.0.3:25 -r 192.168.10.101:25 -m -w 1
-A -u 10.0.0.2:53 -s wlc
`, d.ipvsadm("-S", "-n"))

	r = d.must(0, "apply", "--auto-approve", "-f", fixed)
	if !strings.Contains(r.stdout, "Apply complete! Resources: 1 added, 0 changed, 0 destroyed.") {
		t.Errorf("apply of the fixed configuration: want the one real server left added\n%s", r)
	}
	d.must(0, "plan", "--detailed-exitcode", "-f", fixed)
	diff(t, "ipvsadm -S -n after the fixed apply", `-A -t 10.0.0.2:80 -s wlc
-a -t 10.0.0.2:80 -r 192.168.10.100:80 -m -w 1
-A -t 10.0.0.3:25 -s wlc
-a -t 10.0.0.3:25 -r 192.168.10.101:25 -m -w 1
-A -u 10.0.0.2:53 -s wlc
-a -u 10.0.0.2:53 -r 192.168.10.100:53 -m -w 1
`, d.ipvsadm("-S", "-n"))
}

// TestKernelFakeBatchesAlike runs one plan through apply.Run on the real
// kernel and on applytest's batching kernel: more operations than one
// batch, one of them refused in the first. Both must report every
// operation alike (the rest of the first batch done, the second batch not
// attempted) and end with the same table: the testscripts' one
// expectation for both kernels rests on it.
func TestKernelFakeBatchesAlike(t *testing.T) {
	ipvstest.Require(t)
	ns := ipvstest.NewNetns(t)
	a := lvs.AddrKey(lvs.TCP, netip.MustParseAddrPort("10.0.0.2:80"))
	b := lvs.AddrKey(lvs.TCP, netip.MustParseAddrPort("10.0.0.3:80"))
	desired := &lvs.Table{Services: []lvs.Service{
		{Key: a, Opts: lvs.ServiceOpts{Scheduler: "wlc"}, Dests: []lvs.Dest{
			{Addr: netip.MustParseAddrPort("192.168.10.100:80"), Opts: lvs.DestOpts{Weight: 1}},
			{Addr: netip.MustParseAddrPort("239.1.1.1:80"), Opts: lvs.DestOpts{Weight: 1}},
		}},
		{Key: b, Opts: lvs.ServiceOpts{Scheduler: "rr"}},
	}}
	for i := range 300 {
		desired.Services[1].Dests = append(desired.Services[1].Dests, lvs.Dest{
			Addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 168, byte(20 + i/200), byte(1 + i%200)}), 80), Opts: lvs.DestOpts{Weight: 1}})
	}
	desired.Normalize()
	p := plan.Diff(&lvs.Table{}, desired, plan.Options{})
	if len(p.Ops) <= 256 {
		t.Fatalf("the plan has %d operations: not more than one batch", len(p.Ops))
	}

	h, err := kernel.Open(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	fake := applytest.New().Batching()
	type outcome struct {
		statuses []string
		table    []string
	}
	run := func(k apply.Kernel) outcome {
		rep, err := apply.Run(context.Background(), k, p, apply.RunOptions{})
		if !errors.Is(err, syscall.EINVAL) {
			t.Errorf("apply.Run: %v, want the kernel's EINVAL", err)
		}
		var o outcome
		for _, r := range rep.Ops {
			o.statuses = append(o.statuses, fmt.Sprintf("%s %s %s: %s", r.Op.Action, r.Op.Service, r.Op.ToDest.Addr, r.Status))
		}
		tb, err := k.Table()
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range tb.Services {
			o.table = append(o.table, fmt.Sprintf("%s %s", s.Key, s.Opts.Scheduler))
			for _, d := range s.Dests {
				o.table = append(o.table, fmt.Sprintf("  %s %s %d", d.Addr, d.Opts.Forward, d.Opts.Weight))
			}
		}
		return o
	}
	real, fk := run(h), run(fake)
	if d := cmp.Diff(real.statuses, fk.statuses); d != "" {
		t.Errorf("reports differ (-real +fake):\n%s", d)
	}
	if d := cmp.Diff(real.table, fk.table); d != "" {
		t.Errorf("tables differ (-real +fake):\n%s", d)
	}
	// And what they agree on is the batch semantics.
	var done, failed, notAttempted int
	for _, s := range real.statuses {
		switch {
		case strings.HasSuffix(s, ": done"):
			done++
		case strings.HasSuffix(s, ": failed"):
			failed++
		case strings.HasSuffix(s, ": not attempted"):
			notAttempted++
		}
	}
	if done != 255 || failed != 1 || notAttempted != len(p.Ops)-256 {
		t.Errorf("%d done, %d failed, %d not attempted; want 255, 1 and %d: the first batch runs to its end, the second is not sent", done, failed, notAttempted, len(p.Ops)-256)
	}
}

// bigConfig is n services on 10.NET.0.x:80, two real servers each.
func bigConfig(net, n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "virtual_server \"s%d\" {\n  address = \"10.%d.0.%d:80\"\n", i, net, i)
		fmt.Fprintf(&b, "  real_server \"a\" {\n    address = \"192.168.%d.%d:80\"\n  }\n", net, i)
		fmt.Fprintf(&b, "  real_server \"b\" {\n    address = \"192.168.%d.%d:8080\"\n  }\n}\n", net, i)
	}
	return b.String()
}

var resources = regexp.MustCompile(`Resources: (\d+) added, (\d+) changed, (\d+) destroyed`)

// lvsctlProcess starts this test binary as the lvsctl command (see
// TestMain) on the director's namespace.
func (d *director) lvsctlProcess(args ...string) (*exec.Cmd, *bytes.Buffer) {
	d.t.Helper()
	exe, err := exec.LookPath("lvsctl")
	if err != nil {
		d.t.Fatalf("the lvsctl command of this test binary is not in PATH: %v", err)
	}
	c := exec.Command(exe, args...)
	c.Env = append(os.Environ(), netnsVar+"="+d.ns, "LVSCTL_TEST_STATEDIR="+d.stateDir, "LVSCTL_CONFIG=")
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	if err := c.Start(); err != nil {
		d.t.Fatal(err)
	}
	return c, &out
}

func exitCode(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func testConcurrentApplies(t *testing.T) {
	d := newDirector(t)
	dir := t.TempDir()
	const n = 60 // services per configuration: 180 kernel objects
	a, b := filepath.Join(dir, "a.hcl"), filepath.Join(dir, "b.hcl")
	writeFile(t, a, bigConfig(1, n))
	writeFile(t, b, bigConfig(2, n))

	// While another apply holds the lock, an apply is refused at once
	// and changes nothing...
	// lvsctl takes the lock of its own namespace: no --netns (the test
	// hook opens the table in d.ns).
	ns, err := rundir.Netns("")
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := apply.Lock(rundir.Dir{Path: d.stateDir}.LockPath(ns), 0, "TestKernelFaults")
	if err != nil {
		t.Fatal(err)
	}
	c, out := d.lvsctlProcess("apply", "--auto-approve", "-f", a)
	if code := exitCode(c.Wait()); code != 1 || !strings.Contains(out.String(), "another lvsctl apply holds the lock") {
		t.Errorf("apply while the lock is held: want exit status 1 naming the holder, got %d:\n%s", code, out)
	}
	// ... or, with --lock-timeout, waits for it.
	c, out = d.lvsctlProcess("apply", "--auto-approve", "--lock-timeout", "1m", "-f", a)
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	select {
	case err := <-done:
		t.Fatalf("apply --lock-timeout 1m did not wait for the held lock: %v\n%s", err, out)
	case <-time.After(2 * time.Second):
	}
	if dump := d.ipvsadm("-S", "-n"); dump != "" {
		t.Fatalf("the table changed while the lock was held:\n%s", dump)
	}
	unlock()
	if err := <-done; err != nil {
		t.Fatalf("apply --lock-timeout after the lock was released: %v\n%s", err, out)
	}
	d.must(0, "plan", "--detailed-exitcode", "-f", a)

	// Two applies racing: each plans and applies under the lock, so the
	// second always sees the first's complete table (it replaces all of
	// it, or has nothing to do) and the result is one configuration.
	for round := 1; round <= 3; round++ {
		ca, outA := d.lvsctlProcess("apply", "--auto-approve", "--lock-timeout", "2m", "-f", a)
		cb, outB := d.lvsctlProcess("apply", "--auto-approve", "--lock-timeout", "2m", "-f", b)
		errA, errB := ca.Wait(), cb.Wait()
		for _, p := range []struct {
			name string
			err  error
			out  *bytes.Buffer
		}{{"a", errA, outA}, {"b", errB, outB}} {
			if p.err != nil {
				t.Fatalf("round %d: apply %s: %v\n%s", round, p.name, p.err, p.out)
			}
			if strings.Contains(p.out.String(), "No changes.") {
				continue
			}
			m := resources.FindStringSubmatch(p.out.String())
			if m == nil || m[1] != "180" || m[2] != "0" || m[3] != "180" {
				t.Errorf("round %d: apply %s did not replace one whole table with the other (want 180 added, 180 destroyed):\n%s", round, p.name, p.out)
			}
		}
		planA := d.lvsctl("plan", "--detailed-exitcode", "-f", a).code
		planB := d.lvsctl("plan", "--detailed-exitcode", "-f", b).code
		if planA+planB != 2 || planA*planB != 0 {
			t.Fatalf("round %d: the table is neither configuration (plan exit status %d for a, %d for b):\n%s", round, planA, planB, d.ipvsadm("-S", "-n"))
		}
	}
}
