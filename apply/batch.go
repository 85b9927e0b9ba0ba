package apply

import (
	"context"
	"errors"

	"github.com/lvsctl/lvsctl/plan"
)

// A Batcher is a [Kernel] that can send many operations per system call,
// which makes a large apply several times faster than one round trip per
// operation. [Run] uses it when the kernel has it.
//
// Batch runs ops in order, each as the [Kernel] method of its action would,
// and returns nil when every one succeeded. Otherwise it returns one error
// per op: nil for an op that was done, an error for which errors.Is(err,
// [ErrNotRun]) holds for an op that was never sent, and the kernel's error
// for an op that failed. A batcher may have sent ops that follow a failed
// one before it saw the failure; it reports their own results, so that the
// report says truthfully what the kernel now has.
type Batcher interface {
	Kernel
	Batch(ops []plan.Op) []error
}

// ErrNotRun marks the operations of a [Batcher.Batch] that were not sent
// because an earlier one failed.
var ErrNotRun = errors.New("not run: an earlier operation failed")

// batchSize is how many operations [Run] hands a [Batcher] at once. It
// checks ctx between batches, so it bounds how much an interrupted apply
// still does; it matches the kernel package's chunk, so that a batch is
// one write and one read of the acknowledgements.
const batchSize = 256

// runBatched is [Run] for a kernel that batches: r.Ops is filled in, and
// each batch's results are recorded before the next one is sent.
func runBatched(ctx context.Context, b Batcher, r *Report, opts RunOptions) error {
	ops := make([]plan.Op, len(r.Ops))
	for i := range r.Ops {
		ops[i] = r.Ops[i].Op
	}
	for start := 0; start < len(ops); start += batchSize {
		if err := ctx.Err(); err != nil {
			r.Interrupted = true
			return &InterruptedError{Done: r.Count(Done), Total: len(r.Ops), Err: err}
		}
		end := min(start+batchSize, len(ops))
		errs := b.Batch(ops[start:end])
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
	}
	return nil
}
