// Package reconcile owns a director's IPVS table and floating addresses
// while a daemon runs. Its desired state is a pure function ([Compute]) of
// the configuration as it is on disk, the director's role (pulse), the real
// servers' health (check) and the time; events — a heartbeat, a probe
// result, SIGHUP, a changed file, a timer — only make it look again. It then
// converges the table through the one plan → apply path and the addresses,
// in the order that never shows a VIP without its table (table first, then
// addresses; on release, addresses first), and re-asserts until it gets
// there: a failure is retried with backoff, never dropped.
//
// Between converges it keeps its view of the kernel's table, so that a
// health transition costs the operations it needs and not a dump of the
// whole table; the view is read again after any error, whenever another
// lvsctl took the apply lock, and every Resync period, which is also how
// changes made behind its back (ipvsadm -D) are found and put back.
package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/lvsctl/lvsctl/internal/apply"
	"github.com/lvsctl/lvsctl/internal/health"
	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/internal/plan"
	"github.com/lvsctl/lvsctl/internal/pulse/vip"
	"github.com/lvsctl/lvsctl/lvs"
)

// Defaults.
const (
	DefaultResync      = 30 * time.Second
	DefaultARPCount    = 5 // piranha's send_arp: five times, a second apart
	DefaultARPInterval = time.Second
	DefaultCmdTimeout  = time.Minute
	// configPoll is how often the configuration's metadata is looked at.
	configPoll = time.Second
	// maxBackoff bounds the wait between two failed converges.
	maxBackoff = 5 * time.Second
	minBackoff = 100 * time.Millisecond
	// drainPoll is the wait between two looks at draining real servers.
	drainPoll = time.Second
	// cmdShutdownGrace is how long shutdown waits for the commands queued.
	cmdShutdownGrace = 10 * time.Second
)

// Addresses puts floating addresses on this node and announces them.
type Addresses interface {
	Add(vip.Address) error
	Del(vip.Address) error
	Announce(vip.Address) error
}

// Netlink is Addresses through package vip, in this process's namespace.
type Netlink struct{}

// Add adds a; an address already there is fine.
func (Netlink) Add(a vip.Address) error { return vip.Add(a) }

// Del removes a; an address already gone is fine.
func (Netlink) Del(a vip.Address) error { return vip.Del(a) }

// Announce sends one gratuitous ARP or unsolicited neighbour advertisement.
func (Netlink) Announce(a vip.Address) error { return vip.Announce(a) }

// A Syncer switches the kernel's IPVS connection sync daemon between
// master (active director) and backup (standby).
type Syncer interface {
	Sync(master bool) error
}

// Health is the source of the real servers' health: check's engine
// (*health.Checker).
type Health interface {
	// Snapshot returns the health and how it shapes the table.
	Snapshot() (health.States, health.Quorums, health.Policy)
}

