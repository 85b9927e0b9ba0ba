package cmd

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/urfave/cli/v2"

	"github.com/lvsctl/lvsctl/internal/apply"
	"github.com/lvsctl/lvsctl/internal/health"
	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/internal/netns"
	"github.com/lvsctl/lvsctl/internal/reconcile"
	"github.com/lvsctl/lvsctl/kernel"
	"github.com/lvsctl/lvsctl/lvs"
)

func checkCommand(env Env) *cli.Command {
	return &cli.Command{
		Name:      "check",
		Usage:     "probe the real servers and keep the failing ones out of rotation",
		ArgsUsage: " ",
		Description: "check runs the health_check of every real server on its interval. A real server that fails\n" +
			"fall probes in a row is removed (or quiesced: weight 0); after rise passes it is back. A virtual\n" +
			"server with fewer than --quorum healthy real servers gets its sorry_server. check owns the table\n" +
			"while it runs: each change goes through plan → apply under the apply lock, as the operations it\n" +
			"needs, retried until it works; every --resync it reads the whole table and puts back what was\n" +
			"changed behind its back. The configuration is the file as it is on disk: a changed file is picked\n" +
			"up by itself, SIGHUP reads it at once, and an invalid one is refused (logged) and the running one\n" +
			"kept. Health is published (mode 0600) in --state-dir, where plan and apply read it. SIGTERM stops\n" +
			"and leaves the table as it is. With --netns the probes go out from that namespace. --once probes\n" +
			"everything once, applies and exits, for cron. --metrics serves Prometheus metrics. Do not run\n" +
			"check beside lvsctl pulse on one director: pulse checks the real servers itself.",
		Flags: append(append([]cli.Flag{
			fileFlag(env),
			netnsFlag(),
			&cli.BoolFlag{Name: "once", Usage: "probe every real server once, apply and exit"},
			stateDirFlag(&env),
			quorumFlag(),
			slowStartFlag(),
			&cli.DurationFlag{Name: "lock-timeout", Value: 0, Usage: "with --once, wait up to `DURATION` for another apply on the same namespace"},
			metricsFlag(),
		}, daemonFlags()...), directorFlags()...),
		Action: action(env, func(c *cli.Context) (work, error) {
			o, err := readCheckOptions(c, env.Stderr)
			if err != nil {
				return nil, err
			}
			return func(ctx context.Context) error { return runCheck(ctx, env, o) }, nil
		}),
	}
}

// checkOptions are check's flags, read and checked.
type checkOptions struct {
	directorOptions
	netns       string
	once        bool
	lockTimeout time.Duration
}

func readCheckOptions(c *cli.Context, stderr io.Writer) (checkOptions, error) {
	if c.NArg() > 0 {
		return checkOptions{}, usageError{fmt.Sprintf("check takes no arguments (got %q)", c.Args().First())}
	}
	log, err := newLogger(c, stderr)
	if err != nil {
		return checkOptions{}, err
	}
	pol, err := healthPolicy(c)
	if err != nil {
		return checkOptions{}, err
	}
	if c.Bool("once") && c.String("metrics") != "" {
		return checkOptions{}, usageError{"--metrics serves while check runs; --once exits after one round, so drop one of them"}
	}
	return checkOptions{
		directorOptions: readDirectorOptions(c, log, pol),
		netns:           c.String("netns"),
		once:            c.Bool("once"),
		lockTimeout:     c.Duration("lock-timeout"),
	}, nil
}

