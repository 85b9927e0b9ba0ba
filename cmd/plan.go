package cmd

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/lvsctl/lvsctl/lvs"
	"github.com/lvsctl/lvsctl/plan"
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
			&cli.StringFlag{Name: "live", Usage: "plan against a saved table `DUMP` (ipvsadm -S -n output or lvsctl show --json) instead of the kernel; needs no root"},
			&cli.StringFlag{Name: "out", Usage: "save the plan to `PLANFILE` for lvsctl apply PLANFILE"},
			&cli.BoolFlag{Name: "json", Usage: "print the plan as one JSON document"},
			&cli.BoolFlag{Name: "detailed-exitcode", Usage: "exit 0 when there are no changes, 1 on error, 2 when there are changes"},
			drainTimeoutFlag(),
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageError{fmt.Sprintf("plan takes no arguments (got %q); flags go before arguments", c.Args().First())}
			}
			d, live, err := loadWithLive(env, c.String("file"), func() (*lvs.Table, error) { return liveTable(c, env) })
			if err != nil {
				return err
			}
			notes := env.Stdout
			if c.Bool("json") {
				notes = env.Stderr
			}
			honourHealth(env, c.String("netns"), d, notes)
			drain := drainTimeout(c, d)
			p := plan.Diff(live, d.table, plan.Options{Drain: drain > 0})
			if c.Bool("json") {
				if err := plan.RenderJSON(env.Stdout, p); err != nil {
					return err
				}
			} else if err := renderPlan(env, p, drain); err != nil {
				return err
			}
			if plan.DeletesEverything(live, d.table) {
				fmt.Fprintf(notes, "\nWarning: %s; lvsctl apply refuses it without --allow-empty.\n", emptyMessage(live, d.table))
			}
			if out := c.String("out"); out != "" {
				if err := plan.WriteFile(out, newPlanFile(c, live, d, drain, p)); err != nil {
					return err
				}
				if !c.Bool("json") {
					fmt.Fprintf(env.Stdout, "\nSaved the plan to: %s\n\nTo perform exactly these actions, run the following command to apply:\n    lvsctl apply %s%s\n", out, netnsArg(c), out)
				}
			} else if !c.Bool("json") && !p.Empty() {
				fmt.Fprintln(env.Stdout, "\nNote: You didn't use the --out option to save this plan, so lvsctl can't guarantee to take exactly these actions if you run \"lvsctl apply\" now.")
			}
			if c.Bool("detailed-exitcode") && !p.Empty() {
				return exitError{2}
			}
			return nil
		},
	}
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

// newPlanFile records a plan with what apply needs to check and finish it.
func newPlanFile(c *cli.Context, live *lvs.Table, d *desired, drain time.Duration, p plan.Plan) *plan.File {
	return &plan.File{
		Version:      Version,
		Created:      time.Now().UTC(),
		Netns:        c.String("netns"),
		Config:       absPath(d.path),
		Fingerprint:  plan.Fingerprint(live, d.table.Ignore),
		DrainTimeout: drain,
		Desired:      d.table,
		Plan:         p,
	}
}

func netnsArg(c *cli.Context) string {
	if ns := c.String("netns"); ns != "" {
		return "--netns " + ns + " "
	}
	return ""
}

// drainTimeout is the command line's --drain-timeout, else the config's.
func drainTimeout(c *cli.Context, d *desired) time.Duration {
	if c.IsSet("drain-timeout") {
		return c.Duration("drain-timeout")
	}
	return d.drainTimeout
}

func hasDrains(p plan.Plan) bool {
	for _, op := range p.Ops {
		if op.Action == plan.DrainDest {
			return true
		}
	}
	return len(p.Waiting) > 0
}

// liveTable reads the table to plan against: a saved one with --live,
// else the kernel's.
func liveTable(c *cli.Context, env Env) (*lvs.Table, error) {
	if path := c.String("live"); path != "" {
		if c.IsSet("netns") {
			return nil, usageError{"--live and --netns exclude each other: --live plans against a saved table"}
		}
		return readLive(path)
	}
	k, err := openKernel(env, c.String("netns"))
	if err != nil {
		return nil, err
	}
	defer closeKernel(k)
	return k.Table()
}

// closeKernel releases a kernel handle if it holds resources.
func closeKernel(k any) {
	if c, ok := k.(interface{ Close() error }); ok {
		_ = c.Close()
	}
}
