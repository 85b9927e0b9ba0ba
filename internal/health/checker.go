package health

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/netip"
	"sync"
	"time"

	"github.com/lvsctl/lvsctl/internal/model"
)

// DefaultConcurrency bounds the probes in flight at once, which bounds the
// file descriptors a checker of thousands of real servers holds.
const DefaultConcurrency = 512

// A Checker probes the real servers of a configuration and keeps their
// health. It only describes: whoever owns the table (the reconciler, or
// check --once) lays [Checker.Snapshot] over the configuration with
// [Desired] and converges, when Changed says so.
type Checker struct {
	Policy Policy
	// Changed, if set, is called (from Run's goroutine, and at the end of
	// Once) whenever the health changed in a way that may change the
	// table: a transition, a reload, a slow-start ramp step. It must not
	// block.
	Changed func()
	// StatePath is where the health state is published (0600); "" does
	// not publish.
	StatePath string
	Log       *slog.Logger
	// Probe runs one probe; nil means [Probe].
	Probe func(ctx context.Context, hc *model.HealthCheck, addr netip.AddrPort) error
	// Concurrency bounds the probes in flight; 0 means DefaultConcurrency.
	Concurrency int
	// Now reads the clock; nil means time.Now.
	Now func() time.Time
	// Metrics, when set, follows every probe, transition and reload.
	Metrics *Metrics

	// mu guards states against Snapshot and States from other goroutines;
	// only Load, Once and Run's goroutine change them.
	mu      sync.Mutex
	cfg     *model.Config
	targets []Target
	states  States
	quorums Quorums
	// started is when each real server's checks' last probes of this run
	// began, by check:
	// kept apart from States, which are published, because a state read
	// back from the file was probed by an earlier run.
	started map[Key][]time.Time
}

// Load sets the configuration and the health known from the published
// state file (or from before, on a reload): real servers whose key is
// unchanged keep their state; when their check changed, their counters
// restart but up or down stays as it was. It returns the state file error,
// if any, after which the checker starts with everyone up.
func (c *Checker) Load(cfg *model.Config) error {
	var err error
	old := c.targets
	prev, prevQ := c.states, c.quorums
	if c.cfg == nil && c.StatePath != "" {
		var f *StateFile
		f, err = ReadState(c.StatePath)
		prev, prevQ = f.States(Targets(cfg)), f.Quorums(cfg)
	}
	oldCheck := make(map[Key]*model.HealthCheck, len(old))
	for _, t := range old {
		oldCheck[t.Key] = t.Check
	}
	targets := Targets(cfg)
	states := make(States, len(targets))
	for _, t := range targets {
		s, ok := prev[t.Key]
		if !ok {
			if t.Check.StartsDown() {
				// keepalived's alpha: down until the probes say otherwise,
				// and, for a real server with several checks, until those
				// with alpha pass (the others start up).
				s := State{Down: true, Reason: "not probed yet (alpha)"}
				if more := t.Check.More; len(more) > 0 {
					for _, c := range t.Check.Checks() {
						s.Checks = append(s.Checks, CheckState{Down: c.Alpha})
					}
				}
				states[t.Key] = s
			}
			continue
		}
		if oc, had := oldCheck[t.Key]; had && !oc.Equal(t.Check) {
			// The checks start again from where the real server stands.
			s.Passes, s.Fails, s.Checks = 0, 0, nil
		}
		if !t.Check.SetsWeight() {
			s.Weight = nil // from a dynamic check this one no longer is
		}
		states[t.Key] = s
	}
	quorums := JudgeQuorums(cfg, states, prevQ)
	c.mu.Lock()
	started := make(map[Key][]time.Time, len(targets))
	for _, t := range targets {
		if at, ok := c.started[t.Key]; ok && len(at) == len(t.Check.Checks()) {
			started[t.Key] = at
		}
	}
	c.cfg, c.targets, c.states, c.quorums, c.started = cfg, targets, states, quorums, started
	c.mu.Unlock()
	if c.Metrics != nil {
		c.Metrics.load(cfg, c.targets, c.states)
	}
	return err
}

// States returns a copy of the current health.
func (c *Checker) States() States {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := make(States, len(c.states))
	for k, v := range c.states {
		st[k] = v
	}
	return st
}

