package main

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/lvsctl/lvsctl/apply"
	"github.com/lvsctl/lvsctl/apply/applytest"
	"github.com/lvsctl/lvsctl/cmd"
	"github.com/lvsctl/lvsctl/internal/ipvstest"
	"github.com/lvsctl/lvsctl/kernel"
	"github.com/lvsctl/lvsctl/lab"
	"github.com/lvsctl/lvsctl/lvs"
	"github.com/lvsctl/lvsctl/rundir"
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
			})
			stop()
			os.Exit(code)
		},
	})
}

// openTestKernel opens the script's network namespace on the real kernel
// when netnsVar is set (an explicit --netns still wins), and the fake
// kernel's file otherwise.
func openTestKernel(netns string) (apply.Kernel, error) {
	if ns := os.Getenv(netnsVar); ns != "" {
		if netns == "" {
			netns = ns
		}
		k, err := kernel.Open(netns)
		if err != nil {
			return nil, err // not a typed nil inside a non-nil interface
		}
		return k, nil
	}
	k, err := applytest.OpenFile(os.Getenv(fakeKernelVar))
	if err != nil {
		return nil, err
	}
	return k, nil
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
// with real, for the real one. Scripts tell them apart with the [fake] and
// [kernel] conditions, and [sched:NAME] says whether the kernel under test
// has scheduler NAME.
func scriptParams(real bool) testscript.Params {
	return testscript.Params{
		Dir:                 "testscripts",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       *update && !real,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"kernel-conns": kernelConns,
			"kernel-calls": kernelCalls,
			"ipvsadm-ns":   ipvsadmNetns,
			"sleep":        sleep,
		},
		Condition: func(cond string) (bool, error) {
			switch {
			case cond == "fake":
				return !real, nil
			case cond == "kernel":
				return real, nil
			case strings.HasPrefix(cond, "sched:"):
				name := strings.TrimPrefix(cond, "sched:")
				if !real {
					return true, nil // the fake has every scheduler unless told otherwise
				}
				return kernelHasScheduler(name), nil
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
				return nil
			}
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
			return nil
		},
	}
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

// ipCommand returns iproute2's ip: busybox's has no "netns".
func ipCommand() string {
	for _, p := range []string{"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"} {
		if real, err := filepath.EvalSymlinks(p); err == nil && filepath.Base(real) != "busybox" {
			return p
		}
	}
	return "ip"
}

// kernelHasScheduler says whether the running kernel has IPVS scheduler
// name: built in or loaded (under /sys/module), or as a module it could
// load (in modules.dep).
func kernelHasScheduler(name string) bool {
	mod := "ip_vs_" + name
	if _, err := os.Stat("/sys/module/" + mod); err == nil {
		return true
	}
	var uts syscall.Utsname
	if err := syscall.Uname(&uts); err != nil {
		return false
	}
	var rel []byte
	for _, c := range uts.Release {
		if c == 0 {
			break
		}
		rel = append(rel, byte(c))
	}
	dep, err := os.ReadFile(filepath.Join("/lib/modules", string(rel), "modules.dep"))
	if err != nil {
		return false
	}
	return strings.Contains(string(dep), "/"+mod+".ko")
}

// fakeOnly fails a script that runs a fake-kernel command on the real one.
func fakeOnly(ts *testscript.TestScript, name string) {
	if ts.Getenv(netnsVar) != "" {
		ts.Fatalf("%s works on the fake kernel only: guard the line with [fake]", name)
	}
}

// kernelConns sets a real server's connection counters in the fake kernel,
// as traffic would: kernel-conns PROTO VIP:PORT RIP:PORT ACTIVE INACTIVE.
func kernelConns(ts *testscript.TestScript, neg bool, args []string) {
	fakeOnly(ts, "kernel-conns")
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
	k, err := applytest.OpenFile(ts.Getenv(fakeKernelVar))
	ts.Check(err)
	ts.Check(k.SetConns(lvs.AddrKey(proto, vip), rip, uint32(active), uint32(inact)))
}

// kernelCalls prints how many mutating calls the fake kernel has seen.
func kernelCalls(ts *testscript.TestScript, neg bool, args []string) {
	fakeOnly(ts, "kernel-calls")
	k, err := applytest.OpenFile(ts.Getenv(fakeKernelVar))
	ts.Check(err)
	kk, err := k.Kernel()
	ts.Check(err)
	fmt.Fprintf(ts.Stdout(), "%d\n", kk.Ops())
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
