package cmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/lvsctl/lvsctl/internal/apply"
	"github.com/lvsctl/lvsctl/internal/plan"
	"github.com/lvsctl/lvsctl/kernel"
	"github.com/lvsctl/lvsctl/lvs"
)

func applyCommand(env Env) *cli.Command {
	return &cli.Command{
		Name:      "apply",
		Usage:     "change the live IPVS table to match the configuration, or run a saved plan",
		ArgsUsage: "[PLANFILE]",
		Description: "Without PLANFILE, apply plans like \"lvsctl plan\", shows the plan and asks for \"yes\"\n" +
			"(unless --auto-approve). It takes the apply lock only after the answer, and then applies the plan\n" +
			"it showed only if the IPVS table has not changed meanwhile. With PLANFILE (from lvsctl plan --out) it runs\n" +
			"exactly that plan without asking, and refuses it if the IPVS table changed since the plan was made,\n" +
			"if its operations are not exactly what its desired table needs, if a value fails validation, or if\n" +
			"the file is not a regular file owned by root or you with no access for group or others (mode 0600).\n" +
			"A configuration with no virtual servers that would delete every service needs --allow-empty.\n" +
			"Flags go before PLANFILE.",
		Flags: []cli.Flag{
			fileFlag(env),
			netnsFlag(),
			stateDirFlag(&env),
			&cli.BoolFlag{Name: "auto-approve", Usage: "do not ask for confirmation"},
			&cli.BoolFlag{Name: "allow-empty", Usage: "apply a configuration with no virtual servers, deleting every service lvsctl manages"},
			drainTimeoutFlag(),
			&cli.DurationFlag{Name: "lock-timeout", Value: 0, Usage: "wait up to `DURATION` for another apply on the same namespace to finish"},
		},
		Action: action(env, func(c *cli.Context) (work, error) {
			if c.NArg() > 1 {
				return nil, usageError{fmt.Sprintf("apply takes at most one PLANFILE (got %q); flags go before PLANFILE", c.Args().Slice())}
			}
			o := applyOptions{
				planFile: c.Args().First(), file: c.String("file"), netns: c.String("netns"),
				autoApprove: c.Bool("auto-approve"), allowEmpty: c.Bool("allow-empty"),
				drain: readDrain(c), lockTimeout: c.Duration("lock-timeout"),
			}
			if o.planFile != "" && fileGiven(c, env) {
				return nil, usageError{"give either -f FILE or a PLANFILE, not both"}
			}
			return func(ctx context.Context) error { return runApply(ctx, env, o) }, nil
		}),
	}
}

// applyOptions are apply's flags and PLANFILE.
type applyOptions struct {
	planFile    string // "": plan now
	file        string
	netns       string
	autoApprove bool
	allowEmpty  bool
	drain       drainOption
	lockTimeout time.Duration
}

