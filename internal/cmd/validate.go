package cmd

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"
)

func validateCommand(env Env) *cli.Command {
	return &cli.Command{
		Name:      "validate",
		Usage:     "check a configuration without touching the kernel (needs no root)",
		ArgsUsage: " ",
		Flags:     []cli.Flag{fileFlag(env)},
		Action: action(env, func(c *cli.Context) (work, error) {
			if c.NArg() > 0 {
				return nil, usageError{fmt.Sprintf("validate takes no arguments (got %q); use -f FILE", c.Args().First())}
			}
			file := c.String("file")
			return func(context.Context) error { return runValidate(env, file) }, nil
		}),
	}
}

func runValidate(env Env, file string) error {
	d, err := loadDesired(env, file)
	if err != nil {
		return err
	}
	services, reals := 0, 0
	for _, s := range d.table.Services {
		services++
		reals += len(s.Dests)
	}
	fmt.Fprintf(env.Stdout, "Success! %s is valid: %s, %s.\n", d.path,
		plural(services, "virtual server"), plural(reals, "real server"))
	return nil
}

func plural(n int, what string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", what)
	}
	return fmt.Sprintf("%d %ss", n, what)
}
