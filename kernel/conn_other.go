//go:build !linux

package kernel

import "errors"

// errNotLinux is what opening a handle returns off Linux.
var errNotLinux = errors.New("IPVS is part of the Linux kernel: on this system, use --live to plan against a saved table")

// dial stands in for the Linux one so that the package builds (and its
// pure parts and the transport over nltest are tested) everywhere.
func dial(string) (*conn, error) { return nil, errNotLinux }
