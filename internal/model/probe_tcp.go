package model

import "github.com/lvsctl/lvsctl/lvs"

// CheckTCP is the type of a TCP connect.
const CheckTCP = "tcp"

// TCPProbe connects to the real server: a connection accepted passes.
type TCPProbe struct{}

// Type implements [Probe].
func (TCPProbe) Type() string { return CheckTCP }

// Default implements [Probe].
func (TCPProbe) Default(lvs.ServiceKey) Probe { return TCPProbe{} }

// Validate implements [Probe]: a connect has nothing to get wrong.
func (TCPProbe) Validate(func(string) bool) []Problem { return nil }
