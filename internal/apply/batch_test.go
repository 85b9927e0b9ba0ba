package apply_test

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lvsctl/lvsctl/internal/apply"
	"github.com/lvsctl/lvsctl/internal/apply/applytest"
	"github.com/lvsctl/lvsctl/internal/bench/gen"
	"github.com/lvsctl/lvsctl/internal/plan"
	"github.com/lvsctl/lvsctl/kernel"
	"github.com/lvsctl/lvsctl/lvs"
)

// chunkKernel batches like the kernel package does: changes are sent in
// chunks of chunk; every change of a chunk is made even after one fails,
// and no chunk is sent after a failed one.
type chunkKernel struct {
	*applytest.Kernel
	chunk   int
	batches [][]kernel.Change
}

func (k *chunkKernel) Batch(cs []kernel.Change) []error {
	k.batches = append(k.batches, cs)
	errs := make([]error, len(cs))
	failed := false
	for start := 0; start < len(cs); start += k.chunk {
		for i := start; i < min(start+k.chunk, len(cs)); i++ {
			if failed && i == start {
				for j := start; j < len(cs); j++ {
					errs[j] = fmt.Errorf("change %d: %w", j, apply.ErrNotRun)
				}
				return errs
			}
			if errs[i] = apply.Do(k.Kernel, cs[i]); errs[i] != nil {
				failed = true
			}
		}
	}
	if failed {
		return errs
	}
	return nil
}

func TestRunBatchedCompletes(t *testing.T) {
	want := gen.Table(120, 4) // 600 operations: three batches
	k := &chunkKernel{Kernel: applytest.New(), chunk: 64}
	p := plan.Diff(&lvs.Table{}, want, plan.Options{})
	var seen int
	rep, err := apply.Run(context.Background(), k, p, apply.RunOptions{OnOp: func(apply.OpResult) { seen++ }})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(k.batches); got != 3 {
		t.Errorf("%d batches for %d ops, want 3", got, len(p.Ops))
	}
	if n := rep.Count(apply.Done); n != len(p.Ops) || seen != len(p.Ops) {
		t.Errorf("%d ops done, OnOp called %d times, want %d", n, seen, len(p.Ops))
	}
	checkConverged(t, k, want)
}

// A failure in the middle of a chunk: the ops after it in the same chunk
// ran and are reported done, the later chunks are not attempted, and the
// error names the failed op and counts every op done.
func TestRunBatchedReportsOpsAfterFailure(t *testing.T) {
	want := gen.Table(4, 1) // AddService, AddDest for each of 4 services
	k := &chunkKernel{Kernel: applytest.New(), chunk: 4}
	p := plan.Diff(&lvs.Table{}, want, plan.Options{})
	bad := p.Ops[5] // the AddDest of the third service, second in chunk 4..7
	k.SetFault(func(c applytest.Call) error {
		if c.Method == "AddDest" && c.Service == bad.Service {
			return syscall.EINVAL
		}
		return nil
	})
	var attempted []int
	rep, err := apply.Run(context.Background(), k, p, apply.RunOptions{OnOp: func(r apply.OpResult) {
		for i, op := range p.Ops {
			if op == r.Op {
				attempted = append(attempted, i)
			}
		}
	}})
	var oe *apply.OpError
	if !errors.As(err, &oe) || !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("err = %v, want an *OpError with EINVAL", err)
	}
	if oe.Op != bad || oe.Done != 7 || oe.Total != 8 {
		t.Errorf("OpError{Op: %v %v, Done: %d, Total: %d}, want op 5, 7 of 8 done", oe.Op.Action, oe.Op.Service, oe.Done, oe.Total)
	}
	wantStatus := []apply.Status{apply.Done, apply.Done, apply.Done, apply.Done, apply.Done, apply.Failed, apply.Done, apply.Done}
	if d := cmp.Diff(wantStatus, statuses(rep)); d != "" {
		t.Errorf("statuses (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]int{0, 1, 2, 3, 4, 5, 6, 7}, attempted); d != "" {
		t.Errorf("OnOp (-want +got):\n%s", d)
	}

	// With the failure in the first chunk (the AddService ops come first),
	// the second chunk is not sent and its ops stay not attempted.
	k2 := &chunkKernel{Kernel: applytest.New(), chunk: 4}
	bad = p.Ops[1]
	k2.SetFault(func(c applytest.Call) error {
		if c.Method == "AddService" && c.Service == bad.Service {
			return syscall.EINVAL
		}
		return nil
	})
	rep, err = apply.Run(context.Background(), k2, p, apply.RunOptions{})
	if !errors.As(err, &oe) || oe.Done != 3 {
		t.Fatalf("err = %v, want an *OpError with 3 ops done", err)
	}
	wantStatus = []apply.Status{apply.Done, apply.Failed, apply.Done, apply.Done,
		apply.NotAttempted, apply.NotAttempted, apply.NotAttempted, apply.NotAttempted}
	if d := cmp.Diff(wantStatus, statuses(rep)); d != "" {
		t.Errorf("statuses (-want +got):\n%s", d)
	}
	got, _ := k2.Table()
	if len(got.Services) != 3 {
		t.Errorf("kernel has %d services, want the 3 of the first chunk that did not fail", len(got.Services))
	}
	for _, s := range got.Services {
		if len(s.Dests) != 0 {
			t.Errorf("service %s has real servers, but their chunk was not sent", s.Key)
		}
	}
}

// Cancelling stops between batches: the batch in flight completes, the
// rest is not attempted.
func TestRunBatchedInterrupted(t *testing.T) {
	want := gen.Table(120, 4)
	k := &chunkKernel{Kernel: applytest.New(), chunk: 64}
	p := plan.Diff(&lvs.Table{}, want, plan.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rep, err := apply.Run(ctx, k, p, apply.RunOptions{OnOp: func(apply.OpResult) { cancel() }})
	var ie *apply.InterruptedError
	if !errors.As(err, &ie) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want an *InterruptedError", err)
	}
	if len(k.batches) != 1 || ie.Done != len(k.batches[0]) || rep.Count(apply.Done) != ie.Done || !rep.Interrupted {
		t.Errorf("%d batches, %d done (report %d), want one batch done and the report interrupted", len(k.batches), ie.Done, rep.Count(apply.Done))
	}
	if n := rep.Count(apply.NotAttempted); n != len(p.Ops)-ie.Done {
		t.Errorf("%d not attempted, want %d", n, len(p.Ops)-ie.Done)
	}
}
