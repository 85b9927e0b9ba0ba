package plan

import (
	"cmp"
	"net/netip"
	"slices"

	"github.com/lvsctl/lvsctl/lvs"
)

// Options change how [Diff] plans.
type Options struct {
	// Drain removes TCP, SCTP and fwmark real servers gracefully: weight 0
	// first, delete once their connections are gone. The caller runs
	// plans in sequence (drain, wait, re-plan) and finally plans without
	// Drain when its drain timeout has passed.
	Drain bool
}

// Diff returns the operations that turn live into desired. It is pure and
// deterministic: equal inputs give equal plans.
//
// A service is identified by its [lvs.ServiceKey] and a destination by its
// address within its service; every other setting is edited in place with
// one EditService or EditDest operation, never deleted and re-added, because
// deleting drops the connections and persistence of the object.
//
// desired owns the whole table except the services that desired.Ignore
// selects: those are invisible on both sides, never edited or deleted. Live
// services that desired does not name are deleted. A zero field of
// desired.Timeouts leaves the kernel's value alone. Of the kernel
// settings, desired owns those in desired.Sysctls and no other; one that
// live has no entry for was not read (a saved table) and is left alone.
//
// What live does not know (live.Unknown: a dump has no timeouts and no
// thresholds) is left out of the comparison: no operation is planned for
// it alone, and the plan records it in [Plan.Unknown]. An EditDest planned
// for a known difference still sets the desired values of all settings,
// as the kernel takes them whole.
//
// Operations come in this order, and sorted by service key then destination
// address within each kind:
//
//  1. SetSysctl, by name: before any service takes traffic, so that a
//     new NAT service's first replies are forwarded and new connections
//     already see the IPVS knobs (conntrack, sloppy_tcp).
//  2. SetTimeouts: independent of the table; before it so that new
//     connections already get the new timeouts.
//  3. AddService, EditService, AddDest, EditDest: new capacity exists
//     before anything is taken away, and a service exists before its
//     destinations are added to it.
//  4. DrainDest, DeleteDest: old destinations go only after their
//     replacements take traffic.
//  5. DeleteService: last, once nothing else refers to it. Its
//     destinations are not deleted one by one, since the kernel drops them
//     with the service; they are listed in [Plan.Dropped].
//
// With opts.Drain, a TCP, SCTP or fwmark destination that goes away (on its
// own or with its service) is drained first: a DrainDest op sets its weight
// to 0; once its weight is 0 it is listed in [Plan.Waiting] while it still
// has connections, and deleted when it has none. A removed service is
// deleted only when none of its destinations is draining or waiting. UDP
// has no connection end to wait for, so UDP destinations are deleted at once.
func Diff(live, desired *lvs.Table, opts Options) Plan {
	var p Plan
	ig := desired.Ignore
	managed := func(k lvs.ServiceKey) bool { return ig.IsZero() || !ig.Matches(k) }

	// What the live table does not know is left out of the comparison:
	// no change is planned to it, and the plan says so.
	p.Unknown = live.Unknown & lvs.UnknownAll
	for _, want := range desired.Sysctls {
		if have, known := live.Sysctl(want.Name); known && have.Value != want.Value {
			p.Ops = append(p.Ops, Op{Action: SetSysctl, FromSysctl: lvs.Sysctl{Name: have.Name, Value: have.Value}, ToSysctl: want})
		}
	}
	if to, ok := timeoutsTo(live.Timeouts, desired.Timeouts, p.Unknown); ok {
		p.Ops = append(p.Ops, Op{Action: SetTimeouts, FromTimeouts: live.Timeouts, ToTimeouts: to})
	}

	liveByKey := map[lvs.ServiceKey]*lvs.Service{}
	for i := range live.Services {
		if s := &live.Services[i]; managed(s.Key) {
			liveByKey[s.Key] = s
		}
	}
	wanted := map[lvs.ServiceKey]bool{}
	for i := range desired.Services {
		d := &desired.Services[i]
		// Validate refuses a desired service that the ignore block
		// selects; should one get here anyway, leave it alone rather than
		// add a service that already exists.
		if !managed(d.Key) {
			continue
		}
		wanted[d.Key] = true
		l := liveByKey[d.Key]
		if l == nil {
			p.Ops = append(p.Ops, Op{Action: AddService, Service: d.Key, ServiceName: d.Name, To: d.Opts})
			for _, dd := range d.Dests {
				p.Ops = append(p.Ops, Op{Action: AddDest, Service: d.Key, ServiceName: d.Name, ToDest: dd})
			}
			continue
		}
		if l.Opts != d.Opts {
			p.Ops = append(p.Ops, Op{Action: EditService, Service: d.Key, ServiceName: d.Name, From: l.Opts, To: d.Opts})
		}
		p.diffDests(l, d, opts)
	}

	for i := range live.Services {
		l := &live.Services[i]
		if !managed(l.Key) || wanted[l.Key] {
			continue
		}
		p.removeService(l, opts)
	}

	slices.SortStableFunc(p.Ops, func(a, b Op) int {
		if c := cmp.Compare(a.Action, b.Action); c != 0 {
			return c
		}
		if c := a.Service.Compare(b.Service); c != 0 {
			return c
		}
		return opDestAddr(a).Compare(opDestAddr(b))
	})
	slices.SortFunc(p.Waiting, func(a, b Waiting) int {
		return cmp.Or(a.Service.Compare(b.Service), a.Dest.Addr.Compare(b.Dest.Addr))
	})
	slices.SortFunc(p.Dropped, func(a, b Dropped) int {
		return cmp.Or(a.Service.Compare(b.Service), a.Dest.Addr.Compare(b.Dest.Addr))
	})
	return p
}