// A Reconciler converges one director. Set the fields, then call Run; the
// Set and Reload methods may be called from any goroutine at any time.
type Reconciler struct {
	Kernel apply.Kernel
	// LockPath is the namespace's apply lock; LockInfo names this daemon
	// in it.
	LockPath, LockInfo string
	Source             *Source
	// Failover: the director of a pulse pair, holding table and addresses
	// only while active. Otherwise (check) the table is always held and
	// no address is touched.
	Failover bool
	Addrs    Addresses // Failover only
	Sync     Syncer    // nil: no connection sync
	Health   Health    // nil: every real server is up
	// ActiveCmd and InactiveCmd are argv (no shell), run by Command after
	// each change of role, never holding up the loop.
	ActiveCmd, InactiveCmd []string
	Command                func(ctx context.Context, argv []string) error
	// OnConfig is called from the loop with each configuration accepted
	// after the first, so that a front-end reloads its own parts.
	OnConfig func(*model.Config)
	// Explain, when set, adds to a converge error the cause it can find
	// outside the kernel's answer (a namespace's loopback down), before
	// the error is logged.
	Explain func(error) error
	Log     *slog.Logger
	// Resync is how often the whole table is read again (DefaultResync).
	Resync time.Duration
	// ARPCount announcements are sent ARPInterval apart after taking over.
	ARPCount    int
	ARPInterval time.Duration
	Now         func() time.Time

	mu         sync.Mutex
	cfg        *model.Config
	active     bool
	roleKnown  bool
	reannounce bool
	reload     bool // SIGHUP: look at the configuration even if it seems unchanged
	dirty      bool // an input changed since the last look (Kick)
	reloaded   []chan struct{}
	lastLook   time.Time
	kick       chan struct{}
	released   chan struct{}
	cmdRunning context.CancelFunc // kills the command running now; nil when none
	stats      Stats
	ready      chan struct{} // closed after the first converge that reached the goal
	readyOnce  sync.Once

	// The loop's own state.
	view       *lvs.Table
	viewAt     time.Time
	lockStamp  time.Time
	drainUntil time.Time
	// held is every floating address this node may hold: the configured
	// ones, also those of earlier configurations until released.
	held map[netip.Addr]vip.Address
	// holding and addrsOK are the state last carried out: the role
	// (commands and sync switch on changes of it) and whether every
	// address was seen in place since.
	holding, roleDone bool
	addrsOK           bool
	syncOK            bool
	// lastCfg, lastStates, lastQuorums and lastHolding are the inputs of
	// the last look that reached its goal; nil after a failure.
	lastCfg     *model.Config
	lastStates  health.States
	lastQuorums health.Quorums
	lastHolding bool
	// reached says the last look ended in the desired state; resyncing
	// that this look re-reads the table only because the resync period
	// passed: changes it then finds are drift.
	reached, resyncing bool
	lastErr            string
	lastErrAt          time.Time
	cmds               chan []string
	cmdCancel          context.CancelFunc
	cmdsDone           chan struct{}
	arpStop            context.CancelFunc
	arps               sync.WaitGroup
}

// Stats count what the reconciler did, for metrics and tests.
type Stats struct {
	Converges      uint64 // converges that reached the desired state
	Failures       uint64 // converges that did not
	Ops            uint64 // kernel operations done
	Applies        uint64 // plans applied to the IPVS table in full
	ApplyFailures  uint64 // plans whose apply failed (a kernel error)
	TableReads     uint64 // whole-table reads
	DriftRepairs   uint64 // resyncs that found the table changed behind lvsctl's back
	Reloads        uint64 // configurations accepted after the first
	ReloadsRefused uint64 // configurations refused (invalid, or deleting every service)
	LockBusy       uint64 // converges put off because another apply held the lock
	Partial        uint64 // looks that recomputed only the services whose health changed
	// Converged says the last look ended in the desired state.
	Converged bool
}

// Stats returns a copy of the counters.
func (r *Reconciler) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

// Start loads the configuration for the first time. It returns the
// loader's error as is, for the front-end to refuse to start.
func (r *Reconciler) Start() (*model.Config, error) {
	_, sum, err := r.Source.Changed(true)
	if err != nil {
		return nil, fmt.Errorf("cannot read the configuration: %w", err)
	}
	cfg, err := r.Source.Load(r.Source.Path)
	if err != nil {
		return nil, err
	}
	if len(cfg.Table.Services) == 0 {
		return nil, fmt.Errorf("%s has no virtual servers: a daemon would delete every service in the table; add the virtual servers (or stop the daemon and run lvsctl apply --allow-empty)", r.Source.Path)
	}
	r.Source.Mark(sum)
	r.mu.Lock()
	r.cfg = cfg
	r.mu.Unlock()
	return cfg, nil
}

// Config returns the configuration in force.
func (r *Reconciler) Config() *model.Config {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cfg
}

// SetActive sets the role of a Failover director. Until the first call
// the reconciler does nothing, so that a node that starts active (alone,
// or forced) never empties its table first.
func (r *Reconciler) SetActive(active bool) {
	r.mu.Lock()
	r.active, r.roleKnown = active, true
	r.mu.Unlock()
	r.Kick()
}

// Reannounce re-sends the gratuitous ARPs and re-runs active_cmd, if
// active.
func (r *Reconciler) Reannounce() {
	r.mu.Lock()
	r.reannounce = true
	r.mu.Unlock()
	r.Kick()
}

// Reload makes the next look read the configuration even if its files
// seem unchanged (SIGHUP). The channel is closed once it was read, taken
// or refused.
func (r *Reconciler) Reload() <-chan struct{} {
	done := make(chan struct{})
	r.mu.Lock()
	r.reload = true
	r.reloaded = append(r.reloaded, done)
	r.mu.Unlock()
	r.Kick()
	return done
}

