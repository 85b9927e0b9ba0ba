// Package transition measures what one health transition costs a
// [reconcile.Reconciler] that owns a large table: the time from the health
// source saying a real server is down (or up again) to the kernel's answer to
// the change, and the kernel operations and whole-table reads it took.
//
// Both the in-VM section of bench (real kernel, package kernel) and the
// host-side Go benchmark of package reconcile (applytest's in-memory kernel)
// drive the reconciler through [Run], so that the two measure the same thing.
package transition

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/netip"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lvsctl/lvsctl/internal/apply"
	"github.com/lvsctl/lvsctl/internal/health"
	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/internal/plan"
	"github.com/lvsctl/lvsctl/internal/reconcile"
	"github.com/lvsctl/lvsctl/internal/source/config"
	"github.com/lvsctl/lvsctl/kernel"
	"github.com/lvsctl/lvsctl/lvs"
)

// HCL returns t as lvsctl convert writes it (config.Write of
// model.FromTable) with a health_check { type = "tcp" } in every
// virtual_server block, so that health applies to every real server.
func HCL(t *lvs.Table) ([]byte, error) {
	var b bytes.Buffer
	if err := config.Write(&b, model.FromTable(t), nil); err != nil {
		return nil, err
	}
	out := vsLine.ReplaceAll(b.Bytes(), []byte("$0  health_check {\n    type = \"tcp\"\n  }\n"))
	if n := len(vsLine.FindAllIndex(b.Bytes(), -1)); n != len(t.Services) {
		return nil, fmt.Errorf("found %d virtual_server blocks in the written configuration, want %d", n, len(t.Services))
	}
	return out, nil
}

var vsLine = regexp.MustCompile(`(?m)^virtual_server "[^"]*" \{\n`)

// Load is config.Load as a reconcile.Source loader.
func Load(path string) (*model.Config, error) {
	cfg, _, diags := config.Load(path)
	if diags.HasErrors() {
		return nil, diags
	}
	return cfg, nil
}

// Health is a reconcile.Health that holds a state for every real server
// the configuration probes, as check's engine does after its first round,
// and hands out a copy of them all on each Snapshot, as
// (*health.Checker).Snapshot does.
type Health struct {
	mu sync.Mutex
	st health.States
}

// NewHealth returns every target of cfg up.
func NewHealth(cfg *model.Config) *Health {
	h := &Health{st: health.States{}}
	for _, t := range health.Targets(cfg) {
		h.st[t.Key] = health.State{Passes: 1}
	}
	return h
}

// Set marks k down or up, as a transition of check's engine does.
func (h *Health) Set(k health.Key, down bool, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := health.State{Down: down, Since: now, Probed: now}
	if down {
		st.Fails, st.Reason = 1, "connection refused"
	} else {
		st.Passes = 1
	}
	h.st[k] = st
}

// Len is how many real servers have a state.
func (h *Health) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.st)
}

// Snapshot implements reconcile.Health.
func (h *Health) Snapshot() (health.States, health.Quorums, health.Policy) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return maps.Clone(h.st), nil, health.Policy{}
}

// Counter wraps an apply.Kernel and counts what goes through it: whole-table
// reads and kernel operations (each mutating method, and each op of a
// Batch, is one netlink request to the production kernel). It timestamps
// the end of each mutating call: the kernel has acknowledged the change.
type Counter struct {
	k     apply.Kernel
	reads atomic.Int64
	ops   atomic.Int64
	calls atomic.Int64 // mutating calls: a Batch is one call of len(ops) operations
	mu    sync.Mutex
	last  Call
	done  chan struct{}
}

// Call is the last mutating call: when it started and when the kernel's
// answer came back.
type Call struct {
	Start, End time.Time
	Ops        int
}

// Wrap returns k wrapped, and its counter. When k is an apply.Batcher (the
// production kernel), so is the wrapper, so that apply.Run takes the same
// path through it as without it.
func Wrap(k apply.Kernel) (apply.Kernel, *Counter) {
	c := &Counter{k: k, done: make(chan struct{}, 1)}
	if b, ok := k.(apply.Batcher); ok {
		return batcher{c, b}, c
	}
	return c, c
}

// Reads is the number of whole-table reads so far.
func (c *Counter) Reads() int64 { return c.reads.Load() }

// Ops is the number of kernel operations so far.
func (c *Counter) Ops() int64 { return c.ops.Load() }

// Calls is the number of mutating calls so far.
func (c *Counter) Calls() int64 { return c.calls.Load() }

// Done receives after each mutating call (at most one pending).
func (c *Counter) Done() <-chan struct{} { return c.done }

