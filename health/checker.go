package health

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"sync"
	"time"

	"github.com/lvsctl/lvsctl/config"
	"github.com/lvsctl/lvsctl/lvs"
)

// DefaultConcurrency bounds the probes in flight at once, which bounds the
// file descriptors a checker of thousands of real servers holds.
const DefaultConcurrency = 512

// A Checker probes the real servers of a configuration, keeps their
// health and hands the resulting table to Apply whenever it changes.
type Checker struct {
	Policy Policy
	// Apply makes the live table match desired; the caller goes through
	// plan → apply under the apply lock. An error is logged and retried.
	Apply func(ctx context.Context, desired *lvs.Table) error
	// StatePath is where the health state is published (0600); "" does
	// not publish.
	StatePath string
	Log       *slog.Logger
	// Probe runs one probe; nil means [Probe].
	Probe func(ctx context.Context, hc *config.HealthCheck, addr netip.AddrPort) error
	// Concurrency bounds the probes in flight; 0 means DefaultConcurrency.
	Concurrency int
	// Now reads the clock; nil means time.Now.
	Now func() time.Time
	// Metrics, when set, follows every probe, transition and reload.
	Metrics *Metrics

	cfg     *config.Config
	targets []Target
	states  States
}

// Load sets the configuration and the health known from the published
// state file (or from before, on a reload): real servers whose key is
// unchanged keep their state; when their check changed, their counters
// restart but up or down stays as it was. It returns the state file error,
// if any, after which the checker starts with everyone up.
func (c *Checker) Load(cfg *config.Config) error {
	var err error
	old := c.targets
	prev := c.states
	if c.cfg == nil && c.StatePath != "" {
		var f *StateFile
		f, err = ReadState(c.StatePath)
		prev = f.States(Targets(cfg))
	}
	oldCheck := make(map[Key]*config.HealthCheck, len(old))
	for _, t := range old {
		oldCheck[t.Key] = t.Check
	}
	c.cfg, c.targets = cfg, Targets(cfg)
	c.states = make(States, len(c.targets))
	for _, t := range c.targets {
		s, ok := prev[t.Key]
		if !ok {
			continue
		}
		if oc, had := oldCheck[t.Key]; had && !reflect.DeepEqual(oc, t.Check) {
			s.Passes, s.Fails = 0, 0
		}
		c.states[t.Key] = s
	}
	if c.Metrics != nil {
		c.Metrics.load(cfg, c.targets, c.states)
	}
	return err
}

// States returns a copy of the current health.
func (c *Checker) States() States {
	st := make(States, len(c.states))
	for k, v := range c.states {
		st[k] = v
	}
	return st
}

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
	result Result
	gen    int
}

// probe runs one probe of t, bounded by sem.
func (c *Checker) probe(ctx context.Context, sem chan struct{}, t Target) Result {
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
	start := time.Now()
	err := p(ctx, t.Check, t.Addr)
	return Result{Err: err, Latency: time.Since(start), At: c.now()}
}

func (c *Checker) sem() chan struct{} {
	n := c.Concurrency
	if n <= 0 {
		n = DefaultConcurrency
	}
	return make(chan struct{}, n)
}

// record applies one result, logs a transition and reports whether there
// was one.
func (c *Checker) record(t Target, r Result) bool {
	s, tr := Step(c.states[t.Key], t.Check.Rise, t.Check.Fall, r)
	c.states[t.Key] = s
	if c.Metrics != nil {
		c.Metrics.observe(t, r, tr)
	}
	if tr == nil {
		return false
	}
	attrs := []any{"virtual_server", t.VS, "real_server", t.Name, "address", t.Key.Dest.String(), "reason", tr.Reason}
	if tr.Up {
		c.log().Info("real server up", attrs...)
	} else {
		action := "removed"
		if t.Check.OnFailure == config.OnFailureQuiesce {
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
	if err := WriteState(c.StatePath, NewStateFile(c.targets, c.states, c.Policy, c.now())); err != nil {
		c.log().Error("cannot publish the health state", "path", c.StatePath, "error", err)
	}
}

func (c *Checker) apply(ctx context.Context) error {
	if c.Apply == nil {
		return nil
	}
	err := c.Apply(ctx, Desired(c.cfg, c.states, c.Policy, c.now()))
	if err != nil && ctx.Err() == nil {
		c.log().Error("cannot apply the health state", "error", err)
	}
	return err
}

// Once probes every real server once, at the same time (bounded by
// Concurrency), records the results, publishes the state and applies the
// table. It is `check --once`, for cron: with fall or rise above 1 the
// counters carry over through the state file.
func (c *Checker) Once(ctx context.Context) error {
	sem := c.sem()
	results := make([]Result, len(c.targets))
	var wg sync.WaitGroup
	for i, t := range c.targets {
		wg.Go(func() { results[i] = c.probe(ctx, sem, t) })
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	for i, t := range c.targets {
		c.record(t, results[i])
	}
	c.publish()
	return c.apply(ctx)
}

// Run probes every real server on its interval until ctx ends, each first
// after a random delay within its interval so that probes do not all fire
// at once. Each transition is logged, published and applied; an apply that
// fails is retried every retry interval. A configuration received on
// reload replaces the current one (see [Checker.Load]). When ctx ends Run
// returns nil and leaves the table as it is.
func (c *Checker) Run(ctx context.Context, reload <-chan *config.Config) error {
	const retry = 5 * time.Second
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
			wg.Go(func() { c.loop(pctx, sem, t, gen, results) })
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

	dirty := c.apply(ctx) != nil
	publish := time.NewTicker(time.Second)
	defer publish.Stop()
	retryT := time.NewTicker(retry)
	defer retryT.Stop()
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
			dirty = c.apply(ctx) != nil
			start()
		case o := <-results:
			if o.gen != gen {
				continue
			}
			changed = true
			if c.record(o.target, o.result) {
				c.publish()
				changed = false
				dirty = c.apply(ctx) != nil
			}
		case <-publish.C:
			if changed {
				c.publish()
				changed = false
			}
			if Ramping(c.states, c.Policy, c.now()) {
				dirty = c.apply(ctx) != nil
			}
		case <-retryT.C:
			if dirty {
				dirty = c.apply(ctx) != nil
			}
		}
	}
}

// loop probes t every interval, after a random initial delay.
func (c *Checker) loop(ctx context.Context, sem chan struct{}, t Target, gen int, out chan<- outcome) {
	interval := t.Check.Interval
	if interval <= 0 {
		interval = config.DefaultCheckInterval
	}
	timer := time.NewTimer(rand.N(interval))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		r := c.probe(ctx, sem, t)
		if ctx.Err() != nil {
			return
		}
		select {
		case out <- outcome{t, r, gen}:
		case <-ctx.Done():
			return
		}
		timer.Reset(interval)
	}
}
