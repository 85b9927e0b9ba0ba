// Package cmd is lvsctl's command line: one file per subcommand, and the only
// package that knows urfave/cli. Main maps every outcome to an exit status in
// one place.
package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/urfave/cli/v2"

	"github.com/lvsctl/lvsctl/internal/apply"
	"github.com/lvsctl/lvsctl/internal/rundir"
	"github.com/lvsctl/lvsctl/kernel"
)

// Env is everything a command may touch outside the process.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// OpenKernel opens the IPVS table of a network namespace ("" = ours).
	OpenKernel func(netns string) (apply.Kernel, error)
	// StateDir is the state directory (see package rundir: apply locks,
	// published health, realserver's undo records) when neither
	// --state-dir nor LVSCTL_STATE_DIR names one; "" is /run/lvsctl.
	// Inside a command that has the --state-dir flag it is the directory
	// in effect (see stateDirFlag).
	StateDir string
	// Getenv reads the environment (os.Getenv in production).
	Getenv func(string) string
	// Services is the services database that names the ports of an
	// ipvsadm dump saved without -n; "" is /etc/services.
	Services string
	// LookupHost resolves a host name of such a dump to its IPv4
	// address, for --resolve; nil is the system's resolver.
	LookupHost func(ctx context.Context, name string) (netip.Addr, error)
	// ProbeIPVS tells lvsctl version whether the kernel has IPVS
	// (kernel.Probe when nil).
	ProbeIPVS func(netns string) (kernel.Info, error)

	// inv is the run of Main the command belongs to; Main sets it.
	inv *invocation
}

// An invocation is one run of Main. Commands take the command line from
// it, never from os.Args, so that Mains running at once (tests) each keep
// to their own.
type invocation struct {
	args []string // args[0] is the program name
	work work     // what the command's Action left to do
}

// work is what a command does once its command line is read.
type work func(ctx context.Context) error

// cliMu serialises urfave/cli: while it parses a command line it writes
// package variables of its own (the --help and --version flags, the help
// subcommand), so that two Mains parsing at once would race. Main holds it
// only while the library runs: a command's Action (see action) just reads
// its flags into options, and its work runs after, outside the lock.
var cliMu sync.Mutex

// action is a command's Action: read checks the command line and reads it
// into options, and returns the work to do with them, which Main runs once
// urfave/cli is done. The work must not use c.
func action(env Env, read func(c *cli.Context) (work, error)) cli.ActionFunc {
	return func(c *cli.Context) error {
		w, err := read(c)
		if err != nil {
			return err
		}
		env.inv.work = w
		return nil
	}
}

// exitError ends a command with a status after its message was printed.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// usageError is a mistake on the command line; it is printed with a hint.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// Main runs lvsctl with args (args[0] is the program name) and returns the
// exit status: 0 success, 1 error, 2 changes present (plan
// --detailed-exitcode), 130 interrupted.
func Main(ctx context.Context, args []string, env Env) int {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	if env.StateDir == "" {
		env.StateDir = rundir.Default
	}
	inv := &invocation{args: args}
	env.inv = inv
	// The app, its commands and their flags are made afresh for each run:
	// urfave/cli writes into its flags while it parses, so no flag is
	// shared between two runs.
	err := parse(ctx, newApp(env), completionArgs(args))
	if err == nil && inv.work != nil {
		err = inv.work(ctx)
	}
	return exitCode(env.Stderr, err)
}

// parse runs app on args under cliMu: the command's Action reads its
// options and leaves its work in the invocation.
func parse(ctx context.Context, app *cli.App, args []string) error {
	cliMu.Lock()
	defer cliMu.Unlock()
	return app.RunContext(ctx, args)
}

func exitCode(stderr io.Writer, err error) int {
	var ee exitError
	var ue usageError
	var ce cli.ExitCoder
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "lvsctl: %s\nlvsctl: run \"lvsctl --help\" for usage\n", ue.msg)
		return 1
	case errors.As(err, &ce):
		// urfave/cli's own refusals, as "lvsctl help nosuch" was.
		fmt.Fprintf(stderr, "lvsctl: %s\n", err)
		return 1
	case errors.Is(err, context.Canceled):
		fmt.Fprintf(stderr, "lvsctl: %s\n", err)
		return 130
	default:
		fmt.Fprintf(stderr, "lvsctl: %s\n", err)
		return 1
	}
}

func newApp(env Env) *cli.App {
	app := &cli.App{
		Name:  "lvsctl",
		Usage: "declarative Linux Virtual Server (IPVS) management",
		Description: "lvsctl reads a configuration of IPVS virtual servers (HCL, a piranha lvs.cf or a keepalived.conf),\n" +
			"compares it with the kernel's live table and applies the smallest set of changes.\n" +
			"\"lvsctl help COMMAND\" (or \"lvsctl COMMAND --help\") shows a command's flags.",
		Version: Version,
		// lvsctl has its own --version and version command (see
		// version.go): urfave/cli's would print the version alone.
		HideVersion: true,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "version", Aliases: []string{"v"}, Usage: "print the version, commit, build date, Go version and whether this kernel has IPVS"},
			// urfave/cli adds --help itself only when the app has no
			// command named help; it finds it by its names.
			&cli.BoolFlag{Name: "help", Aliases: []string{"h"}, Usage: "show help"},
		},
		Reader:    env.Stdin,
		Writer:    env.Stdout,
		ErrWriter: env.Stderr,
		// The help command is lvsctl's own (helpCommand): urfave/cli's
		// would also be added to every command as a subcommand.
		HideHelpCommand: true,
		Suggest:         true,
		// urfave/cli would otherwise call os.Exit from inside Run.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError:   onUsageError,
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return unknownCommand(c.App.Commands, c.Args().First())
			}
			if c.Bool("version") {
				env.inv.work = versionWork(env)
				return nil
			}
			return cli.ShowAppHelp(c)
		},
		Commands: []*cli.Command{
			validateCommand(env),
			planCommand(env),
			applyCommand(env),
			showCommand(env),
			saveCommand(env),
			convertCommand(env),
			realserverCommand(env),
			checkCommand(env),
			pulseCommand(env),
			completionCommand(env),
			versionCommand(env),
			helpCommand(env),
		},
	}
	var setUsage func([]*cli.Command)
	setUsage = func(cs []*cli.Command) {
		for _, c := range cs {
			c.OnUsageError = app.OnUsageError
			setUsage(c.Subcommands)
		}
	}
	setUsage(app.Commands)
	setupCompletion(env, app)
	return app
}

