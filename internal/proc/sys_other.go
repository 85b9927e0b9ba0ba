//go:build !linux

package proc

import (
	"os"
	"syscall"
)

// lvsctl runs on Linux only; elsewhere the command runs in lvsctl's process
// group and only the leader is killed.

func sysProcAttr() *syscall.SysProcAttr { return nil }

func killGroup(p *os.Process) error { return p.Kill() }

// awaitExit cannot wait without reaping here: Run then neither kills the
// group on exit nor stops Cancel from killing the (reaped) leader, which
// os.Process.Kill does safely.
func awaitExit(*os.Process) bool { return false }

func signalName(s syscall.Signal) string { return s.String() }
