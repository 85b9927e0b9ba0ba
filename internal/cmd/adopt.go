package cmd

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/kernel"
	"github.com/lvsctl/lvsctl/lvs"
)

// adopt turns a live table (the kernel's, or show --json output) into the
// configuration that asks for exactly it, Terraform's import: every
// setting the table has becomes HCL, and what HCL cannot say is named in a
// NOTE. header is the header's first lines (where the table came from);
// daemons are the kernel's running sync daemons (none for a saved table).
// The kernel settings of live (every one lvsctl manages, as read; none for
// a dump) become the sysctl block: those that differ from a fresh
// namespace's, so that the configuration applied to a fresh director
// gives it the same settings, and is a no-op on this one.
//
// It is pure: the caller reads the kernel.
func adopt(live *lvs.Table, daemons []kernel.DaemonConfig, header []string) (*model.Config, *model.Annotations) {
	t := live.Clone()
	ann := &model.Annotations{Header: header}
	unknown := t.Unknown
	t.Unknown = 0 // a configuration is a desired table: zero timeouts leave the kernel's alone
	names := keptNames(t)
	ann.Header = append(ann.Header, "# NOTE: the kernel has no health checks, VIPs or failover settings; add them here.")
	if !names {
		ann.Header = append(ann.Header, "# NOTE: the names were made from the addresses; rename the blocks as you like.")
	}
	if unknown&lvs.UnknownTimeouts != 0 {
		ann.Header = append(ann.Header, fmt.Sprintf("# NOTE: the table has no value for %s (0 in it), so the timeouts block leaves %s out and lvsctl leaves the kernel's as they are.", unknown&lvs.UnknownTimeouts, itThem(unknown&lvs.UnknownTimeouts)))
	}
	for _, d := range daemons {
		ann.Header = append(ann.Header, daemonNote(d)...)
	}

	cfg := &model.Config{Table: t}
	if !names {
		cfg = model.FromTable(t)
		t = cfg.Table
	}
	for i := range t.Services {
		s := &t.Services[i]
		s.Stats = lvs.Stats{}
		for j := range s.Dests {
			d := &s.Dests[j]
			d.Live = lvs.DestLive{}
			if d.Opts.Forward == lvs.Local {
				f := localForward(s, d)
				d.Opts.Forward = f
				ann.Add(fmt.Sprintf("NOTE: the kernel reports %s as local (an address of this director), whatever method it was added with, and delivers to it on the director; written as %q, which lvsctl plan takes as matching a local real server.", d.Addr, f),
					"virtual_server", s.Name, "real_server", d.Name)
			}
		}
	}
	t.Normalize()
	named, notes := adoptSysctls(live.Sysctls, t)
	model.SetSysctls(t, named, false)
	ann.Header = append(ann.Header, notes...)
	return cfg, ann
}

// adoptSysctls returns the settings of live (as read from a kernel) that
// a configuration must name to give them (those its sysctl block can
// name, set to other than their default), and the notes on what it
// cannot carry: forwarding off although t's NAT real servers need it on,
// which lvsctl turns on unless told to leave it (manage_forwarding =
// false), since no NAT director works without it.
func adoptSysctls(live []lvs.Sysctl, t *lvs.Table) ([]lvs.Sysctl, []string) {
	var named []lvs.Sysctl
	var notes []string
	for _, s := range live {
		info, ok := lvs.LookupSysctl(s.Name)
		if !ok || s.Value == "" || s.Value == info.Default || info.Key == "" {
			continue
		}
		if lvs.ValidateSysctl(s) != nil {
			// The kernel takes any integer for most knobs; lvsctl writes
			// only the documented values.
			notes = append(notes, fmt.Sprintf("# NOTE: the kernel has %s = %s, which lvsctl does not write (it takes %d to %d); set it in the sysctl block to one of those, or leave it to sysctl.conf.", s.Name, s.Value, info.Min, info.Max))
			continue
		}
		named = append(named, lvs.Sysctl{Name: s.Name, Value: s.Value})
	}
	for _, need := range lvs.NeededSysctls(t) {
		for _, s := range live {
			if s.Name == need.Name && s.Value != "" && s.Value != need.Value {
				notes = append(notes, fmt.Sprintf("# NOTE: the kernel has %s = %s, but its %s real servers need %s: lvsctl plans to set it; add manage_forwarding = false to a sysctl block to leave it.", s.Name, s.Value, need.Reason, need.Value))
			}
		}
	}
	return named, notes
}

