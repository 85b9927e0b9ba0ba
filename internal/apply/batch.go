package apply

import (
	"context"
	"errors"

	"github.com/lvsctl/lvsctl/internal/plan"
	"github.com/lvsctl/lvsctl/kernel"
)

// A Batcher is a [Kernel] that can send many changes per system call,
// which makes a large apply several times faster than one round trip per
// operation. [Run] uses it when the kernel has it; *kernel.IPVS is one.
//
// Batch makes cs in order, each as the [Kernel] method of its kind would,
// and returns nil when every one was made. Otherwise it returns one error
// per change: nil for a change made, an error for which errors.Is(err,
// [ErrNotRun]) holds for a change never sent, and the kernel's error for a
// change that failed. A batcher may have sent changes that follow a failed
// one before it saw the failure; it reports their own results, so that the
// report says truthfully what the kernel now has.
type Batcher interface {
	Kernel
	Batch(cs []kernel.Change) []error
}

// ErrNotRun marks the changes of a [Batcher.Batch] that were not sent
// because an earlier one failed.
var ErrNotRun = kernel.ErrNotRun

// batchSize is how many operations [Run] hands a [Batcher] at once. It
// checks ctx between batches, so it bounds how much an interrupted apply
// still does; it matches the kernel package's chunk, so that a batch is
// one write and one read of the acknowledgements.
const batchSize = 256

// runBatched is [Run] for a kernel that batches: r.Ops is filled in, and
// each batch's results are recorded before the next one is sent. A
// kernel setting is no netlink change: it is written on its own, between
// batches, in its place in the plan.
func runBatched(ctx context.Context, b Batcher, r *Report, opts RunOptions) error {
	cs := make([]kernel.Change, len(r.Ops))
	for i := range r.Ops {
		if r.Ops[i].Op.Action == plan.SetSysctl {
			continue
		}
		var err error
		if cs[i], err = changeOf(r.Ops[i].Op); err != nil {
			res := &r.Ops[i]
			res.Status, res.Err = Failed, err
			if opts.OnOp != nil {
				opts.OnOp(*res)
			}
			return &OpError{Op: res.Op, Err: err, Done: 0, Total: len(r.Ops)}
		}
	}
	for start := 0; start < len(cs); {
		if err := ctx.Err(); err != nil {
			r.Interrupted = true
			return &InterruptedError{Done: r.Count(Done), Total: len(r.Ops), Err: err}
		}
		if res := &r.Ops[start]; res.Op.Action == plan.SetSysctl {
			if err := setSysctl(b, res.Op.ToSysctl); err != nil {
				res.Status, res.Err = Failed, err
			} else {
				res.Status = Done
			}
			if opts.OnOp != nil {
				opts.OnOp(*res)
			}
			if res.Err != nil {
				return &OpError{Op: res.Op, Err: res.Err, Done: r.Count(Done), Total: len(r.Ops)}
			}
			start++
			continue
		}
		end := start + 1
		for end < len(cs) && end-start < batchSize && r.Ops[end].Op.Action != plan.SetSysctl {
			end++
		}
		errs := b.Batch(cs[start:end])
		var failed *OpResult
		for j := range end - start {
			res := &r.Ops[start+j]
			var err error
			if errs != nil {
				err = errs[j]
			}
			switch {
			case err == nil:
				res.Status = Done
			case errors.Is(err, ErrNotRun):
				continue // stays NotAttempted, and OnOp is for attempted ops
			default:
				res.Status, res.Err = Failed, err
				if failed == nil {
					failed = res
				}
			}
			if opts.OnOp != nil {
				opts.OnOp(*res)
			}
		}
		if failed != nil {
			// Done counts every op done, including any the batcher ran
			// after the failure: "N of M changes were made" stays true.
			return &OpError{Op: failed.Op, Err: failed.Err, Done: r.Count(Done), Total: len(r.Ops)}
		}
		start = end
	}
	return nil
}
