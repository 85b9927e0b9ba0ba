//go:build linux

package realserver

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"strings"

	"github.com/lvsctl/lvsctl/internal/sysctl"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Linux is the [System] of the calling thread's network namespace: links
// and addresses over rtnetlink, sysctls through /proc/sys (whose net/
// subtree shows the namespace of the thread that opens it). Use it inside
// [github.com/lvsctl/lvsctl/internal/netns.Do] to work on another
// namespace.
type Linux struct{}

// Sysctl reads /proc/sys/NAME.
func (Linux) Sysctl(name string) (string, error) { return sysctl.Read(name) }

// SetSysctl writes value to /proc/sys/NAME.
func (Linux) SetSysctl(name, value string) error { return sysctl.Write(name, value) }

// CheckSysctl refuses a sysctl name that is not a clean relative path
// under /proc/sys/net, or whose file (or, when it does not exist, its
// nearest existing parent) resolves, through symbolic links, outside
// /proc/sys/net.
func (Linux) CheckSysctl(name string) error {
	_, err := sysctl.Resolve("/proc/sys", name)
	return err
}

// LinkExists reports whether the interface exists.
func (Linux) LinkExists(link string) (bool, error) {
	_, err := netlink.LinkByName(link)
	var nf netlink.LinkNotFoundError
	if errors.As(err, &nf) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("cannot look up interface %s: %w", link, err)
	}
	return true, nil
}

// LinkUp reports whether the interface is administratively up.
func (Linux) LinkUp(link string) (bool, error) {
	l, err := netlink.LinkByName(link)
	if err != nil {
		return false, fmt.Errorf("cannot look up interface %s: %w", link, err)
	}
	return l.Attrs().Flags&net.FlagUp != 0, nil
}

// SetLinkUp brings the interface up or down.
func (Linux) SetLinkUp(link string, up bool) error {
	l, err := netlink.LinkByName(link)
	if err != nil {
		return fmt.Errorf("cannot look up interface %s: %w", link, err)
	}
	if up {
		return netlink.LinkSetUp(l)
	}
	return netlink.LinkSetDown(l)
}

func addrs(link string, p netip.Prefix) (netlink.Link, []netlink.Addr, error) {
	l, err := netlink.LinkByName(link)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot look up interface %s: %w", link, err)
	}
	fam := netlink.FAMILY_V4
	if p.Addr().Is6() {
		fam = netlink.FAMILY_V6
	}
	as, err := netlink.AddrList(l, fam)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot list the addresses of %s: %w", link, err)
	}
	return l, as, nil
}

func toIPNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

// HasAddr reports whether the interface holds exactly the prefix p.
func (Linux) HasAddr(link string, p netip.Prefix) (bool, error) {
	_, as, err := addrs(link, p)
	if err != nil {
		return false, err
	}
	want := toIPNet(p)
	for _, a := range as {
		if a.IPNet != nil && a.IPNet.String() == want.String() {
			return true, nil
		}
	}
	return false, nil
}

// AddAddr adds p to the interface.
func (Linux) AddAddr(link string, p netip.Prefix) error {
	l, err := netlink.LinkByName(link)
	if err != nil {
		return fmt.Errorf("cannot look up interface %s: %w", link, err)
	}
	a := &netlink.Addr{IPNet: toIPNet(p)}
	if p.Addr().Is6() {
		// Duplicate address detection would keep the VIP tentative (and
		// unusable) on lo or a tunnel for a while; it is on purpose on
		// several hosts anyway.
		a.Flags = unix.IFA_F_NODAD
	}
	return netlink.AddrAdd(l, a)
}

// DelAddr removes p from the interface.
func (Linux) DelAddr(link string, p netip.Prefix) error {
	l, err := netlink.LinkByName(link)
	if err != nil {
		return fmt.Errorf("cannot look up interface %s: %w", link, err)
	}
	return netlink.AddrDel(l, &netlink.Addr{IPNet: toIPNet(p)})
}

// LoadModule runs modprobe NAME.
func (Linux) LoadModule(name string) error {
	// An argument vector, never a shell: name is one of ours anyway.
	out, err := exec.Command("modprobe", name).CombinedOutput()
	if err != nil {
		if msg := strings.TrimSpace(string(out)); msg != "" {
			return fmt.Errorf("modprobe %s: %s", name, msg)
		}
		return fmt.Errorf("modprobe %s: %w", name, err)
	}
	return nil
}
