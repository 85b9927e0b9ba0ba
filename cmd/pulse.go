package cmd

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/lvsctl/lvsctl/health"
	"github.com/lvsctl/lvsctl/model"
	"github.com/lvsctl/lvsctl/pulse"
	"github.com/lvsctl/lvsctl/reconcile"
)

func pulseCommand(env Env) *cli.Command {
	statusFlag := &cli.StringFlag{Name: "status-file", Value: pulse.DefaultStatusFile, Usage: "where pulse publishes its state (`FILE`)"}
	return &cli.Command{
		Name:  "pulse",
		Usage: "fail a pair of directors over: heartbeats, VIP takeover, gratuitous ARP",
		Description: "Run on both directors with the same configuration. The node whose address is the pulse block's\n" +
			"primary (or backup) takes that role; the active node holds the VIPs and the IPVS table, the standby\n" +
			"one an empty table. A node starts standby and first removes the VIPs and the table a crashed run may\n" +
			"have left. Taking over, the table goes in before the VIPs; releasing, the VIPs go first. The real\n" +
			"servers' health_checks run as with lvsctl check (state file in --state-dir), and every change goes\n" +
			"through plan → apply under the apply lock, retried until it works. SIGHUP re-reads the configuration\n" +
			"and the key file (an invalid file is refused and the running one kept); a changed file is also\n" +
			"picked up by itself. SIGTERM releases the VIPs, then tells the partner. Do not run lvsctl check on\n" +
			"the same director: pulse checks the real servers itself. --metrics serves Prometheus metrics.",
		ArgsUsage: " ",
		Flags: append(append([]cli.Flag{
			fileFlag(env),
			&cli.StringFlag{Name: "role", Usage: "`primary` or backup, instead of finding it from the local addresses"},
			&cli.BoolFlag{Name: "force-active", Usage: "start active, as piranha's pulse --forceactive"},
			&cli.StringFlag{Name: "key-file", Usage: "heartbeat HMAC key `FILE` (default: the configuration's, /etc/lvsctl/pulse.key)"},
			&cli.IntFlag{Name: "arp-count", Value: reconcile.DefaultARPCount, Usage: "gratuitous ARPs sent per VIP on takeover"},
			&cli.DurationFlag{Name: "arp-interval", Value: reconcile.DefaultARPInterval, Usage: "between two gratuitous ARPs"},
			statusFlag,
			stateDirFlag(&env),
			&cli.IntFlag{Name: "quorum", Value: 1, Usage: "add the sorry server while fewer than `N` real servers are healthy"},
			&cli.DurationFlag{Name: "slow-start", Usage: "ramp a returning real server's weight up over `DURATION`"},
			&cli.StringFlag{Name: "metrics", Usage: "serve Prometheus metrics on `ADDR` (host:port), at /metrics"},
		}, daemonFlags()...), directorFlags()...),
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
			log, err := newLogger(c, env.Stderr)
			if err != nil {
				return err
			}
			ignoreSIGHUP()
			dir, id, err := stateFiles(env, "")
			if err != nil {
				return err
			}
			r := &reconcile.Reconciler{
				LockPath: dir.LockPath(id), LockInfo: daemonInfo(),
				Source:   configSource(env, c.String("file")),
				Failover: true, Addrs: reconcile.Netlink{},
				ARPCount: c.Int("arp-count"), ARPInterval: c.Duration("arp-interval"),
				Command: commandRunner(commandTag(id)), Log: log, Resync: c.Duration("resync"),
			}
			cfg, err := r.Start()
			if err != nil {
				return err
			}
			node, err := pulse.Setup(cfg, opts)
			if err != nil {
				return err
			}
			release, err := claimNamespace(env, "", "pulse", c.String("file"))
			if err != nil {
				return err
			}
			defer release()
			killLeftovers(commandTag(id), log)
			k, err := openKernel(c, env)
			if err != nil {
				return err
			}
			defer closeKernel(k)
			r.Kernel = k
			r.ActiveCmd, r.InactiveCmd = strings.Fields(cfg.Pulse.ActiveCmd), strings.Fields(cfg.Pulse.InactiveCmd)
			// The reconciler switches the sync daemon with the role:
			// backup from the start on a standby node, so that it already
			// holds the active node's connections when it takes over.
			if r.Sync, err = reconcile.NewSyncDaemon(k, cfg.Pulse.SyncDaemon); err != nil {
				return err
			}
			paths, err := node.Listen()
			if err != nil {
				return err
			}
			// check's engine runs on both nodes, so that the table a node
			// takes over with already leaves the down real servers out.
			chk := newChecker(c, dir.HealthPath(id), log)
			reload := healthEngine(chk, r)
			inner := r.OnConfig
			r.OnConfig = func(cfg *model.Config) {
				inner(cfg)
				r.ActiveCmd, r.InactiveCmd = strings.Fields(cfg.Pulse.ActiveCmd), strings.Fields(cfg.Pulse.InactiveCmd)
				warnPulseChanges(log, node, cfg, opts)
			}
			d := &pulse.Daemon{
				Settings: node.Settings, Paths: paths, Codec: node.Codec(time.Now()), Director: r,
				Links: node.Links, StatusFile: c.String("status-file"), Log: slogWriter{log},
			}
			ctx, cancel := context.WithCancel(c.Context)
			defer cancel()
			if addr := c.String("metrics"); addr != "" {
				reg := newRegistry()
				if _, err := pulse.NewMetrics(reg, d); err != nil {
					return err
				}
				if chk.Metrics, err = health.NewMetrics(reg, k.Table, log); err != nil {
					return err
				}
				if _, err := reconcile.NewMetrics(reg, r); err != nil {
					return err
				}
				if _, err := serveRegistry(ctx, addr, reg, log); err != nil {
					return err
				}
			}
			if err := chk.Load(cfg); err != nil {
				log.Warn("starting with every real server up", "error", err)
			}
			n := newNotifier(log)
			rctx, rcancel := context.WithCancel(context.WithoutCancel(ctx))
			defer rcancel()
			rdone := make(chan error, 1)
			go func() { rdone <- r.Run(rctx, releaseTimeout) }()
			chkDone := make(chan struct{})
			go func() { defer close(chkDone); _ = chk.Run(rctx, reload) }()
			defer func() { rcancel(); <-chkDone }() // its last publish of the health
			d.Release = func() {
				// The partner hears this node is standby only once its
				// VIPs and table are gone; inactive_cmd may run on after.
				n.Stopping()
				rcancel()
				<-r.Released()
			}
			signals(ctx, r, n, log, func() {
				if key, err := node.ReloadKey(r.Config(), opts); err != nil {
					log.Error("heartbeat key not reloaded; keeping the one in force", "error", err)
				} else if key != nil {
					d.SetKey(key)
				}
			})
			watchdog(ctx, r, n)
			go func() {
				select {
				case <-r.Ready():
					n.Ready()
				case <-ctx.Done():
				}
			}()
			log.Info("pulse starting", "role", node.Settings.Role.String(), "keepalive", node.Settings.Keepalive, "deadtime", node.Settings.Deadtime, "peer", fmt.Sprint(node.Peer))
			err = d.Run(ctx)
			rcancel()
			if rerr := <-rdone; rerr != nil {
				log.Error("release incomplete", "error", rerr)
			}
			// Nothing a command started outlives pulse, even what left
			// its process group.
			killLeftovers(commandTag(id), log)
			return err
		},
	}
}

// warnPulseChanges says which changes of the pulse block a reload does not
// carry out: the heartbeat paths and timers are fixed for a run.
func warnPulseChanges(log *slog.Logger, node *pulse.Node, cfg *model.Config, opts pulse.Options) {
	n, err := pulse.Setup(cfg, opts)
	if err != nil {
		log.Warn("the new pulse block does not work for this node; it takes effect only at restart, which would refuse it", "error", err)
		return
	}
	if n.Settings != node.Settings || n.Port != node.Port || fmt.Sprint(n.Self, n.Peer) != fmt.Sprint(node.Self, node.Peer) {
		log.Warn("the pulse block's addresses, port or timers changed: they take effect when pulse restarts; the virtual servers, VIPs, commands and health checks were reloaded")
	}
}

// slogWriter turns the pulse daemon's log lines into slog records, one
// each.
type slogWriter struct{ log *slog.Logger }

func (w slogWriter) Write(b []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		w.log.Info(strings.TrimPrefix(line, "pulse: "))
	}
	return len(b), nil
}
