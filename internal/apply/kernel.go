package apply

import (
	"fmt"
	"net/netip"
	"syscall"

	"github.com/lvsctl/lvsctl/kernel"
	"github.com/lvsctl/lvsctl/lvs"
)

// A Kernel reads and changes one network namespace's IPVS table. The
// production implementation talks generic netlink to the running kernel
// (package kernel); package applytest keeps a table in memory.
//
// Each method is one kernel operation. Errors from the kernel keep their
// errno (errors.Is(err, syscall.EEXIST) works), so that a report can say why.
type Kernel interface {
	// Table returns the whole live table, normalized, with counters and
	// the connection timeouts.
	Table() (*lvs.Table, error)
	// AddService adds s.Key with s.Opts; s.Dests are ignored.
	AddService(s lvs.Service) error
	// EditService changes the options of the existing service s.Key.
	EditService(s lvs.Service) error
	DeleteService(k lvs.ServiceKey) error
	AddDest(k lvs.ServiceKey, d lvs.Dest) error
	EditDest(k lvs.ServiceKey, d lvs.Dest) error
	DeleteDest(k lvs.ServiceKey, addr netip.AddrPort) error
	// SetTimeouts sets the connection timeouts; a zero field is left as is.
	SetTimeouts(t lvs.Timeouts) error
}

// Do makes the one call of k that c stands for: how a [Kernel] that cannot
// batch runs a change. A change that is not to the table (the sync
// daemon's) is refused with EOPNOTSUPP.
func Do(k Kernel, c kernel.Change) error {
	switch c.Kind {
	case kernel.SetTimeouts:
		return k.SetTimeouts(c.Timeouts)
	case kernel.AddService:
		return k.AddService(lvs.Service{Key: c.Service, Opts: c.Opts})
	case kernel.EditService:
		return k.EditService(lvs.Service{Key: c.Service, Opts: c.Opts})
	case kernel.DeleteService:
		return k.DeleteService(c.Service)
	case kernel.AddDest:
		return k.AddDest(c.Service, c.Dest)
	case kernel.EditDest:
		return k.EditDest(c.Service, c.Dest)
	case kernel.DeleteDest:
		return k.DeleteDest(c.Service, c.Dest.Addr)
	}
	return fmt.Errorf("%s is not a change to a table: %w", c, syscall.EOPNOTSUPP)
}
