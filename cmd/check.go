package cmd

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/lvsctl/lvsctl/apply"
	"github.com/lvsctl/lvsctl/health"
	"github.com/lvsctl/lvsctl/kernel"
	"github.com/lvsctl/lvsctl/lvs"
	"github.com/lvsctl/lvsctl/realserver"
	"github.com/lvsctl/lvsctl/reconcile"
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
			netnsFlag,
			&cli.BoolFlag{Name: "once", Usage: "probe every real server once, apply and exit"},
			stateDirFlag(&env),
			&cli.IntFlag{Name: "quorum", Value: 1, Usage: "add the sorry server while fewer than `N` real servers are healthy"},
			&cli.DurationFlag{Name: "slow-start", Usage: "ramp a returning real server's weight up over `DURATION`"},
			&cli.DurationFlag{Name: "lock-timeout", Value: 0, Usage: "with --once, wait up to `DURATION` for another apply on the same namespace"},
			&cli.StringFlag{Name: "metrics", Usage: "serve Prometheus metrics on `ADDR` (host:port), at /metrics"},
		}, daemonFlags()...), directorFlags()...),
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageError{fmt.Sprintf("check takes no arguments (got %q)", c.Args().First())}
			}
			log, err := newLogger(c, env.Stderr)
			if err != nil {
				return err
			}
			if c.Int("quorum") < 1 {
				return usageError{fmt.Sprintf("--quorum must be at least 1 (got %d)", c.Int("quorum"))}
			}
			if c.Duration("slow-start") < 0 {
				return usageError{"--slow-start must not be negative"}
			}
			if c.Bool("once") && c.String("metrics") != "" {
				return usageError{"--metrics serves while check runs; --once exits after one round, so drop one of them"}
			}
			path := c.String("file")
			if !c.Bool("once") {
				ignoreSIGHUP()
			}
			k, err := openKernel(c, env)
			if err != nil {
				return err
			}
			defer closeKernel(k)

			ns := c.String("netns")
			dir, id, err := stateFiles(env, ns)
			if err != nil {
				return err
			}
			r := &reconcile.Reconciler{
				Kernel: k, LockPath: dir.LockPath(id), LockInfo: daemonInfo(),
				Source: configSource(env, path), Log: log, Resync: c.Duration("resync"),
			}
			cfg, err := r.Start()
			if err != nil {
				return err
			}
			chk := newChecker(c, dir.HealthPath(id), log)
			if ns != "" {
				// Probes go out from the director's namespace, where the
				// real servers are reachable, as they would from a check
				// started with "ip netns exec".
				nsPath, err := kernel.NetnsPath(ns)
				if err != nil {
					return err
				}
				chk.Probe = health.ProbeIn(func(f func() error) error { return realserver.InNetns(nsPath, f) })
			}
			ctx, cancel := context.WithCancel(c.Context)
			defer cancel()
			if addr := c.String("metrics"); addr != "" {
				stop, err := serveMetrics(ctx, addr, chk, r, k, log)
				if err != nil {
					return err
				}
				defer stop()
			}
			if err := chk.Load(cfg); err != nil {
				log.Warn("starting with every real server up", "error", err)
			}
			if c.Bool("once") {
				if err := checkOwner(env, ns, path); err != nil {
					return err
				}
				if err := chk.Once(ctx); err != nil {
					return err
				}
				states, pol := chk.Snapshot()
				return applyHealth(ctx, log, k, health.Desired(cfg, states, pol, time.Now()), dir.LockPath(id), c.Duration("lock-timeout"), daemonInfo())
			}

			release, err := claimNamespace(env, ns, "check", path)
			if err != nil {
				return err
			}
			defer release()
			reload := healthEngine(chk, r)
			n := newNotifier(log)
			signals(ctx, r, n, log, nil)
			watchdog(ctx, r, n)
			go func() {
				select {
				case <-r.Ready():
					n.Ready()
				case <-ctx.Done():
				}
			}()
			chkDone := make(chan struct{})
			go func() { defer close(chkDone); _ = chk.Run(ctx, reload) }()
			log.Info("checking", "file", path, "real_servers", len(health.Targets(cfg)))
			err = r.Run(ctx, 0)
			n.Stopping()
			<-chkDone // its last publish of the health
			return err
		},
	}
}

// serveMetrics registers chk's and r's metrics, with the kernel's counters
// read from k at each scrape, and serves them on addr (see serveRegistry).
func serveMetrics(ctx context.Context, addr string, chk *health.Checker, r *reconcile.Reconciler, k apply.Kernel, log *slog.Logger) (stop func(), err error) {
	reg := newRegistry()
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