// LastLook is when the loop last looked at the director, for a watchdog:
// it looks at least every second while it runs.
func (r *Reconciler) LastLook() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastLook
}

// Kick makes the loop look again soon: the health changed, for example.
func (r *Reconciler) Kick() {
	r.mu.Lock()
	if r.kick == nil {
		r.kick = make(chan struct{}, 1)
	}
	k := r.kick
	r.dirty = true
	r.mu.Unlock()
	select {
	case k <- struct{}{}:
	default:
	}
}

// Ready is closed once the director first reached its desired state.
func (r *Reconciler) Ready() <-chan struct{} { return r.readyCh() }

func (r *Reconciler) readyCh() chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ready == nil {
		r.ready = make(chan struct{})
	}
	return r.ready
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Reconciler) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.New(slog.DiscardHandler)
}

// Run converges until ctx ends. A Failover director then releases: its
// addresses first, then its table, then inactive_cmd; the release gets
// releaseTimeout of its own, since ctx has already ended. A check
// director leaves the table as it is. Start must have succeeded.
func (r *Reconciler) Run(ctx context.Context, releaseTimeout time.Duration) error {
	if r.Config() == nil {
		return errors.New("reconcile: Run before a successful Start")
	}
	r.Kick() // make the channel; the first look is at once
	r.mu.Lock()
	kick := r.kick
	r.mu.Unlock()
	r.held = map[netip.Addr]vip.Address{}
	if r.Failover {
		for _, a := range FloatingAddresses(r.Config()) {
			// What a crashed predecessor may have left: released unless
			// this node turns out active.
			r.held[a.Addr] = a
		}
	}
	r.cmds = make(chan []string, 64)
	r.cmdsDone = make(chan struct{})
	cmdCtx, cmdCancel := context.WithCancel(context.Background())
	r.cmdCancel = cmdCancel
	go r.runCommands(cmdCtx)

	timer := time.NewTimer(0)
	defer timer.Stop()
	failures := 0
	for {
		select {
		case <-ctx.Done():
			return r.shutdown(releaseTimeout)
		case <-kick:
		case <-timer.C:
		}
		wait, err := r.step(ctx)
		if ctx.Err() != nil {
			return r.shutdown(releaseTimeout)
		}
		if err != nil {
			failures++
			r.count(func(s *Stats) { s.Failures++ })
			r.report(err)
			backoff := min(minBackoff<<min(failures-1, 10), maxBackoff)
			wait = min(wait, backoff)
		} else {
			if failures > 0 || r.lastErr != "" {
				r.log().Info("director converged again", "after_failures", failures)
				r.lastErr = ""
			}
			failures = 0
		}
		timer.Reset(wait)
	}
}

// report logs a converge error: each new error at once, the same one again
// every 30 seconds, so that a lasting failure is never silent nor floods.
func (r *Reconciler) report(err error) {
	if r.Explain != nil {
		err = r.Explain(err)
	}
	msg := err.Error()
	now := r.now()
	if msg == r.lastErr && now.Sub(r.lastErrAt) < 30*time.Second {
		return
	}
	r.lastErr, r.lastErrAt = msg, now
	var le *apply.LockedError
	if errors.As(err, &le) {
		r.log().Warn("waiting for the apply lock to converge; retrying", "error", msg)
		return
	}
	r.log().Error("cannot converge the director; retrying", "error", msg)
}

// countApply counts an apply.Run and the operations it did.
func (r *Reconciler) countApply(rep *apply.Report, err error) {
	done := uint64(rep.Count(apply.Done))
	r.count(func(s *Stats) {
		s.Ops += done
		if err != nil {
			s.ApplyFailures++
		} else {
			s.Applies++
		}
	})
}

func (r *Reconciler) count(f func(*Stats)) {
	r.mu.Lock()
	f(&r.stats)
	r.mu.Unlock()
}

