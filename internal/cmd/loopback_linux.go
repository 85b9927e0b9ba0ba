package cmd

import (
	"net"

	"github.com/vishvananda/netlink"
)

// readLoopback reads the state of the calling thread's network namespace.
func readLoopback() (loState, error) {
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return loState{}, err
	}
	addrs, err := netlink.AddrList(nil, netlink.FAMILY_V4)
	if err != nil {
		return loState{}, err
	}
	return loState{loUp: lo.Attrs().Flags&net.FlagUp != 0, hasIPv4: len(addrs) > 0, available: true}, nil
}
