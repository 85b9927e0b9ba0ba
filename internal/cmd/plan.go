package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/lvsctl/lvsctl/internal/apply"
	"github.com/lvsctl/lvsctl/internal/plan"
	"github.com/lvsctl/lvsctl/kernel"
	"github.com/lvsctl/lvsctl/lvs"
)

func drainTimeoutFlag() *cli.DurationFlag {
	return &cli.DurationFlag{
		Name:  "drain-timeout",
		Usage: "drain removed TCP/SCTP real servers (weight 0) for up to `DURATION` before deleting them (overrides drain_timeout in the config)",
	}
}

func planCommand(env Env) *cli.Command {
	return &cli.Command{
		Name:      "plan",
		Usage:     "show the changes apply would make to the live IPVS table",
		ArgsUsage: " ",
		Flags: []cli.Flag{
			fileFlag(env),
			netnsFlag(),
			stateDirFlag(&env),
			&cli.StringFlag{Name: "live", Usage: "plan against a saved table `DUMP` (ipvsadm -S output or lvsctl show --json; - reads stdin) instead of the kernel; needs no root. What a dump lacks (ipvsadm -S saves no timeouts or thresholds) is left out of the comparison"},
			resolveFlag(),
			&cli.StringFlag{Name: "out", Usage: "save the plan to `PLANFILE` for lvsctl apply PLANFILE"},
			&cli.BoolFlag{Name: "json", Usage: "print the plan as one JSON document; an invalid configuration or --live dump prints validate --json's document instead, and exits 1"},
			&cli.BoolFlag{Name: "detailed-exitcode", Usage: "exit 0 when there are no changes, 1 on error, 2 when there are changes"},
			drainTimeoutFlag(),
		},
		Action: action(env, func(c *cli.Context) (work, error) {
			if c.NArg() > 0 {
				return nil, usageError{fmt.Sprintf("plan takes no arguments (got %q); flags go before arguments", c.Args().First())}
			}
			o := planOptions{
				file: c.String("file"), netns: c.String("netns"), netnsSet: c.IsSet("netns"),
				live: c.String("live"), resolve: c.Bool("resolve"), out: c.String("out"), json: c.Bool("json"),
				detailedExitcode: c.Bool("detailed-exitcode"), drain: readDrain(c),
			}
			return func(context.Context) error { return runPlan(env, o) }, nil
		}),
	}
}

// planOptions are plan's flags.
type planOptions struct {
	file             string
	netns            string
	netnsSet         bool // --netns was given
	live             string
	resolve          bool // --resolve: look up the host names of a --live dump
	out              string
	json             bool
	detailedExitcode bool
	drain            drainOption
}