// step looks once: reloads the configuration if it changed, computes the
// desired state and converges to it. It returns when to look again at the
// latest.
func (r *Reconciler) step(ctx context.Context) (time.Duration, error) {
	now := r.now()
	// The period counts from the last whole-table read, whatever caused it.
	resyncDue := !r.viewAt.IsZero() && !now.Before(r.viewAt.Add(r.resync()))
	lockMoved := r.lockMoved()
	r.mu.Lock()
	force, reloaded, dirty := r.reload, r.reloaded, r.dirty
	r.reload, r.reloaded, r.dirty = false, nil, false
	r.lastLook = now
	r.mu.Unlock()
	// Look hard at the file (read and hash it) whenever the table may
	// have been changed by another lvsctl: an operator who edits the
	// daemon's file and applies it must find the daemon on the new file,
	// not reverting to the old one.
	reloadedCfg := r.loadConfig(force, force || lockMoved || resyncDue)
	for _, c := range reloaded {
		close(c)
	}
	next := min(configPoll, r.resync())
	if !dirty && !reloadedCfg && !resyncDue && !lockMoved && r.reached && r.drainUntil.IsZero() {
		// Nothing changed since the last look reached the goal: no need
		// to lay a large table out again.
		return next, nil
	}

	r.mu.Lock()
	in := Inputs{Config: r.cfg, Failover: r.Failover, Active: r.active, Now: now}
	known := r.roleKnown || !r.Failover
	reannounce := r.reannounce
	r.reannounce = false
	r.mu.Unlock()
	if !known {
		return next, nil
	}
	if r.Health != nil {
		in.Health, in.Quorums, in.Policy = r.Health.Snapshot()
		if health.Ramping(in.Health, in.Policy, now) {
			next = min(next, time.Second)
		}
	}
	if resyncDue || lockMoved {
		r.view = nil
	}
	// A health change alone recomputes only the services it touches:
	// laying 40,000 real servers out again costs a hundred times the one
	// kernel operation a transition needs.
	var want Desired
	changed := r.healthOnly(in)
	if changed != nil {
		want = Desired{Holding: true}
		if in.Failover {
			want.Addresses = FloatingAddresses(in.Config)
		}
	} else {
		want = Compute(in)
	}
	// Only a periodic re-read of a table that had reached its goal can
	// find drift: other re-reads follow an error, a reload or an apply.
	r.resyncing = resyncDue && !lockMoved && r.reached
	if resyncDue {
		// Addresses too are looked at again: someone may have removed one.
		r.addrsOK = false
	}
	var err error
	if want.Holding {
		err = r.hold(ctx, in, want, changed, reannounce)
	} else {
		err = r.release(ctx, want)
	}
	// What the next look compares the health with: only a look that
	// reached its goal from this configuration and role vouches for the
	// view of every service it did not touch.
	r.lastCfg, r.lastStates, r.lastQuorums, r.lastHolding = nil, nil, nil, false
	if err == nil {
		r.lastCfg, r.lastStates, r.lastQuorums, r.lastHolding = in.Config, in.Health, in.Quorums, want.Holding
	}
	if !r.drainUntil.IsZero() {
		next = min(next, drainPoll)
	}
	r.reached = err == nil
	r.count(func(s *Stats) { s.Converged = err == nil })
	if err == nil {
		r.count(func(s *Stats) { s.Converges++ })
		r.readyOnce.Do(func() { close(r.readyCh()) })
	}
	return next, err
}

func (r *Reconciler) resync() time.Duration {
	if r.Resync > 0 {
		return r.Resync
	}
	return DefaultResync
}

// loadConfig reloads the configuration when its files changed (deep: read
// them even if their metadata did not). A configuration that does not load,
// or that has no virtual server left, is refused: logged as one record with
// its diagnostics, counted, and the one in force kept.
func (r *Reconciler) loadConfig(force, deep bool) (accepted bool) {
	changed, sum, err := r.Source.Changed(deep)
	if err != nil {
		r.refuse(fmt.Errorf("cannot read it: %w", err), sum)
		return false
	}
	if !changed && !force {
		return false
	}
	cfg, err := r.Source.Load(r.Source.Path)
	if err == nil && len(cfg.Table.Services) == 0 {
		err = errors.New("it has no virtual servers: applying it would delete every service this daemon manages (to empty the table, stop the daemon and run lvsctl apply --allow-empty)")
	}
	if err != nil {
		r.refuse(err, sum)
		return false
	}
	r.Source.Mark(sum)
	if !changed {
		return false // SIGHUP of the same file
	}
	r.mu.Lock()
	r.cfg = cfg
	r.stats.Reloads++
	r.mu.Unlock()
	if r.Failover {
		for _, a := range FloatingAddresses(cfg) {
			r.held[a.Addr] = a
		}
	}
	// The desired table changed: re-reading the live one costs little next
	// to the reload, and keeps an operator's apply of this same file from
	// being seen as drift.
	r.view = nil
	r.addrsOK = false
	r.log().Info("configuration reloaded", "file", r.Source.Path, "virtual_servers", len(cfg.Table.Services))
	if r.OnConfig != nil {
		r.OnConfig(cfg)
	}
	return true
}

