package apply

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lvsctl/lvsctl/internal/plan"
	"github.com/lvsctl/lvsctl/lvs"
)

// ErrStale is returned by [ApplySaved] when the live table no longer is the
// one the saved plan was made against.
var ErrStale = errors.New("saved plan is stale: the IPVS table changed since the plan was made; run plan again")

// DefaultPoll is how often a drain re-reads the connection counters.
const DefaultPoll = time.Second

// ConvergeOptions change how [Converge] and [ApplySaved] work.
type ConvergeOptions struct {
	// DrainTimeout is how long real servers that go away may keep their
	// connections at weight 0 before they are deleted anyway. Zero deletes
	// them at once. [ApplySaved] uses the plan file's instead.
	DrainTimeout time.Duration
	// Poll is the wait between two looks at draining real servers;
	// zero means DefaultPoll.
	Poll time.Duration
	// Progress, if set, is called with each plan before it runs.
	Progress func(plan.Plan)
	// Run is passed to each [Run].
	Run RunOptions
}

// Converge changes the live table to desired. Without a drain timeout it
// plans once and runs the plan. With one, removals are plans run in
// sequence rather than sleeps inside a run: it plans with drain (weight 0
// for TCP, SCTP and fwmark real servers that go away; UDP ones are deleted
// at once) and runs that; then, while real servers are still draining and
// the timeout has not passed, it waits opts.Poll, re-reads the table and
// runs a new drain plan, which deletes those whose connections reached
// zero; at the deadline it plans without drain, deleting the rest.
//
// The report covers every plan run. Cancelling ctx stops between two
// operations or during a wait, leaving draining real servers at weight 0
// for the next apply to finish.
func Converge(ctx context.Context, k Kernel, desired *lvs.Table, opts ConvergeOptions) (*Report, error) {
	deadline := time.Now().Add(opts.DrainTimeout)
	live, err := k.Table()
	if err != nil {
		return nil, fmt.Errorf("cannot read the IPVS table: %w", err)
	}
	p := plan.Diff(live, desired, plan.Options{Drain: opts.DrainTimeout > 0})
	rep := &Report{}
	return rep, drainLoop(ctx, k, desired, p, opts.DrainTimeout > 0, deadline, opts, rep)
}

// ApplySaved runs a saved plan: it checks that the live table still has the
// fingerprint the plan was made against (else [ErrStale], and nothing is
// changed), runs the recorded operations verbatim, and then, if the plan
// drains real servers (f.DrainTimeout > 0), goes on as [Converge] does
// towards the recorded desired table until the drain ends or times out.
func ApplySaved(ctx context.Context, k Kernel, f *plan.File, opts ConvergeOptions) (*Report, error) {
	deadline := time.Now().Add(f.DrainTimeout)
	live, err := ReadLive(k, f)
	if err != nil {
		return nil, err
	}
	if !f.Matches(live) {
		return nil, ErrStale
	}
	draining := f.DrainTimeout > 0 && f.Desired != nil
	rep := &Report{}
	return rep, drainLoop(ctx, k, f.Desired, f.Plan, draining, deadline, opts, rep)
}

// ReadLive reads the live table as f was planned against it: with the
// kernel settings of f's desired table when f read them
// ([plan.File.SysctlsRead]), so that its fingerprint can be compared.
func ReadLive(k Kernel, f *plan.File) (*lvs.Table, error) {
	live, err := k.Table()
	if err != nil {
		return nil, fmt.Errorf("cannot read the IPVS table: %w", err)
	}
	if f.SysctlsRead && f.Desired != nil {
		if live.Sysctls, err = ReadSysctls(k, f.Desired.Sysctls); err != nil {
			return nil, err
		}
	}
	return live, nil
}

// drainLoop runs p and, while draining, the plans that follow it, adding
// each run to rep.
func drainLoop(ctx context.Context, k Kernel, desired *lvs.Table, p plan.Plan, draining bool, deadline time.Time, opts ConvergeOptions, rep *Report) error {
	poll := opts.Poll
	if poll <= 0 {
		poll = DefaultPoll
	}
	for round := 1; ; round++ {
		if opts.Progress != nil {
			opts.Progress(p)
		}
		before := len(rep.Ops)
		r, err := Run(ctx, k, p, opts.Run)
		rep.append(r)
		rep.Waiting = p.Waiting
		if err != nil {
			return cumulative(err, before)
		}
		if !draining || !drains(p) {
			rep.Waiting = nil
			return nil
		}
		// Right after the first drain there is nothing to wait for yet:
		// re-plan at once, so that idle real servers go without delay.
		if len(p.Waiting) > 0 || round > 1 {
			if wait := min(poll, time.Until(deadline)); wait > 0 {
				t := time.NewTimer(wait)
				select {
				case <-ctx.Done():
					t.Stop()
					rep.Interrupted = true
					return &InterruptedError{Done: len(rep.Ops), Total: len(rep.Ops), Err: ctx.Err(), Draining: len(p.Waiting)}
				case <-t.C:
				}
			}
		}
		live, err := k.Table()
		if err != nil {
			return fmt.Errorf("cannot read the IPVS table while draining: %w", err)
		}
		if !time.Now().Before(deadline) {
			// The drain timed out: delete what is left.
			draining = false
		}
		p = plan.Diff(live, desired, plan.Options{Drain: draining})
	}
}

// drains reports whether p leaves real servers to delete later.
func drains(p plan.Plan) bool {
	if len(p.Waiting) > 0 {
		return true
	}
	for _, op := range p.Ops {
		if op.Action == plan.DrainDest {
			return true
		}
	}
	return false
}

// cumulative counts the operations of earlier plans into err's progress.
func cumulative(err error, before int) error {
	var oe *OpError
	if errors.As(err, &oe) {
		oe.Done += before
		oe.Total += before
	}
	var ie *InterruptedError
	if errors.As(err, &ie) {
		ie.Done += before
		ie.Total += before
	}
	return err
}
