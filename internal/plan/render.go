package plan

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"

	"github.com/lvsctl/lvsctl/lvs"
)

// Summary counts the resources a plan changes, as Terraform does: the
// timeouts block, each kernel setting, each virtual server and each real
// server is one resource.
// A drain counts as a change; the real servers of a deleted virtual server
// count as destroyed even though the kernel drops them with it.
func (p Plan) Summary() (add, change, destroy int) {
	for _, op := range p.Ops {
		switch op.Action {
		case AddService, AddDest:
			add++
		case SetSysctl, SetTimeouts, EditService, EditDest, DrainDest:
			change++
		case DeleteService, DeleteDest:
			destroy++
		}
	}
	return add, change, destroy + len(p.Dropped)
}

// A change is one resource of a plan as people and JSON consumers see it.
type change struct {
	action   string // "create", "update", "delete" or "drain"
	typ      string // "sysctl", "timeouts", "virtual_server" or "real_server"
	name     string // the configuration's name, if any; a sysctl's name
	reason   string // why a sysctl the configuration does not name is set
	service  lvs.ServiceKey
	svcName  string
	destAddr netip.AddrPort // real servers only
	before   []attr         // nil for a create
	after    []attr         // nil for a delete
	dropped  bool           // deleted with its virtual server
}

// changes lists the resources of p in execution order; the real servers
// a DeleteService drops follow it.
func changes(p Plan) []change {
	// Group the dropped real servers by service once: looking them up per
	// DeleteService would make a plan that deletes a large table quadratic.
	dropped := make(map[lvs.ServiceKey][]Dropped)
	for _, d := range p.Dropped {
		dropped[d.Service] = append(dropped[d.Service], d)
	}
	cs := make([]change, 0, len(p.Ops)+len(p.Dropped))
	for _, op := range p.Ops {
		c := change{service: op.Service, svcName: op.ServiceName}
		switch op.Action {
		case SetSysctl:
			c = change{action: "update", typ: "sysctl", name: op.ToSysctl.Name, reason: op.ToSysctl.Reason,
				before: sysctlAttrs(op.FromSysctl), after: sysctlAttrs(op.ToSysctl)}
		case SetTimeouts:
			c = change{action: "update", typ: "timeouts", before: timeoutsAttrs(op.FromTimeouts), after: timeoutsAttrs(op.ToTimeouts)}
		case AddService:
			c.action, c.typ, c.name = "create", "virtual_server", op.ServiceName
			c.after = serviceAttrs(op.Service, op.To)
		case EditService:
			c.action, c.typ, c.name = "update", "virtual_server", op.ServiceName
			c.before, c.after = serviceAttrs(op.Service, op.From), serviceAttrs(op.Service, op.To)
		case DeleteService:
			c.action, c.typ, c.name = "delete", "virtual_server", op.ServiceName
			c.before = serviceAttrs(op.Service, op.From)
		case AddDest:
			c.action, c.typ, c.name, c.destAddr = "create", "real_server", op.ToDest.Name, op.ToDest.Addr
			c.after = destAttrs(op.ToDest)
		case EditDest, DrainDest:
			c.action, c.typ, c.name, c.destAddr = "update", "real_server", op.ToDest.Name, op.ToDest.Addr
			if op.Action == DrainDest {
				c.action, c.name = "drain", op.FromDest.Name
			}
			c.before, c.after = unknownDestAttrs(destAttrs(shownFrom(op.FromDest, op.ToDest)), op.FromDest.Opts, p.Unknown), destAttrs(op.ToDest)
			if op.Action == DrainDest {
				// A drain sends back the live settings: what the live
				// table does not know stays unknown after it too.
				c.after = unknownDestAttrs(c.after, op.ToDest.Opts, p.Unknown)
			}
		case DeleteDest:
			c.action, c.typ, c.name, c.destAddr = "delete", "real_server", op.FromDest.Name, op.FromDest.Addr
			c.before = destAttrs(op.FromDest)
		default:
			continue
		}
		cs = append(cs, c)
		if op.Action == DeleteService {
			for _, d := range dropped[op.Service] {
				cs = append(cs, change{action: "delete", typ: "real_server", name: d.Dest.Name, service: d.Service,
					svcName: d.ServiceName, destAddr: d.Dest.Addr, before: destAttrs(d.Dest), dropped: true})
			}
		}
	}
	return cs
}

