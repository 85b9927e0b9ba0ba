package apply

import (
	"fmt"

	"github.com/lvsctl/lvsctl/internal/plan"
	"github.com/lvsctl/lvsctl/kernel"
)

// An OpError is a kernel error during an apply: the operation that failed,
// the kernel's error (errors.Is finds its errno) and how far the apply got.
type OpError struct {
	Op    plan.Op
	Err   error
	Done  int // operations done; with a batching kernel this can include some sent after the failed one
	Total int // operations in the plan(s)
}

func (e *OpError) Unwrap() error { return e.Err }

// Error says what failed in lvsctl's terms, what the errno means there and
// what to do, then how much of the apply was made.
func (e *OpError) Error() string {
	progress := "nothing was changed"
	if e.Done > 0 {
		progress = fmt.Sprintf("%d of %d changes were made; run apply again to converge", e.Done, e.Total)
	}
	return fmt.Sprintf("%s %s: %s; %s", verb(e.Op.Action), opSubject(e.Op), explain(e.Op, e.Err), progress)
}

// An InterruptedError says that an apply stopped between two operations
// because its context was cancelled (Ctrl-C). errors.Is finds the context's
// error.
type InterruptedError struct {
	Done, Total int
	Err         error
	Draining    int // real servers left at weight 0 with connections
}

func (e *InterruptedError) Unwrap() error { return e.Err }

func (e *InterruptedError) Error() string {
	if e.Draining > 0 {
		return fmt.Sprintf("interrupted while draining: %d operations done, %s left at weight 0; run apply again to finish", e.Done, plural(e.Draining, "real server"))
	}
	return fmt.Sprintf("interrupted: %d of %d operations done; run apply again to finish", e.Done, e.Total)
}

func verb(a plan.Action) string {
	switch a {
	case plan.SetSysctl, plan.SetTimeouts:
		return "setting"
	case plan.AddService, plan.AddDest:
		return "adding"
	case plan.EditService, plan.EditDest:
		return "updating"
	case plan.DrainDest:
		return "draining"
	case plan.DeleteService, plan.DeleteDest:
		return "deleting"
	}
	return "running"
}

// explain says what err, the kernel's answer to op, means and what to do,
// from the kernel package's dictionary of errnos.
func explain(op plan.Op, err error) string {
	if op.Action == plan.SetSysctl {
		// Not a netlink change: setSysctl's error says it all.
		return err.Error()
	}
	c, cerr := changeOf(op)
	if cerr != nil {
		return err.Error()
	}
	return kernel.Explain(c, err)
}