// A Progress is one probed real server's state and when its last probe
// of this run began, the earliest of its checks' (zero: one has not
// probed yet; a state known from the state file was probed by an earlier
// run).
type Progress struct {
	State
	Started time.Time
}

// Progress returns every probed real server's, in table order; one
// neither probed yet nor known from the state file has the zero State (up).
// A failover daemon reads it to know whether its health view has settled.
func (c *Checker) Progress() []Progress {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Progress, len(c.targets))
	for i, t := range c.targets {
		out[i] = Progress{State: c.states[t.Key], Started: earliest(c.started[t.Key], len(t.Check.Checks()))}
	}
	return out
}

// earliest is the earliest of the n checks' last probe starts; zero when
// one has not probed yet.
func earliest(at []time.Time, n int) time.Time {
	if len(at) != n || n == 0 {
		return time.Time{}
	}
	e := at[0]
	for _, t := range at {
		if t.IsZero() {
			return time.Time{}
		}
		if t.Before(e) {
			e = t
		}
	}
	return e
}

// Quorums returns a copy of the quorums of the virtual servers that set
// one.
func (c *Checker) Quorums() Quorums {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.quorums)
}

// Snapshot returns a copy of the current health, the quorums, and the
// policy that lays them over the table.
func (c *Checker) Snapshot() (States, Quorums, Policy) { return c.States(), c.Quorums(), c.Policy }

func (c *Checker) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Checker) log() *slog.Logger {
	if c.Log != nil {
		return c.Log
	}
	return slog.New(slog.DiscardHandler)
}

type outcome struct {
	target Target
	check  int // which of the target's checks (see Target.Probe)
	result Result
	gen    int
}

// probe runs one probe of check i of t, bounded by sem.
func (c *Checker) probe(ctx context.Context, sem chan struct{}, t Target, i int) Result {
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return Result{Err: ctx.Err(), At: c.now()}
	}
	defer func() { <-sem }()
	p := c.Probe
	if p == nil {
		p = Probe
	}
	start, began := time.Now(), c.now()
	ctx, weight := withWeight(ctx)
	hc, addr := t.Probe(i)
	err := p(ctx, hc, addr)
	r := Result{Err: err, Latency: time.Since(start), At: c.now(), Start: began}
	if err == nil {
		r.Weight = weight()
	}
	return r
}

func (c *Checker) sem() chan struct{} {
	n := c.Concurrency
	if n <= 0 {
		n = DefaultConcurrency
	}
	return make(chan struct{}, n)
}

// record applies one result of check i of t, logs a transition (of the
// real server, its weight, its virtual server's quorum) and reports
// whether there was one.
func (c *Checker) record(t Target, i int, r Result) bool {
	c.mu.Lock()
	old := c.states[t.Key]
	s, tr := StepCheck(old, i, t.Check.Checks(), r)
	c.states[t.Key] = s
	if c.started == nil {
		c.started = make(map[Key][]time.Time)
	}
	if n := len(t.Check.Checks()); len(c.started[t.Key]) != n {
		c.started[t.Key] = make([]time.Time, n)
	}
	if i < len(c.started[t.Key]) {
		c.started[t.Key][i] = r.Start
	}
	reweighed := !s.Down && !SameWeight(old.Weight, s.Weight)
	var lost, regained bool
	if tr != nil || reweighed {
		if st := c.cfg.Settings(t.VS); st != nil && st.Quorum > 0 {
			was, known := c.quorums[t.Key.Service]
			now := JudgeQuorums(c.cfg, c.states, c.quorums)[t.Key.Service]
			if c.quorums == nil {
				c.quorums = Quorums{}
			}
			c.quorums[t.Key.Service] = now
			lost, regained = now && (!was || !known), !now && was && known
		}
	}
	c.mu.Unlock()
	if c.Metrics != nil {
		c.Metrics.observe(t, r, tr)
	}
	switch {
	case lost:
		c.log().Warn("virtual server lost its quorum", "virtual_server", t.VS)
	case regained:
		c.log().Info("virtual server regained its quorum", "virtual_server", t.VS)
	}
	if reweighed && tr == nil {
		w := "the configured one"
		if s.Weight != nil {
			w = fmt.Sprint(*s.Weight)
		}
		c.log().Info("real server weight", "virtual_server", t.VS, "real_server", t.Name, "address", t.Key.Dest.String(), "weight", w)
	}
	if tr == nil {
		return reweighed
	}
	attrs := []any{"virtual_server", t.VS, "real_server", t.Name, "address", t.Key.Dest.String(), "reason", tr.Reason}
	if tr.Up {
		c.log().Info("real server up", attrs...)
	} else {
		action := "removed"
		if t.Check.OnFailure == model.OnFailureQuiesce {
			action = "quiesced"
		}
		c.log().Warn("real server down", append(attrs, "action", action)...)
	}
	return true
}

