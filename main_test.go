package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/lvsctl/lvsctl/internal/apply"
	"github.com/lvsctl/lvsctl/internal/apply/applytest"
	"github.com/lvsctl/lvsctl/internal/cmd"
	"github.com/lvsctl/lvsctl/internal/ipvstest"
	"github.com/lvsctl/lvsctl/internal/lab"
	"github.com/lvsctl/lvsctl/internal/netns"
	"github.com/lvsctl/lvsctl/internal/rundir"
	"github.com/lvsctl/lvsctl/internal/sysctl"
	"github.com/lvsctl/lvsctl/kernel"
	"github.com/lvsctl/lvsctl/lvs"
)

var update = flag.Bool("update", false, "rewrite the cmp golden sections of the testscripts")

// fakeKernelVar names the JSON file that holds the in-memory kernel's table
// between the processes of one script. It is a test hook of this test
// binary only: the lvsctl binary has no way to select a fake kernel.
const fakeKernelVar = "LVSCTL_TEST_KERNEL"

// netnsVar names the network namespace whose real IPVS table the lvsctl
// command of this test binary works on (TestKernelScripts sets it, one
// fresh namespace per script). Unset, the command uses the fake kernel.
// Like fakeKernelVar it exists only in this test binary.
const netnsVar = "LVSCTL_TEST_NETNS"

func TestMain(m *testing.M) {
	// lab.Wrap runs the TestKernel... tests in the QEMU lab when this
	// machine's kernel has no IPVS.
	testscript.Main(lab.Wrap(m), map[string]func(){
		"lvsctl": func() {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			code := cmd.Main(ctx, os.Args, cmd.Env{
				Stdin:      os.Stdin,
				Stdout:     os.Stdout,
				Stderr:     os.Stderr,
				OpenKernel: openTestKernel,
				StateDir:   os.Getenv("LVSCTL_TEST_STATEDIR"),
				Services:   os.Getenv("LVSCTL_TEST_SERVICES"),
				LookupHost: testHosts(os.Getenv("LVSCTL_TEST_HOSTS")),
			})
			stop()
			if path := os.Getenv(statusVar); path != "" {
				// For a script that runs lvsctl in the background, whose
				// exit status "wait" does not show.
				if err := os.WriteFile(path, []byte(strconv.Itoa(code)+"\n"), 0o600); err != nil {
					fmt.Fprintf(os.Stderr, "lvsctl test hook: %v\n", err)
				}
			}
			os.Exit(code)
		},
	})
}

// testHosts resolves host names from the hosts file at path ("ADDRESS
// NAME..." lines), so that a script's names resolve alike on every
// machine; "" leaves the system's resolver.
func testHosts(path string) func(context.Context, string) (netip.Addr, error) {
	if path == "" {
		return nil
	}
	return func(_ context.Context, name string) (netip.Addr, error) {
		src, err := os.ReadFile(path)
		if err != nil {
			return netip.Addr{}, err
		}
		for _, line := range strings.Split(string(src), "\n") {
			f := strings.Fields(line)
			if len(f) >= 2 && slices.Contains(f[1:], name) {
				if a, err := netip.ParseAddr(f[0]); err == nil && a.Is4() {
					return a, nil
				}
			}
		}
		return netip.Addr{}, fmt.Errorf("lookup %s: no such host", name)
	}
}

// callsVar names the file in which the lvsctl command of this test binary
// notes each operation it sends to the real kernel, one line each, so that
// kernel-calls can count them as it counts the fake kernel's calls.
const callsVar = "LVSCTL_TEST_CALLS"

// pauseVar names a file that the lvsctl command of this test binary
// creates after each batch of operations the kernel (real or fake) has
// done, and then waits until it is removed: a script can interrupt or race
// an apply at that point, as it would a long one, on either kernel.
const pauseVar = "LVSCTL_TEST_PAUSE"

// statusVar names a file in which the lvsctl command of this test binary
// writes its exit status, for a script that runs it in the background.
const statusVar = "LVSCTL_TEST_STATUS"

// openTestKernel opens the script's network namespace on the real kernel
// when netnsVar is set (an explicit --netns still wins), and the fake
// kernel's file otherwise. Both batch, as the production handle does.
func openTestKernel(netns string) (apply.Kernel, error) {
	if ns := os.Getenv(netnsVar); ns != "" {
		if netns == "" {
			netns = ns
		}
		k, err := kernel.Open(netns)
		if err != nil {
			return nil, err // not a typed nil inside a non-nil interface
		}
		return &realScriptKernel{IPVS: k, calls: os.Getenv(callsVar), pause: os.Getenv(pauseVar)}, nil
	}
	k, err := applytest.OpenFile(os.Getenv(fakeKernelVar))
	if err != nil {
		return nil, err
	}
	return &fakeScriptKernel{BatchFileKernel: k.Batching(), pause: os.Getenv(pauseVar)}, nil
}

