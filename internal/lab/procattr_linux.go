package lab

import "syscall"

// qemuProcAttr makes the kernel kill QEMU when the process that started it
// dies (a test binary killed by its -timeout, say), so no VM outlives it.
func qemuProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
