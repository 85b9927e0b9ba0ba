package cmd

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/urfave/cli/v2"

	"github.com/lvsctl/lvsctl/internal/health"
	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/internal/pulse"
	"github.com/lvsctl/lvsctl/internal/reconcile"
)

func pulseCommand(env Env) *cli.Command {
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
			&cli.IntFlag{Name: "arp-count", Value: reconcile.DefaultARPCount, Usage: "send `N` gratuitous ARPs per VIP on takeover"},
			&cli.DurationFlag{Name: "arp-interval", Value: reconcile.DefaultARPInterval, Usage: "wait `DURATION` between two gratuitous ARPs"},
			statusFileFlag(),
			stateDirFlag(&env),
			quorumFlag(),
			slowStartFlag(),
			metricsFlag(),
		}, daemonFlags()...), directorFlags()...),
		Subcommands: []*cli.Command{pulseStatusCommand(env)},
		Action: action(env, func(c *cli.Context) (work, error) {
			o, err := readPulseOptions(c, env.Stderr)
			if err != nil {
				return nil, err
			}
			return func(ctx context.Context) error { return runPulse(ctx, env, o) }, nil
		}),
	}
}

func statusFileFlag() cli.Flag {
	return &cli.StringFlag{Name: "status-file", Value: pulse.DefaultStatusFile, Usage: "where pulse publishes its state (`FILE`)"}
}

func pulseStatusCommand(env Env) *cli.Command {
	return &cli.Command{
		Name:      "status",
		Usage:     "show this director's role, state, partner and last heartbeat",
		ArgsUsage: " ",
		Flags:     []cli.Flag{statusFileFlag()},
		Action: action(env, func(c *cli.Context) (work, error) {
			if c.NArg() > 0 {
				return nil, usageError{fmt.Sprintf("pulse status takes no arguments (got %q)", c.Args().First())}
			}
			path := c.String("status-file")
			return func(context.Context) error {
				sf, err := pulse.ReadStatus(path)
				if err != nil {
					return err
				}
				sf.Render(env.Stdout, time.Now())
				return nil
			}, nil
		}),
	}
}

// pulseOptions are pulse's flags, read and checked.
type pulseOptions struct {
	directorOptions
	node        pulse.Options // --role, --force-active, --key-file
	arpCount    int
	arpInterval time.Duration
	statusFile  string
}

func readPulseOptions(c *cli.Context, stderr io.Writer) (pulseOptions, error) {
	if c.NArg() > 0 {
		return pulseOptions{}, usageError{fmt.Sprintf("pulse takes no arguments (got %q); did you mean pulse status?", c.Args().First())}
	}
	node := pulse.Options{ForceActive: c.Bool("force-active"), KeyFile: c.String("key-file")}
	if r := c.String("role"); r != "" {
		role, err := pulse.ParseRole(r)
		if err != nil {
			return pulseOptions{}, usageError{err.Error()}
		}
		node.Role = role
	}
	if c.Int("arp-count") < 1 {
		return pulseOptions{}, usageError{"--arp-count must be at least 1"}
	}
	pol, err := healthPolicy(c)
	if err != nil {
		return pulseOptions{}, err
	}
	log, err := newLogger(c, stderr)
	if err != nil {
		return pulseOptions{}, err
	}
	return pulseOptions{
		directorOptions: readDirectorOptions(c, log, pol),
		node:            node,
		arpCount:        c.Int("arp-count"),
		arpInterval:     c.Duration("arp-interval"),
		statusFile:      c.String("status-file"),
	}, nil
}