// fakeScriptKernel is the fake kernel as scripts' lvsctl sees it: batching,
// and pausing after each batch when pauseVar asks.
type fakeScriptKernel struct {
	*applytest.BatchFileKernel
	pause string
}

var _ apply.Batcher = (*fakeScriptKernel)(nil)

func (k *fakeScriptKernel) Batch(cs []kernel.Change) []error {
	errs := k.BatchFileKernel.Batch(cs)
	pauseAt(k.pause)
	return errs
}

// realScriptKernel is the real kernel as scripts' lvsctl sees it: the
// production handle, with each operation that reaches the kernel noted in
// the calls file, and pausing after each batch when pauseVar asks. Its other
// methods (Close, the sync daemon) are the handle's.
type realScriptKernel struct {
	*kernel.IPVS
	calls string
	pause string
}

var _ apply.Batcher = (*realScriptKernel)(nil)

// note appends one line per kernel operation to the calls file.
func (k *realScriptKernel) note(lines ...string) {
	if k.calls == "" || len(lines) == 0 {
		return
	}
	f, err := os.OpenFile(k.calls, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err == nil {
		_, err = f.WriteString(strings.Join(lines, "\n") + "\n")
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		// The count would be wrong: say so where the script shows it.
		fmt.Fprintf(os.Stderr, "lvsctl test hook: noting kernel calls in %s: %v\n", k.calls, err)
	}
}

// Batch is the path apply takes (the handle is an apply.Batcher). Every
// change the handle sent is one kernel command and is noted, failed ones
// included; those it never sent (apply.ErrNotRun, or refused by
// Change.Check) and those that need no kernel call are not.
func (k *realScriptKernel) Batch(cs []kernel.Change) []error {
	errs := k.IPVS.Batch(cs)
	var lines []string
	for i, c := range cs {
		if errs != nil && errors.Is(errs[i], apply.ErrNotRun) || c.Check() != nil {
			continue
		}
		if c.Kind == kernel.SetTimeouts && c.Timeouts == (lvs.Timeouts{}) {
			continue
		}
		lines = append(lines, c.String())
	}
	k.note(lines...)
	pauseAt(k.pause)
	return errs
}

func (k *realScriptKernel) AddService(s lvs.Service) error {
	k.note("AddService " + s.Key.String())
	return k.IPVS.AddService(s)
}

func (k *realScriptKernel) EditService(s lvs.Service) error {
	k.note("EditService " + s.Key.String())
	return k.IPVS.EditService(s)
}

func (k *realScriptKernel) DeleteService(key lvs.ServiceKey) error {
	k.note("DeleteService " + key.String())
	return k.IPVS.DeleteService(key)
}

func (k *realScriptKernel) AddDest(key lvs.ServiceKey, d lvs.Dest) error {
	k.note("AddDest " + key.String())
	return k.IPVS.AddDest(key, d)
}

func (k *realScriptKernel) EditDest(key lvs.ServiceKey, d lvs.Dest) error {
	k.note("EditDest " + key.String())
	return k.IPVS.EditDest(key, d)
}

func (k *realScriptKernel) DeleteDest(key lvs.ServiceKey, addr netip.AddrPort) error {
	k.note("DeleteDest " + key.String())
	return k.IPVS.DeleteDest(key, addr)
}

func (k *realScriptKernel) SetSysctl(name, value string) error {
	k.note("SetSysctl " + name)
	return k.IPVS.SetSysctl(name, value)
}

func (k *realScriptKernel) SetTimeouts(t lvs.Timeouts) error {
	if t != (lvs.Timeouts{}) {
		k.note("SetTimeouts")
	}
	return k.IPVS.SetTimeouts(t)
}

// pauseAt, when path is set, creates it and waits until a script removes
// it (two minutes at most, so that a broken script cannot hang an apply).
func pauseAt(path string) {
	if path == "" {
		return
	}
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		fmt.Fprintf(os.Stderr, "lvsctl test hook: pause: %v\n", err)
		return
	}
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return
		}
	}
	fmt.Fprintf(os.Stderr, "lvsctl test hook: %s was not removed within 2 minutes; going on\n", path)
}

