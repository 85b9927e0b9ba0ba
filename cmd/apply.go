package cmd

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/lvsctl/lvsctl/apply"
	"github.com/lvsctl/lvsctl/plan"
)

func applyCommand(env Env) *cli.Command {
	return &cli.Command{
		Name:      "apply",
		Usage:     "change the live IPVS table to match the configuration, or run a saved plan",
		ArgsUsage: "[PLANFILE]",
		Description: "Without PLANFILE, apply plans like \"lvsctl plan\", shows the plan and asks for \"yes\"\n" +
			"(unless --auto-approve). With PLANFILE (from plan --out) it runs exactly that plan without asking,\n" +
			"and refuses it if the IPVS table changed since the plan was made. Flags go before PLANFILE.",
		Flags: []cli.Flag{
			fileFlag(env),
			netnsFlag,
			&cli.BoolFlag{Name: "auto-approve", Usage: "do not ask for confirmation"},
			drainTimeoutFlag,
			&cli.DurationFlag{Name: "lock-timeout", Value: 0, Usage: "wait up to `DURATION` for another apply on the same namespace to finish"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 1 {
				return usageError{fmt.Sprintf("apply takes at most one PLANFILE (got %q); flags go before PLANFILE", c.Args().Slice())}
			}
			planFile := c.Args().First()
			if planFile != "" && fileGiven(c, env) {
				return usageError{"give either -f FILE or a PLANFILE, not both"}
			}
			k, err := openKernel(c, env)
			if err != nil {
				return err
			}
			defer closeKernel(k)

			info := fmt.Sprintf("apply %s", strings.Join(os.Args[1:], " "))
			unlock, err := apply.Lock(lockPath(env, c.String("netns")), c.Duration("lock-timeout"), info)
			if err != nil {
				return err
			}
			defer unlock()

			var f *plan.File
			verified := false // f's fingerprint was just taken under the lock, with no prompt since
			if planFile != "" {
				if f, err = plan.ReadFile(planFile); err != nil {
					return err
				}
				if f.Version != Version {
					return fmt.Errorf("%s was made by lvsctl %s, and this is lvsctl %s: plans are not carried between versions; run lvsctl plan --out again", planFile, f.Version, Version)
				}
				if f.Netns != c.String("netns") {
					return fmt.Errorf("%s was planned for network namespace %s, not %s: pass the same --netns", planFile, nsName(f.Netns), nsName(c.String("netns")))
				}
				if c.IsSet("drain-timeout") {
					return usageError{"a saved plan carries its drain timeout; make a new plan with --drain-timeout instead"}
				}
			} else {
				if f, err = planNow(c, env, k); err != nil {
					return err
				}
				if f.Plan.Empty() && len(f.Plan.Waiting) == 0 {
					return nil
				}
				if !c.Bool("auto-approve") && !f.Plan.Empty() {
					if err := confirm(env); err != nil {
						return err
					}
				} else {
					verified = true
				}
			}
			var rep *apply.Report
			if verified && f.DrainTimeout == 0 {
				// Nothing can have changed the table since it was read: we
				// hold the lock and asked no question. Reading it again to
				// check the fingerprint would cost as much as the plan did.
				rep, err = apply.Run(c.Context, k, f.Plan, apply.RunOptions{})
			} else {
				rep, err = apply.ApplySaved(c.Context, k, f, apply.ConvergeOptions{
					DrainTimeout: f.DrainTimeout,
					Progress: func(p plan.Plan) {
						if len(p.Waiting) > 0 {
							fmt.Fprintf(env.Stdout, "Draining: %s still ha%s connections.\n", plural(len(p.Waiting), "real server"), map[bool]string{true: "s", false: "ve"}[len(p.Waiting) == 1])
						}
					},
				})
			}
			if rep != nil {
				fmt.Fprintln(env.Stdout)
				rep.Render(env.Stdout)
			}
			return err
		},
	}
}

// planNow plans against the live table and prints the plan, the way plan does.
func planNow(c *cli.Context, env Env, k apply.Kernel) (*plan.File, error) {
	d, live, err := loadWithLive(env, c.String("file"), k.Table)
	if err != nil {
		return nil, err
	}
	if err := honourHealth(env, c.String("netns"), d, env.Stdout); err != nil {
		return nil, err
	}
	drain := drainTimeout(c, d)
	p := plan.Diff(live, d.table, plan.Options{Drain: drain > 0})
	if err := renderPlan(env, p, drain); err != nil {
		return nil, err
	}
	return newPlanFile(c, live, d, drain, p), nil
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
