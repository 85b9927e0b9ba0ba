package realserver

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/lvsctl/lvsctl/internal/sysctl"
)

// The state file is read back by --undo, which runs as root and writes
// what the file names: it is untrusted input. [State.Validate] accepts only
// the records [Prepare] writes, so that a file someone else put there, or
// a damaged one, can make undo touch nothing but ARP and reverse-path
// sysctls under /proc/sys/net, VIPs on the non-ARP devices, and those
// devices' link state.

// ErrBadState is wrapped by the errors of [State.Validate] and of the
// checks [Undo] and [Prepare] make before changing anything.
var ErrBadState = errors.New("not a state lvsctl realserver wrote")

// sysctlKeys are the sysctls [Prepare] sets, per device.
var sysctlKeys = []string{"arp_ignore", "arp_announce", "rp_filter"}

// maxSysctlValue bounds a recorded sysctl value.
const maxSysctlValue = 32

// badStateError is a state that [Undo] and [Prepare] refuse; it is
// [ErrBadState].
type badStateError struct{ msg string }

func (e *badStateError) Error() string        { return e.msg }
func (e *badStateError) Is(target error) bool { return target == ErrBadState }

// entryError is one bad entry of a state.
func entryError(entry, format string, args ...any) error {
	return &badStateError{fmt.Sprintf("entry %s: %s", entry, fmt.Sprintf(format, args...))}
}

// BadStateFile words err, the refusal of the state file at path, for
// people: what is wrong, that nothing was changed, and to delete the file.
func BadStateFile(path string, err error) error {
	return &badStateError{fmt.Sprintf("state file %s: %v; nothing was changed. The file is not one lvsctl realserver wrote: delete it (rm %s) to start afresh, then check this host's VIPs and ARP sysctls by hand (--undo cannot restore what it recorded)",
		path, err, path)}
}

// Validate checks every entry of s before anything is changed:
//
//   - a sysctl is a relative name in its clean form ("net/ipv4/conf/DEV/KEY",
//     no "..", ".", "//" or leading "/") whose file, joined to /proc/sys,
//     stays under /proc/sys/net; DEV is "all" or a valid device name and
//     KEY is arp_ignore, arp_announce or rp_filter; its old and new values
//     are decimal integers;
//   - an address is a valid single-host prefix (/32 or /128, not an
//     IPv4-mapped IPv6 address), with mode dr or tun, on the device that
//     mode uses for it (lo; tunl0 or ip6tnl0);
//   - a link brought up is a tunnel device (tunl0 or ip6tnl0).
//
// Device names follow the kernel's rules (dev_valid_name): 1 to 15 bytes,
// not "." or "..", no '/', ':', NUL or white space. The error names the
// first bad entry and wraps [ErrBadState].
func (s *State) Validate() error {
	for i, c := range s.Sysctls {
		entry := fmt.Sprintf("sysctls[%d] (name %q)", i, c.Name)
		if err := checkSysctlName(c.Name); err != nil {
			return entryError(entry, "%v", err)
		}
		for _, v := range []struct{ field, val string }{{"old", c.Old}, {"new", c.New}} {
			if err := checkSysctlValue(v.val); err != nil {
				return entryError(entry, "%s value %q: %v", v.field, v.val, err)
			}
		}
	}
	for i, a := range s.Addrs {
		entry := fmt.Sprintf("addresses[%d] (%q on %q)", i, a.Prefix.String(), a.Link)
		if err := checkLinkName(a.Link); err != nil {
			return entryError(entry, "link: %v", err)
		}
		if !a.Prefix.IsValid() {
			return entryError(entry, "no valid address prefix")
		}
		addr := a.Prefix.Addr()
		if addr.Zone() != "" || addr.Is4In6() || a.Prefix != HostPrefix(addr) {
			return entryError(entry, "prefix %s is not a single-host prefix (/32 or /128) of a plain address", a.Prefix)
		}
		if a.Mode != DR && a.Mode != TUN {
			return entryError(entry, "mode %q is neither dr nor tun", a.Mode)
		}
		if want := Link(a.Mode, addr); a.Link != want {
			return entryError(entry, "a %s VIP goes on %s, not on %s", a.Mode, want, a.Link)
		}
	}
	for i, l := range s.LinksUp {
		entry := fmt.Sprintf("links_up[%d] (%q)", i, l)
		if err := checkLinkName(l); err != nil {
			return entryError(entry, "%v", err)
		}
		if l != "tunl0" && l != "ip6tnl0" {
			return entryError(entry, "lvsctl brings up only tunl0 and ip6tnl0")
		}
	}
	return nil
}

// checkSysctlName refuses a sysctl name outside /proc/sys/net, or one that
// [Prepare] does not set.
func checkSysctlName(name string) error {
	if err := sysctl.CheckPath(name); err != nil {
		return err
	}
	parts := strings.Split(name, "/")
	if len(parts) != 5 || parts[0] != "net" || parts[1] != "ipv4" || parts[2] != "conf" || !slices.Contains(sysctlKeys, parts[4]) {
		return fmt.Errorf("not one of the sysctls lvsctl sets (net/ipv4/conf/DEV/{%s})", strings.Join(sysctlKeys, ","))
	}
	if err := checkLinkName(parts[3]); err != nil {
		return fmt.Errorf("device: %v", err)
	}
	return nil
}

// checkSysctlValue accepts what the integer sysctls lvsctl sets hold.
func checkSysctlValue(v string) error {
	if len(v) > maxSysctlValue {
		return fmt.Errorf("longer than %d bytes", maxSysctlValue)
	}
	if _, err := strconv.ParseInt(v, 10, 64); err != nil {
		return errors.New("not a decimal integer")
	}
	return nil
}

// ifNameMax is the longest interface name the kernel accepts (IFNAMSIZ-1).
const ifNameMax = 15

// checkLinkName applies the kernel's rules for a device name
// (dev_valid_name in net/core/dev.c).
func checkLinkName(s string) error {
	switch {
	case s == "":
		return errors.New("empty device name")
	case len(s) > ifNameMax:
		return fmt.Errorf("device name longer than %d bytes", ifNameMax)
	case s == "." || s == "..":
		return fmt.Errorf("%q is not a device name", s)
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '/', c == ':', c == 0:
			return fmt.Errorf("device name with %q", c)
		case isKernelSpace(c):
			return errors.New("device name with white space")
		}
	}
	return nil
}

// isKernelSpace is the kernel's isspace: the ASCII white space and Latin-1
// no-break space.
func isKernelSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\v', '\f', '\r', 0xa0:
		return true
	}
	return false
}
