package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/lvsctl/lvsctl/internal/apply"
	"github.com/lvsctl/lvsctl/internal/apply/applytest"
	"github.com/lvsctl/lvsctl/internal/plan"
	"github.com/lvsctl/lvsctl/lvs"
)

// Runs of Main share nothing: each builds its commands and their flags
// afresh and reads its own command line, never os.Args. Under -race, runs
// with different flags at the same time prove it; each must also see
// only its own values.
func TestMainConcurrentRunsShareNothing(t *testing.T) {
	const runs, rounds = 8, 3
	var wg sync.WaitGroup
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := range rounds {
				concurrentRun(t, i, round)
			}
		}()
	}
	wg.Wait()
}

// concurrentRun plans with --out, applies the saved plan and shows the
// table, every flag with values of run i's own, on a kernel of its own.
func concurrentRun(t *testing.T, i, round int) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "lvsctl.hcl")
	src := fmt.Sprintf("virtual_server \"web%d\" {\n  address = \"10.0.%d.1:80\"\n  real_server \"real%d\" {\n    address = \"192.168.%d.10:80\"\n  }\n}\n", i, i, i, i)
	if err := os.WriteFile(cfg, []byte(src), 0o600); err != nil {
		t.Error(err)
		return
	}
	netns := fmt.Sprintf("lvsctl-test-%d", i)
	stateDir := filepath.Join(dir, "state")
	drain := time.Duration(i+1) * time.Second
	planFile := filepath.Join(dir, "plan.json")
	k := &lockSpy{Kernel: applytest.New(), dir: stateDir}
	var opened sync.Map // the namespaces the run asked for
	run := func(args ...string) string {
		var out, errs bytes.Buffer
		code := Main(context.Background(), append([]string{"lvsctl"}, args...), Env{
			Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errs,
			StateDir: filepath.Join(dir, "default-state"),
			Getenv:   func(string) string { return "" },
			OpenKernel: func(ns string) (apply.Kernel, error) {
				opened.Store(ns, true)
				return k, nil
			},
		})
		if code != 0 {
			t.Errorf("run %d round %d: lvsctl %s: exit %d\n%s%s", i, round, strings.Join(args, " "), code, out.String(), errs.String())
		}
		return out.String()
	}

	out := run("plan", "-f", cfg, "--netns", netns, "--state-dir", stateDir, "--drain-timeout", drain.String(), "--out", planFile)
	if want := "lvsctl apply --netns " + netns + " " + planFile; !strings.Contains(out, want) {
		t.Errorf("run %d: plan's output does not say %q:\n%s", i, want, out)
	}
	f, err := plan.ReadFile(planFile)
	if err != nil {
		t.Error(err)
		return
	}
	if f.Netns != netns || f.DrainTimeout != drain || len(f.Desired.Services) != 1 ||
		f.Desired.Services[0].Key.Addr != netip.MustParseAddr(fmt.Sprintf("10.0.%d.1", i)) {
		t.Errorf("run %d: saved plan for %q, drain %s, services %v; want %q, %s, 10.0.%d.1:80",
			i, f.Netns, f.DrainTimeout, f.Desired.Services, netns, drain, i)
	}

	run("apply", "--netns", netns, "--state-dir", stateDir, planFile)
	// The apply lock names its holder by the command line of this run.
	if want := "lvsctl apply --netns " + netns + " --state-dir " + stateDir + " " + planFile; k.holder != want {
		t.Errorf("run %d: lock holder %q, want %q", i, k.holder, want)
	}

	out = run("show", "-f", cfg, "--netns", netns, "--state-dir", stateDir, "--json")
	for _, want := range []string{fmt.Sprintf(`"web%d"`, i), fmt.Sprintf(`"real%d"`, i), fmt.Sprintf("192.168.%d.10:80", i)} {
		if !strings.Contains(out, want) {
			t.Errorf("run %d: show --json has no %s:\n%s", i, want, out)
		}
	}
	opened.Range(func(ns, _ any) bool {
		if ns != netns {
			t.Errorf("run %d: a command opened the kernel of namespace %q, not %q", i, ns, netns)
		}
		return true
	})
}

// lockSpy notes the holder of the apply lock in dir, as the lock file
// names it while a service is added.
type lockSpy struct {
	*applytest.Kernel
	dir    string
	holder string
}

func (k *lockSpy) AddService(s lvs.Service) error {
	locks, _ := filepath.Glob(filepath.Join(k.dir, "*.lock"))
	if len(locks) == 1 {
		var h apply.LockHolder
		if data, err := os.ReadFile(locks[0]); err == nil && json.Unmarshal(data, &h) == nil {
			k.holder = h.Command
		}
	}
	return k.Kernel.AddService(s)
}

// Every run of Main makes its own flags, and no two commands of one run
// share one: urfave/cli writes into a flag as it parses (its value from
// the environment, whether it was set), so a shared flag would carry one
// run's state into the next.
func TestFlagsAreMadePerRun(t *testing.T) {
	owner := map[cli.Flag]string{}
	for run := range 2 {
		env := Env{inv: &invocation{}, Getenv: func(string) string { return "" }}
		app := newApp(env)
		var walk func(path string, flags []cli.Flag, cmds []*cli.Command)
		walk = func(path string, flags []cli.Flag, cmds []*cli.Command) {
			for _, f := range flags {
				where := fmt.Sprintf("run %d: %s --%s", run, path, f.Names()[0])
				if prev, ok := owner[f]; ok {
					t.Errorf("%s is the same flag as %s", where, prev)
				}
				owner[f] = where
			}
			for _, c := range cmds {
				walk(path+" "+c.Name, c.Flags, c.Subcommands)
			}
		}
		walk("lvsctl", app.Flags, app.Commands)
	}
	if len(owner) == 0 {
		t.Fatal("no flags found")
	}
}
