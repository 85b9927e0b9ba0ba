//go:build !linux

package kernel

import "errors"

// errNotLinux is what every kernel operation returns off Linux.
var errNotLinux = errors.New("IPVS is part of the Linux kernel: on this system, use --live to plan against a saved table")

// conn stands in for the Linux netlink socket so that the package builds
// (and its pure parts are tested) everywhere.
type conn struct {
	family uint16
	seq    uint32
}

func newConn(string) (*conn, error) { return nil, errNotLinux }

func (c *conn) close() error { return nil }

func (c *conn) nextSeq() uint32 { c.seq++; return c.seq }

func (c *conn) request([]byte, uint32, func([]byte) error) error { return errNotLinux }

func (c *conn) batch([]byte, uint32, []error) error { return errNotLinux }