// keptNames keeps the names a saved table gives (show --json prints the
// configuration's) when every service and real server has one that the
// configuration accepts, unique in its scope, and reports whether it did.
// Otherwise the caller names them all from their addresses.
func keptNames(t *lvs.Table) bool {
	if len(t.Services) == 0 {
		return false
	}
	seen := map[string]bool{}
	for _, s := range t.Services {
		if !goodName(s.Name) || seen[s.Name] {
			return false
		}
		seen[s.Name] = true
		dseen := map[string]bool{}
		for _, d := range s.Dests {
			if !goodName(d.Name) || dseen[d.Name] {
				return false
			}
			dseen[d.Name] = true
		}
	}
	return true
}

// goodName is a name the HCL configuration accepts for a block.
func goodName(n string) bool {
	if strings.TrimSpace(n) == "" || !utf8.ValidString(n) {
		return false
	}
	return !strings.ContainsFunc(n, func(r rune) bool { return unicode.IsControl(r) || r == utf8.RuneError })
}

// localForward picks the method to write for a real server that the
// kernel reports as local, for which any method means the same: nat when
// its port differs from the service's (only NAT may change the port), else
// the one the service's other real servers share, else nat.
func localForward(s *lvs.Service, d *lvs.Dest) lvs.Forward {
	if !s.Key.IsFWMark() && d.Addr.Port() != s.Key.Port {
		return lvs.Masq
	}
	var others []lvs.Forward
	for _, o := range s.Dests {
		if o.Opts.Forward != lvs.Local {
			others = append(others, o.Opts.Forward)
		}
	}
	if len(others) > 0 && !slices.ContainsFunc(others, func(f lvs.Forward) bool { return f != others[0] }) {
		return others[0]
	}
	return lvs.Masq
}

// daemonNote says how the configuration expresses a running sync daemon:
// only through pulse, which starts it on the director pair, and without
// the multicast settings.
func daemonNote(d kernel.DaemonConfig) []string {
	lines := []string{
		fmt.Sprintf("# NOTE: the kernel runs the IPVS connection sync daemon as %s on %s, syncid %d. lvsctl starts it from pulse", d.State, d.Interface, d.SyncID),
		fmt.Sprintf("# (master on the active director, backup on the standby): add sync_daemon { interface = %q, id = %d } to the pulse block.", d.Interface, d.SyncID),
	}
	var rest []string
	if d.MaxLen != 0 {
		rest = append(rest, fmt.Sprintf("sync-maxlen %d", d.MaxLen))
	}
	// The kernel reports its defaults (224.0.0.81, 8848, 1) once running.
	if d.Group.IsValid() && !d.Group.IsUnspecified() && d.Group != netip.AddrFrom4([4]byte{224, 0, 0, 81}) {
		rest = append(rest, "mcast-group "+d.Group.String())
	}
	if d.Port != 0 && d.Port != 8848 {
		rest = append(rest, fmt.Sprintf("mcast-port %d", d.Port))
	}
	if d.TTL > 1 {
		rest = append(rest, fmt.Sprintf("mcast-ttl %d", d.TTL))
	}
	if len(rest) > 0 {
		lines = append(lines, "# NOTE: the configuration cannot express its "+strings.Join(rest, ", ")+"; pulse starts the daemon with the kernel's defaults (the message size from the interface's MTU).")
	}
	return lines
}