// timeoutsTo returns the timeouts the kernel should have, and whether that
// differs from live. A timeout that live does not know (unknown) stays
// as it is: zero, which the kernel reads as "leave it".
func timeoutsTo(live, want lvs.Timeouts, unknown lvs.Unknown) (lvs.Timeouts, bool) {
	to := live
	if want.TCP != 0 && unknown&lvs.UnknownTCPTimeout == 0 {
		to.TCP = want.TCP
	}
	if want.TCPFin != 0 && unknown&lvs.UnknownTCPFinTimeout == 0 {
		to.TCPFin = want.TCPFin
	}
	if want.UDP != 0 && unknown&lvs.UnknownUDPTimeout == 0 {
		to.UDP = want.UDP
	}
	return to, to != live
}

// diffDests plans the destinations of a service that stays.
func (p *Plan) diffDests(l, d *lvs.Service, opts Options) {
	liveDests := map[netip.AddrPort]*lvs.Dest{}
	for i := range l.Dests {
		liveDests[l.Dests[i].Addr] = &l.Dests[i]
	}
	for _, dd := range d.Dests {
		ld := liveDests[dd.Addr]
		if ld == nil {
			p.Ops = append(p.Ops, Op{Action: AddDest, Service: d.Key, ServiceName: d.Name, ToDest: dd})
			continue
		}
		delete(liveDests, dd.Addr)
		if !destSettled(ld.Opts, dd.Opts, p.Unknown) {
			p.Ops = append(p.Ops, Op{Action: EditDest, Service: d.Key, ServiceName: d.Name, FromDest: *ld, ToDest: dd})
		}
	}
	for _, ld := range l.Dests {
		if liveDests[ld.Addr] == nil {
			continue // kept
		}
		switch removal(l.Key, ld, opts) {
		case drain:
			p.Ops = append(p.Ops, drainOp(d.Key, d.Name, ld))
		case wait:
			p.Waiting = append(p.Waiting, Waiting{Service: d.Key, ServiceName: d.Name, Dest: ld})
		case remove:
			p.Ops = append(p.Ops, Op{Action: DeleteDest, Service: d.Key, ServiceName: d.Name, FromDest: ld})
		}
	}
}

// removeService plans a live service that the configuration no longer has.
func (p *Plan) removeService(l *lvs.Service, opts Options) {
	var ops []Op
	var waiting []Waiting
	busy := false
	for _, ld := range l.Dests {
		switch removal(l.Key, ld, opts) {
		case drain:
			ops = append(ops, drainOp(l.Key, l.Name, ld))
			busy = true
		case wait:
			waiting = append(waiting, Waiting{Service: l.Key, ServiceName: l.Name, Dest: ld})
			busy = true
		case remove:
			ops = append(ops, Op{Action: DeleteDest, Service: l.Key, ServiceName: l.Name, FromDest: ld})
		}
	}
	if busy {
		// The service stays until its last destination has drained;
		// meanwhile the idle ones go now.
		p.Ops = append(p.Ops, ops...)
		p.Waiting = append(p.Waiting, waiting...)
		return
	}
	p.Ops = append(p.Ops, Op{Action: DeleteService, Service: l.Key, ServiceName: l.Name, From: l.Opts})
	for _, ld := range l.Dests {
		p.Dropped = append(p.Dropped, Dropped{Service: l.Key, ServiceName: l.Name, Dest: ld})
	}
}

type removalKind int

const (
	remove removalKind = iota // delete now
	drain                     // set weight 0 first
	wait                      // weight is 0, connections remain
)

// removal decides how a destination of service k goes away.
func removal(k lvs.ServiceKey, d lvs.Dest, opts Options) removalKind {
	// UDP has no connection end: its entries only time out, so waiting
	// for them would only delay. Fwmark services may carry TCP and are
	// drained like it.
	if !opts.Drain || k.Protocol == lvs.UDP {
		return remove
	}
	if d.Opts.Weight > 0 {
		return drain
	}
	if d.Live.ActiveConns+d.Live.InactConns > 0 {
		return wait
	}
	return remove
}

func drainOp(k lvs.ServiceKey, name string, d lvs.Dest) Op {
	to := d
	to.Opts.Weight = 0
	return Op{Action: DrainDest, Service: k, ServiceName: name, FromDest: d, ToDest: to}
}

// DestSettled reports whether a live destination with settings live
// already has the settings want.
//
// The kernel reports the forwarding method Local for a destination whose
// address belongs to the director itself, whatever method was asked for
// (it delivers such packets locally). A live Local therefore matches any
// desired forwarding and tunnel settings; comparing them would plan the
// same edit forever.
func DestSettled(live, want lvs.DestOpts) bool { return destSettled(live, want, 0) }

// destSettled is DestSettled where the live table does not know the
// settings unknown: those are taken as settled, whatever they are.
func destSettled(live, want lvs.DestOpts, unknown lvs.Unknown) bool {
	if live.Forward == lvs.Local {
		live.Forward, live.TunnelType, live.TunnelPort, live.TunnelFlags = want.Forward, want.TunnelType, want.TunnelPort, want.TunnelFlags
	}
	if unknown&lvs.UnknownThresholds != 0 {
		live.UpperThreshold, live.LowerThreshold = want.UpperThreshold, want.LowerThreshold
	}
	if unknown&lvs.UnknownTunnel != 0 && live.Forward == lvs.Tunnel && want.Forward == lvs.Tunnel {
		live.TunnelType, live.TunnelPort, live.TunnelFlags = want.TunnelType, want.TunnelPort, want.TunnelFlags
	}
	return live == want
}

// opDestAddr is the destination address an op is about, if any.
func opDestAddr(op Op) netip.AddrPort {
	if op.ToDest.Addr.IsValid() {
		return op.ToDest.Addr
	}
	return op.FromDest.Addr
}
