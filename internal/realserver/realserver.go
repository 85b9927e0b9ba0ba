// Package realserver prepares a Linux host to be a real server behind an
// IPVS director that forwards by direct routing (DR) or IP tunnelling (TUN),
// the way the LVS HOWTO's rc.lvs_dr scripts did, and undoes it exactly.
//
// In both methods the packets reach the real server still addressed to the
// virtual IP, so the real server must own the VIP — but must never answer
// ARP for it, or clients on the director's segment would send their traffic
// straight to a real server and bypass the director. The VIP therefore goes
// on an interface that does not ARP (lo for DR, the tunnel device for TUN)
// and the ARP sysctls keep the host from advertising it elsewhere.
//
// The logic here is pure: it works through a [System] (the Linux one is
// [Linux]) and records what it changed in a [State], which the caller keeps
// in a file so that [Undo] restores the previous values.
package realserver

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/lvsctl/lvsctl/internal/sysctl"
)

// Mode is the IPVS forwarding method the real server is prepared for.
type Mode string

const (
	// DR is direct routing: the director rewrites only the MAC address.
	DR Mode = "dr"
	// TUN is IP tunnelling: the director encapsulates the packet (IPIP).
	TUN Mode = "tun"
)

// ParseMode reads "dr" or "tun" (the names of ipvsadm's -g and -i are
// accepted too: "gatewaying"/"route", "ipip"/"tunnel").
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(s) {
	case "dr", "route", "gatewaying", "direct":
		return DR, nil
	case "tun", "ipip", "tunnel":
		return TUN, nil
	case "nat", "masq", "masquerading":
		return "", errors.New(`mode "nat" needs nothing on the real server except the director as its default gateway: use --mode dr or --mode tun`)
	}
	return "", fmt.Errorf("unknown mode %q: use --mode dr or --mode tun", s)
}

// System is what preparing a real server touches. Sysctl names are paths
// under /proc/sys ("net/ipv4/conf/all/arp_ignore"); values are the file's
// contents without the trailing newline.
type System interface {
	Sysctl(name string) (string, error)
	SetSysctl(name, value string) error
	// CheckSysctl refuses a sysctl whose file is not under /proc/sys/net
	// once symbolic links are resolved. [Undo] and [Prepare] call it for
	// every sysctl of the state before they change anything.
	CheckSysctl(name string) error
	// LinkExists reports whether the interface exists.
	LinkExists(link string) (bool, error)
	// LinkUp reports whether the interface is administratively up.
	LinkUp(link string) (bool, error)
	SetLinkUp(link string, up bool) error
	HasAddr(link string, p netip.Prefix) (bool, error)
	AddAddr(link string, p netip.Prefix) error
	DelAddr(link string, p netip.Prefix) error
	// LoadModule loads a kernel module (modprobe NAME).
	LoadModule(name string) error
}

// State is what lvsctl changed on a real server: enough to undo exactly
// that and nothing else. It is kept as JSON in a 0600 file.
type State struct {
	// Sysctls in the order they were changed, each with the value found
	// before the first change.
	Sysctls []SysctlChange `json:"sysctls,omitempty"`
	// Addrs added, with the mode they were added for.
	Addrs []AddrChange `json:"addresses,omitempty"`
	// LinksUp are interfaces that were down and were brought up.
	LinksUp []string `json:"links_up,omitempty"`
}

// SysctlChange is one sysctl set by [Prepare].
type SysctlChange struct {
	Name string `json:"name"`
	Old  string `json:"old"`
	New  string `json:"new"`
}

// AddrChange is one VIP added by [Prepare].
type AddrChange struct {
	Link   string       `json:"link"`
	Prefix netip.Prefix `json:"prefix"`
	Mode   Mode         `json:"mode"`
}

// Empty reports whether s records no change at all.
func (s *State) Empty() bool {
	return len(s.Sysctls) == 0 && len(s.Addrs) == 0 && len(s.LinksUp) == 0
}

// Link is the interface that holds the VIP for mode: lo for DR; for TUN the
// fallback tunnel device that the ipip (IPv4) or ip6_tunnel (IPv6) module
// creates, which receives every tunnelled packet not claimed by another
// tunnel.
func Link(mode Mode, vip netip.Addr) string {
	switch {
	case mode == DR:
		return "lo"
	case vip.Is4():
		return "tunl0"
	default:
		return "ip6tnl0"
	}
}

func tunnelModule(link string) string {
	if link == "ip6tnl0" {
		return "ip6_tunnel"
	}
	return "ipip"
}

// HostPrefix is vip as a single-host prefix (/32 or /128): the VIP on lo
// must not make the whole subnet local, or the real server could no longer
// reach its neighbours in it.
func HostPrefix(vip netip.Addr) netip.Prefix {
	vip = vip.Unmap()
	return netip.PrefixFrom(vip, vip.BitLen())
}