// unknownCommand is the usage error for a command lvsctl does not have,
// with the nearest one it has.
func unknownCommand(cmds []*cli.Command, name string) error {
	msg := fmt.Sprintf("unknown command %q", name)
	if s := cli.SuggestCommand(cmds, name); s != "" {
		msg += ". " + s
	}
	return usageError{msg}
}

// helpCommand is "lvsctl help [COMMAND [SUBCOMMAND]]": the same as
// "lvsctl COMMAND [SUBCOMMAND] --help", or the list of commands.
func helpCommand(env Env) *cli.Command {
	return &cli.Command{
		Name:      "help",
		Usage:     "show the commands, or the help of one command",
		ArgsUsage: "[COMMAND [SUBCOMMAND]]",
		Action: func(c *cli.Context) error {
			args := []string{c.App.Name}
			if env.inv != nil && len(env.inv.args) > 0 {
				args[0] = env.inv.args[0]
			}
			cmds := c.App.Commands
			for i, name := range c.Args().Slice() {
				var found *cli.Command
				for _, sub := range cmds {
					if sub.HasName(name) {
						found = sub
					}
				}
				if found == nil {
					if i == 0 {
						return unknownCommand(c.App.Commands, name)
					}
					return usageError{fmt.Sprintf("%s has no subcommand %q", strings.Join(args[1:], " "), name)}
				}
				args = append(args, found.Name)
				cmds = found.Subcommands
			}
			// The help of a command is what its --help prints: run
			// that, on this app, whose setup is done.
			return c.App.RunContext(c.Context, append(args, "--help"))
		},
	}
}

// Flags shared by several commands.

const defaultConfig = "/etc/lvsctl/lvsctl.hcl"

func fileFlag(env Env) *cli.StringFlag {
	return &cli.StringFlag{
		Name:    "file",
		Aliases: []string{"f"},
		Usage:   "configuration `FILE` (HCL, a piranha lvs.cf or a keepalived.conf)",
		EnvVars: []string{"LVSCTL_CONFIG"},
		Value:   defaultConfig,
	}
}

func netnsFlag() *cli.StringFlag {
	return &cli.StringFlag{
		Name:  "netns",
		Usage: "work on the IPVS table of network namespace `NAME` (under /run/netns) or at a path",
	}
}

// openKernel opens the live table of network namespace netns ("" = ours).
func openKernel(env Env, netns string) (apply.Kernel, error) {
	if env.OpenKernel == nil {
		return nil, errors.New("no kernel access in this build")
	}
	return env.OpenKernel(netns)
}

// commandLine is the command line lvsctl was run with, its program name
// without directories: what the apply lock says about a daemon holding it.
func commandLine(env Env) string {
	if env.inv == nil || len(env.inv.args) == 0 {
		return ""
	}
	return strings.Join(append([]string{filepath.Base(env.inv.args[0])}, env.inv.args[1:]...), " ")
}

// stateDirFlag is --state-dir, the one setting of every command that
// takes a lock or reads or writes state: the flag, else LVSCTL_STATE_DIR
// (if not empty), else env.StateDir. It writes the directory in effect into
// env.StateDir, so pass it the command's own env: its Action, and the
// helpers it hands env to, then see that directory.
func stateDirFlag(env *Env) *cli.StringFlag {
	if env.Getenv != nil {
		if dir := env.Getenv(rundir.EnvVar); dir != "" {
			env.StateDir = dir
		}
	}
	return &cli.StringFlag{
		Name:        "state-dir",
		Usage:       "keep the apply lock, published health and undo records in `DIR` (mode 0700, owned by the user running lvsctl; env " + rundir.EnvVar + ")",
		Value:       env.StateDir,
		Destination: &env.StateDir,
		Action: func(_ *cli.Context, dir string) error {
			if dir == "" {
				return usageError{"--state-dir needs a directory"}
			}
			return nil
		},
	}
}

// stateFiles opens the state directory (creating it) and resolves the
// network namespace whose files in it the command uses.
func stateFiles(env Env, netns string) (rundir.Dir, rundir.NetnsID, error) {
	id, err := rundir.Netns(netns)
	if err != nil {
		return rundir.Dir{}, rundir.NetnsID{}, err
	}
	d, err := rundir.Open(env.StateDir)
	if err != nil {
		return rundir.Dir{}, rundir.NetnsID{}, err
	}
	return d, id, nil
}

// lockPath is the apply lock of network namespace netns in the state
// directory (apply.Lock checks the directory). A namespace that cannot be
// resolved, which opening its IPVS table reports first, gets the lock of
// the zero identity: shared by all such, so never less locking than needed.
func lockPath(env Env, netns string) string {
	id, _ := rundir.Netns(netns)
	return rundir.Dir{Path: env.StateDir}.LockPath(id)
}