// serviceAddress names a virtual server in headlines.
func serviceAddress(k lvs.ServiceKey, name string) string {
	if name != "" {
		return fmt.Sprintf("virtual_server.%s (%s)", name, k)
	}
	return "service " + k.String()
}

// destAddress names a real server in headlines; addr may be "old -> new".
func destAddress(k lvs.ServiceKey, svcName, name, addr string) string {
	switch {
	case name != "" && svcName != "":
		return fmt.Sprintf("virtual_server.%s.real_server.%s (%s)", svcName, name, addr)
	case name != "":
		return fmt.Sprintf("real_server.%s (%s) of %s", name, addr, serviceAddress(k, svcName))
	}
	return fmt.Sprintf("real_server %s of %s", addr, serviceAddress(k, svcName))
}

func (c change) address() string {
	switch c.typ {
	case "sysctl":
		return "sysctl " + c.name
	case "timeouts":
		return "timeouts"
	case "virtual_server":
		return serviceAddress(c.service, c.name)
	}
	return destAddress(c.service, c.svcName, c.name, c.destAddr.String())
}

// blockHeader is the HCL block a resource is written as. A resource the
// configuration does not name (a service someone else added) goes by its
// key: its address.
func (c change) blockHeader() string {
	switch {
	case c.name != "":
		return fmt.Sprintf("%s %q", c.typ, c.name)
	case c.typ == "virtual_server":
		return fmt.Sprintf("%s %q", c.typ, c.service.String())
	case c.typ == "real_server":
		return fmt.Sprintf("%s %q", c.typ, c.destAddr.String())
	}
	return c.typ
}

// A shown resource is a change, or a create and a delete of a real server
// that only changes port, which reads better as one replacement.
type shown struct {
	change
	replaced *change // the delete of a replacement
}

// pairReplacements merges the create of a real server with the delete of
// one at the same IP address but another port in the same virtual server.
func pairReplacements(cs []change) []shown {
	// Index the deletes that can pair by virtual server and IP address, in
	// plan order, so that a plan with many creates stays linear.
	type slot struct {
		service lvs.ServiceKey
		addr    netip.Addr
	}
	deletes := make(map[slot][]int)
	for j, o := range cs {
		if o.typ == "real_server" && o.action == "delete" && !o.dropped {
			k := slot{o.service, o.destAddr.Addr()}
			deletes[k] = append(deletes[k], j)
		}
	}
	used := make([]bool, len(cs))
	out := make([]shown, 0, len(cs))
	for i, c := range cs {
		if used[i] {
			continue
		}
		s := shown{change: c}
		if c.typ == "real_server" && c.action == "create" {
			for _, j := range deletes[slot{c.service, c.destAddr.Addr()}] {
				if j > i && !used[j] && cs[j].destAddr.Port() != c.destAddr.Port() {
					used[j] = true
					s.replaced = &cs[j]
					break
				}
			}
		}
		out = append(out, s)
	}
	return out
}

const (
	legendCreate  = "  + create"
	legendUpdate  = "  ~ update in-place"
	legendDestroy = "  - destroy"
	legendReplace = "+/- create replacement and then destroy"
)