// Last returns the last mutating call.
func (c *Counter) Last() Call {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

func (c *Counter) mut(n int, f func() error) error {
	start := time.Now()
	err := f()
	end := time.Now()
	c.ops.Add(int64(n))
	c.calls.Add(1)
	c.mu.Lock()
	c.last = Call{Start: start, End: end, Ops: n}
	c.mu.Unlock()
	select {
	case c.done <- struct{}{}:
	default:
	}
	return err
}

// Table implements apply.Kernel.
func (c *Counter) Table() (*lvs.Table, error) {
	c.reads.Add(1)
	return c.k.Table()
}

// AddService implements apply.Kernel.
func (c *Counter) AddService(s lvs.Service) error {
	return c.mut(1, func() error { return c.k.AddService(s) })
}

// EditService implements apply.Kernel.
func (c *Counter) EditService(s lvs.Service) error {
	return c.mut(1, func() error { return c.k.EditService(s) })
}

// DeleteService implements apply.Kernel.
func (c *Counter) DeleteService(k lvs.ServiceKey) error {
	return c.mut(1, func() error { return c.k.DeleteService(k) })
}

// AddDest implements apply.Kernel.
func (c *Counter) AddDest(k lvs.ServiceKey, d lvs.Dest) error {
	return c.mut(1, func() error { return c.k.AddDest(k, d) })
}

// EditDest implements apply.Kernel.
func (c *Counter) EditDest(k lvs.ServiceKey, d lvs.Dest) error {
	return c.mut(1, func() error { return c.k.EditDest(k, d) })
}

// DeleteDest implements apply.Kernel.
func (c *Counter) DeleteDest(k lvs.ServiceKey, addr netip.AddrPort) error {
	return c.mut(1, func() error { return c.k.DeleteDest(k, addr) })
}

// SetTimeouts implements apply.Kernel.
func (c *Counter) SetTimeouts(t lvs.Timeouts) error {
	return c.mut(1, func() error { return c.k.SetTimeouts(t) })
}

// Sysctl implements apply.Kernel.
func (c *Counter) Sysctl(name string) (string, error) { return c.k.Sysctl(name) }

// SetSysctl implements apply.Kernel.
func (c *Counter) SetSysctl(name, value string) error {
	return c.mut(1, func() error { return c.k.SetSysctl(name, value) })
}

type batcher struct {
	*Counter
	b apply.Batcher
}

// Batch implements apply.Batcher.
func (b batcher) Batch(cs []kernel.Change) []error {
	var errs []error
	_ = b.mut(len(cs), func() error { errs = b.b.Batch(cs); return nil })
	return errs
}

// NoopPlan reads the whole table through k and diffs it against want, as
// lvsctl plan does once the configuration is parsed, and returns the time
// of each part; the plan must be empty.
func NoopPlan(k apply.Kernel, want *lvs.Table) (read, diff time.Duration, err error) {
	start := time.Now()
	live, err := k.Table()
	if err != nil {
		return 0, 0, err
	}
	read = time.Since(start)
	start = time.Now()
	p := plan.Diff(live, want, plan.Options{})
	diff = time.Since(start)
	if !p.Empty() {
		return read, diff, fmt.Errorf("the no-op plan has %d operations", len(p.Ops))
	}
	return read, diff, nil
}

// Parts are the in-memory steps of one converge of the reconciler after a
// health transition, timed one by one outside it (the reconciler has no
// clock of its own inside a step): what a transition costs besides the
// kernel call.
type Parts struct {
	Snapshot time.Duration // the health source's copy of every state
	Compute  time.Duration // reconcile.Compute: the configuration's table with health laid over it
	Diff     time.Duration // plan.Diff of the kept view against it
	Settle   time.Duration // a copy of the desired table, normalized: what the reconciler keeps as its view (its settled())
}

// Time times the parts of a converge in which key goes down, from view
// (the table the reconciler keeps), and puts key back up in h.
func Time(cfg *model.Config, h *Health, view *lvs.Table, key health.Key) (Parts, error) {
	var p Parts
	now := time.Now()
	h.Set(key, true, now)
	defer h.Set(key, false, time.Now())
	start := time.Now()
	st, q, pol := h.Snapshot()
	p.Snapshot = time.Since(start)
	start = time.Now()
	want := reconcile.Compute(reconcile.Inputs{Config: cfg, Health: st, Quorums: q, Policy: pol, Now: now})
	p.Compute = time.Since(start)
	start = time.Now()
	pl := plan.Diff(view, want.Table, plan.Options{})
	p.Diff = time.Since(start)
	start = time.Now()
	c := want.Table.Clone()
	c.Normalize()
	p.Settle = time.Since(start)
	if len(pl.Ops) != 1 {
		return p, fmt.Errorf("the plan of one real server down has %d operations", len(pl.Ops))
	}
	return p, nil
}

// A Result is one transition.
type Result struct {
	Key  health.Key
	Down bool
	// Latency runs from the health source's change (and the Kick that
	// check's engine sends with it) to the kernel's acknowledgement of the
	// mutating call.
	Latency time.Duration
	// Kernel is the time inside that call (the netlink round trip).
	Kernel time.Duration
	// Ops, Calls and Reads are what went through the kernel from this
	// transition to the next one (the reconciler's periodic looks in
	// between included); StatsOps and StatsReads are the reconciler's own
	// count of the same.
	Ops, Calls, Reads    int64
	StatsOps, StatsReads uint64
}

// Options drive [Run].
type Options struct {
	// Keys are the real servers to take down and bring back, in turn:
	// transition i is Keys[i/2], down when i is even, up when odd.
	Keys []health.Key
	// N is the number of transitions.
	N int
	// Pause is the least wait after a transition has converged and before
	// the next one; PauseJitter adds up to that much at random, so that
	// the transitions fall at random points of the reconciler's 1-second
	// look.
	Pause, PauseJitter time.Duration
	// Timeout bounds the wait for one transition.
	Timeout time.Duration
	// Verify, when set, is called after each transition, outside the
	// timing, to check that the kernel has the change.
	Verify func(k health.Key, down bool) error
}

// Run makes o.N transitions through h and r, whose Kernel is wrapped by c,
// and returns each. r must be running and converged.
func Run(ctx context.Context, r *reconcile.Reconciler, h *Health, c *Counter, o Options) ([]Result, error) {
	if o.Timeout == 0 {
		o.Timeout = time.Minute
	}
	var out []Result
	pause := func() {
		d := o.Pause
		if o.PauseJitter > 0 {
			d += rand.N(o.PauseJitter)
		}
		time.Sleep(d)
	}
	pause()
	for i := range o.N {
		k := o.Keys[(i/2)%len(o.Keys)]
		down := i%2 == 0
		st0 := r.Stats()
		ops0, calls0, reads0 := c.Ops(), c.Calls(), c.Reads()
		select {
		case <-c.Done(): // drop a stale signal
		default:
		}
		start := time.Now()
		h.Set(k, down, start)
		r.Kick() // as check's engine does on a transition (Checker.Changed)
		deadline := time.NewTimer(o.Timeout)
		select {
		case <-c.Done():
		case <-deadline.C:
			return out, fmt.Errorf("transition %d (%s down=%v): no kernel operation within %s", i+1, k, down, o.Timeout)
		case <-ctx.Done():
			return out, ctx.Err()
		}
		deadline.Stop()
		call := c.Last()
		res := Result{Key: k, Down: down, Latency: call.End.Sub(start), Kernel: call.End.Sub(call.Start)}
		// Wait for the reconciler to count the converge, then let its step
		// finish before the next transition.
		for {
			s := r.Stats()
			if s.Failures > st0.Failures {
				return out, fmt.Errorf("transition %d (%s down=%v): the converge failed", i+1, k, down)
			}
			if s.Ops > st0.Ops && s.Converges > st0.Converges {
				break
			}
			if time.Since(start) > o.Timeout {
				return out, fmt.Errorf("transition %d (%s down=%v): the converge was not counted within %s", i+1, k, down, o.Timeout)
			}
			time.Sleep(time.Millisecond)
		}
		if o.Verify != nil {
			if err := o.Verify(k, down); err != nil {
				return out, fmt.Errorf("transition %d (%s down=%v): %w", i+1, k, down, err)
			}
		}
		pause()
		st := r.Stats()
		res.Ops, res.Calls, res.Reads = c.Ops()-ops0, c.Calls()-calls0, c.Reads()-reads0
		res.StatsOps, res.StatsReads = st.Ops-st0.Ops, st.TableReads-st0.TableReads
		out = append(out, res)
	}
	return out, nil
}

// Keys picks n real servers of t spread over the table: service
// len/2 + 131·i (mod len), real server i mod its count.
func Keys(t *lvs.Table, n int) []health.Key {
	var ks []health.Key
	for i := range n {
		s := t.Services[(len(t.Services)/2+131*i)%len(t.Services)]
		d := s.Dests[i%len(s.Dests)]
		ks = append(ks, health.Key{Service: s.Key, Dest: d.Addr})
	}
	return ks
}

// Summary is the median and the maximum of a list of durations.
type Summary struct {
	Median, Max time.Duration
}

// Summarize returns the median and the maximum of ds.
func Summarize(ds []time.Duration) Summary {
	if len(ds) == 0 {
		return Summary{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return Summary{Median: m, Max: s[len(s)-1]}
}

// ErrNotOne is returned by [Check] when a transition was not exactly one
// kernel operation without a table read.
var ErrNotOne = errors.New("a health transition was not exactly one kernel operation without a whole-table read")

// Check returns ErrNotOne, with the first offending transition, unless every
// result is one operation in one call and no read, by both counts.
func Check(rs []Result) error {
	for i, r := range rs {
		if r.Ops != 1 || r.Calls != 1 || r.Reads != 0 || r.StatsOps != 1 || r.StatsReads != 0 {
			return fmt.Errorf("%w: transition %d (%s down=%v): %d operations in %d calls, %d reads (the reconciler counts %d operations, %d reads)",
				ErrNotOne, i+1, r.Key, r.Down, r.Ops, r.Calls, r.Reads, r.StatsOps, r.StatsReads)
		}
	}
	return nil
}
