package cmd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/lvsctl/lvsctl/health"
	"github.com/lvsctl/lvsctl/kernel"
	"github.com/lvsctl/lvsctl/pulse"
)

func pulseCommand(env Env) *cli.Command {
	statusFlag := &cli.StringFlag{Name: "status-file", Value: pulse.DefaultStatusFile, Usage: "where pulse publishes its state (`FILE`)"}
	return &cli.Command{
		Name:  "pulse",
		Usage: "fail a pair of directors over: heartbeats, VIP takeover, gratuitous ARP",
		Description: "Run on both directors with the same configuration. The node whose address is the pulse block's\n" +
			"primary (or backup) takes that role; the active node holds the VIPs and the IPVS table, the standby\n" +
			"one an empty table. SIGTERM on the active node releases the VIPs. While active, the real servers'\n" +
			"health_checks run as with lvsctl check (same state file in --state-dir, same plan → apply path\n" +
			"under the apply lock); on standby they stop. --metrics serves Prometheus metrics: role and state,\n" +
			"partner heartbeat age, heartbeats by outcome, transitions, and check's health and IPVS metrics.",
		ArgsUsage: " ",
		Flags: []cli.Flag{
			fileFlag(env),
			&cli.StringFlag{Name: "role", Usage: "`primary` or backup, instead of finding it from the local addresses"},
			&cli.BoolFlag{Name: "force-active", Usage: "start active, as piranha's pulse --forceactive"},
			&cli.StringFlag{Name: "key-file", Usage: "heartbeat HMAC key `FILE` (default: the configuration's, /etc/lvsctl/pulse.key)"},
			&cli.IntFlag{Name: "arp-count", Value: pulse.DefaultARPCount, Usage: "gratuitous ARPs sent per VIP on takeover"},
			&cli.DurationFlag{Name: "arp-interval", Value: pulse.DefaultARPInterval, Usage: "between two gratuitous ARPs"},
			statusFlag,
			stateDirFlag(&env),
			&cli.IntFlag{Name: "quorum", Value: 1, Usage: "add the sorry server while fewer than `N` real servers are healthy"},
			&cli.DurationFlag{Name: "slow-start", Usage: "ramp a returning real server's weight up over `DURATION`"},
			&cli.StringFlag{Name: "metrics", Usage: "serve Prometheus metrics on `ADDR` (host:port), at /metrics"},
		},
		Subcommands: []*cli.Command{{
			Name:      "status",
			Usage:     "show this director's role, state, partner and last heartbeat",
			ArgsUsage: " ",
			Flags:     []cli.Flag{statusFlag},
			Action: func(c *cli.Context) error {
				if c.NArg() > 0 {
					return usageError{fmt.Sprintf("pulse status takes no arguments (got %q)", c.Args().First())}
				}
				sf, err := pulse.ReadStatus(c.String("status-file"))
				if err != nil {
					return err
				}
				sf.Render(env.Stdout, time.Now())
				return nil
			},
		}},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageError{fmt.Sprintf("pulse takes no arguments (got %q); did you mean pulse status?", c.Args().First())}
			}
			opts := pulse.Options{ForceActive: c.Bool("force-active"), KeyFile: c.String("key-file")}
			if r := c.String("role"); r != "" {
				role, err := pulse.ParseRole(r)
				if err != nil {
					return usageError{err.Error()}
				}
				opts.Role = role
			}
			if c.Int("arp-count") < 1 {
				return usageError{"--arp-count must be at least 1"}
			}
			if c.Int("quorum") < 1 {
				return usageError{fmt.Sprintf("--quorum must be at least 1 (got %d)", c.Int("quorum"))}
			}
			if c.Duration("slow-start") < 0 {
				return usageError{"--slow-start must not be negative"}
			}
			cfg, err := loadConfig(env, c.String("file"))
			if err != nil {
				return err
			}
			node, err := pulse.Setup(cfg, opts)
			if err != nil {
				return err
			}
			paths, err := node.Listen()
			if err != nil {
				return err
			}
			k, err := openKernel(c, env)
			if err != nil {
				return err
			}
			defer closeKernel(k)
			t := &pulse.Takeover{
				VIPs: node.VIPs, Addrs: pulse.Netlink{},
				ARPCount: c.Int("arp-count"), ARPInterval: c.Duration("arp-interval"),
				Kernel: k, LockPath: lockPath(env, ""), Full: node.Full, Empty: node.Empty,
				DrainTimeout: cfg.DrainTimeout,
				ActiveCmd:    strings.Fields(cfg.Pulse.ActiveCmd), InactiveCmd: strings.Fields(cfg.Pulse.InactiveCmd),
				Log: env.Stderr,
			}
			if sd := cfg.Pulse.SyncDaemon; sd != nil {
				ks, ok := k.(daemonKernel)
				if !ok {
					return errors.New("sync_daemon is configured but this kernel adapter cannot run the IPVS sync daemon")
				}
				s := syncDaemon{k: ks, cfg: kernel.DaemonConfig{Interface: sd.Interface, SyncID: sd.ID}}
				// Every node starts standby, and only a transition switches
				// the sync daemon: run the backup daemon now, so that a node
				// that has never been active already holds the active node's
				// connections when it takes over.
				if err := s.Sync(false); err != nil {
					return err
				}
				t.Sync = s
			}
			d := &pulse.Daemon{
				Settings: node.Settings, Paths: paths, Codec: node.Codec(time.Now()), Director: t,
				Links: node.Links, StatusFile: c.String("status-file"), Log: env.Stderr,
			}
			log := slog.New(slog.NewTextHandler(env.Stderr, nil))
			if len(health.Targets(cfg)) > 0 {
				// check's engine, which Takeover runs only while active;
				// its state file is check's, so plan and apply honour it.
				t.Health = &health.Checker{
					Policy:    health.Policy{Quorum: c.Int("quorum"), SlowStart: c.Duration("slow-start")},
					StatePath: health.StatePath(c.String("state-dir"), ""),
					Log:       log,
				}
				t.Config = cfg
			}
			ctx, cancel := context.WithCancel(c.Context)
			defer cancel()
			if addr := c.String("metrics"); addr != "" {
				reg := newRegistry()
				if _, err := pulse.NewMetrics(reg, d); err != nil {
					return err
				}
				if t.Health != nil {
					if t.Health.Metrics, err = health.NewMetrics(reg, k.Table, log); err != nil {
						return err
					}
				}
				if _, err := serveRegistry(ctx, addr, reg, log); err != nil {
					return err
				}
			}
			if t.Health != nil {
				if err := t.Health.Load(cfg); err != nil {
					log.Warn("starting with every real server up", "error", err)
				}
			}
			fmt.Fprintf(env.Stderr, "pulse: %s director, heartbeats every %s to %v, deadtime %s\n", node.Settings.Role, node.Settings.Keepalive, node.Peer, node.Settings.Deadtime)
			return d.Run(ctx)
		},
	}
}

// daemonKernel is the part of the kernel adapter that runs sync daemons.
type daemonKernel interface {
	StartDaemon(kernel.DaemonConfig) error
	StopDaemon(kernel.DaemonState) error
}

// syncDaemon switches the IPVS sync daemon between master and backup.
type syncDaemon struct {
	k   daemonKernel
	cfg kernel.DaemonConfig
}

func (s syncDaemon) Sync(master bool) error {
	want, other := kernel.DaemonBackup, kernel.DaemonMaster
	if master {
		want, other = other, want
	}
	if err := s.k.StopDaemon(other); err != nil && !errors.Is(err, syscall.ESRCH) && !errors.Is(err, syscall.ENOENT) {
		return fmt.Errorf("stopping the %s sync daemon: %w", stateName(other), err)
	}
	c := s.cfg
	c.State = want
	if err := s.k.StartDaemon(c); err != nil && !errors.Is(err, syscall.EEXIST) {
		return fmt.Errorf("starting the %s sync daemon on %s: %w", stateName(want), c.Interface, err)
	}
	return nil
}

func stateName(s kernel.DaemonState) string {
	if s == kernel.DaemonMaster {
		return "master"
	}
	return "backup"
}