// TestScripts runs testscripts/*.txtar against the in-memory fake kernel.
func TestScripts(t *testing.T) {
	testscript.Run(t, scriptParams(false))
}

// TestKernelScripts runs the same scripts against the real kernel, each in
// a network namespace of its own.
func TestKernelScripts(t *testing.T) {
	ipvstest.Require(t)
	testscript.Run(t, scriptParams(true))
}

// scriptParams returns the testscript parameters for the fake kernel or,
// with real, for the real one. A script states one expectation for both;
// the [fake] and [kernel] conditions are for what only one of them can
// show (ipvsadm, the witness on the real kernel).
func scriptParams(real bool) testscript.Params {
	return testscript.Params{
		Dir:                 "testscripts",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       *update && !real,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"kernel-conns":  kernelConns,
			"kernel-calls":  kernelCalls,
			"kernel-sysctl": kernelSysctl,
			"ipvsadm-ns":    ipvsadmNetns,
			"sleep":         sleep,
			"await":         await,
			"await-save":    awaitSave,
			"await-exit":    awaitExit,
			"status":        status,
			"netns-fresh":   netnsFresh,
		},
		Condition: func(cond string) (bool, error) {
			switch {
			case cond == "fake":
				return !real, nil
			case cond == "kernel":
				return real, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Setup: func(e *testscript.Env) error {
			// The script's directory is lvsctl's state directory, which
			// must not be writable by others; $HEALTH is where check
			// publishes the health of the script's namespace, $LOCK its
			// apply lock.
			if err := os.Chmod(e.WorkDir, 0o700); err != nil {
				return err
			}
			e.Setenv("LVSCTL_TEST_STATEDIR", e.WorkDir)
			id, err := rundir.Netns("")
			if err != nil {
				return err
			}
			e.Setenv("HEALTH", rundir.Dir{Path: e.WorkDir}.HealthPath(id))
			e.Setenv("LOCK", rundir.Dir{Path: e.WorkDir}.LockPath(id))
			e.Setenv("LVSCTL_CONFIG", e.WorkDir+"/lvsctl.hcl")
			if !real {
				e.Setenv(fakeKernelVar, e.WorkDir+"/kernel.json")
				return startForwarding(func(name string) error {
					k, err := applytest.OpenFile(e.WorkDir + "/kernel.json")
					if err != nil {
						return err
					}
					return k.SeedSysctl(name, "1")
				})
			}
			e.Setenv(callsVar, e.WorkDir+"/.kernel-calls")
			ns, err := newScriptNetns()
			if err != nil {
				return err
			}
			e.Defer(func() {
				if out, err := exec.Command(ipCommand(), "netns", "delete", ns).CombinedOutput(); err != nil {
					e.T().Log(fmt.Sprintf("ip netns delete %s: %v: %s", ns, err, out))
				}
			})
			e.Setenv(netnsVar, ns)
			return startForwarding(func(name string) error {
				return netns.Do("/run/netns/"+ns, func() error { return sysctl.Write(lvs.SysctlPath(name), "1") })
			})
		},
	}
}

// startForwarding turns forwarding on, with set, in the kernel a script
// starts with, fake or real: the scripts' director is one whose admin has
// set net.ipv4.ip_forward and net.ipv6.conf.all.forwarding, as every
// LVS-NAT guide does, so that their plans show the table alone.
// sysctl.txtar turns them off to show lvsctl planning them.
func startForwarding(set func(name string) error) error {
	for _, name := range []string{lvs.SysctlIPv4Forward, lvs.SysctlIPv6Forward} {
		if err := set(name); err != nil {
			return fmt.Errorf("turning %s on for the script: %w", name, err)
		}
	}
	return nil
}

var scriptNetnsSeq atomic.Int64

// newScriptNetns creates a network namespace with its loopback up (IPVS
// refuses IPv4 real servers in a namespace without any address).
func newScriptNetns() (string, error) {
	ip := ipCommand()
	ns := fmt.Sprintf("lvsctl-script-%d-%d", os.Getpid(), scriptNetnsSeq.Add(1))
	if out, err := exec.Command(ip, "netns", "add", ns).CombinedOutput(); err != nil {
		return "", fmt.Errorf("ip netns add %s: %v: %s", ns, err, out)
	}
	if out, err := exec.Command(ip, "-n", ns, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		exec.Command(ip, "netns", "delete", ns).Run()
		return "", fmt.Errorf("ip -n %s link set lo up: %v: %s", ns, err, out)
	}
	return ns, nil
}

// netnsFresh creates a network namespace as "ip netns add" leaves it, its
// loopback down, and sets VAR to its name; it is deleted when the script
// ends: netns-fresh VAR. Real kernel only.
func netnsFresh(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: netns-fresh VAR")
	}
	if ts.Getenv(netnsVar) == "" {
		ts.Fatalf("netns-fresh works on the real kernel only: guard the line with [kernel]")
	}
	ns := fmt.Sprintf("lvsctl-fresh-%d-%d", os.Getpid(), scriptNetnsSeq.Add(1))
	if out, err := exec.Command(ipCommand(), "netns", "add", ns).CombinedOutput(); err != nil {
		ts.Fatalf("ip netns add %s: %v: %s", ns, err, out)
	}
	ts.Defer(func() { exec.Command(ipCommand(), "netns", "delete", ns).Run() })
	ts.Setenv(args[0], ns)
}

