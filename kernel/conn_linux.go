package kernel

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// dial opens a generic-netlink socket in the network namespace at nsPath
// ("" for the caller's own) and sets it up for IPVS.
func dial(nsPath string) (*conn, error) {
	nl, err := dialNetlink(nsPath)
	if err != nil {
		return nil, err
	}
	return newConn(nl)
}

// dialNetlink opens a generic-netlink socket in the network namespace at
// nsPath. A socket keeps the namespace it was created in: netlink enters
// the namespace only to create it, on a thread of its own.
func dialNetlink(nsPath string) (*netlink.Conn, error) {
	cfg := &netlink.Config{MessageBufferSize: recvBuffer}
	if nsPath != "" {
		f, err := os.Open(nsPath)
		if err != nil {
			return nil, fmt.Errorf("opening network namespace %s: %w", nsPath, err)
		}
		defer f.Close()
		fd := int(f.Fd())
		if fd == 0 {
			// To netlink.Config, NetNS 0 means the caller's namespace:
			// a namespace file opened as descriptor 0 (standard input
			// closed) would be silently ignored.
			dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 1)
			if err != nil {
				return nil, fmt.Errorf("opening network namespace %s: %w", nsPath, err)
			}
			defer unix.Close(dup)
			fd = dup
		}
		cfg.NetNS = fd
	}
	nl, err := netlink.Dial(unix.NETLINK_GENERIC, cfg)
	switch {
	case err == nil:
		return nl, nil
	case nsPath == "":
		return nil, fmt.Errorf("opening a generic netlink socket: %w", err)
	case errors.Is(err, unix.EINVAL):
		return nil, fmt.Errorf("%s is not a network namespace", nsPath)
	case errors.Is(err, unix.EPERM):
		return nil, fmt.Errorf("entering network namespace %s: %w (run as root)", nsPath, err)
	}
	return nil, fmt.Errorf("opening a generic netlink socket in network namespace %s: %w", nsPath, err)
}

// probeFamily returns the id of the IPVS generic netlink family in the
// network namespace at nsPath, or [ErrNoIPVS]. It lists the families
// rather than ask for IPVS by name, which would make the kernel try to
// load a module for it.
func probeFamily(nsPath string) (uint16, error) {
	nl, err := dialNetlink(nsPath)
	if err != nil {
		return 0, err
	}
	defer nl.Close()
	_ = nl.SetReadDeadline(time.Now().Add(recvTimeout))
	fams, err := genetlink.NewConn(nl).ListFamilies()
	if err != nil {
		return 0, fmt.Errorf("listing the generic netlink families: %w", err)
	}
	for _, f := range fams {
		if f.Name == ipvsGenlName {
			return f.ID, nil
		}
	}
	return 0, ErrNoIPVS
}
