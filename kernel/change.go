package kernel

import (
	"fmt"
	"time"

	"github.com/lvsctl/lvsctl/lvs"
)

// A ChangeKind says what a [Change] does.
type ChangeKind uint8

const (
	SetTimeouts   ChangeKind = iota + 1 // set the connection timeouts
	AddService                          // add a virtual service
	EditService                         // change a virtual service's options
	DeleteService                       // delete a virtual service and its real servers
	AddDest                             // add a real server to a service
	EditDest                            // change a real server's options
	DeleteDest                          // delete a real server
	StartDaemon                         // start a connection-synchronisation daemon
	StopDaemon                          // stop one
)

// A Change is one change to an IPVS table: one generic-netlink command.
// [IPVS.Batch] sends many at once; apply translates plan operations into
// changes.
type Change struct {
	Kind ChangeKind
	// Service identifies the service of every kind but SetTimeouts and
	// the daemons.
	Service lvs.ServiceKey
	// Opts are the options AddService and EditService set.
	Opts lvs.ServiceOpts
	// Was, for EditService, are the options being replaced, when known.
	// Nothing is sent from them: an error uses them to say which module
	// is missing, the scheduler's or the persistence engine's.
	Was lvs.ServiceOpts
	// Dest is the real server of AddDest and EditDest; DeleteDest uses
	// its address only.
	Dest lvs.Dest
	// Timeouts are set by SetTimeouts; a zero field is left as it is.
	Timeouts lvs.Timeouts
	// Daemon is the daemon StartDaemon starts; StopDaemon uses its state
	// only.
	Daemon DaemonConfig
}

// cmd is the IPVS command that carries c.
func (c Change) cmd() uint8 {
	switch c.Kind {
	case SetTimeouts:
		return cmdSetConfig
	case AddService:
		return cmdNewService
	case EditService:
		return cmdSetService
	case DeleteService:
		return cmdDelService
	case AddDest:
		return cmdNewDest
	case EditDest:
		return cmdSetDest
	case DeleteDest:
		return cmdDelDest
	case StartDaemon:
		return cmdNewDaemon
	case StopDaemon:
		return cmdDelDaemon
	}
	return 0
}

func (c Change) isDest() bool { return c.Kind == AddDest || c.Kind == EditDest || c.Kind == DeleteDest }

// noop reports a change that needs no kernel call.
func (c Change) noop() bool {
	return c.Kind == SetTimeouts && c.Timeouts == (lvs.Timeouts{})
}

// Check reports what the kernel would refuse with a bare EINVAL (a name
// longer than it takes, a real server without an address, a weight
// outside 0 to 65535, a timeout that is not whole seconds), so that the
// error can say what is wrong. [IPVS.Do] and [IPVS.Batch] send nothing
// that fails it.
func (c Change) Check() error {
	if c.cmd() == 0 {
		return fmt.Errorf("unknown IPVS change kind %d", c.Kind)
	}
	if c.Kind == AddService || c.Kind == EditService {
		if len(c.Opts.Scheduler) > schedNameMax {
			return fmt.Errorf("scheduler name %q is longer than %d bytes", c.Opts.Scheduler, schedNameMax)
		}
		if len(c.Opts.PE) > schedNameMax {
			return fmt.Errorf("persistence engine name %q is longer than %d bytes", c.Opts.PE, schedNameMax)
		}
	}
	if c.isDest() && !c.Dest.Addr.Addr().IsValid() {
		return fmt.Errorf("a real server needs an address")
	}
	if (c.Kind == AddDest || c.Kind == EditDest) && (c.Dest.Opts.Weight < 0 || c.Dest.Opts.Weight > 65535) {
		return fmt.Errorf("weight must be between 0 and 65535, not %d", c.Dest.Opts.Weight)
	}
	if c.Kind == SetTimeouts {
		for _, d := range []time.Duration{c.Timeouts.TCP, c.Timeouts.TCPFin, c.Timeouts.UDP} {
			if d < 0 || d%time.Second != 0 || d/time.Second > 1<<31-1 {
				return fmt.Errorf("timeout %s is not a whole number of seconds the kernel can hold", d)
			}
		}
	}
	if c.Kind == StartDaemon {
		return c.Daemon.check()
	}
	if c.Kind == StopDaemon && c.Daemon.State != DaemonMaster && c.Daemon.State != DaemonBackup {
		return fmt.Errorf("sync daemon state must be master or backup, not %d", uint32(c.Daemon.State))
	}
	return nil
}

// encode appends the body of c's request (generic-netlink header and
// attributes) to m.
func (c Change) encode(m *msgBuf) {
	m.begin(c.cmd())
	switch c.Kind {
	case AddService, EditService:
		putService(m, c.Service, &c.Opts)
	case DeleteService:
		putService(m, c.Service, nil)
	case AddDest, EditDest:
		putService(m, c.Service, nil)
		putDest(m, c.Dest.Addr, &c.Dest.Opts)
	case DeleteDest:
		putService(m, c.Service, nil)
		putDest(m, c.Dest.Addr, nil)
	case SetTimeouts:
		putTimeouts(m, c.Timeouts)
	case StartDaemon:
		putDaemon(m, c.Daemon, true)
	case StopDaemon:
		putDaemon(m, c.Daemon, false)
	}
}

// String describes the change as ipvsadm's options would:
// "add service tcp 10.0.0.2:80".
func (c Change) String() string {
	switch c.Kind {
	case SetTimeouts:
		return "set timeouts"
	case AddService:
		return "add service " + c.Service.String()
	case EditService:
		return "edit service " + c.Service.String()
	case DeleteService:
		return "delete service " + c.Service.String()
	case AddDest:
		return fmt.Sprintf("add real server %s to %s", c.Dest.Addr, c.Service)
	case EditDest:
		return fmt.Sprintf("edit real server %s of %s", c.Dest.Addr, c.Service)
	case DeleteDest:
		return fmt.Sprintf("delete real server %s from %s", c.Dest.Addr, c.Service)
	case StartDaemon:
		return "start " + c.Daemon.State.String() + " sync daemon"
	case StopDaemon:
		return "stop " + c.Daemon.State.String() + " sync daemon"
	}
	return fmt.Sprintf("IPVS change %d", c.Kind)
}
