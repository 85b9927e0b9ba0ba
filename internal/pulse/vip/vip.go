// Package vip puts the floating addresses of a director pair on the
// active director and announces them: netlink address changes (with the
// alias label, eth0:1, that piranha's ifconfig used) and gratuitous ARP,
// so that the LAN's caches move to the new owner at once rather than when
// their entries expire.
package vip

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"

	"github.com/vishvananda/netlink"
)

// An Address is a floating address and where it lives.
type Address struct {
	Addr netip.Addr
	// Device is a device (eth0) or an alias label (eth0:1); the address
	// goes on the device before the colon, labelled with the whole name.
	Device string
	// Prefix is the prefix length; 0 means a host address (/32, /128).
	Prefix int
}

func (a Address) String() string {
	return fmt.Sprintf("%s/%d on %s", a.Addr, a.prefix(), a.Device)
}

func (a Address) prefix() int {
	if a.Prefix == 0 {
		return a.Addr.BitLen()
	}
	return a.Prefix
}

// base is the device an alias label belongs to.
func (a Address) base() string {
	dev, _, _ := strings.Cut(a.Device, ":")
	return dev
}

func (a Address) nl() *netlink.Addr {
	ip := net.IP(a.Addr.AsSlice())
	na := &netlink.Addr{IPNet: &net.IPNet{IP: ip, Mask: net.CIDRMask(a.prefix(), a.Addr.BitLen())}}
	if a.Addr.Is4() && strings.Contains(a.Device, ":") {
		na.Label = a.Device
	}
	if a.Addr.Is6() {
		// A taken-over address must answer at once: no duplicate
		// address detection, whose probe would find the old owner's
		// stale claim anyway.
		na.Flags = syscall.IFA_F_NODAD
	}
	return na
}

// Add puts a on its device. An address already there is fine: a restarted
// active node finds its own.
func Add(a Address) error {
	link, err := netlink.LinkByName(a.base())
	if err != nil {
		return fmt.Errorf("cannot add VIP %s: device %s: %w (check the vip device in the configuration)", a.Addr, a.base(), err)
	}
	if err := netlink.AddrAdd(link, a.nl()); err != nil && !errors.Is(err, syscall.EEXIST) {
		return fmt.Errorf("cannot add VIP %s: %w", a, err)
	}
	return nil
}

// Del removes a from its device; an address already gone is fine, and so
// is a device that does not exist (the address cannot be on it).
func Del(a Address) error {
	link, err := netlink.LinkByName(a.base())
	var nf netlink.LinkNotFoundError
	if errors.As(err, &nf) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot remove VIP %s: device %s: %w", a.Addr, a.base(), err)
	}
	if err := netlink.AddrDel(link, a.nl()); err != nil && !errors.Is(err, syscall.EADDRNOTAVAIL) && !errors.Is(err, syscall.ENOENT) {
		return fmt.Errorf("cannot remove VIP %s: %w", a, err)
	}
	return nil
}

// Has reports whether a is on its device.
func Has(a Address) (bool, error) {
	link, err := netlink.LinkByName(a.base())
	if err != nil {
		return false, fmt.Errorf("device %s: %w", a.base(), err)
	}
	fam := netlink.FAMILY_V4
	if a.Addr.Is6() {
		fam = netlink.FAMILY_V6
	}
	addrs, err := netlink.AddrList(link, fam)
	if err != nil {
		return false, err
	}
	for _, x := range addrs {
		if got, ok := netip.AddrFromSlice(x.IP); ok && got.Unmap() == a.Addr {
			return true, nil
		}
	}
	return false, nil
}