func (r *Reconciler) refuse(err error, sum [32]byte) {
	// Mark the refused version so that it is not reported every second;
	// the next change of the files is looked at again.
	r.Source.Mark(sum)
	r.count(func(s *Stats) { s.ReloadsRefused++ })
	r.log().Error("configuration not reloaded; keeping the one in force", "file", r.Source.Path, "error", oneLine(err.Error()))
}

// oneLine keeps a multi-line diagnostic in one log record's attribute
// readable: slog quotes it, so the newlines stay escaped.
func oneLine(s string) string { return strings.TrimRight(s, "\n") }

// hold converges an active (or check) director: the table first; only
// when it is in place, the addresses; then, on a change of role, the sync
// daemon, the announcements and active_cmd.
func (r *Reconciler) hold(ctx context.Context, in Inputs, want Desired, changed map[lvs.ServiceKey]bool, reannounce bool) error {
	var err error
	if changed != nil {
		err = r.services(ctx, in, changed)
	} else {
		err = r.table(ctx, want.Table, in.Config.DrainTimeout)
	}
	if err != nil {
		// Never a VIP without its table.
		return err
	}
	if !r.Failover {
		return nil
	}
	var errs []error
	desired := map[netip.Addr]bool{}
	for _, a := range want.Addresses {
		desired[a.Addr] = true
	}
	// Addresses of an earlier configuration go first.
	for ip, a := range r.held {
		if !desired[ip] {
			if err := r.Addrs.Del(a); err != nil {
				errs = append(errs, err)
				continue
			}
			delete(r.held, ip)
		}
	}
	if !r.addrsOK || !r.holding {
		ok := true
		for _, a := range want.Addresses {
			r.held[a.Addr] = a
			if err := r.Addrs.Add(a); err != nil {
				errs = append(errs, err)
				ok = false
			}
		}
		r.addrsOK = ok
	}
	first := !r.holding || !r.roleDone
	if first || reannounce {
		r.announce(want.Addresses)
	}
	if r.Sync != nil && (first || !r.syncOK) {
		err := r.Sync.Sync(true)
		r.syncOK = err == nil
		errs = append(errs, err)
	}
	if first || reannounce {
		r.enqueue(r.ActiveCmd, first)
	}
	if first {
		r.holding, r.roleDone = true, true
		r.log().Info("active: table and floating addresses in place", "addresses", len(want.Addresses))
	}
	return errors.Join(errs...)
}

// release converges a standby director: addresses first, then the table;
// then, on a change of role, the sync daemon and inactive_cmd.
func (r *Reconciler) release(ctx context.Context, want Desired) error {
	r.quiet()
	var errs []error
	if !r.Failover {
		return r.table(ctx, want.Table, 0)
	}
	if !r.addrsOK || r.holding || !r.roleDone {
		ok := true
		for ip, a := range r.held {
			if err := r.Addrs.Del(a); err != nil {
				errs = append(errs, err)
				ok = false
				continue
			}
			delete(r.held, ip)
		}
		r.addrsOK = ok
		if !ok {
			// The table stays while an address may still be here: a
			// VIP without its table drops every connection.
			return errors.Join(errs...)
		}
	}
	if err := r.table(ctx, want.Table, 0); err != nil {
		return err
	}
	first := r.holding || !r.roleDone
	if r.Sync != nil && (first || !r.syncOK) {
		err := r.Sync.Sync(false)
		r.syncOK = err == nil
		errs = append(errs, err)
	}
	if first {
		if r.holding {
			r.enqueue(r.InactiveCmd, true)
		}
		r.holding, r.roleDone = false, true
		r.log().Info("standby: floating addresses and table released")
	}
	return errors.Join(errs...)
}