// sysctlWant is one sysctl the mode needs, with the values that already
// satisfy it.
type sysctlWant struct {
	name string
	set  string
	ok   func(cur string) bool
}

func is(vals ...string) func(string) bool {
	return func(cur string) bool { return slices.Contains(vals, cur) }
}

// wants lists the sysctls for mode with the VIPs on link. The kernel uses
// the larger of "all" and the interface's value for arp_ignore and
// arp_announce, so both are set, as rc.lvs_dr did.
func wants(mode Mode, link string) []sysctlWant {
	conf := func(dev, key string) string { return "net/ipv4/conf/" + dev + "/" + key }
	w := []sysctlWant{
		// arp_ignore=1: answer ARP only for addresses on the interface the
		// request came in on — never for the VIP on lo or tunl0. 2 is
		// stricter and fine too.
		{conf("all", "arp_ignore"), "1", is("1", "2")},
		// arp_announce=2: use the outgoing interface's own address as the
		// ARP source, never the VIP, so that neighbours do not learn the
		// VIP's location from the real server's own requests.
		{conf("all", "arp_announce"), "2", is("2")},
		{conf(link, "arp_ignore"), "1", is("1", "2")},
		{conf(link, "arp_announce"), "2", is("2")},
	}
	if mode == TUN {
		// A decapsulated packet arrives on tunl0 with the client's address
		// as its source, but the route back to the client leaves by the
		// real server's ordinary interface: strict reverse-path filtering
		// (1) would drop every such packet. The kernel uses the larger of
		// "all" and the device's value, so tunl0 is switched off and "all"
		// is relaxed to loose mode (2) only when it is strict; loose
		// mode still drops sources that have no route at all.
		w = append(w,
			sysctlWant{conf(link, "rp_filter"), "0", is("0")},
			sysctlWant{conf("all", "rp_filter"), "2", is("0", "2")},
		)
	}
	return w
}

// Prepare makes the host a real server for mode with vips, recording each
// change in st (which may already hold earlier runs' changes: a value
// recorded there keeps its original "old"). It returns one line per change,
// in the order made; none when the host was already prepared. On error the
// changes made so far are in st and the returned lines.
func Prepare(sys System, st *State, mode Mode, vips []netip.Addr) ([]string, error) {
	if mode != DR && mode != TUN {
		return nil, fmt.Errorf("unknown mode %q: use dr or tun", mode)
	}
	if len(vips) == 0 {
		return nil, errors.New("no VIP given: name each virtual IP with --vip ADDR")
	}
	if err := checkState(sys, st); err != nil {
		return nil, err
	}
	var done []string
	links := []string{}
	for _, vip := range vips {
		if l := Link(mode, vip); !slices.Contains(links, l) {
			links = append(links, l)
		}
	}
	if mode == TUN {
		for _, l := range links {
			ok, err := sys.LinkExists(l)
			if err != nil {
				return done, err
			}
			if !ok {
				mod := tunnelModule(l)
				if err := sys.LoadModule(mod); err != nil {
					return done, fmt.Errorf("no %s device and module %s does not load: %w", l, mod, err)
				}
				if ok, err := sys.LinkExists(l); err != nil {
					return done, err
				} else if !ok {
					return done, fmt.Errorf("module %s loaded but there is no %s device: is the module built with fallback tunnels disabled (net.core.fb_tunnels_only_for_init_net)?", mod, l)
				}
				done = append(done, fmt.Sprintf("+ module %s loaded (creates %s)", mod, l))
			}
			up, err := sys.LinkUp(l)
			if err != nil {
				return done, err
			}
			if !up {
				if err := sys.SetLinkUp(l, true); err != nil {
					return done, fmt.Errorf("cannot bring %s up: %w", l, err)
				}
				if !slices.Contains(st.LinksUp, l) {
					st.LinksUp = append(st.LinksUp, l)
				}
				done = append(done, fmt.Sprintf("~ link %s: down -> up", l))
			}
		}
	}
	for _, vip := range vips {
		l, p := Link(mode, vip), HostPrefix(vip)
		has, err := sys.HasAddr(l, p)
		if err != nil {
			return done, err
		}
		if has {
			continue
		}
		if err := sys.AddAddr(l, p); err != nil {
			return done, fmt.Errorf("cannot add %s to %s: %w", p, l, err)
		}
		st.Addrs = append(st.Addrs, AddrChange{Link: l, Prefix: p, Mode: mode})
		done = append(done, fmt.Sprintf("+ address %s on %s", p, l))
	}
	// The ARP and reverse-path sysctls are IPv4's; an IPv6 VIP needs only
	// its address (neighbour discovery answers only for the interface's
	// own addresses).
	for _, l := range links {
		if l == "ip6tnl0" {
			continue
		}
		for _, w := range wants(mode, l) {
			cur, err := sys.Sysctl(w.name)
			if err != nil {
				return done, err
			}
			if w.ok(cur) {
				continue
			}
			if err := sys.SetSysctl(w.name, w.set); err != nil {
				return done, fmt.Errorf("cannot set %s to %s: %w", sysctl.Dotted(w.name), w.set, err)
			}
			recordSysctl(st, w.name, cur, w.set)
			done = append(done, fmt.Sprintf("~ %s: %s -> %s", sysctl.Dotted(w.name), cur, w.set))
		}
	}
	return done, nil
}

