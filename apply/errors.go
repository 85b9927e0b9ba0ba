package apply

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/lvsctl/lvsctl/plan"
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
	case plan.SetTimeouts:
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

// explain turns the kernel's errno into what it means for op and what to do.
func explain(op plan.Op, err error) string {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return err.Error()
	}
	isDest := op.Action == plan.AddDest || op.Action == plan.EditDest || op.Action == plan.DrainDest || op.Action == plan.DeleteDest
	switch errno {
	case syscall.EPERM, syscall.EACCES:
		return fmt.Sprintf("permission denied (%v): changing IPVS needs root (CAP_NET_ADMIN in the target network namespace)", errno)
	case syscall.ENOPROTOOPT, syscall.EPROTONOSUPPORT:
		if op.Action != plan.AddService {
			break
		}
		return fmt.Sprintf("the kernel refused the service (%v): check that IPVS is available (modprobe ip_vs) and supports protocol %s", errno, op.Service.Protocol)
	case syscall.ESRCH:
		return fmt.Sprintf("the virtual server is not in the kernel (%v): it was deleted outside lvsctl since the plan was made", errno)
	case syscall.EEXIST:
		what := "virtual server"
		if isDest {
			what = "real server"
		}
		return fmt.Sprintf("the %s already exists in the kernel (%v): it was added outside lvsctl since the plan was made", what, errno)
	case syscall.ENOENT:
		if isDest {
			return fmt.Sprintf("the real server is not in the kernel (%v): it was deleted outside lvsctl since the plan was made", errno)
		}
		if op.Action == plan.AddService || op.Action == plan.EditService {
			return missingModule(op)
		}
	case syscall.ERANGE:
		if isDest {
			return fmt.Sprintf("the kernel refused the real server's settings (%v): weight must be 0 to 65535 and lower_threshold at most upper_threshold", errno)
		}
	case syscall.EINVAL:
		if isDest {
			return fmt.Sprintf("the kernel refused the real server's settings (%v): check forwarding, the tunnel settings and that its address family matches the service's (or use tun)", errno)
		}
		if op.Action == plan.AddService || op.Action == plan.EditService {
			return fmt.Sprintf("the kernel refused the virtual server's settings (%v): check persistence (timeout, netmask) and the flags", errno)
		}
	}
	return fmt.Sprintf("the kernel refused it (%v)", errno)
}

// missingModule explains ENOENT from adding or editing a service: the
// kernel could not find the scheduler or persistence engine module. The
// errno cannot tell which, so an edit blames the one that changes.
func missingModule(op plan.Op) string {
	sched, pe := op.To.Scheduler, op.To.PE
	schedMsg := fmt.Sprintf("scheduler %q is not available in this kernel (no module ip_vs_%s): load it with modprobe or choose another", sched, sched)
	peMsg := fmt.Sprintf("persistence engine %q is not available in this kernel (no module ip_vs_pe_%s): load it with modprobe or remove pe", pe, pe)
	switch {
	case pe == "":
		return schedMsg
	case op.Action == plan.EditService && op.From.PE == pe:
		return schedMsg
	case op.Action == plan.EditService && op.From.Scheduler == sched:
		return peMsg
	}
	return fmt.Sprintf("scheduler %q or persistence engine %q is not available in this kernel (no module ip_vs_%s or ip_vs_pe_%s): load them with modprobe or change the configuration", sched, pe, sched, pe)
}