// table converges the IPVS table to want through plan and apply, under the
// apply lock, from the view it keeps of the kernel.
func (r *Reconciler) table(ctx context.Context, want *lvs.Table, drain time.Duration) error {
	fresh := false
	if r.view == nil {
		if err := r.read(); err != nil {
			return err
		}
		fresh = true
	}
	resync := fresh && r.resyncing
	if err := r.readSysctls(want); err != nil {
		return err
	}
	p := r.plan(want, drain)
	if p.Empty() && len(p.Waiting) == 0 {
		r.drainUntil = time.Time{}
		return nil
	}
	if !fresh && r.lockMoved() {
		// Another lvsctl applied since this one last held the lock. (Its
		// own Lock writes the file too, so this is asked before.)
		if err := r.read(); err != nil {
			return err
		}
		if err := r.readSysctls(want); err != nil {
			return err
		}
		resync = false
		p = r.plan(want, drain)
		if p.Empty() && len(p.Waiting) == 0 {
			r.drainUntil = time.Time{}
			return nil
		}
	}
	unlock, err := apply.Lock(r.LockPath, 0, r.LockInfo)
	if err != nil {
		r.count(func(s *Stats) { s.LockBusy++ })
		return err
	}
	defer r.unlock(unlock)
	if resync && !p.Empty() {
		r.count(func(s *Stats) { s.DriftRepairs++ })
		a, c, d := summary(p)
		r.log().Warn("the IPVS table changed behind lvsctl's back; putting it back", "add", a, "change", c, "destroy", d)
	}
	rep, err := apply.Run(ctx, r.Kernel, p, apply.RunOptions{})
	r.countApply(rep, err)
	if a, c, d := rep.Summary(); a+c+d > 0 {
		r.log().Info("IPVS table changed", "added", a, "changed", c, "destroyed", d)
	}
	if err != nil {
		r.view = nil
		return fmt.Errorf("IPVS table: %w", err)
	}
	if len(p.Waiting) > 0 || hasDrain(p) {
		// Draining: the next look needs the connection counters.
		r.view = nil
		return nil
	}
	r.drainUntil = time.Time{}
	r.view = settled(r.view, want)
	return nil
}

// readSysctls reads into the view the kernel settings want owns (what
// its NAT needs, what the configuration names), at every converge: a
// few /proc/sys files, and a setting changed behind lvsctl's back is put
// back like a table edited by hand.
func (r *Reconciler) readSysctls(want *lvs.Table) error {
	if len(want.Sysctls) == 0 {
		r.view.Sysctls = nil
		return nil
	}
	ss, err := apply.ReadSysctls(r.Kernel, want.Sysctls)
	if err != nil {
		return err
	}
	r.view.Sysctls = ss
	return nil
}

// healthOnly returns the services whose real servers' health changed since
// the last look, when nothing else did: the same configuration, the same
// role, the view of the table kept, no drain and no slow start (whose
// weights move with time). nil means: compute the whole table.
func (r *Reconciler) healthOnly(in Inputs) map[lvs.ServiceKey]bool {
	if r.view == nil || in.Health == nil || r.lastStates == nil || in.Config != r.lastCfg ||
		!r.lastHolding || (in.Failover && !in.Active) || in.Policy.SlowStart > 0 ||
		in.Config.DrainTimeout > 0 || !r.drainUntil.IsZero() {
		return nil
	}
	changed := map[lvs.ServiceKey]bool{}
	for k, s := range in.Health {
		if last := r.lastStates[k]; s.Down != last.Down || !health.SameWeight(s.Weight, last.Weight) {
			changed[k.Service] = true
		}
	}
	for k, lost := range in.Quorums {
		if was, ok := r.lastQuorums[k]; !ok || was != lost {
			changed[k] = true
		}
	}
	for k, s := range r.lastStates {
		if _, ok := in.Health[k]; !ok && s.Down {
			changed[k.Service] = true
		}
	}
	return changed
}

