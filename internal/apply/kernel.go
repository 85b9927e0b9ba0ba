package apply

import (
	"net/netip"

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
