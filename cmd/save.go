package cmd

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/lvsctl/lvsctl/ipvsadm"
)

func saveCommand(env Env) *cli.Command {
	return &cli.Command{
		Name:      "save",
		Usage:     "print the live table exactly as \"ipvsadm -S -n\" does (for ipvsadm -R and existing scripts)",
		ArgsUsage: " ",
		Flags:     []cli.Flag{netnsFlag()},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageError{fmt.Sprintf("save takes no arguments (got %q)", c.Args().First())}
			}
			k, err := openKernel(env, c.String("netns"))
			if err != nil {
				return err
			}
			defer closeKernel(k)
			t, err := k.Table()
			if err != nil {
				return err
			}
			return ipvsadm.WriteSave(env.Stdout, t)
		},
	}
}
