package cmd

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/lvsctl/lvsctl/internal/netns"
	"github.com/lvsctl/lvsctl/internal/realserver"
	"github.com/lvsctl/lvsctl/kernel"
)

func realserverCommand(env Env) *cli.Command {
	return &cli.Command{
		Name:  "realserver",
		Usage: "prepare this host as a real server for direct routing (dr) or IP tunnelling (tun), or --undo it",
		Description: "Puts each VIP on an interface that does not answer ARP (lo for dr, tunl0 for tun, after\n" +
			"loading ipip), sets net.ipv4.conf.{all,IF}.arp_ignore=1 and arp_announce=2, and for tun\n" +
			"relaxes rp_filter on tunl0 and all — what the LVS HOWTO's rc.lvs_dr scripts did. It remembers\n" +
			"the previous values in --state-dir (/run/lvsctl), so --undo restores exactly them. Running it\n" +
			"again changes nothing.",
		ArgsUsage: " ",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "mode", Usage: "forwarding method of the director: `dr` or tun (not needed with --undo)"},
			&cli.StringSliceFlag{Name: "vip", Usage: "virtual IP `ADDR` to accept (repeat for several)"},
			&cli.BoolFlag{Name: "undo", Usage: "reverse what earlier runs changed (only for the --vip given, if any)"},
			&cli.StringFlag{Name: "netns", Usage: "prepare network namespace `NAME` (under /run/netns, or a path) instead of this one"},
			stateDirFlag(&env),
		},
		Action: action(env, func(c *cli.Context) (work, error) {
			if c.NArg() > 0 {
				return nil, usageError{fmt.Sprintf("realserver takes no arguments (got %q); name VIPs with --vip", c.Args().First())}
			}
			var vips []netip.Addr
			for _, s := range c.StringSlice("vip") {
				for _, f := range strings.Split(s, ",") {
					a, err := netip.ParseAddr(strings.TrimSpace(f))
					if err != nil {
						return nil, usageError{fmt.Sprintf("--vip %q is not an IP address (give the address only, no port or prefix)", f)}
					}
					vips = append(vips, a.Unmap())
				}
			}
			o := realserverOptions{vips: vips, undo: c.Bool("undo"), netns: c.String("netns")}
			if !o.undo || c.IsSet("mode") {
				if !c.IsSet("mode") {
					return nil, usageError{"realserver needs --mode dr or --mode tun"}
				}
				m, err := realserver.ParseMode(c.String("mode"))
				if err != nil {
					return nil, usageError{err.Error()}
				}
				o.mode = m
			}
			if !o.undo && len(vips) == 0 {
				return nil, usageError{"realserver needs at least one --vip ADDR"}
			}
			return func(context.Context) error { return runRealserver(env, o) }, nil
		}),
	}
}

// realserverOptions are realserver's flags.
type realserverOptions struct {
	mode  realserver.Mode // unset with --undo and no --mode
	vips  []netip.Addr
	undo  bool
	netns string
}

func runRealserver(env Env, o realserverOptions) error {
	ns := o.netns
	path, err := kernel.NetnsPath(ns)
	if err != nil {
		return err
	}
	dir, id, err := stateFiles(env, ns)
	if err != nil {
		return err
	}
	statePath := dir.RealserverPath(id)
	st, err := realserver.LoadState(statePath)
	if err != nil {
		return err
	}
	where := ""
	if ns != "" {
		where = " in network namespace " + ns
	}
	var done, notes []string
	runErr := netns.Do(path, func() error {
		var err error
		if o.undo {
			done, notes, err = realserver.Undo(realserver.Linux{}, st, o.vips)
		} else {
			done, err = realserver.Prepare(realserver.Linux{}, st, o.mode, o.vips)
		}
		return err
	})
	if errors.Is(runErr, realserver.ErrBadState) {
		// Refused before anything was changed: the file stays
		// as it is, for whoever looks into it.
		return realserver.BadStateFile(statePath, runErr)
	}
	// What was done is recorded even when a later step failed, so
	// that --undo can reverse it.
	saveErr := realserver.SaveState(statePath, st)
	out := env.Stdout
	for _, l := range done {
		fmt.Fprintln(out, l)
	}
	for _, n := range notes {
		fmt.Fprintf(out, "note: %s\n", n)
	}
	if runErr != nil {
		if len(done) > 0 {
			fmt.Fprintf(env.Stderr, "lvsctl: stopped after %d changes%s; run with --undo to reverse them\n", len(done), where)
		}
		return runErr
	}
	if saveErr != nil {
		return fmt.Errorf("changes made but not recorded in %s (undo cannot restore them): %w", statePath, saveErr)
	}
	switch {
	case o.undo && len(done) == 0:
		fmt.Fprintf(out, "Nothing to undo%s.\n", where)
	case o.undo:
		fmt.Fprintf(out, "Undone: %s%s.\n", changes(len(done)), where)
	case len(done) == 0:
		fmt.Fprintf(out, "No changes: already a %s real server for %s%s.\n", o.mode, joinAddrs(o.vips), where)
	default:
		fmt.Fprintf(out, "Prepared as a %s real server for %s%s: %s, recorded in %s.\n", o.mode, joinAddrs(o.vips), where, changes(len(done)), statePath)
	}
	return nil
}

func joinAddrs(as []netip.Addr) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}

func changes(n int) string {
	if n == 1 {
		return "1 change"
	}
	return fmt.Sprintf("%d changes", n)
}