func runApply(ctx context.Context, env Env, o applyOptions) (err error) {
	defer func() { err = withLoopbackHint(err, o.netns, lookLoopback) }()
	var f *plan.File
	if o.planFile != "" {
		if f, err = readPlanFile(o, o.planFile); err != nil {
			return err
		}
	}
	source := o.file
	if f != nil {
		source = f.Config
	}
	if err := checkOwner(env, o.netns, source); err != nil {
		return err
	}
	k, err := openKernel(env, o.netns)
	if err != nil {
		return err
	}
	defer closeKernel(k)

	info := commandLine(env)
	lock := func() (unlock func() error, err error) {
		return apply.Lock(lockPath(env, o.netns), o.lockTimeout, info)
	}

	switch {
	case f != nil:
		unlock, err := lock()
		if err != nil {
			return err
		}
		defer unlock()
		live, err := checkSaved(k, f, o.planFile)
		if err != nil {
			return err
		}
		if err := refuseEmptySaved(o, live, f); err != nil {
			return err
		}
		return applyFile(ctx, env, readOnce(k, live), f)

	case o.autoApprove:
		// Nobody to wait for: plan under the lock, so that the
		// plan is made against the table it is applied to.
		unlock, err := lock()
		if err != nil {
			return err
		}
		defer unlock()
		f, live, err := planNow(env, o, k)
		if err != nil {
			return err
		}
		if f.Plan.Empty() && len(f.Plan.Waiting) == 0 {
			return nil
		}
		if err := refuseEmpty(o, live, f.Desired); err != nil {
			return err
		}
		if f.DrainTimeout > 0 {
			return applyFile(ctx, env, k, f)
		}
		// Nothing can have changed the table since it was read: we
		// hold the lock and asked no question. Reading it again to
		// check the fingerprint would cost as much as the plan did.
		rep, err := apply.Run(ctx, k, f.Plan, apply.RunOptions{})
		fmt.Fprintln(env.Stdout)
		rep.Render(env.Stdout)
		return err

	default:
		// Never hold the lock while a person decides: a pulse
		// daemon taking over, or another apply, must be able to
		// change the table meanwhile. Plan and ask first, then
		// lock and apply the shown plan only if the table is
		// still the one it was made against.
		f, live, err := planNow(env, o, k)
		if err != nil {
			return err
		}
		if f.Plan.Empty() && len(f.Plan.Waiting) == 0 {
			return nil
		}
		if err := refuseEmpty(o, live, f.Desired); err != nil {
			return err
		}
		asked := !f.Plan.Empty()
		if asked {
			if err := confirm(env); err != nil {
				return err
			}
		}
		unlock, err := lock()
		if err != nil {
			return err
		}
		defer unlock()
		err = applyFile(ctx, env, k, f)
		if errors.Is(err, apply.ErrStale) {
			if asked {
				return errors.New("the IPVS table changed while you were deciding: nothing was applied; run apply again to see the new plan")
			}
			return errors.New("the IPVS table changed while the plan was made: nothing was applied; run apply again to see the new plan")
		}
		return err
	}
}

// readPlanFile reads a saved plan and checks that apply o may run it.
func readPlanFile(o applyOptions, path string) (*plan.File, error) {
	f, err := plan.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) && isConfig(path) {
		return nil, fmt.Errorf("%s is a configuration, not a saved plan: did you mean \"lvsctl apply -f %s\"?", path, path)
	}
	if err != nil {
		return nil, err
	}
	if f.Version != Version {
		return nil, fmt.Errorf("%s was made by lvsctl %s, and this is lvsctl %s: plans are not carried between versions; run lvsctl plan --out again", path, f.Version, Version)
	}
	if f.Netns != o.netns {
		return nil, fmt.Errorf("%s was planned for network namespace %s, not %s: pass the same --netns", path, nsName(f.Netns), nsName(o.netns))
	}
	if o.drain.set {
		return nil, usageError{"a saved plan carries its drain timeout; make a new plan with --drain-timeout instead"}
	}
	return f, nil
}

// applyFile runs f through [apply.ApplySaved], which refuses it with
// [apply.ErrStale] if the live table no longer has f's fingerprint, and
// prints the report.
func applyFile(ctx context.Context, env Env, k apply.Kernel, f *plan.File) error {
	rep, err := apply.ApplySaved(ctx, k, f, apply.ConvergeOptions{
		DrainTimeout: f.DrainTimeout,
		Progress: func(p plan.Plan) {
			if len(p.Waiting) > 0 {
				fmt.Fprintf(env.Stdout, "Draining: %s still ha%s connections.\n", plural(len(p.Waiting), "real server"), map[bool]string{true: "s", false: "ve"}[len(p.Waiting) == 1])
			}
		},
	})
	if rep != nil {
		fmt.Fprintln(env.Stdout)
		rep.Render(env.Stdout)
	}
	return err
}

// refuseEmpty refuses, unless --allow-empty, to converge live to a desired
// table that has no virtual servers when that deletes services.
func refuseEmpty(o applyOptions, live, desired *lvs.Table) error {
	if o.allowEmpty || !plan.DeletesEverything(live, desired) {
		return nil
	}
	return errors.New(emptyMessage(live, desired) + ". If that is what you want, pass --allow-empty")
}

