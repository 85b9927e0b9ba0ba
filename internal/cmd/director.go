package cmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/lvsctl/lvsctl/internal/health"
	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/internal/proc"
	"github.com/lvsctl/lvsctl/internal/reconcile"
	"github.com/lvsctl/lvsctl/internal/rundir"
)

// What check and pulse share: both are front-ends of one reconciler, which
// owns the director's table (and, for pulse, its floating addresses) while
// they run. See package reconcile.

// releaseTimeout bounds pulse's release at SIGTERM; systemd's
// TimeoutStopSec must be longer.
const releaseTimeout = 20 * time.Second

// commandTimeout bounds active_cmd and inactive_cmd: a stuck script is
// killed with its whole process group.
const commandTimeout = time.Minute

// directorFlags are the flags of both daemons beyond logging.
func directorFlags() []cli.Flag {
	return []cli.Flag{
		&cli.DurationFlag{Name: "resync", Value: reconcile.DefaultResync, Usage: "read the whole IPVS table again every `DURATION`, putting back changes made behind lvsctl's back"},
	}
}

// Flags both daemons have, each in its place among the command's flags.

func quorumFlag() cli.Flag {
	return &cli.IntFlag{Name: "quorum", Value: 1, Usage: "add the sorry server while fewer than `N` real servers are healthy"}
}

func slowStartFlag() cli.Flag {
	return &cli.DurationFlag{Name: "slow-start", Usage: "ramp a returning real server's weight up over `DURATION`"}
}

func metricsFlag() cli.Flag {
	return &cli.StringFlag{Name: "metrics", Usage: "serve Prometheus metrics on `ADDR` (host:port), at /metrics"}
}

// directorOptions are the settings check and pulse share, read from their
// flags.
type directorOptions struct {
	file    string // the configuration (-f)
	log     *slog.Logger
	policy  health.Policy // --quorum, --slow-start
	resync  time.Duration
	metrics string // the address to serve metrics on; "" serves none
}

// readDirectorOptions reads the shared settings; log and pol come from
// newLogger and healthPolicy, which each command calls in its own order.
func readDirectorOptions(c *cli.Context, log *slog.Logger, pol health.Policy) directorOptions {
	return directorOptions{
		file: c.String("file"), log: log, policy: pol,
		resync: c.Duration("resync"), metrics: c.String("metrics"),
	}
}

// healthPolicy reads --quorum and --slow-start.
func healthPolicy(c *cli.Context) (health.Policy, error) {
	if c.Int("quorum") < 1 {
		return health.Policy{}, usageError{fmt.Sprintf("--quorum must be at least 1 (got %d)", c.Int("quorum"))}
	}
	if c.Duration("slow-start") < 0 {
		return health.Policy{}, usageError{"--slow-start must not be negative"}
	}
	return health.Policy{Quorum: c.Int("quorum"), SlowStart: c.Duration("slow-start")}, nil
}

// configSource is the configuration file as a reconciler reads it: the
// same loader as every other command, with the diagnostics kept as the
// error's text (one log record) instead of printed.
func configSource(env Env, path string) *reconcile.Source {
	return &reconcile.Source{Path: path, Load: func(path string) (*model.Config, error) {
		var diags bytes.Buffer
		e := env
		e.Stderr = &diags
		cfg, err := loadConfig(e, path)
		if err != nil {
			msg := strings.TrimSpace(diags.String())
			if msg == "" {
				msg = err.Error()
			}
			return nil, errors.New(msg)
		}
		return cfg, nil
	}}
}

// commandRunner runs active_cmd or inactive_cmd: no shell, its own process
// group, killed with its children after commandTimeout. What the command
// leaves behind in its group is killed when it exits, so that a stuck or
// careless script leaves no orphans and cannot hold pulse up by keeping
// the output open; a daemon it means to start must leave the group
// (systemctl start, or setsid). Every process it starts carries tag in its
// environment, by which the next run finds what a SIGKILLed one left.
func commandRunner(tag string) func(ctx context.Context, argv []string) error {
	return func(ctx context.Context, argv []string) error {
		_, err := proc.Run(ctx, argv, proc.Options{Timeout: commandTimeout, KillGroupOnExit: true, Env: []string{tag}})
		return err
	}
}

// commandTag marks the commands of the daemon of namespace id: one daemon
// owns a namespace (claimNamespace), so a process with its tag that is
// older than this run was left by an earlier one.
func commandTag(id rundir.NetnsID) string { return "LVSCTL_DAEMON_COMMAND=" + id.String() }

// killLeftovers kills the processes that carry tag: what the commands of a
// crashed run (SIGKILL, OOM) left running when nothing was there to kill
// their process groups. systemd's KillMode would do it for a unit; this
// does it everywhere.
func killLeftovers(tag string, log *slog.Logger) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	want := []byte(tag)
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil {
			continue
		}
		if slices.ContainsFunc(bytes.Split(env, []byte{0}), func(v []byte) bool { return bytes.Equal(v, want) }) {
			if syscall.Kill(pid, syscall.SIGKILL) == nil {
				log.Warn("killed a process an earlier run's command left behind", "pid", pid)
			}
		}
	}
}

// newChecker is check's engine as both daemons and check --once set it up:
// the --quorum and --slow-start policy, publishing to statePath.
func newChecker(pol health.Policy, statePath string, log *slog.Logger) *health.Checker {
	return &health.Checker{Policy: pol, StatePath: statePath, Log: log}
}

// healthEngine is check's engine for a reconciler: its changes kick r, and
// a configuration r accepts reaches it.
func healthEngine(chk *health.Checker, r *reconcile.Reconciler) (reload chan *model.Config) {
	reload = make(chan *model.Config, 1)
	chk.Changed = r.Kick
	r.Health = chk
	r.OnConfig = func(cfg *model.Config) {
		// The newest configuration wins; the checker takes it between two
		// of its own steps, without holding the reconciler up.
		for {
			select {
			case reload <- cfg:
				return
			case <-reload:
			}
		}
	}
	return reload
}

// ignoreSIGHUP keeps a SIGHUP that comes while a daemon starts from
// killing it (the default action); signals takes SIGHUP over once the
// reconciler can reload, and a file changed meanwhile is picked up anyway.
func ignoreSIGHUP() { signal.Ignore(syscall.SIGHUP) }

// signals turns SIGHUP into reloads of r, each told to systemd, until ctx
// ends; also reloads what extra reads (pulse's key file).
func signals(ctx context.Context, r *reconcile.Reconciler, n *notifier, log *slog.Logger, extra func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
			}
			n.Reloading()
			log.Info("SIGHUP: reading the configuration again")
			select {
			case <-r.Reload():
			case <-ctx.Done():
				return
			}
			if extra != nil {
				extra()
			}
			n.Ready()
		}
	}()
}

// readyWhenConverged tells systemd that the daemon is ready once r first
// reached its desired state, unless ctx ends first.
func readyWhenConverged(ctx context.Context, r *reconcile.Reconciler, n *notifier) {
	select {
	case <-r.Ready():
		n.Ready()
	case <-ctx.Done():
	}
}

// watchdog pets systemd's watchdog while r's loop turns.
func watchdog(ctx context.Context, r *reconcile.Reconciler, n *notifier) {
	every := n.WatchdogInterval()
	n.Watchdog(ctx, func() bool { return time.Since(r.LastLook()) < every })
}
