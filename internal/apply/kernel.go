package apply

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"syscall"

	"github.com/lvsctl/lvsctl/kernel"
	"github.com/lvsctl/lvsctl/lvs"
)

// A Kernel reads and changes one network namespace's IPVS table and the
// kernel settings the table depends on ([lvs.Sysctl]). The production
// implementation talks generic netlink to the running kernel and reads and
// writes /proc/sys in the namespace (package kernel); package applytest
// keeps a table and settings in memory.
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
	// Sysctl returns the value of the kernel setting name, as sysctl(8)
	// names it ("net.ipv4.ip_forward"), without the trailing newline. An
	// error that wraps fs.ErrNotExist says the kernel has no such setting
	// (net.ipv4.vs.* before ip_vs is loaded).
	Sysctl(name string) (string, error)
	// SetSysctl writes value to the kernel setting name.
	SetSysctl(name, value string) error
}

// ReadSysctls returns the values of the settings desired names, as
// lvs.Table.Sysctls of a live table: Value is "" for a setting the kernel
// does not have.
func ReadSysctls(k Kernel, desired []lvs.Sysctl) ([]lvs.Sysctl, error) {
	out := make([]lvs.Sysctl, 0, len(desired))
	for _, d := range desired {
		v, err := k.Sysctl(d.Name)
		if errors.Is(err, fs.ErrNotExist) {
			out = append(out, lvs.Sysctl{Name: d.Name})
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("cannot read sysctl %s: %w", d.Name, err)
		}
		out = append(out, lvs.Sysctl{Name: d.Name, Value: v})
	}
	return out, nil
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