// ipCommand returns iproute2's ip: busybox's has no "netns".
func ipCommand() string {
	for _, p := range []string{"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"} {
		if real, err := filepath.EvalSymlinks(p); err == nil && filepath.Base(real) != "busybox" {
			return p
		}
	}
	return "ip"
}

// kernelConns gives a real server connections: kernel-conns PROTO
// VIP:PORT RIP:PORT ACTIVE INACTIVE. On the fake kernel it sets the
// counters, as traffic would. On the real one it makes the traffic (see
// realConns): ACTIVE connections through the VIP held open on RIP (for UDP,
// at least ACTIVE flows); INACTIVE must be 0 there, as the kernel keeps a
// connection inactive only until its state times out.
func kernelConns(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 5 {
		ts.Fatalf("usage: kernel-conns PROTO VIP:PORT RIP:PORT ACTIVE INACTIVE")
	}
	proto, err := lvs.ParseProtocol(args[0])
	ts.Check(err)
	vip, err := netip.ParseAddrPort(args[1])
	ts.Check(err)
	rip, err := netip.ParseAddrPort(args[2])
	ts.Check(err)
	active, err := strconv.ParseUint(args[3], 10, 32)
	ts.Check(err)
	inact, err := strconv.ParseUint(args[4], 10, 32)
	ts.Check(err)
	if ts.Getenv(netnsVar) != "" {
		if inact != 0 {
			ts.Fatalf("kernel-conns: inactive connections cannot be held on the real kernel: give 0")
		}
		realConns(ts, proto, vip, rip, int(active))
		return
	}
	k, err := applytest.OpenFile(ts.Getenv(fakeKernelVar))
	ts.Check(err)
	ts.Check(k.SetConns(lvs.AddrKey(proto, vip), rip, uint32(active), uint32(inact)))
}

// kernelCalls prints how many operations lvsctl has sent to the kernel in
// this script: the fake kernel's count of mutating calls, or on the real
// kernel the lines the test hook noted for each command the handle sent
// (see realScriptKernel). Refused operations count; unsent ones do not.
func kernelCalls(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: kernel-calls")
	}
	if ts.Getenv(netnsVar) != "" {
		n := 0
		data, err := os.ReadFile(ts.Getenv(callsVar))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			ts.Fatalf("%v", err)
		}
		if len(data) > 0 {
			n = strings.Count(string(data), "\n")
		}
		fmt.Fprintf(ts.Stdout(), "%d\n", n)
		return
	}
	k, err := applytest.OpenFile(ts.Getenv(fakeKernelVar))
	ts.Check(err)
	kk, err := k.Kernel()
	ts.Check(err)
	fmt.Fprintf(ts.Stdout(), "%d\n", kk.Ops())
}

// kernelSysctl prints the value of a kernel setting of the kernel under
// test, or sets it first: kernel-sysctl NAME [VALUE], NAME as sysctl(8)
// names it. On the real kernel it reads and writes /proc/sys in the
// script's namespace, the witness of what lvsctl did; VALUE "absent"
// removes the setting from the fake kernel, as if ip_vs were not loaded.
func kernelSysctl(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: kernel-sysctl NAME [VALUE]")
	}
	name := args[0]
	if ns := ts.Getenv(netnsVar); ns != "" {
		path := "/run/netns/" + ns
		if len(args) == 2 {
			if args[1] == "absent" {
				ts.Fatalf("kernel-sysctl: a setting cannot be removed from the real kernel: guard the line with [fake]")
			}
			ts.Check(netns.Do(path, func() error { return sysctl.Write(lvs.SysctlPath(name), args[1]) }))
		}
		var v string
		ts.Check(netns.Do(path, func() (err error) { v, err = sysctl.Read(lvs.SysctlPath(name)); return err }))
		fmt.Fprintln(ts.Stdout(), v)
		return
	}
	k, err := applytest.OpenFile(ts.Getenv(fakeKernelVar))
	ts.Check(err)
	if len(args) == 2 {
		v := args[1]
		if v == "absent" {
			v = ""
		}
		ts.Check(k.SeedSysctl(name, v))
	}
	if v, err := k.Sysctl(name); err != nil {
		fmt.Fprintln(ts.Stdout(), "absent")
	} else {
		fmt.Fprintln(ts.Stdout(), v)
	}
}

