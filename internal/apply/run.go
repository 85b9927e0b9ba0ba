// Package apply changes the live IPVS table: it executes plans made by
// package plan, one kernel call per operation, through the [Kernel]
// interface; it drains real servers by running plans in sequence
// ([Converge]); and it keeps two applies from interleaving ([Lock]).
package apply

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/lvsctl/lvsctl/internal/plan"
	"github.com/lvsctl/lvsctl/kernel"
	"github.com/lvsctl/lvsctl/lvs"
)

// RunOptions change how [Run] executes a plan.
type RunOptions struct {
	// OnOp, if set, is called after each operation that was attempted,
	// done or failed, so that a caller can show progress as it happens.
	OnOp func(OpResult)
}

// Status is what became of one operation of a plan.
type Status uint8

const (
	NotAttempted Status = iota // an earlier operation failed, or the run was interrupted
	Done
	Failed
)

func (s Status) String() string {
	switch s {
	case Done:
		return "done"
	case Failed:
		return "failed"
	}
	return "not attempted"
}

// OpResult is one operation of a plan and what became of it.
type OpResult struct {
	Op     plan.Op
	Status Status
	Err    error // the kernel's error when Failed
}

// Run executes p.Ops in order through k, one kernel call per operation, and
// stops at the first error. It never re-reads the table or re-decides: the
// plan is what the user approved.
//
// ctx is checked between operations only, so that an interruption (Ctrl-C)
// never leaves a kernel call half-seen; Run then stops and returns an
// [*InterruptedError]. A kernel error is returned as an [*OpError], which
// keeps the errno for errors.Is. The report lists every operation as done,
// failed or not attempted, and is never nil.
//
// When k is a [Batcher], Run sends the operations in batches and checks ctx
// between batches. A batch may run operations after the one that failed
// before the failure is seen; the report then shows them as done, and
// nothing after that batch is attempted.
func Run(ctx context.Context, k Kernel, p plan.Plan, opts RunOptions) (*Report, error) {
	r := &Report{Dropped: p.Dropped}
	for _, op := range p.Ops {
		r.Ops = append(r.Ops, OpResult{Op: op})
	}
	if b, ok := k.(Batcher); ok {
		return r, runBatched(ctx, b, r, opts)
	}
	for i := range r.Ops {
		if err := ctx.Err(); err != nil {
			r.Interrupted = true
			return r, &InterruptedError{Done: i, Total: len(r.Ops), Err: err}
		}
		res := &r.Ops[i]
		if err := call(k, res.Op); err != nil {
			res.Status, res.Err = Failed, err
			if opts.OnOp != nil {
				opts.OnOp(*res)
			}
			return r, &OpError{Op: res.Op, Err: err, Done: i, Total: len(r.Ops)}
		}
		res.Status = Done
		if opts.OnOp != nil {
			opts.OnOp(*res)
		}
	}
	return r, nil
}

// setSysctl writes s and reads it back: a write to /proc/sys can succeed
// and leave another value (a handler that clamps or ignores it), which
// would otherwise show only as the same change planned again. It says
// what to do when the kernel has no such setting.
func setSysctl(k Kernel, s lvs.Sysctl) error {
	err := k.SetSysctl(s.Name, s.Value)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s", err, AbsentSysctl(s.Name))
	}
	if err != nil {
		return err
	}
	got, err := k.Sysctl(s.Name)
	if err != nil {
		return fmt.Errorf("reading %s back: %w", s.Name, err)
	}
	if got != s.Value {
		return fmt.Errorf("the kernel took %s = %s but holds %s now", s.Name, s.Value, got)
	}
	return nil
}

// AbsentSysctl says why the kernel may lack the setting name and what to
// do about it.
func AbsentSysctl(name string) string {
	file := "/proc/sys/" + lvs.SysctlPath(name)
	if strings.HasPrefix(name, "net.ipv4.vs.") {
		return fmt.Sprintf("this namespace has no %s (no %s): the IPVS settings exist once the ip_vs module is loaded (modprobe ip_vs), "+
			"and, on kernels such as 6.1, only in namespaces owned by the initial user namespace; a kernel older than the setting lacks it too; remove it from the sysctl block if this kernel has none", name, file)
	}
	return fmt.Sprintf("this namespace has no %s (no %s): the kernel lacks this address family (IPv6 disabled?); turn it on, or set manage_forwarding = false in the sysctl block", name, file)
}

// changeOf translates op into the kernel change it stands for. It is the
// one place that maps plan operations to kernel calls: a drain is an edit
// of the real server (weight 0), and an edit of a service carries the
// options it replaces, so that an error can say which module is missing.
func changeOf(op plan.Op) (kernel.Change, error) {
	switch op.Action {
	case plan.SetTimeouts:
		return kernel.Change{Kind: kernel.SetTimeouts, Timeouts: op.ToTimeouts}, nil
	case plan.AddService:
		return kernel.Change{Kind: kernel.AddService, Service: op.Service, Opts: op.To}, nil
	case plan.EditService:
		return kernel.Change{Kind: kernel.EditService, Service: op.Service, Opts: op.To, Was: op.From}, nil
	case plan.DeleteService:
		return kernel.Change{Kind: kernel.DeleteService, Service: op.Service}, nil
	case plan.AddDest:
		return kernel.Change{Kind: kernel.AddDest, Service: op.Service, Dest: op.ToDest}, nil
	case plan.EditDest, plan.DrainDest:
		return kernel.Change{Kind: kernel.EditDest, Service: op.Service, Dest: op.ToDest}, nil
	case plan.DeleteDest:
		return kernel.Change{Kind: kernel.DeleteDest, Service: op.Service, Dest: lvs.Dest{Addr: op.FromDest.Addr}}, nil
	}
	return kernel.Change{}, fmt.Errorf("unknown plan operation %d: this lvsctl cannot run it; make the plan again with this version", op.Action)
}

// call makes the one kernel call that op stands for.
func call(k Kernel, op plan.Op) error {
	if op.Action == plan.SetSysctl {
		return setSysctl(k, op.ToSysctl)
	}
	c, err := changeOf(op)
	if err != nil {
		return err
	}
	return Do(k, c)
}
