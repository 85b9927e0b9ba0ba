package cmd

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/lvsctl/lvsctl/apply"
	"github.com/lvsctl/lvsctl/config"
	"github.com/lvsctl/lvsctl/health"
	"github.com/lvsctl/lvsctl/kernel"
	"github.com/lvsctl/lvsctl/lvs"
	"github.com/lvsctl/lvsctl/realserver"
)

func checkCommand(env Env) *cli.Command {
	return &cli.Command{
		Name:      "check",
		Usage:     "probe the real servers and keep the failing ones out of rotation",
		ArgsUsage: " ",
		Description: "check runs the health_check of every real server on its interval. A real server that fails\n" +
			"fall probes in a row is removed (or quiesced: weight 0); after rise passes it is back. A virtual\n" +
			"server with fewer than --quorum healthy real servers gets its sorry_server. Every change goes\n" +
			"through plan and apply under the apply lock, and the health is published (mode 0600) in\n" +
			"--state-dir for the next run. SIGHUP re-reads the configuration, keeping the health of unchanged\n" +
			"real servers; SIGTERM stops and leaves the table as it is. With --netns the probes go out from\n" +
			"that namespace. --once probes everything once, applies and exits, for cron. --metrics serves\n" +
			"Prometheus metrics: health, weights, transitions, probe latency and the kernel's IPVS counters,\n" +
			"read at each scrape.",
		Flags: []cli.Flag{
			fileFlag(env),
			netnsFlag,
			&cli.BoolFlag{Name: "once", Usage: "probe every real server once, apply and exit"},
			stateDirFlag(&env),
			&cli.StringFlag{Name: "log-format", Value: "text", Usage: "log as `FORMAT`: text or json"},
			&cli.IntFlag{Name: "quorum", Value: 1, Usage: "add the sorry server while fewer than `N` real servers are healthy"},
			&cli.DurationFlag{Name: "slow-start", Usage: "ramp a returning real server's weight up over `DURATION`"},
			&cli.DurationFlag{Name: "lock-timeout", Value: 0, Usage: "wait up to `DURATION` for another apply on the same namespace"},
			&cli.StringFlag{Name: "metrics", Usage: "serve Prometheus metrics on `ADDR` (host:port), at /metrics"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageError{fmt.Sprintf("check takes no arguments (got %q)", c.Args().First())}
			}
			var h slog.Handler
			switch c.String("log-format") {
			case "text":
				h = slog.NewTextHandler(env.Stderr, nil)
			case "json":
				h = slog.NewJSONHandler(env.Stderr, nil)
			default:
				return usageError{fmt.Sprintf("--log-format is text or json, not %q", c.String("log-format"))}
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
			log := slog.New(h)
			path := c.String("file")
			cfg, err := loadConfig(env, path)
			if err != nil {
				return err
			}
			k, err := openKernel(c, env)
			if err != nil {
				return err
			}
			defer closeKernel(k)

			ns := c.String("netns")
			info := "check " + strings.Join(os.Args[1:], " ")
			chk := &health.Checker{
				Policy:    health.Policy{Quorum: c.Int("quorum"), SlowStart: c.Duration("slow-start")},
				StatePath: health.StatePath(c.String("state-dir"), ns),
				Log:       log,
				Apply: func(ctx context.Context, desired *lvs.Table) error {
					return applyHealth(ctx, log, k, desired, lockPath(env, ns), c.Duration("lock-timeout"), info)
				},
			}
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
				stop, err := serveMetrics(ctx, addr, chk, k, log)
				if err != nil {
					return err
				}
				defer stop()
			}
			if err := chk.Load(cfg); err != nil {
				log.Warn("starting with every real server up", "error", err)
			}
			if c.Bool("once") {
				return chk.Once(ctx)
			}

			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
			reload := make(chan *config.Config)
			go func() {
				for {
					select {
					case <-ctx.Done():
						return
					case <-hup:
					}
					cfg, err := loadConfig(env, path)
					if err != nil {
						log.Error("configuration not reloaded: it has errors (above); keeping the running one", "file", path)
						continue
					}
					select {
					case reload <- cfg:
					case <-ctx.Done():
						return
					}
				}
			}()
			log.Info("checking", "file", path, "real_servers", len(health.Targets(cfg)))
			return chk.Run(ctx, reload)
		},
	}
}

// serveMetrics registers chk's metrics, with the kernel's counters read
// from k at each scrape, and serves them on addr (see serveRegistry).
func serveMetrics(ctx context.Context, addr string, chk *health.Checker, k apply.Kernel, log *slog.Logger) (stop func(), err error) {
	reg := newRegistry()
	if chk.Metrics, err = health.NewMetrics(reg, k.Table, log); err != nil {
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
