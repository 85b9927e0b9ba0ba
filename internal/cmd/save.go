package cmd

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/lvsctl/lvsctl/internal/ipvsadm"
)

func saveCommand(env Env) *cli.Command {
	return &cli.Command{
		Name:      "save",
		Usage:     "print the live table exactly as \"ipvsadm -S -n\" does (for ipvsadm -R and existing scripts)",
		ArgsUsage: " ",
		Flags:     []cli.Flag{netnsFlag()},
		Action: action(env, func(c *cli.Context) (work, error) {
			if c.NArg() > 0 {
				return nil, usageError{fmt.Sprintf("save takes no arguments (got %q)", c.Args().First())}
			}
			netns := c.String("netns")
			return func(context.Context) error { return runSave(env, netns) }, nil
		}),
	}
}

func runSave(env Env, netns string) error {
	k, err := openKernel(env, netns)
	if err != nil {
		return err
	}
	defer closeKernel(k)
	t, err := k.Table()
	if err != nil {
		return err
	}
	return ipvsadm.WriteSave(env.Stdout, t)
}
