//go:build !linux

package realserver

import (
	"errors"
	"net/netip"
)

var errNotLinux = errors.New("real-server preparation works on Linux only")

// Linux is the [System] of the running Linux host; elsewhere every method
// fails.
type Linux struct{}

func (Linux) Sysctl(string) (string, error)              { return "", errNotLinux }
func (Linux) SetSysctl(string, string) error             { return errNotLinux }
func (Linux) CheckSysctl(string) error                   { return errNotLinux }
func (Linux) LinkExists(string) (bool, error)            { return false, errNotLinux }
func (Linux) LinkUp(string) (bool, error)                { return false, errNotLinux }
func (Linux) SetLinkUp(string, bool) error               { return errNotLinux }
func (Linux) HasAddr(string, netip.Prefix) (bool, error) { return false, errNotLinux }
func (Linux) AddAddr(string, netip.Prefix) error         { return errNotLinux }
func (Linux) DelAddr(string, netip.Prefix) error         { return errNotLinux }
func (Linux) LoadModule(string) error                    { return errNotLinux }