// runPulse runs pulse with o until ctx ends: it sets the director up, runs
// it (see pulseRun), and leaves nothing its commands started behind.
func runPulse(ctx context.Context, env Env, o pulseOptions) error {
	ignoreSIGHUP()
	dir, id, err := stateFiles(env, "")
	if err != nil {
		return err
	}
	tag := commandTag(id)
	r := &reconcile.Reconciler{
		LockPath: dir.LockPath(id), LockInfo: commandLine(env),
		Source:   configSource(env, o.file),
		Failover: true, Addrs: reconcile.Netlink{},
		ARPCount: o.arpCount, ARPInterval: o.arpInterval,
		Command: commandRunner(tag), Log: o.log, Resync: o.resync,
		Explain: loopbackExplainer(""),
	}
	cfg, err := r.Start()
	if err != nil {
		return err
	}
	node, err := pulse.Setup(cfg, o.node)
	if err != nil {
		return err
	}
	release, err := claimNamespace(env, "", "pulse", o.file)
	if err != nil {
		return err
	}
	defer release()
	killLeftovers(tag, o.log)
	k, err := openKernel(env, "")
	if err != nil {
		return err
	}
	defer closeKernel(k)
	r.Kernel = k
	r.ActiveCmd, r.InactiveCmd = pulseCommands(cfg)
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
	chk := newChecker(o.policy, dir.HealthPath(id), o.log)
	reload := healthEngine(chk, r)
	var p *pulseRun
	inner := r.OnConfig
	r.OnConfig = func(cfg *model.Config) {
		inner(cfg)
		r.ActiveCmd, r.InactiveCmd = pulseCommands(cfg)
		warnPulseChanges(o.log, node, cfg, o.node)
		if p != nil {
			p.d.SetSettleMax(pulse.SettleMaxOf(cfg))
		}
	}
	p = &pulseRun{
		log: o.log, node: node, opts: o.node, r: r, chk: chk, reload: reload,
		d: &pulse.Daemon{
			Settings: node.Settings, Paths: paths, Codec: node.Codec(time.Now()), Director: r,
			Links: node.Links, StatusFile: o.statusFile, Log: slogWriter{o.log},
			Health: func() []pulse.ServerHealth { return serverHealth(chk.Progress()) },
		},
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if o.metrics != "" {
		stop, err := serveMetrics(ctx, o.metrics, chk, r, k, o.log, func(reg prometheus.Registerer) error {
			_, err := pulse.NewMetrics(reg, p.d)
			return err
		})
		if err != nil {
			return err
		}
		defer stop()
	}
	if err := chk.Load(cfg); err != nil {
		o.log.Warn("starting with every real server up", "error", err)
	}
	err = p.run(ctx)
	// Nothing a command started outlives pulse, even what left
	// its process group.
	killLeftovers(tag, o.log)
	return err
}

// pulseCommands are the configuration's active_cmd and inactive_cmd, as
// argv.
func pulseCommands(cfg *model.Config) (active, inactive []string) {
	return strings.Fields(cfg.Pulse.ActiveCmd), strings.Fields(cfg.Pulse.InactiveCmd)
}

// A pulseRun is a director set up by runPulse: the heartbeat daemon d, the
// reconciler r it drives, and check's engine chk, which feeds r the
// real servers' health and takes each configuration r accepts from reload.
type pulseRun struct {
	log    *slog.Logger
	node   *pulse.Node
	opts   pulse.Options
	d      *pulse.Daemon
	r      *reconcile.Reconciler
	chk    *health.Checker
	reload chan *model.Config
}

// run runs the director until ctx ends, then releases it: the VIPs and
// the table go before the last heartbeat tells the partner, which takes
// over at once.
func (p *pulseRun) run(ctx context.Context) error {
	log, r := p.log, p.r
	n := newNotifier(log)
	// r and chk outlive ctx: r releases the director after it.
	rctx, rcancel := context.WithCancel(context.WithoutCancel(ctx))
	defer rcancel()
	rdone := make(chan error, 1)
	go func() { rdone <- r.Run(rctx, releaseTimeout) }()
	chkDone := make(chan struct{})
	go func() { defer close(chkDone); _ = p.chk.Run(rctx, p.reload) }()
	defer func() { rcancel(); <-chkDone }() // its last publish of the health
	p.d.Release = func() {
		// The partner hears this node is standby only once its
		// VIPs and table are gone; inactive_cmd may run on after.
		n.Stopping()
		rcancel()
		<-r.Released()
	}
	signals(ctx, r, n, log, p.reloadKey)
	watchdog(ctx, r, n)
	go readyWhenConverged(ctx, r, n)
	s := p.node.Settings
	log.Info("pulse starting", "role", s.Role.String(), "keepalive", s.Keepalive, "deadtime", s.Deadtime, "peer", fmt.Sprint(p.node.Peer))
	err := p.d.Run(ctx)
	rcancel()
	if rerr := <-rdone; rerr != nil {
		log.Error("release incomplete", "error", rerr)
	}
	return err
}

// reloadKey reads the heartbeat key file again (SIGHUP); a key that cannot
// be read leaves the one in force.
func (p *pulseRun) reloadKey() {
	if key, err := p.node.ReloadKey(p.r.Config(), p.opts); err != nil {
		p.log.Error("heartbeat key not reloaded; keeping the one in force", "error", err)
	} else if key != nil {
		p.d.SetKey(key)
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
	// The health gate's bound follows the checks (SetSettleMax).
	n.Settings.SettleMax = node.Settings.SettleMax
	if n.Settings != node.Settings || n.Port != node.Port || fmt.Sprint(n.Self, n.Peer) != fmt.Sprint(node.Self, node.Peer) {
		log.Warn("the pulse block's addresses, port or timers changed: they take effect when pulse restarts; the virtual servers, VIPs, commands and health checks were reloaded")
	}
}

// serverHealth is the health engine's states as pulse's health gate reads
// them.
func serverHealth(states []health.Progress) []pulse.ServerHealth {
	out := make([]pulse.ServerHealth, len(states))
	for i, s := range states {
		out[i] = pulse.ServerHealth{Down: s.Down, Since: s.Since, Probed: s.Started, Pending: s.Pending()}
	}
	return out
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
