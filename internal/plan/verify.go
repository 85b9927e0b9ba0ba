package plan

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lvsctl/lvsctl/lvs"
)

// A saved plan crosses a privilege boundary: it is often made without root
// (plan --live, CI, another user) and applied as root, verbatim. So apply
// trusts nothing in it but what it can check:
//
//   - [File.Validate], which [ReadFile] runs, checks the file alone: the
//     desired table passes the validation a configuration does
//     ([lvs.Table.Validate], the kernel's ranges), and every value an
//     operation sends to the kernel passes it too, so that nothing the
//     kernel would refuse or garble is sent.
//   - [File.Check], which apply runs under the apply lock once the live
//     table has the plan's fingerprint, checks that the operations are
//     exactly the ones [Diff] computes from that table to the desired one:
//     no operation added, dropped, changed or reordered.

// maxProblems is how many problems an error lists before "and N more".
const maxProblems = 3

// Validate checks what can be checked of f without the live table: the
// desired table, the values each operation would send to the kernel, the
// names shown on a terminal and the header. It does not check that the
// operations are the ones the desired table needs: [File.Check] does.
func (f *File) Validate() error {
	for _, s := range []struct{ what, v string }{{"lvsctl version", f.Version}, {"network namespace", f.Netns}, {"configuration path", f.Config}} {
		if !printable(s.v) {
			return fmt.Errorf("the plan's %s %q contains a control character", s.what, s.v)
		}
	}
	if !validFingerprint(f.Fingerprint) {
		return fmt.Errorf("the plan's fingerprint %q is not sha256: and 64 hexadecimal digits", f.Fingerprint)
	}
	if f.DrainTimeout < 0 {
		return fmt.Errorf("the plan's drain timeout %v is negative", f.DrainTimeout)
	}
	if f.Desired == nil {
		return errors.New("the plan has no desired table")
	}
	if err := validateDesired(f.Desired); err != nil {
		return err
	}
	if f.Plan.Unknown&^lvs.UnknownAll != 0 {
		return fmt.Errorf("the plan's unknown settings (%d) name no setting", f.Plan.Unknown)
	}
	for i, op := range f.Plan.Ops {
		if err := validateOp(op); err != nil {
			return fmt.Errorf("operation %d (%s) is not valid: %w", i+1, describeOp(op), err)
		}
		// A drain sends the real server's live settings back with weight
		// 0; those the live table did not know would go as zeros and
		// reset the real server's thresholds or tunnel.
		if u := f.Plan.Unknown & (lvs.UnknownThresholds | lvs.UnknownTunnel); op.Action == DrainDest && u != 0 {
			return fmt.Errorf("operation %d (%s) drains a real server, which would reset %s: the live table this plan was made against (a dump) did not have them; make the plan against the kernel's table (lvsctl plan --out without --live)", i+1, describeOp(op), u)
		}
	}
	for _, w := range f.Plan.Waiting {
		if !printable(w.ServiceName) || !printable(w.Dest.Name) {
			return fmt.Errorf("the draining real server %s of %s has a name with a control character", w.Dest.Addr, w.Service)
		}
	}
	for _, d := range f.Plan.Dropped {
		if !printable(d.ServiceName) || !printable(d.Dest.Name) {
			return fmt.Errorf("the real server %s of %s has a name with a control character", d.Dest.Addr, d.Service)
		}
	}
	return nil
}

