//go:build !linux

package kernel

import "errors"

// errNotLinux is what opening a handle returns off Linux.
var errNotLinux = errors.New("IPVS is part of the Linux kernel, and this system has none")

// dial stands in for the Linux one so that the package builds (and its
// pure parts and the transport over nltest are tested) everywhere.
func dial(string) (*conn, error) { return nil, errNotLinux }

func probeFamily(string) (uint16, error) { return 0, errNotLinux }
