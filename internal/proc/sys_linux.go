package proc

import (
	"errors"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// sysProcAttr puts the command in a new process group whose id is its pid,
// and has the kernel kill it if the thread that started it ends (see the
// comment on runtime.LockOSThread in [Run]). The parent-death signal is
// cleared in the leader's own children: they are reached through the
// group instead.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killGroup sends SIGKILL to every process in p's group. The caller makes
// sure p is not yet reaped, so the group id is still p's.
func killGroup(p *os.Process) error {
	err := syscall.Kill(-p.Pid, syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		return os.ErrProcessDone
	}
	return err
}

// awaitExit blocks until p has exited, without reaping it (WNOWAIT): until
// [exec.Cmd.Wait] reaps it, its pid, and so its group's id, stays its own.
// It reports whether it could wait.
func awaitExit(p *os.Process) bool {
	for {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_PID, p.Pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err != unix.EINTR {
			return err == nil
		}
	}
}

func signalName(s syscall.Signal) string {
	if n := unix.SignalName(s); n != "" {
		return n
	}
	return s.String()
}