// services converges the services in keys to what the health makes of
// them, from the view kept of the rest of the table: a plan of those
// services alone, under the apply lock.
func (r *Reconciler) services(ctx context.Context, in Inputs, keys map[lvs.ServiceKey]bool) error {
	r.count(func(s *Stats) { s.Partial++ })
	if len(keys) == 0 {
		return nil
	}
	want := &lvs.Table{Services: health.DesiredFor(in.Config, keys, in.Health, in.Quorums, in.Policy, in.Now), Ignore: in.Config.Table.Ignore}
	live := &lvs.Table{}
	for _, s := range want.Services {
		if v := r.view.Service(s.Key); v != nil {
			live.Services = append(live.Services, *v)
		}
	}
	p := plan.Diff(live, want, plan.Options{})
	if p.Empty() {
		return nil
	}
	if r.lockMoved() {
		// Another lvsctl applied since this one last held the lock: the
		// view is not to be trusted for the rest of the table either.
		r.view = nil
		return r.table(ctx, Compute(in).Table, in.Config.DrainTimeout)
	}
	unlock, err := apply.Lock(r.LockPath, 0, r.LockInfo)
	if err != nil {
		r.count(func(s *Stats) { s.LockBusy++ })
		return err
	}
	defer r.unlock(unlock)
	rep, err := apply.Run(ctx, r.Kernel, p, apply.RunOptions{})
	r.countApply(rep, err)
	if a, c, d := rep.Summary(); a+c+d > 0 {
		r.log().Info("IPVS table changed", "added", a, "changed", c, "destroyed", d)
	}
	if err != nil {
		r.view = nil
		return fmt.Errorf("IPVS table: %w", err)
	}
	for _, s := range want.Services {
		if v := r.view.Service(s.Key); v != nil {
			*v = s
		} else {
			r.view.Services = append(r.view.Services, s)
			r.view.Normalize()
		}
	}
	return nil
}

// plan diffs the view against want. With a drain timeout, real servers
// that go away drain first, until drainUntil; after it they are deleted.
func (r *Reconciler) plan(want *lvs.Table, drain time.Duration) plan.Plan {
	if drain <= 0 {
		r.drainUntil = time.Time{}
		return plan.Diff(r.view, want, plan.Options{})
	}
	p := plan.Diff(r.view, want, plan.Options{Drain: true})
	if len(p.Waiting) == 0 && !hasDrain(p) {
		r.drainUntil = time.Time{}
		return p
	}
	now := r.now()
	if r.drainUntil.IsZero() {
		r.drainUntil = now.Add(drain)
	}
	if !now.Before(r.drainUntil) {
		return plan.Diff(r.view, want, plan.Options{})
	}
	return p
}

func hasDrain(p plan.Plan) bool {
	for _, op := range p.Ops {
		if op.Action == plan.DrainDest {
			return true
		}
	}
	return false
}

func summary(p plan.Plan) (add, change, destroy int) {
	for _, op := range p.Ops {
		switch op.Action {
		case plan.AddService, plan.AddDest:
			add++
		case plan.DeleteService, plan.DeleteDest:
			destroy++
		default:
			change++
		}
	}
	return
}

func (r *Reconciler) read() error {
	t, err := r.Kernel.Table()
	if err != nil {
		r.view = nil
		return fmt.Errorf("cannot read the IPVS table: %w", err)
	}
	r.count(func(s *Stats) { s.TableReads++ })
	r.view, r.viewAt = t, r.now()
	return nil
}

// unlock releases the apply lock and remembers the lock file's time, by
// which the next converge knows whether another lvsctl took it since.
func (r *Reconciler) unlock(unlock func() error) {
	if err := unlock(); err != nil {
		r.log().Warn("cannot release the apply lock", "error", err)
	}
	r.lockStamp = r.lockTime()
}

// lockMoved reports whether another process may have applied since this
// reconciler last released the lock: the lock file's time changed (every
// lock and unlock writes it).
func (r *Reconciler) lockMoved() bool {
	return !r.lockTime().Equal(r.lockStamp)
}

func (r *Reconciler) lockTime() time.Time {
	fi, err := os.Stat(r.LockPath)
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime()
}