// ipvsadmNetns runs ipvsadm ARGS... inside the script's network namespace
// on the real kernel, as the witness of what lvsctl did:
// ipvsadm-ns ARGS...
func ipvsadmNetns(ts *testscript.TestScript, neg bool, args []string) {
	ns := ts.Getenv(netnsVar)
	if ns == "" {
		ts.Fatalf("ipvsadm-ns works on the real kernel only: guard the line with [kernel]")
	}
	c := exec.Command(ipCommand(), append([]string{"netns", "exec", ns, "ipvsadm"}, args...)...)
	c.Stdout, c.Stderr = ts.Stdout(), ts.Stderr()
	err := c.Run()
	switch {
	case err != nil && !neg:
		ts.Fatalf("ipvsadm %s: %v", strings.Join(args, " "), err)
	case err == nil && neg:
		ts.Fatalf("ipvsadm %s unexpectedly succeeded", strings.Join(args, " "))
	}
}

// sleep waits, for scripts that race a background apply.
func sleep(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: sleep DURATION")
	}
	d, err := time.ParseDuration(args[0])
	ts.Check(err)
	time.Sleep(d)
}

// await waits until FILE exists and, with REGEXP, until its contents
// match it (a minute at most): await FILE [REGEXP].
func await(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: await FILE [REGEXP]")
	}
	var re *regexp.Regexp
	if len(args) == 2 {
		var err error
		re, err = regexp.Compile(args[1])
		ts.Check(err)
	}
	path := ts.MkAbs(args[0])
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		data, err := os.ReadFile(path)
		if err == nil && (re == nil || re.Match(data)) {
			return
		}
		if time.Now().After(deadline) {
			if re != nil {
				ts.Fatalf("%s did not match %s within a minute", args[0], re)
			}
			ts.Fatalf("%s did not appear within a minute", args[0])
		}
	}
}

// awaitSave waits until what lvsctl save prints (the table of the
// kernel under test, fake or real, or of network namespace NS) matches
// REGEXP, a minute at most: await-save [--netns NS] REGEXP. It leaves the
// last save in stdout.
func awaitSave(ts *testscript.TestScript, neg bool, args []string) {
	save := []string{"save"}
	if len(args) == 3 && args[0] == "--netns" {
		save = append(save, args[:2]...)
		args = args[2:]
	}
	if neg || len(args) != 1 {
		ts.Fatalf("usage: await-save [--netns NS] REGEXP")
	}
	re, err := regexp.Compile(args[0])
	ts.Check(err)
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		if ts.Exec("lvsctl", save...) == nil && re.MatchString(ts.ReadFile("stdout")) {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("lvsctl save did not match %s within a minute:\n%s", re, ts.ReadFile("stdout"))
		}
	}
}

// awaitExit fails unless every background command has exited within
// DURATION: await-exit DURATION. It does not reap them: wait still
// collects their output and status.
func awaitExit(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: await-exit DURATION")
	}
	d, err := time.ParseDuration(args[0])
	ts.Check(err)
	deadline := time.Now().Add(d)
	for _, c := range ts.BackgroundCmds() {
		for !exited(c.Process.Pid) {
			if time.Now().After(deadline) {
				ts.Fatalf("%s is still running after %s", strings.Join(c.Args, " "), d)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// exited reports whether process pid, a child not yet waited for, has
// exited: it is a zombie, or gone.
func exited(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// The state follows the command name, which is in parentheses.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] == 'Z' || s[i+2] == 'X'
}

// status runs PROG ARGS... as exec does, and fails unless it exits with
// status N: status N PROG ARGS... Its output is there for stdout and
// stderr to check, as after exec.
func status(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: status N PROG ARGS...")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("%s: %v", args[1], err)
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", strings.Join(args[1:], " "), got, want)
	}
}