// validateDesired runs the configuration's validation on a plan's desired
// table, and checks its names as the configuration's parser does.
func validateDesired(t *lvs.Table) error {
	ps := t.Validate()
	var msgs []string
	for _, p := range ps {
		where := ""
		if p.Service >= 0 && p.Service < len(t.Services) {
			s := &t.Services[p.Service]
			where = fmt.Sprintf("service %s: ", s.Key)
			if p.Dest >= 0 && p.Dest < len(s.Dests) {
				where += fmt.Sprintf("real server %s: ", s.Dests[p.Dest].Addr)
			}
		}
		msgs = append(msgs, where+p.Msg)
	}
	seen := map[string]bool{}
	for _, s := range t.Sysctls {
		switch err := lvs.ValidateSysctl(s); {
		case err != nil:
			msgs = append(msgs, "sysctl "+err.Error())
		case seen[s.Name]:
			msgs = append(msgs, fmt.Sprintf("sysctl %s is listed twice", s.Name))
		case !printable(s.Reason):
			msgs = append(msgs, fmt.Sprintf("sysctl %s: the reason %q contains a control character", s.Name, s.Reason))
		}
		seen[s.Name] = true
	}
	for _, s := range t.Services {
		if !printable(s.Name) {
			msgs = append(msgs, fmt.Sprintf("service %s: the name %q contains a control character", s.Key, s.Name))
		}
		for _, d := range s.Dests {
			if !printable(d.Name) {
				msgs = append(msgs, fmt.Sprintf("service %s: real server %s: the name %q contains a control character", s.Key, d.Addr, d.Name))
			}
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return fmt.Errorf("the plan's desired table is not valid: %s", joinProblems(msgs))
}

// validateOp checks the values op sends to the kernel, and its names.
func validateOp(op Op) error {
	if !printable(op.ServiceName) || !printable(op.FromDest.Name) || !printable(op.ToDest.Name) {
		return errors.New("a name contains a control character")
	}
	var ps []lvs.Problem
	switch op.Action {
	case SetSysctl:
		// The name must be one lvsctl manages and the value in its
		// range: the name, never a path from the file, picks the file
		// written. The value before is only shown.
		if err := lvs.ValidateSysctl(op.ToSysctl); err != nil {
			return err
		}
		if op.FromSysctl.Name != op.ToSysctl.Name {
			return fmt.Errorf("it changes sysctl %s into %s", op.FromSysctl.Name, op.ToSysctl.Name)
		}
		if !printable(op.FromSysctl.Value) || !printable(op.ToSysctl.Reason) || op.FromSysctl.Reason != "" {
			return errors.New("the sysctl's value before or its reason contains a control character")
		}
	case SetTimeouts:
		// Only the changed timeouts come from the desired table; the
		// others are the kernel's own, which it already holds.
		var changed lvs.Timeouts
		if op.ToTimeouts.TCP != op.FromTimeouts.TCP {
			changed.TCP = op.ToTimeouts.TCP
		}
		if op.ToTimeouts.TCPFin != op.FromTimeouts.TCPFin {
			changed.TCPFin = op.ToTimeouts.TCPFin
		}
		if op.ToTimeouts.UDP != op.FromTimeouts.UDP {
			changed.UDP = op.ToTimeouts.UDP
		}
		ps = lvs.ValidateTimeouts(changed)
	case AddService, EditService:
		ps = lvs.ValidateService(op.Service, op.To)
	case AddDest, EditDest:
		ps = lvs.ValidateDest(op.Service, op.ToDest)
		if op.Action == EditDest && op.FromDest.Addr != op.ToDest.Addr {
			return fmt.Errorf("it changes real server %s into %s", op.FromDest.Addr, op.ToDest.Addr)
		}
	case DrainDest:
		// A drain sends the real server's live settings back with
		// weight 0, and nothing else.
		want := op.FromDest.Opts
		want.Weight = 0
		if op.ToDest.Addr != op.FromDest.Addr || op.ToDest.Opts != want {
			return errors.New("a drain may only set the weight of a real server to 0")
		}
	case DeleteDest, DeleteService:
		// Only the key goes to the kernel; Check makes sure it is live.
	default:
		return fmt.Errorf("unknown action %d", op.Action)
	}
	if len(ps) > 0 {
		msgs := make([]string, len(ps))
		for i, p := range ps {
			msgs[i] = p.Msg
		}
		return errors.New(joinProblems(msgs))
	}
	return nil
}

func joinProblems(msgs []string) string {
	if len(msgs) <= maxProblems {
		return strings.Join(msgs, "; ")
	}
	return fmt.Sprintf("%s; and %d more", strings.Join(msgs[:maxProblems], "; "), len(msgs)-maxProblems)
}

// printable reports whether s is valid UTF-8 without control characters,
// so that printing it cannot move a terminal's cursor or change its state.
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

func validFingerprint(fp string) bool {
	hex, ok := strings.CutPrefix(fp, "sha256:")
	if !ok || len(hex) != 64 {
		return false
	}
	for _, c := range hex {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// Check reports whether f's operations are exactly those [Diff] computes
// from live to f.Desired, with f's drain option. live must be the table
// f was planned against: the caller has checked that it has f's
// [Fingerprint].
//
// The fingerprint leaves connection numbers out, and they decide one
// thing in a plan that drains: whether a real server at weight 0 that goes
// away is deleted now or waited for. Check takes them from the plan (a
// real server the plan does not mention has none), so that it compares
// with the plan lvsctl made against the table as it was then.
//
// The configuration's names and the connection numbers in the operations
// are for display only and are not compared; [File.Validate] has checked
// that the names are printable.
func (f *File) Check(live *lvs.Table) error {
	if f.Desired == nil {
		return errors.New("the plan has no desired table")
	}
	want := Diff(withPlannedConns(f.View(live), f.Plan), f.Desired, Options{Drain: f.DrainTimeout > 0})
	if want.Unknown != f.Plan.Unknown {
		return fmt.Errorf("the plan's unknown settings (%s) are not those of the table it was planned against (%s); refusing", f.Plan.Unknown, want.Unknown)
	}
	if err := compareOps(f.Plan.Ops, want.Ops); err != nil {
		return fmt.Errorf("the plan's operations are not what its desired table needs: %w; refusing", err)
	}
	if err := compareListed(f.Plan.Waiting, want.Waiting, func(w Waiting) (lvs.ServiceKey, lvs.Dest) { return w.Service, w.Dest },
		"draining"); err != nil {
		return fmt.Errorf("the plan's real servers left to drain are not what its desired table needs: %w; refusing", err)
	}
	if err := compareListed(f.Plan.Dropped, want.Dropped, func(d Dropped) (lvs.ServiceKey, lvs.Dest) { return d.Service, d.Dest },
		"deleted with its service"); err != nil {
		return fmt.Errorf("the plan's real servers deleted with their services are not what its desired table needs: %w; refusing", err)
	}
	return nil
}

// View returns the kernel's table live as f was planned against it: the
// settings the plan's live table did not have ([Plan.Unknown], when it was
// planned against a dump) forgotten, so that they are compared as the plan
// compared them. live itself is not changed.
func (f *File) View(live *lvs.Table) *lvs.Table {
	if f.Plan.Unknown == 0 {
		return live
	}
	v := live.Clone()
	v.Forget(f.Plan.Unknown)
	return v
}

// Matches reports whether the kernel's table live is the one f was
// planned against, by its fingerprint as f saw it (see [File.View]).
func (f *File) Matches(live *lvs.Table) bool {
	var ignore lvs.Ignore
	if f.Desired != nil {
		ignore = f.Desired.Ignore
	}
	return Fingerprint(f.View(live), ignore) == f.Fingerprint
}

type destRef struct {
	service lvs.ServiceKey
	addr    netip.AddrPort
}

// withPlannedConns returns a copy of live whose real servers have the
// connection numbers p recorded for them, and none when p does not
// mention them.
func withPlannedConns(live *lvs.Table, p Plan) *lvs.Table {
	conns := map[destRef]lvs.DestLive{}
	note := func(k lvs.ServiceKey, d lvs.Dest) {
		r := destRef{k, d.Addr}
		if _, ok := conns[r]; !ok && d.Addr.IsValid() {
			conns[r] = lvs.DestLive{ActiveConns: d.Live.ActiveConns, InactConns: d.Live.InactConns, PersistConns: d.Live.PersistConns}
		}
	}
	for _, op := range p.Ops {
		note(op.Service, op.FromDest)
	}
	for _, w := range p.Waiting {
		note(w.Service, w.Dest)
	}
	for _, d := range p.Dropped {
		note(d.Service, d.Dest)
	}
	l := live.Clone()
	for i := range l.Services {
		s := &l.Services[i]
		for j := range s.Dests {
			s.Dests[j].Live = conns[destRef{s.Key, s.Dests[j].Addr}]
		}
	}
	return l
}

// comparable strips what is for display only from op.
func comparableOp(op Op) Op {
	op.ServiceName = ""
	op.FromDest.Name, op.ToDest.Name = "", ""
	op.FromDest.Live, op.ToDest.Live = lvs.DestLive{}, lvs.DestLive{}
	op.ToSysctl.Reason = ""
	return op
}

// compareOps says how got differs from want: the first operation of got
// that want does not have, else the first of want that got lacks, else
// the first one out of order.
func compareOps(got, want []Op) error {
	left := map[Op]int{}
	for _, op := range want {
		left[comparableOp(op)]++
	}
	for i, op := range got {
		c := comparableOp(op)
		if left[c] == 0 {
			return fmt.Errorf("operation %d (%s) is not in the plan lvsctl computes", i+1, describeOp(op))
		}
		left[c]--
	}
	for _, op := range want {
		if c := comparableOp(op); left[c] > 0 {
			return fmt.Errorf("it lacks the operation to %s", describeOp(op))
		}
	}
	for i := range got {
		if comparableOp(got[i]) != comparableOp(want[i]) {
			return fmt.Errorf("operation %d (%s) is out of order: lvsctl runs %s there", i+1, describeOp(got[i]), describeOp(want[i]))
		}
	}
	return nil
}

// compareListed compares the real servers a plan lists beside its
// operations (draining, or dropped with their service) as sets.
func compareListed[T any](got, want []T, ref func(T) (lvs.ServiceKey, lvs.Dest), what string) error {
	key := func(x T) destRef {
		k, d := ref(x)
		return destRef{k, d.Addr}
	}
	left := map[destRef]int{}
	for _, x := range want {
		left[key(x)]++
	}
	for _, x := range got {
		r := key(x)
		if left[r] == 0 {
			return fmt.Errorf("real server %s of %s is listed as %s, which lvsctl does not compute", r.addr, r.service, what)
		}
		left[r]--
	}
	for _, x := range want {
		if r := key(x); left[r] > 0 {
			return fmt.Errorf("real server %s of %s is not listed as %s", r.addr, r.service, what)
		}
	}
	return nil
}

// describeOp says what op does, by address only: names come from the
// plan file and are not what identifies an object.
func describeOp(op Op) string {
	switch op.Action {
	case SetSysctl:
		return fmt.Sprintf("set sysctl %s to %s", op.ToSysctl.Name, op.ToSysctl.Value)
	case SetTimeouts:
		t := op.ToTimeouts
		return fmt.Sprintf("set the connection timeouts to tcp %s, tcp_fin %s, udp %s", t.TCP, t.TCPFin, t.UDP)
	case AddService:
		return "add service " + op.Service.String()
	case EditService:
		return "change service " + op.Service.String()
	case DeleteService:
		return "delete service " + op.Service.String()
	case AddDest:
		return fmt.Sprintf("add real server %s to %s", op.ToDest.Addr, op.Service)
	case EditDest:
		return fmt.Sprintf("change real server %s of %s", op.ToDest.Addr, op.Service)
	case DrainDest:
		return fmt.Sprintf("drain real server %s of %s", op.ToDest.Addr, op.Service)
	case DeleteDest:
		return fmt.Sprintf("delete real server %s from %s", op.FromDest.Addr, op.Service)
	}
	return op.Action.String()
}