// announce sends the first round of gratuitous ARPs at once and the rest
// in the background.
func (r *Reconciler) announce(addrs []vip.Address) {
	r.quiet()
	if len(addrs) == 0 || r.Addrs == nil {
		return
	}
	n := r.ARPCount
	if n <= 0 {
		n = DefaultARPCount
	}
	every := r.ARPInterval
	if every <= 0 {
		every = DefaultARPInterval
	}
	round := func() {
		for _, a := range addrs {
			if err := r.Addrs.Announce(a); err != nil {
				r.log().Warn("cannot announce a floating address", "address", a.String(), "error", err)
			}
		}
	}
	round()
	ctx, cancel := context.WithCancel(context.Background())
	r.arpStop = cancel
	r.arps.Add(1)
	go func() {
		defer r.arps.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for i := 1; i < n; i++ {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				round()
			}
		}
	}()
}

// quiet stops the announcements in flight.
func (r *Reconciler) quiet() {
	if r.arpStop != nil {
		r.arpStop()
		r.arpStop = nil
	}
	r.arps.Wait()
}

// enqueue runs argv after the commands queued before it, without waiting.
func (r *Reconciler) enqueue(argv []string, roleChange bool) {
	if roleChange {
		// Commands of the role this node just left — queued (a
		// re-announcement's active_cmd behind a stuck one) or still
		// running — speak for a role it no longer has: drop and kill
		// them, so that this role's command runs now.
		for drained := false; !drained; {
			select {
			case old := <-r.cmds:
				r.log().Warn("command dropped: the role it was for has ended", "command", strings.Join(old, " "))
			default:
				drained = true
			}
		}
		r.mu.Lock()
		if r.cmdRunning != nil {
			r.cmdRunning()
		}
		r.mu.Unlock()
	}
	if len(argv) == 0 || r.Command == nil {
		return
	}
	select {
	case r.cmds <- argv:
	default:
		r.log().Error("command not run: too many commands queued (each is stuck until its time limit)", "command", strings.Join(argv, " "))
	}
}

func (r *Reconciler) runCommands(ctx context.Context) {
	defer close(r.cmdsDone)
	for argv := range r.cmds {
		// The command's own time limit bounds it; ctx is not the
		// daemon's, so that inactive_cmd still runs at shutdown.
		cctx, cancel := context.WithCancel(ctx)
		r.mu.Lock()
		r.cmdRunning = cancel
		r.mu.Unlock()
		err := r.Command(cctx, argv)
		r.mu.Lock()
		r.cmdRunning = nil
		r.mu.Unlock()
		cancel()
		if err != nil {
			r.log().Error("command failed", "command", strings.Join(argv, " "), "error", err)
		} else {
			r.log().Info("command ran", "command", strings.Join(argv, " "))
		}
	}
}

// Released is closed once a Failover director, at the end of Run, has
// released its addresses and table (or given up trying): the moment to
// tell the partner. Run itself returns later, once inactive_cmd ran.
func (r *Reconciler) Released() <-chan struct{} { return r.releasedCh() }

func (r *Reconciler) releasedCh() chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.released == nil {
		r.released = make(chan struct{})
	}
	return r.released
}

// shutdown ends Run: a Failover director releases, within timeout; the
// queued commands finish (each within its own time limit).
func (r *Reconciler) shutdown(timeout time.Duration) error {
	var err error
	if r.Failover {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		r.mu.Lock()
		r.active, r.roleKnown = false, true
		cfg := r.cfg
		r.mu.Unlock()
		r.addrsOK = false
		want := Compute(Inputs{Config: cfg, Failover: true})
		for {
			if err = r.release(ctx, want); err == nil || ctx.Err() != nil {
				break
			}
			// The lock may be busy for a moment: keep trying until the
			// timeout, addresses are already gone.
			select {
			case <-ctx.Done():
			case <-time.After(minBackoff):
			}
		}
		if err != nil {
			r.log().Error("release incomplete at shutdown", "error", err)
		}
	}
	r.quiet()
	close(r.releasedCh())
	close(r.cmds)
	// inactive_cmd gets a while to finish; then its process group is
	// killed, so that a stuck one never holds the shutdown up.
	select {
	case <-r.cmdsDone:
	case <-time.After(cmdShutdownGrace):
		r.log().Warn("commands still running at shutdown: killing them", "after", cmdShutdownGrace)
		r.cmdCancel()
		<-r.cmdsDone
	}
	r.cmdCancel()
	return err
}
