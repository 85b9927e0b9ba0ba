package kernel

import (
	"errors"
	"fmt"
	"syscall"
)

// An Error is a [Change] that failed: the kernel refused it (errors.Is
// finds the errno), it was malformed, or its answer was lost.
type Error struct {
	Change Change
	Err    error
}

// Error says what failed and, through [Explain], what the kernel's answer
// means for it: "add service tcp 10.0.0.2:80: the virtual server already
// exists in the kernel (file exists): ...".
func (e *Error) Error() string { return e.Change.String() + ": " + Explain(e.Change, e.Err) }

func (e *Error) Unwrap() error { return e.Err }

// kernelErr is an errno the kernel answered with, and the kernel's own
// words when it gave them (an extended acknowledgement).
type kernelErr struct {
	errno syscall.Errno
	msg   string
}

func (e *kernelErr) Error() string {
	if e.msg != "" {
		return e.errno.Error() + ": " + e.msg
	}
	return e.errno.Error()
}

func (e *kernelErr) Unwrap() error { return e.errno }

// Explain says what err, the answer to c, means in lvsctl's terms and what
// to do about it. It is the one place that knows what the kernel's errnos
// mean: [Error] uses it, and so does apply's report, for this kernel and
// for any other that answers with an errno (applytest's).
//
// An errno is explained as "what happened (errno): what to do"; any other
// error (a malformed change, a lost answer) says it all and is returned as
// it is. A zero c stands for reading the table.
func Explain(c Change, err error) string {
	var e *Error
	if errors.As(err, &e) {
		err = e.Err
	}
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return err.Error()
	}
	why := errno.Error()
	var ke *kernelErr
	if errors.As(err, &ke) {
		why = ke.Error()
	}
	if c.Kind == AddService || c.Kind == EditService {
		if errno == syscall.ENOENT {
			return missingModule(c)
		}
	}
	what, todo := meaning(c, errno)
	if todo == "" {
		return fmt.Sprintf("%s (%s)", what, why)
	}
	return fmt.Sprintf("%s (%s): %s", what, why, todo)
}

// meaning is the dictionary of errnos: what errno means as the answer to
// c, and what to do about it ("" when there is nothing to add).
func meaning(c Change, errno syscall.Errno) (what, todo string) {
	subject := "virtual server"
	if c.isDest() {
		subject = "real server"
	}
	table := c.Kind != SetTimeouts && c.Kind != StartDaemon && c.Kind != StopDaemon
	switch errno {
	case syscall.EPERM, syscall.EACCES:
		if c.Kind == 0 {
			return "permission denied", "reading IPVS needs root (CAP_NET_ADMIN in the target network namespace)"
		}
		return "permission denied", "changing IPVS needs root (CAP_NET_ADMIN in the target network namespace)"
	case syscall.ENOPROTOOPT, syscall.EPROTONOSUPPORT:
		if c.Kind == AddService {
			return "the kernel refused the service", fmt.Sprintf("check that IPVS is available (modprobe ip_vs) and supports protocol %s", c.Service.Protocol)
		}
	case syscall.ESRCH:
		switch {
		case c.Kind == StopDaemon:
			return fmt.Sprintf("no %s sync daemon is running", c.Daemon.State), ""
		case table && c.Kind != AddService:
			return "the virtual server is not in the kernel", "it was deleted outside lvsctl since the plan was made"
		}
	case syscall.EEXIST:
		switch {
		case c.Kind == StartDaemon:
			return fmt.Sprintf("a %s sync daemon is already running", c.Daemon.State), ""
		case table:
			return "the " + subject + " already exists in the kernel", "it was added outside lvsctl since the plan was made"
		}
	case syscall.ENOENT:
		if c.isDest() {
			return "the real server is not in the kernel", "it was deleted outside lvsctl since the plan was made"
		}
	case syscall.ERANGE:
		if c.Kind == AddDest || c.Kind == EditDest {
			return "the kernel refused the real server's settings", "weight must be 0 to 65535 and lower_threshold at most upper_threshold"
		}
	case syscall.EINVAL:
		switch c.Kind {
		case AddDest, EditDest:
			return "the kernel refused the real server's settings", "check forwarding and the tunnel settings; a real server of another address family than its service's needs forwarding = tun, and an IPv4 one must be a unicast address in this network namespace, whose loopback must be up"
		case AddService, EditService:
			return "the kernel refused the virtual server's settings", "check persistence (timeout, netmask) and the flags"
		}
	case syscall.ENODEV:
		if c.Kind == StartDaemon {
			return "the kernel refused the sync daemon", fmt.Sprintf("there is no interface %q in this network namespace", c.Daemon.Interface)
		}
	}
	if c.Kind == 0 {
		return "the kernel refused to read it", ""
	}
	return "the kernel refused it", ""
}

// missingModule explains ENOENT from adding or editing a service: the
// kernel could not find the scheduler or persistence engine module. The
// errno cannot tell which, so an edit blames the one that changes.
func missingModule(c Change) string {
	sched, pe := c.Opts.Scheduler, c.Opts.PE
	if sched == "" {
		sched = "wlc" // what is sent for no scheduler
	}
	schedMsg := fmt.Sprintf("scheduler %q is not available in this kernel (no module ip_vs_%s): load it with modprobe or choose another", sched, sched)
	peMsg := fmt.Sprintf("persistence engine %q is not available in this kernel (no module ip_vs_pe_%s): load it with modprobe or remove pe", pe, pe)
	edit := c.Kind == EditService && c.Was.Scheduler != "" // and the old options are known
	switch {
	case pe == "":
		return schedMsg
	case edit && c.Was.PE == pe:
		return schedMsg
	case edit && c.Was.Scheduler == c.Opts.Scheduler:
		return peMsg
	}
	return fmt.Sprintf("scheduler %q or persistence engine %q is not available in this kernel (no module ip_vs_%s or ip_vs_pe_%s): load them with modprobe or change the configuration", sched, pe, sched, pe)
}

// readError is a failure to read the table: what was being read and the
// error, explained as [Explain] does; errors.Is finds the errno.
type readError struct {
	what string
	err  error
}

func (e *readError) Error() string { return e.what + ": " + Explain(Change{}, e.err) }

func (e *readError) Unwrap() error { return e.err }