func runPlan(env Env, o planOptions) error {
	if o.out != "" {
		// Before the plan is made, which can take a while, and above
		// all before anything is written over: the path of a plan
		// next to a configuration is easily the configuration's.
		if sameFile(o.out, o.file) {
			return fmt.Errorf("--out %s is the configuration the plan is made from (-f): give the plan a path of its own, such as %s.plan", o.out, strings.TrimSuffix(o.out, filepath.Ext(o.out)))
		}
		if err := plan.CheckOverwrite(o.out); err != nil {
			return err
		}
	}
	var form string // of a saved live table
	read := func() (t *lvs.Table, err error) {
		t, form, err = liveTable(env, o.live, o.resolve, o.netns, o.netnsSet)
		return t, err
	}
	// Against the kernel, the handle stays open for its settings; it is
	// opened beside the configuration's reading, whose errors come first.
	var k apply.Kernel
	if o.live == "" && !o.resolve { // liveTable refuses --resolve without --live
		read = func() (*lvs.Table, error) {
			var err error
			if k, err = openKernel(env, o.netns); err != nil {
				return nil, err
			}
			return k.Table()
		}
	}
	d, live, err := loadWithLive(env, o.file, read, o.json)
	if k != nil {
		defer closeKernel(k)
	}
	if errors.Is(err, kernel.ErrNoIPVS) {
		// Of the commands that read the kernel, plan alone can do
		// without it.
		return fmt.Errorf("%w; or plan against a saved table (ipvsadm -S -n output, or lvsctl show --json from a director) with --live DUMP", err)
	}
	if err != nil {
		return err
	}
	notes := env.Stdout
	if o.json {
		notes = env.Stderr
	}
	if u := live.Unknown; u != 0 {
		// The plan's header: what the comparison leaves out, and why.
		name := o.live
		if name == "-" {
			name = "on stdin"
		}
		fmt.Fprintf(notes, "Note: the live table %s is %s: %s %s not in it and %s left out of the comparison; no change is planned to %s. Plan against the kernel (without --live) to compare %s too.\n\n",
			name, form, u, isAre(u), isAre(u), itThem(u), itThem(u))
	}
	if k != nil {
		if err := readSysctls(k, live, d.table); err != nil {
			return err
		}
	} else if n := len(d.table.Sysctls); n > 0 {
		fmt.Fprintf(notes, "Note: a plan against a saved table leaves the kernel settings out (a dump has none), so the %s this configuration sets (%s) %s not planned; a plan against the kernel plans %s.\n\n",
			plural(n, "sysctl"), sysctlNames(d.table.Sysctls), map[bool]string{true: "is", false: "are"}[n == 1], map[bool]string{true: "it", false: "them"}[n == 1])
	}
	honourHealth(env, o.netns, d, notes)
	drain := o.drain.or(d.drainTimeout)
	p := plan.Diff(live, d.table, plan.Options{Drain: drain > 0})
	if o.json {
		if err := plan.RenderJSON(env.Stdout, p); err != nil {
			return err
		}
	} else if err := renderPlan(env, p, drain); err != nil {
		return err
	}
	if plan.DeletesEverything(live, d.table) {
		fmt.Fprintf(notes, "\nWarning: %s; lvsctl apply refuses it without --allow-empty.\n", emptyMessage(live, d.table))
	}
	if o.out != "" {
		f := newPlanFile(o.netns, live, d, drain, p)
		// What apply would refuse is not saved (a drain against a dump).
		if err := f.Validate(); err != nil {
			return fmt.Errorf("not saving the plan: %w", err)
		}
		if err := plan.WriteFile(o.out, f); err != nil {
			return err
		}
		if !o.json {
			fmt.Fprintf(env.Stdout, "\nSaved the plan to: %s\n\nTo perform exactly these actions, run the following command to apply:\n    lvsctl apply %s%s\n", o.out, netnsArg(o.netns), o.out)
		}
	} else if !o.json && !p.Empty() && o.live == "" {
		// Against a saved table (--live) the note does not hold: a
		// plain "lvsctl apply" plans against the kernel, not the dump.
		fmt.Fprintln(env.Stdout, "\nNote: You didn't use the --out option to save this plan, so lvsctl can't guarantee to take exactly these actions if you run \"lvsctl apply\" now.")
	}
	if o.detailedExitcode && !p.Empty() {
		return exitError{2}
	}
	return nil
}

// sameFile tells whether paths a and b name one existing file.
func sameFile(a, b string) bool {
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	return err == nil && os.SameFile(fa, fb)
}

// renderPlan prints a plan for people, with the drain note when it drains.
func renderPlan(env Env, p plan.Plan, drain time.Duration) error {
	if err := plan.Render(env.Stdout, p); err != nil {
		return err
	}
	if drain > 0 && hasDrains(p) {
		fmt.Fprintf(env.Stdout, "\nReal servers set to weight 0 are deleted once their connections reach zero, or after %s.\n", drain)
	}
	return nil
}