func recordSysctl(st *State, name, old, new string) {
	for i := range st.Sysctls {
		if st.Sysctls[i].Name == name {
			st.Sysctls[i].New = new // the original Old stays
			return
		}
	}
	st.Sysctls = append(st.Sysctls, SysctlChange{Name: name, Old: old, New: new})
}

// checkState checks st before anything is changed: its entries, and where
// its sysctls lead on this host.
func checkState(sys System, st *State) error {
	if err := st.Validate(); err != nil {
		return err
	}
	for i, c := range st.Sysctls {
		if err := sys.CheckSysctl(c.Name); err != nil {
			return entryError(fmt.Sprintf("sysctls[%d] (name %q)", i, c.Name), "%v", err)
		}
	}
	return nil
}

// Undo reverses what st records. With vips it removes only those VIPs'
// addresses, and restores the sysctls and links only once no recorded VIP
// is left (the others still need them); without vips it undoes everything.
// It leaves alone what it did not change: an address it did not add, a
// sysctl someone changed again since (reported). It returns one line per
// change and the notes, and updates st to what is left to undo.
//
// Undo first checks every entry of st ([State.Validate] and
// [System.CheckSysctl]); when one is bad it changes nothing and returns an
// error that wraps [ErrBadState].
func Undo(sys System, st *State, vips []netip.Addr) (done, notes []string, err error) {
	if err := checkState(sys, st); err != nil {
		return nil, nil, err
	}
	var keep []AddrChange
	for _, a := range st.Addrs {
		if len(vips) > 0 && !slices.Contains(vips, a.Prefix.Addr()) {
			keep = append(keep, a)
			continue
		}
		has, err := sys.HasAddr(a.Link, a.Prefix)
		if err != nil {
			return done, notes, err
		}
		if has {
			if err := sys.DelAddr(a.Link, a.Prefix); err != nil {
				return done, notes, fmt.Errorf("cannot remove %s from %s: %w", a.Prefix, a.Link, err)
			}
			done = append(done, fmt.Sprintf("- address %s on %s", a.Prefix, a.Link))
		} else {
			notes = append(notes, fmt.Sprintf("address %s is no longer on %s", a.Prefix, a.Link))
		}
	}
	for _, v := range vips {
		if !slices.ContainsFunc(st.Addrs, func(a AddrChange) bool { return a.Prefix.Addr() == v }) {
			notes = append(notes, fmt.Sprintf("%s was not added by lvsctl realserver: left as it is", v))
		}
	}
	st.Addrs = keep
	if len(keep) > 0 {
		return done, notes, nil
	}
	for i := len(st.Sysctls) - 1; i >= 0; i-- {
		s := st.Sysctls[i]
		cur, err := sys.Sysctl(s.Name)
		if err != nil {
			return done, notes, err
		}
		switch cur {
		case s.Old:
		case s.New:
			if err := sys.SetSysctl(s.Name, s.Old); err != nil {
				return done, notes, fmt.Errorf("cannot restore %s to %s: %w", sysctl.Dotted(s.Name), s.Old, err)
			}
			done = append(done, fmt.Sprintf("~ %s: %s -> %s", sysctl.Dotted(s.Name), cur, s.Old))
		default:
			notes = append(notes, fmt.Sprintf("%s is %s, set by someone else since (lvsctl set %s, it was %s): left as it is", sysctl.Dotted(s.Name), cur, s.New, s.Old))
		}
		st.Sysctls = st.Sysctls[:i]
	}
	for len(st.LinksUp) > 0 {
		l := st.LinksUp[len(st.LinksUp)-1]
		ok, err := sys.LinkExists(l)
		if err != nil {
			return done, notes, err
		}
		if ok {
			if up, err := sys.LinkUp(l); err != nil {
				return done, notes, err
			} else if up {
				if err := sys.SetLinkUp(l, false); err != nil {
					return done, notes, fmt.Errorf("cannot bring %s down: %w", l, err)
				}
				done = append(done, fmt.Sprintf("~ link %s: up -> down", l))
			}
		}
		st.LinksUp = st.LinksUp[:len(st.LinksUp)-1]
	}
	return done, notes, nil
}