// checkSaved reads the live table under the apply lock and refuses f,
// changing nothing, unless the table is the one f was planned against
// ([apply.ErrStale] otherwise) and f's operations are exactly those
// lvsctl computes from it to f's desired table ([plan.File.Check]). A
// saved plan may come from another user: [plan.ReadFile] has validated
// its desired table and the values of its operations already. It returns
// the table it read.
func checkSaved(k apply.Kernel, f *plan.File, path string) (*lvs.Table, error) {
	live, err := apply.ReadLive(k, f)
	if err != nil {
		return nil, err
	}
	if !f.Matches(live) {
		return nil, apply.ErrStale
	}
	if err := f.Check(live); err != nil {
		return nil, fmt.Errorf("%s: %w; nothing was changed", path, err)
	}
	return live, nil
}

// refuseEmptySaved is refuseEmpty for a saved plan, given the live table
// [checkSaved] read.
func refuseEmptySaved(o applyOptions, live *lvs.Table, f *plan.File) error {
	if o.allowEmpty || plan.ManagedServices(f.Desired, f.Desired.Ignore) > 0 {
		return nil
	}
	return refuseEmpty(o, live, f.Desired)
}

// readOnce returns k with a first Table call that returns live instead of
// reading the table again; it keeps k's batching.
func readOnce(k apply.Kernel, live *lvs.Table) apply.Kernel {
	r := &onceKernel{Kernel: k, live: live}
	if b, ok := k.(apply.Batcher); ok {
		return onceBatcher{r, b}
	}
	return r
}

type onceKernel struct {
	apply.Kernel
	live *lvs.Table
}

func (o *onceKernel) Table() (*lvs.Table, error) {
	if t := o.live; t != nil {
		o.live = nil
		return t, nil
	}
	return o.Kernel.Table()
}

type onceBatcher struct {
	*onceKernel
	b apply.Batcher
}

func (o onceBatcher) Batch(cs []kernel.Change) []error { return o.b.Batch(cs) }

// emptyMessage says what a desired table without virtual servers would do
// to live, for when [plan.DeletesEverything] is true.
func emptyMessage(live, desired *lvs.Table) string {
	n := plan.ManagedServices(live, desired.Ignore)
	what := fmt.Sprintf("all %d services", n)
	if n == 1 {
		what = "the only service"
	}
	msg := fmt.Sprintf("this configuration has no virtual servers: applying it would delete %s in the table", what)
	if kept := len(live.Services) - n; kept > 0 {
		msg += fmt.Sprintf(" (the ignore block keeps %s)", plural(kept, "other service"))
	}
	return msg
}

// planNow plans against the live table and prints the plan, the way plan
// does. It returns the live table it planned against as well.
func planNow(env Env, o applyOptions, k apply.Kernel) (*plan.File, *lvs.Table, error) {
	d, live, err := loadWithLive(env, o.file, k.Table, false)
	if err != nil {
		return nil, nil, err
	}
	if err := readSysctls(k, live, d.table); err != nil {
		return nil, nil, err
	}
	honourHealth(env, o.netns, d, env.Stdout)
	drain := o.drain.or(d.drainTimeout)
	p := plan.Diff(live, d.table, plan.Options{Drain: drain > 0})
	if err := renderPlan(env, p, drain); err != nil {
		return nil, nil, err
	}
	return newPlanFile(o.netns, live, d, drain, p), live, nil
}

// confirm asks for "yes" on stdin, as Terraform does.
func confirm(env Env) error {
	fmt.Fprint(env.Stdout, "\nDo you want to perform these actions?\n"+
		"  lvsctl will perform the actions described above.\n"+
		"  Only 'yes' will be accepted to approve.\n\n"+
		"  Enter a value: ")
	line, err := bufio.NewReader(env.Stdin).ReadString('\n')
	fmt.Fprintln(env.Stdout)
	if strings.TrimSpace(line) == "yes" {
		return nil
	}
	if err != nil && line == "" {
		fmt.Fprintln(env.Stderr, "Apply cancelled: no answer on standard input; use --auto-approve for unattended runs.")
	} else {
		fmt.Fprintln(env.Stderr, "Apply cancelled.")
	}
	return exitError{1}
}

func nsName(ns string) string {
	if ns == "" {
		return "(the current one)"
	}
	return fmt.Sprintf("%q", ns)
}

// fileGiven reports whether -f was given on the command line; IsSet is
// also true when only LVSCTL_CONFIG is set.
func fileGiven(c *cli.Context, env Env) bool {
	return c.IsSet("file") && c.String("file") != env.Getenv("LVSCTL_CONFIG")
}