// Render writes p for people, in the style of Terraform's plan: a legend of
// the symbols used, each resource with a headline and its attributes
// (old -> new for an update, unchanged ones counted but hidden), the
// destinations still draining, and a summary line. The summary line and
// the "No changes." line are an interface that scripts match: keep them.
func Render(w io.Writer, p Plan) error {
	bw := bufio.NewWriter(w)
	if len(p.Ops) == 0 && len(p.Waiting) == 0 {
		fmt.Fprintln(bw, "No changes. The IPVS table matches the configuration.")
		return bw.Flush()
	}
	if len(p.Ops) > 0 {
		rs := pairReplacements(changes(p))
		var used [4]bool
		for _, r := range rs {
			switch {
			case r.replaced != nil:
				used[3] = true
			case r.action == "create":
				used[0] = true
			case r.action == "update" || r.action == "drain":
				used[1] = true
			case r.action == "delete":
				used[2] = true
			}
		}
		fmt.Fprintln(bw, "lvsctl compared the configuration with the live IPVS table. Resource actions are indicated with the following symbols:")
		for i, l := range []string{legendCreate, legendUpdate, legendDestroy, legendReplace} {
			if used[i] {
				fmt.Fprintln(bw, l)
			}
		}
		fmt.Fprintln(bw)
		fmt.Fprintln(bw, "lvsctl will perform the following actions:")
		for _, r := range rs {
			fmt.Fprintln(bw)
			writeResource(bw, r)
		}
	}
	if len(p.Waiting) > 0 {
		if len(p.Ops) > 0 {
			fmt.Fprintln(bw)
		}
		fmt.Fprintln(bw, "These real servers are draining; a later plan destroys them once their connections end:")
		fmt.Fprintln(bw)
		for _, wt := range p.Waiting {
			n := int(wt.Dest.Live.ActiveConns) + int(wt.Dest.Live.InactConns)
			fmt.Fprintf(bw, "  # %s is draining: %s left\n",
				destAddress(wt.Service, wt.ServiceName, wt.Dest.Name, wt.Dest.Addr.String()), plural(n, "connection"))
		}
	}
	add, chg, del := p.Summary()
	fmt.Fprintf(bw, "\nPlan: %d to add, %d to change, %d to destroy.\n", add, chg, del)
	return bw.Flush()
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// writeResource writes one resource: headline, block and attributes.
// Symbols are 3 columns wide so that names line up whatever the action.
func writeResource(w io.Writer, r shown) {
	var sym, headline string
	before, after := r.before, r.after
	addr := r.address()
	switch {
	case r.replaced != nil:
		sym = "+/-"
		addr = destAddress(r.service, r.svcName, r.name, r.replaced.destAddr.String()+" -> "+r.destAddr.String())
		headline = "must be replaced"
		before = r.replaced.before
	case r.action == "create":
		sym, headline = "  +", "will be created"
	case r.action == "update" && r.reason != "":
		sym, headline = "  ~", "will be updated in-place ("+r.reason+" needs it)"
	case r.action == "update":
		sym, headline = "  ~", "will be updated in-place"
	case r.action == "drain":
		sym, headline = "  ~", "will be drained (weight 0), then destroyed by a later plan"
	case r.dropped:
		sym, headline = "  -", "will be destroyed with its virtual server"
	default:
		sym, headline = "  -", "will be destroyed"
	}
	fmt.Fprintf(w, "  # %s %s\n", addr, headline)
	fmt.Fprintf(w, "%s %s {\n", sym, r.blockHeader())

	type line struct{ sym, name, val string }
	var lines []line
	hidden := 0
	switch {
	case before == nil:
		for _, a := range after {
			lines = append(lines, line{"  +", a.name, a.hcl})
		}
	case after == nil:
		for _, a := range before {
			lines = append(lines, line{"  -", a.name, a.hcl})
		}
	default:
		old := map[string]attr{}
		for _, a := range before {
			old[a.name] = a
		}
		seen := map[string]bool{}
		for _, a := range after {
			seen[a.name] = true
			o, ok := old[a.name]
			switch {
			case !ok:
				lines = append(lines, line{"  +", a.name, a.hcl})
			case o.hcl == a.hcl:
				hidden++
			default:
				val := o.hcl + " -> " + a.hcl
				switch {
				case r.action == "drain" && a.name == lvs.FieldWeight:
					val += " # drain"
				case r.replaced != nil && a.name == lvs.FieldAddress:
					val += " # forces replacement"
				}
				lines = append(lines, line{"  ~", a.name, val})
			}
		}
		for _, o := range before {
			if !seen[o.name] {
				lines = append(lines, line{"  -", o.name, o.hcl + " -> null"})
			}
		}
	}
	width := 0
	for _, l := range lines {
		width = max(width, len(l.name))
	}
	for _, l := range lines {
		fmt.Fprintf(w, "    %s %-*s = %s\n", l.sym, width, l.name, l.val)
	}
	if hidden > 0 {
		fmt.Fprintf(w, "        # (%s hidden)\n", plural(hidden, "unchanged attribute"))
	}
	fmt.Fprintln(w, "    }")
}
