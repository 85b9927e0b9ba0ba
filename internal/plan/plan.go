// Package plan computes the operations that turn a live IPVS table into a
// desired one, renders them for people and machines, and saves them. It never
// touches the kernel: package apply executes a [Plan] verbatim.
package plan

import (
	"fmt"

	"github.com/lvsctl/lvsctl/lvs"
)

// Action is what an [Op] does. The declaration order is the execution order
// within a plan (see [Diff]).
type Action uint8

const (
	SetSysctl     Action = iota + 1 // sysctl -w: a kernel setting of the namespace
	SetTimeouts                     // ipvsadm --set
	AddService                      // ipvsadm -A
	EditService                     // ipvsadm -E: scheduler, persistence, flags, pe
	AddDest                         // ipvsadm -a
	EditDest                        // ipvsadm -e: weight, forwarding, thresholds, tunnel
	DrainDest                       // ipvsadm -e -w 0 on a destination that is going away
	DeleteDest                      // ipvsadm -d
	DeleteService                   // ipvsadm -D; the kernel drops its destinations with it
)

var actionNames = [...]string{
	SetSysctl:     "set_sysctl",
	SetTimeouts:   "set_timeouts",
	AddService:    "add_service",
	EditService:   "edit_service",
	AddDest:       "add_dest",
	EditDest:      "edit_dest",
	DrainDest:     "drain_dest",
	DeleteDest:    "delete_dest",
	DeleteService: "delete_service",
}

// String returns the action's name as saved in a plan file, such as "add_dest".
func (a Action) String() string {
	if int(a) < len(actionNames) && actionNames[a] != "" {
		return actionNames[a]
	}
	return fmt.Sprintf("action(%d)", uint8(a))
}

// MarshalText encodes a by name, so that saved plans stay readable and do
// not depend on the numbering.
func (a Action) MarshalText() ([]byte, error) {
	if int(a) >= len(actionNames) || actionNames[a] == "" {
		return nil, fmt.Errorf("unknown plan action %d", uint8(a))
	}
	return []byte(actionNames[a]), nil
}

// UnmarshalText decodes a name written by [Action.MarshalText].
func (a *Action) UnmarshalText(b []byte) error {
	for i, n := range actionNames {
		if n != "" && n == string(b) {
			*a = Action(i)
			return nil
		}
	}
	return fmt.Errorf("unknown plan action %q", b)
}

// An Op is one kernel operation. Which fields matter depends on Action:
//
//	SetSysctl              FromSysctl -> ToSysctl (same name)
//	SetTimeouts            FromTimeouts -> ToTimeouts
//	AddService             Service, To
//	EditService            Service, From -> To
//	DeleteService          Service, From
//	AddDest                Service, ToDest
//	EditDest, DrainDest    Service, FromDest -> ToDest (same address)
//	DeleteDest             Service, FromDest
//
// ServiceName and the destinations' Name fields carry the configuration's
// names for display only, and ToSysctl.Reason says why a setting the
// configuration does not name is set. Op is comparable, so tests compare plans with ==.
type Op struct {
	Action       Action
	Service      lvs.ServiceKey
	ServiceName  string
	From, To     lvs.ServiceOpts
	FromDest     lvs.Dest
	ToDest       lvs.Dest
	FromTimeouts lvs.Timeouts
	ToTimeouts   lvs.Timeouts
	FromSysctl   lvs.Sysctl // its Value is "" when the kernel has no such setting
	ToSysctl     lvs.Sysctl
}

// A Waiting destination is being drained: its weight is already 0 and it
// still has connections, so a later plan deletes it.
type Waiting struct {
	Service     lvs.ServiceKey
	ServiceName string // for display only
	Dest        lvs.Dest
}

// A Dropped destination goes away with its service: the kernel deletes a
// service's destinations along with it, so the plan has no DeleteDest for
// it, but it is shown and counted as destroyed.
type Dropped struct {
	Service     lvs.ServiceKey
	ServiceName string // for display only
	Dest        lvs.Dest
}

// A Plan is an ordered list of operations. An empty Ops means no changes.
type Plan struct {
	Ops     []Op
	Waiting []Waiting // only when planned with Options.Drain
	Dropped []Dropped // destinations of the services that DeleteService ops delete
	// Unknown is what the live table did not know (its Unknown), left
	// out of the comparison: no op changes it except where an edit sets
	// the desired value along with a known change.
	Unknown lvs.Unknown
}

// Empty reports whether p has no operation to run now. Destinations that
// are still draining ([Plan.Waiting]) are not a change to make now, but a
// later plan will delete them.
func (p Plan) Empty() bool { return len(p.Ops) == 0 }
