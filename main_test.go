package main

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/lvsctl/lvsctl/apply"
	"github.com/lvsctl/lvsctl/apply/applytest"
	"github.com/lvsctl/lvsctl/cmd"
	"github.com/lvsctl/lvsctl/lvs"
)

var update = flag.Bool("update", false, "rewrite the cmp golden sections of the testscripts")

// fakeKernelVar names the JSON file that holds the in-memory kernel's table
// between the processes of one script. It is a test hook of this test
// binary only: the lvsctl binary has no way to select a fake kernel.
const fakeKernelVar = "LVSCTL_TEST_KERNEL"

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"lvsctl": func() {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			code := cmd.Main(ctx, os.Args, cmd.Env{
				Stdin:  os.Stdin,
				Stdout: os.Stdout,
				Stderr: os.Stderr,
				OpenKernel: func(netns string) (apply.Kernel, error) {
					k, err := applytest.OpenFile(os.Getenv(fakeKernelVar))
					if err != nil {
						return nil, err
					}
					return k, nil
				},
				LockDir: os.Getenv("LVSCTL_TEST_LOCKDIR"),
			})
			stop()
			os.Exit(code)
		},
	})
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testscripts",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       *update,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"kernel-conns": kernelConns,
			"kernel-calls": kernelCalls,
			"sleep":        sleep,
		},
		Setup: func(e *testscript.Env) error {
			e.Setenv(fakeKernelVar, e.WorkDir+"/kernel.json")
			e.Setenv("LVSCTL_TEST_LOCKDIR", e.WorkDir)
			e.Setenv("LVSCTL_CONFIG", e.WorkDir+"/lvsctl.hcl")
			return nil
		},
	})
}

// kernelConns sets a real server's connection counters in the fake kernel,
// as traffic would: kernel-conns PROTO VIP:PORT RIP:PORT ACTIVE INACTIVE.
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
	k, err := applytest.OpenFile(ts.Getenv(fakeKernelVar))
	ts.Check(err)
	ts.Check(k.SetConns(lvs.AddrKey(proto, vip), rip, uint32(active), uint32(inact)))
}

// kernelCalls prints how many mutating calls the fake kernel has seen.
func kernelCalls(ts *testscript.TestScript, neg bool, args []string) {
	k, err := applytest.OpenFile(ts.Getenv(fakeKernelVar))
	ts.Check(err)
	kk, err := k.Kernel()
	ts.Check(err)
	fmt.Fprintf(ts.Stdout(), "%d\n", kk.Ops())
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
