package apply

import (
	"fmt"
	"io"

	"github.com/lvsctl/lvsctl/internal/plan"
	"github.com/lvsctl/lvsctl/lvs"
)

// A Report says what an apply did: every operation of the plans it ran, in
// order, with its outcome.
type Report struct {
	Ops []OpResult
	// Dropped are the destinations that the plans' DeleteService ops
	// delete along with their services; those of a done DeleteService
	// count as destroyed.
	Dropped []plan.Dropped
	// Waiting are destinations left at weight 0 with connections, still to
	// be deleted, when the apply stopped before its drain finished.
	Waiting []plan.Waiting
	// Interrupted is set when the context was cancelled.
	Interrupted bool
}

// Summary counts the resources changed so far, as plan.Plan.Summary counts
// the ones a plan would change: adds, in-place edits and drains, deletes
// (with the real servers a deleted virtual server took along).
func (r *Report) Summary() (added, changed, destroyed int) {
	for _, res := range r.Ops {
		if res.Status != Done {
			continue
		}
		switch res.Op.Action {
		case plan.AddService, plan.AddDest:
			added++
		case plan.SetSysctl, plan.SetTimeouts, plan.EditService, plan.EditDest, plan.DrainDest:
			changed++
		case plan.DeleteDest:
			destroyed++
		case plan.DeleteService:
			destroyed++
			for _, d := range r.Dropped {
				if d.Service == res.Op.Service {
					destroyed++
				}
			}
		}
	}
	return added, changed, destroyed
}

// Count returns how many operations have status s.
func (r *Report) Count(s Status) int {
	n := 0
	for _, res := range r.Ops {
		if res.Status == s {
			n++
		}
	}
	return n
}

// OK reports whether every operation was done and nothing is left
// draining.
func (r *Report) OK() bool {
	return !r.Interrupted && len(r.Waiting) == 0 && r.Count(Done) == len(r.Ops)
}

// append adds the operations of o after those of r.
func (r *Report) append(o *Report) {
	r.Ops = append(r.Ops, o.Ops...)
	r.Dropped = append(r.Dropped, o.Dropped...)
	r.Interrupted = r.Interrupted || o.Interrupted
}

// Render writes the report for people: one line per operation, then
// Terraform's summary line, "Apply complete! Resources: X added, Y changed,
// Z destroyed." when everything was done. The error itself is not repeated:
// the caller prints it.
func (r *Report) Render(w io.Writer) {
	for _, res := range r.Ops {
		fmt.Fprintf(w, "%s: %s\n", opSubject(res.Op), outcome(res))
	}
	if len(r.Ops) > 0 {
		fmt.Fprintln(w)
	}
	a, c, d := r.Summary()
	resources := fmt.Sprintf("Resources: %d added, %d changed, %d destroyed.", a, c, d)
	left := r.Count(Failed) + r.Count(NotAttempted)
	switch {
	case r.Interrupted && left == 0:
		fmt.Fprintf(w, "Apply interrupted! %s\n", resources)
	case r.Interrupted:
		fmt.Fprintf(w, "Apply interrupted! %s %s not made.\n", resources, plural(left, "change"))
	case left > 0:
		fmt.Fprintf(w, "Apply incomplete! %s %s not made.\n", resources, plural(left, "change"))
	default:
		fmt.Fprintf(w, "Apply complete! %s\n", resources)
	}
	if n := len(r.Waiting); n > 0 {
		fmt.Fprintf(w, "%s still at weight 0 with connections, not yet deleted: run apply again to finish.\n", plural(n, "real server"))
		for _, wt := range r.Waiting {
			fmt.Fprintf(w, "  %s: %d active, %d inactive connections\n",
				destName(wt.Service, wt.ServiceName, wt.Dest), wt.Dest.Live.ActiveConns, wt.Dest.Live.InactConns)
		}
	}
}

// outcome is the past tense of what happened to res.
func outcome(res OpResult) string {
	switch res.Status {
	case Failed:
		return "failed"
	case NotAttempted:
		return "not attempted"
	}
	switch res.Op.Action {
	case plan.AddService, plan.AddDest:
		return "created"
	case plan.DrainDest:
		return "draining (weight 0)"
	case plan.DeleteService, plan.DeleteDest:
		return "destroyed"
	}
	return "updated in place"
}

// opSubject names the object of op the way plans name it.
func opSubject(op plan.Op) string {
	switch op.Action {
	case plan.SetSysctl:
		return "sysctl " + op.ToSysctl.Name
	case plan.SetTimeouts:
		return "timeouts"
	case plan.AddService, plan.EditService, plan.DeleteService:
		return serviceName(op.Service, op.ServiceName)
	case plan.AddDest, plan.EditDest, plan.DrainDest:
		return destName(op.Service, op.ServiceName, op.ToDest)
	case plan.DeleteDest:
		return destName(op.Service, op.ServiceName, op.FromDest)
	}
	return op.Action.String()
}

// serviceName is "virtual_server.web (tcp 10.0.0.2:80)", or "service tcp
// 10.0.0.2:80" without a name, as in a rendered plan.
func serviceName(k lvs.ServiceKey, name string) string {
	if name != "" {
		return fmt.Sprintf("virtual_server.%s (%s)", name, k)
	}
	return "service " + k.String()
}

// destName names a real server as a rendered plan does.
func destName(k lvs.ServiceKey, svcName string, d lvs.Dest) string {
	switch {
	case d.Name != "" && svcName != "":
		return fmt.Sprintf("virtual_server.%s.real_server.%s (%s)", svcName, d.Name, d.Addr)
	case d.Name != "":
		return fmt.Sprintf("real_server.%s (%s) of %s", d.Name, d.Addr, serviceName(k, svcName))
	}
	return fmt.Sprintf("real_server %s of %s", d.Addr, serviceName(k, svcName))
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
