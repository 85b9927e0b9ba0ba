package cmd

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/lvsctl/lvsctl/internal/diag"
)

func validateCommand(env Env) *cli.Command {
	return &cli.Command{
		Name:      "validate",
		Usage:     "check a configuration without touching the kernel (needs no root)",
		ArgsUsage: " ",
		Description: "Reads lvsctl's HCL, a piranha lvs.cf or an \"ipvsadm -S -n\" dump (told apart by their content)\n" +
			"and reports every problem with its file:line:column. With --json the result is one JSON\n" +
			"document on stdout in the shape of \"terraform validate -json\", valid or not; the exit\n" +
			"status is 1 when the configuration has errors.",
		Flags: []cli.Flag{fileFlag(env),
			&cli.BoolFlag{Name: "json", Usage: "print the result and every diagnostic (file, line, column, byte offset, source snippet) as one JSON document, as terraform validate -json does"},
		},
		Action: action(env, func(c *cli.Context) (work, error) {
			if c.NArg() > 0 {
				return nil, usageError{fmt.Sprintf("validate takes no arguments (got %q); use -f FILE", c.Args().First())}
			}
			file, asJSON := c.String("file"), c.Bool("json")
			return func(context.Context) error { return runValidate(env, file, asJSON) }, nil
		}),
	}
}

// runValidate checks the configuration in file. A configuration with
// errors exits 1; its diagnostics go to stderr as text, or with asJSON to
// stdout as the JSON document (which is written whether it is valid or
// not, as Terraform writes it).
func runValidate(env Env, file string, asJSON bool) error {
	c := checkConfig(env, file, true)
	if asJSON {
		if err := diag.WriteJSON(env.Stdout, c.diagnostics()); err != nil {
			return err
		}
		if c.cfg == nil {
			return exitError{1}
		}
		return nil
	}
	c.writeText(env.Stderr)
	if c.cfg == nil {
		return exitError{1}
	}
	services, reals := 0, 0
	for _, s := range c.cfg.Table.Services {
		services++
		reals += len(s.Dests)
	}
	counts := plural(services, "virtual server") + ", " + plural(reals, "real server")
	if c.dump {
		// A dump is what plan --live and convert read, not a configuration.
		fmt.Fprintf(env.Stdout, "Success! %s is a valid ipvsadm dump: %s. lvsctl plan --live takes it as the live table; lvsctl convert --from ipvsadm makes it a configuration.\n", file, counts)
		return nil
	}
	fmt.Fprintf(env.Stdout, "Success! %s is valid: %s.\n", file, counts)
	return nil
}

func plural(n int, what string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", what)
	}
	return fmt.Sprintf("%d %ss", n, what)
}