// newPlanFile records a plan for network namespace netns with what apply
// needs to check and finish it.
func newPlanFile(netns string, live *lvs.Table, d *desired, drain time.Duration, p plan.Plan) *plan.File {
	return &plan.File{
		Version:      Version,
		Created:      time.Now().UTC(),
		Netns:        netns,
		Config:       absPath(d.path),
		Fingerprint:  plan.Fingerprint(live, d.table.Ignore),
		SysctlsRead:  live.Sysctls != nil,
		DrainTimeout: drain,
		Desired:      d.table,
		Plan:         p,
	}
}

func netnsArg(netns string) string {
	if netns != "" {
		return "--netns " + netns + " "
	}
	return ""
}

// drainOption is --drain-timeout as given on the command line.
type drainOption struct {
	timeout time.Duration
	set     bool // false: not given
}

func readDrain(c *cli.Context) drainOption {
	return drainOption{timeout: c.Duration("drain-timeout"), set: c.IsSet("drain-timeout")}
}

// or is the command line's --drain-timeout, else config, the
// configuration's.
func (o drainOption) or(config time.Duration) time.Duration {
	if o.set {
		return o.timeout
	}
	return config
}

func hasDrains(p plan.Plan) bool {
	for _, op := range p.Ops {
		if op.Action == plan.DrainDest {
			return true
		}
	}
	return len(p.Waiting) > 0
}

// liveTable reads the table to plan against: a saved one at path (--live;
// resolve looks up its host names), with the name of its form, else the
// kernel's of network namespace netns; netnsSet says --netns was given.
func liveTable(env Env, path string, resolve bool, netns string, netnsSet bool) (*lvs.Table, string, error) {
	if path != "" {
		if netnsSet {
			return nil, "", usageError{"--live and --netns exclude each other: --live plans against a saved table"}
		}
		return readLive(env, path, resolve)
	}
	if resolve {
		return nil, "", usageError{"--resolve looks up the host names of a --live dump; give --live DUMP, or leave --resolve out"}
	}
	k, err := openKernel(env, netns)
	if err != nil {
		return nil, "", err
	}
	defer closeKernel(k)
	t, err := k.Table()
	return t, "", err
}

// isAre and itThem agree with the settings of u in number: one alone
// when u is one timeout.
func isAre(u lvs.Unknown) string {
	if singular(u) {
		return "is"
	}
	return "are"
}

func itThem(u lvs.Unknown) string {
	if singular(u) {
		return "it"
	}
	return "them"
}

func singular(u lvs.Unknown) bool {
	return u == lvs.UnknownTCPTimeout || u == lvs.UnknownTCPFinTimeout || u == lvs.UnknownUDPTimeout
}

// readSysctls reads into live, from k, the kernel settings that desired
// owns, and refuses, changing nothing, when the kernel lacks one.
func readSysctls(k apply.Kernel, live, desired *lvs.Table) error {
	ss, err := apply.ReadSysctls(k, desired.Sysctls)
	if err != nil {
		return err
	}
	var absent []string
	for _, s := range ss {
		if s.Value == "" {
			absent = append(absent, apply.AbsentSysctl(s.Name))
		}
	}
	if len(absent) > 0 {
		return fmt.Errorf("%s; nothing was planned or changed", strings.Join(absent, "; "))
	}
	live.Sysctls = ss
	return nil
}

// readAllSysctls reads from k every kernel setting lvsctl manages, in
// the order of lvs.Sysctls; one this kernel lacks has the value "".
func readAllSysctls(k apply.Kernel) ([]lvs.Sysctl, error) {
	all := make([]lvs.Sysctl, len(lvs.Sysctls))
	for i, info := range lvs.Sysctls {
		all[i].Name = info.Name
	}
	return apply.ReadSysctls(k, all)
}

// sysctlNames lists the names of ss for a message.
func sysctlNames(ss []lvs.Sysctl) string {
	names := make([]string, len(ss))
	for i, s := range ss {
		names[i] = s.Name
	}
	return strings.Join(names, ", ")
}

// closeKernel releases a kernel handle if it holds resources.
func closeKernel(k any) {
	if c, ok := k.(interface{ Close() error }); ok {
		_ = c.Close()
	}
}
