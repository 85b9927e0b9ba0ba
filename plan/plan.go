// Package plan computes the operations that turn a live IPVS table into a
// desired one, renders them for people and machines, and saves them. It never
// touches the kernel: package apply executes a [Plan] verbatim.
package plan

import (
	"github.com/lvsctl/lvsctl/lvs"
)

// Action is what an [Op] does. The declaration order is the execution order
// within a plan (see [Diff]).
type Action uint8

const (
	SetTimeouts   Action = iota + 1 // ipvsadm --set
	AddService                      // ipvsadm -A
	EditService                     // ipvsadm -E: scheduler, persistence, flags, pe
	AddDest                         // ipvsadm -a
	EditDest                        // ipvsadm -e: weight, forwarding, thresholds, tunnel
	DrainDest                       // ipvsadm -e -w 0 on a destination that is going away
	DeleteDest                      // ipvsadm -d
	DeleteService                   // ipvsadm -D; the kernel drops its destinations with it
)

// An Op is one kernel operation. Which fields matter depends on Action:
//
//	SetTimeouts            FromTimeouts -> ToTimeouts
//	AddService             Service, To
//	EditService            Service, From -> To
//	DeleteService          Service, From
//	AddDest                Service, ToDest
//	EditDest, DrainDest    Service, FromDest -> ToDest (same address)
//	DeleteDest             Service, FromDest
//
// ServiceName and the destinations' Name fields carry the configuration's
// names for display only. Op is comparable, so tests compare plans with ==.
type Op struct {
	Action       Action
	Service      lvs.ServiceKey
	ServiceName  string
	From, To     lvs.ServiceOpts
	FromDest     lvs.Dest
	ToDest       lvs.Dest
	FromTimeouts lvs.Timeouts
	ToTimeouts   lvs.Timeouts
}

// A Waiting destination is being drained: its weight is already 0 and it
// still has connections, so a later plan deletes it.
type Waiting struct {
	Service lvs.ServiceKey
	Dest    lvs.Dest
}

// A Plan is an ordered list of operations. An empty Ops means no changes.
type Plan struct {
	Ops     []Op
	Waiting []Waiting // only when planned with Options.Drain
}