// runCheck runs check with o: one round with --once, else until ctx ends.
func runCheck(ctx context.Context, env Env, o checkOptions) error {
	if !o.once {
		ignoreSIGHUP()
	}
	k, err := openKernel(env, o.netns)
	if err != nil {
		return err
	}
	defer closeKernel(k)

	dir, id, err := stateFiles(env, o.netns)
	if err != nil {
		return err
	}
	r := &reconcile.Reconciler{
		Kernel: k, LockPath: dir.LockPath(id), LockInfo: commandLine(env),
		Source: configSource(env, o.file), Log: o.log, Resync: o.resync,
		Explain: loopbackExplainer(o.netns),
	}
	cfg, err := r.Start()
	if err != nil {
		return err
	}
	chk := newChecker(o.policy, dir.HealthPath(id), o.log)
	if o.netns != "" {
		// Probes go out from the director's namespace, where the
		// real servers are reachable, as they would from a check
		// started with "ip netns exec".
		nsPath, err := kernel.NetnsPath(o.netns)
		if err != nil {
			return err
		}
		chk.Probe = health.ProbeIn(func(f func() error) error { return netns.Do(nsPath, f) })
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if o.metrics != "" {
		stop, err := serveMetrics(ctx, o.metrics, chk, r, k, o.log, nil)
		if err != nil {
			return err
		}
		defer stop()
	}
	if err := chk.Load(cfg); err != nil {
		o.log.Warn("starting with every real server up", "error", err)
	}
	if o.once {
		return checkOnce(ctx, env, o, chk, k, cfg, dir.LockPath(id))
	}
	return checkUntilDone(ctx, env, o, chk, r, cfg)
}

// checkOnce probes every real server once and applies the table their
// health asks for, under the apply lock at lock: check --once.
func checkOnce(ctx context.Context, env Env, o checkOptions, chk *health.Checker, k apply.Kernel, cfg *model.Config, lock string) error {
	if err := checkOwner(env, o.netns, o.file); err != nil {
		return err
	}
	if err := chk.Once(ctx); err != nil {
		return err
	}
	states, quorums, pol := chk.Snapshot()
	err := applyHealth(ctx, o.log, k, health.Desired(cfg, states, quorums, pol, time.Now()), lock, o.lockTimeout, commandLine(env))
	return withLoopbackHint(err, o.netns, lookLoopback)
}

// checkUntilDone is check as a daemon: it owns the namespace's table, and
// r converges it to the health chk finds, until ctx ends.
func checkUntilDone(ctx context.Context, env Env, o checkOptions, chk *health.Checker, r *reconcile.Reconciler, cfg *model.Config) error {
	release, err := claimNamespace(env, o.netns, "check", o.file)
	if err != nil {
		return err
	}
	defer release()
	reload := healthEngine(chk, r)
	n := newNotifier(o.log)
	signals(ctx, r, n, o.log, nil)
	watchdog(ctx, r, n)
	go readyWhenConverged(ctx, r, n)
	chkDone := make(chan struct{})
	go func() { defer close(chkDone); _ = chk.Run(ctx, reload) }()
	o.log.Info("checking", "file", o.file, "real_servers", len(health.Targets(cfg)))
	err = r.Run(ctx, 0)
	n.Stopping()
	<-chkDone // its last publish of the health
	return err
}

// serveMetrics registers chk's and r's metrics, with the kernel's counters
// read from k at each scrape, and those that register adds (if not nil),
// and serves them on addr (see serveRegistry).
func serveMetrics(ctx context.Context, addr string, chk *health.Checker, r *reconcile.Reconciler, k apply.Kernel, log *slog.Logger, register func(prometheus.Registerer) error) (stop func(), err error) {
	reg := newRegistry()
	if register != nil {
		if err := register(reg); err != nil {
			return nil, err
		}
	}
	if chk.Metrics, err = health.NewMetrics(reg, k.Table, log); err != nil {
		return nil, err
	}
	if _, err := reconcile.NewMetrics(reg, r); err != nil {
		return nil, err
	}
	return serveRegistry(ctx, addr, reg, log)
}

// applyHealth makes the live table match desired the way apply does, under
// the same lock, and logs what changed.
func applyHealth(ctx context.Context, log *slog.Logger, k apply.Kernel, desired *lvs.Table, lock string, timeout time.Duration, info string) error {
	unlock, err := apply.Lock(lock, timeout, info)
	if err != nil {
		return err
	}
	defer unlock()
	rep, err := apply.Converge(ctx, k, desired, apply.ConvergeOptions{})
	if rep != nil {
		if a, ch, d := rep.Summary(); a+ch+d > 0 {
			log.Info("applied", "added", a, "changed", ch, "destroyed", d)
		}
	}
	return err
}