// publish writes the state file, logging a failure: health keeps working
// without it.
func (c *Checker) publish() {
	if c.StatePath == "" {
		return
	}
	if err := WriteState(c.StatePath, NewStateFile(c.targets, c.States(), c.Quorums(), c.Policy, c.now())); err != nil {
		c.log().Error("cannot publish the health state", "path", c.StatePath, "error", err)
	}
}

func (c *Checker) changed() {
	if c.Changed != nil {
		c.Changed()
	}
}

// Once probes every real server once (each of its checks), at the same
// time (bounded by Concurrency), records the results, publishes the state and calls
// Changed. It is `check --once`, for cron: with fall or rise above 1 the
// counters carry over through the state file.
func (c *Checker) Once(ctx context.Context) error {
	sem := c.sem()
	results := make([][]Result, len(c.targets))
	var wg sync.WaitGroup
	for i, t := range c.targets {
		results[i] = make([]Result, t.Probes())
		for j := range results[i] {
			wg.Go(func() { results[i][j] = c.probe(ctx, sem, t, j) })
		}
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	for i, t := range c.targets {
		for j, r := range results[i] {
			c.record(t, j, r)
		}
	}
	c.publish()
	c.changed()
	return nil
}

// Run probes every real server, each of its checks on that check's
// interval, until ctx ends, each first
// after a random delay within its interval so that probes do not all fire
// at once. Each transition is logged, published and reported to Changed.
// A configuration received on reload replaces the current one (see
// [Checker.Load]). When ctx ends Run returns nil.
func (c *Checker) Run(ctx context.Context, reload <-chan *model.Config) error {
	results := make(chan outcome)
	sem := c.sem()
	gen := 0
	var stop context.CancelFunc
	var wg sync.WaitGroup
	start := func() {
		gen++
		var pctx context.Context
		pctx, stop = context.WithCancel(ctx)
		for _, t := range c.targets {
			for i := range t.Probes() {
				wg.Go(func() { c.loop(pctx, sem, t, i, gen, results) })
			}
		}
	}
	halt := func() {
		stop()
		// Drain results so loops blocked on sending can see the stop.
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		for {
			select {
			case <-results:
			case <-done:
				return
			}
		}
	}
	start()
	defer func() { halt() }()

	c.changed()
	publish := time.NewTicker(time.Second)
	defer publish.Stop()
	changed := false
	for {
		select {
		case <-ctx.Done():
			c.publish()
			return nil
		case cfg := <-reload:
			halt()
			_ = c.Load(cfg)
			c.log().Info("configuration reloaded", "real_servers", len(c.targets))
			c.publish()
			c.changed()
			start()
		case o := <-results:
			if o.gen != gen {
				continue
			}
			changed = true
			if c.record(o.target, o.check, o.result) {
				c.publish()
				changed = false
				c.changed()
			}
		case <-publish.C:
			if changed {
				c.publish()
				changed = false
			}
			if Ramping(c.States(), c.Policy, c.now()) {
				c.changed()
			}
		}
	}
}

// loop probes check i of t every interval (the check's own), after a
// random initial delay.
func (c *Checker) loop(ctx context.Context, sem chan struct{}, t Target, i, gen int, out chan<- outcome) {
	hc, _ := t.Probe(i)
	interval := hc.Interval
	if interval <= 0 {
		interval = model.DefaultCheckInterval
	}
	timer := time.NewTimer(rand.N(interval))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		r := c.probe(ctx, sem, t, i)
		if ctx.Err() != nil {
			return
		}
		select {
		case out <- outcome{t, i, r, gen}:
		case <-ctx.Done():
			return
		}
		timer.Reset(interval)
	}
}
