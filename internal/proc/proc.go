// Package proc runs an external command for lvsctl: an exec health probe,
// or one of pulse's active_cmd and inactive_cmd.
//
// The command runs without a shell, in a process group of its own, with a
// hard time limit after which the whole group is killed, and with its
// output kept up to a bound without ever blocking it. Whatever the command
// leaves behind cannot make [Run] wait past its limit: once the command
// itself (the group's leader) has exited, Run waits at most
// [Options.WaitDelay] for processes it left behind to close the output.
//
// Process groups, the parent-death signal and the wait for the leader's
// exit are Linux's; elsewhere (lvsctl builds there, but does not run there)
// only the leader is killed and [Options.KillGroupOnExit] does nothing.
package proc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Defaults for the zero values of [Options].
const (
	DefaultTimeout   = time.Minute
	DefaultMaxOutput = 64 << 10
	DefaultWaitDelay = 200 * time.Millisecond
)

// ErrTimeout is wrapped by the error of a command killed because it ran
// past [Options.Timeout].
var ErrTimeout = errors.New("timeout")

// Options says how [Run] runs a command. The zero value is usable.
type Options struct {
	// Timeout is the hard limit on the command's run; when it passes, the
	// whole process group is killed with SIGKILL. 0 means
	// [DefaultTimeout].
	Timeout time.Duration

	// Env holds extra "KEY=value" variables, added to lvsctl's own
	// environment, or to an empty one with ClearEnv. A later entry for a
	// key wins over an earlier one.
	Env      []string
	ClearEnv bool

	// Dir is the working directory of the command; "" is lvsctl's.
	Dir string

	// Name names the command in errors; "" is argv, quoted where needed
	// and shortened. Set it when the arguments are noise in a message, or
	// must not appear in one.
	Name string

	// MaxOutput is how many bytes of the combined standard output and
	// error are kept (and, separately, of standard output alone); the rest
	// is read, counted and discarded, so a chatty command never blocks on
	// a full pipe. 0 means [DefaultMaxOutput]; a negative value keeps
	// nothing.
	MaxOutput int

	// WaitDelay bounds how long Run keeps reading the output after the
	// leader has exited (or been killed), in case a process it left behind
	// still holds the pipe; then Run closes the pipe and returns, and that
	// process gets EPIPE or SIGPIPE if it writes again. 0 means
	// [DefaultWaitDelay].
	WaitDelay time.Duration

	// KillGroupOnExit kills, with SIGKILL, whatever is left in the
	// command's process group as soon as the leader exits, even
	// successfully: nothing the command starts may outlive it. Health
	// probes want this. A command that starts a daemon meant to keep
	// running must leave it false, and have the daemon leave the group
	// (setsid) and close or redirect the output, or Run stops reading it
	// after WaitDelay.
	KillGroupOnExit bool

	// Enter, when set, is called with the function that starts the
	// process, and must call it exactly once, for instance on an OS thread
	// switched into another network namespace: the process inherits the
	// namespaces of the thread that starts it. Enter returns start's error,
	// or its own if it cannot call it.
	Enter func(start func() error) error
}

// Result says how a command ran.
type Result struct {
	// Started says the process was started at all; when false, the
	// program was not found, could not be executed, or Enter failed.
	Started bool
	// Pid is the leader's process id, which is also the id of its process
	// group (0 if it did not start).
	Pid int
	// ExitCode is the leader's exit status, or -1 if it was killed by a
	// signal or did not start.
	ExitCode int
	// Signal is the signal that killed the leader, if one did.
	Signal syscall.Signal
	// TimedOut says Run killed the group because Timeout passed; Canceled
	// says it killed it because ctx ended first.
	TimedOut bool
	Canceled bool
	// Output holds the first MaxOutput bytes of standard output and error,
	// in the order they were read (each stream is a pipe of its own, so
	// lines written to both at once may interleave differently than on a
	// terminal). Stdout holds the first MaxOutput bytes of standard output
	// alone.
	Output []byte
	Stdout []byte
	// OutputBytes counts all the bytes written to standard output and
	// error, kept or not; Truncated says some were not kept in Output.
	OutputBytes int64
	Truncated   bool
	// HeldOutput says a process left behind by the leader still held the
	// output open WaitDelay after the leader exited, and Run stopped
	// reading it.
	HeldOutput bool
	// Duration runs from the start of the process to the end of Run's
	// wait for it.
	Duration time.Duration
}

// Run runs argv[0] with the arguments argv[1:], looked up with
// [exec.LookPath] and never through a shell: no argument is ever
// interpreted. Its standard input is /dev/null.
//
// The process runs in a new process group. When opts.Timeout passes or ctx
// ends before the leader exits, the whole group is killed with SIGKILL, not
// just the leader; with opts.KillGroupOnExit, so is whatever is left of the
// group when the leader exits. Without it, what the leader leaves behind
// when it exits on its own is left alone. If lvsctl dies while Run waits, the leader is killed too (its
// parent-death signal); what it has started is not.
//
// Run returns once the leader has exited and the output is closed, or
// opts.WaitDelay after the leader's exit, whichever is first; so a call
// lasts at most about Timeout + WaitDelay. The error is nil when the
// command exited with status 0, and otherwise says in one line what ran and
// how it ended, with a short escaped excerpt of the output:
//
//	/usr/local/bin/check 10.0.0.1 80: exit status 3: "connection refused"
//	/usr/local/bin/check 10.0.0.1 80: killed after 5s: timeout
//
// A timeout's error wraps [ErrTimeout]; a cancellation's wraps the cause of
// ctx (see [context.Cause]); a failed start's wraps the reason (for
// example [exec.ErrNotFound] or [os.ErrNotExist]).
func Run(ctx context.Context, argv []string, opts Options) (Result, error) {
	res := Result{ExitCode: -1}
	if len(argv) == 0 || argv[0] == "" {
		return res, errors.New("no command to run")
	}
	name := opts.Name
	if name == "" {
		name = display(argv)
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		var ee *exec.Error
		if errors.As(err, &ee) {
			err = ee.Err
		}
		return res, fmt.Errorf("%s: %w", name, err)
	}
	// The file looked up is the file run, whatever Dir is.
	if path, err = filepath.Abs(path); err != nil {
		return res, fmt.Errorf("%s: %w", name, err)
	}

	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	waitDelay := opts.WaitDelay
	if waitDelay <= 0 {
		waitDelay = DefaultWaitDelay
	}
	maxOutput := opts.MaxOutput
	switch {
	case maxOutput == 0:
		maxOutput = DefaultMaxOutput
	case maxOutput < 0:
		maxOutput = 0
	}

	runCtx, cancel := context.WithTimeoutCause(ctx, timeout, ErrTimeout)
	defer cancel()
	cmd := exec.CommandContext(runCtx, path)
	cmd.Args = append([]string(nil), argv...)
	cmd.Dir = opts.Dir
	if opts.ClearEnv {
		cmd.Env = append([]string{}, opts.Env...)
	} else if len(opts.Env) > 0 {
		cmd.Env = append(os.Environ(), opts.Env...)
	}
	out := &capture{max: maxOutput}
	cmd.Stdout = stdoutWriter{out}
	cmd.Stderr = stderrWriter{out}
	cmd.SysProcAttr = sysProcAttr()
	cmd.WaitDelay = waitDelay

	// g guards the group id: it may be signalled only while the leader is
	// running or an unreaped zombie, since until it is reaped its pid,
	// which is the group's id, cannot be given to another process.
	var g struct {
		sync.Mutex
		exited bool // the leader has exited; it may be reaped any time
		killed bool // Cancel killed the group while the leader ran
	}
	cmd.Cancel = func() error {
		g.Lock()
		defer g.Unlock()
		if g.exited {
			return os.ErrProcessDone
		}
		err := killGroup(cmd.Process)
		if err == nil {
			g.killed = true
		}
		return err
	}

	// The parent-death signal (see sysProcAttr) goes to the leader when
	// the *thread* that started it ends, not the process: Go ends a thread
	// when a goroutine locked to it returns without unlocking (as one that
	// cannot leave a network namespace does), which would kill a healthy
	// command. Holding this goroutine on its thread until the leader is
	// reaped means no other goroutine can run on the thread, so it can end
	// only with lvsctl. It costs nothing: the wait below blocks a thread
	// anyway.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	start := time.Now()
	if opts.Enter != nil {
		called := false
		err = opts.Enter(func() error { called = true; return cmd.Start() })
		if err == nil && !called {
			err = errors.New("the command was never started")
		}
	} else {
		err = cmd.Start()
	}
	if err != nil {
		if cmd.Process != nil {
			// Enter called start, which succeeded, yet failed: the
			// process runs in a namespace other than the one asked for.
			_ = cmd.Cancel()
			_ = cmd.Wait()
		}
		return res, fmt.Errorf("%s: %w", name, err)
	}
	res.Started = true
	res.Pid = cmd.Process.Pid

	if awaitExit(cmd.Process) {
		g.Lock()
		g.exited = true
		if opts.KillGroupOnExit {
			_ = killGroup(cmd.Process)
		}
		g.Unlock()
	}
	werr := cmd.Wait()
	res.Duration = time.Since(start)

	g.Lock()
	killed := g.killed
	g.Unlock()
	out.mu.Lock()
	res.Output, res.Stdout = out.all, out.stdout
	res.OutputBytes = out.total
	res.Truncated = out.total > int64(len(out.all))
	out.mu.Unlock()
	res.HeldOutput = errors.Is(werr, exec.ErrWaitDelay)
	st := cmd.ProcessState
	if st == nil {
		return res, fmt.Errorf("%s: %w", name, werr)
	}
	res.ExitCode = st.ExitCode()
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		res.Signal = ws.Signal()
	}

	var how error
	switch {
	case killed && context.Cause(runCtx) == ErrTimeout:
		res.TimedOut = true
		how = fmt.Errorf("killed after %s: %w", timeout, ErrTimeout)
	case killed:
		res.Canceled = true
		how = fmt.Errorf("killed after %s: %w", res.Duration.Round(time.Millisecond), context.Cause(runCtx))
	case st.Success():
		return res, nil
	case res.Signal != 0:
		how = fmt.Errorf("killed by %s", signalName(res.Signal))
	case res.ExitCode > 0:
		how = fmt.Errorf("exit status %d", res.ExitCode)
	default:
		how = errors.New(st.String())
	}
	if ex := excerpt(res.Output); ex != "" {
		return res, fmt.Errorf("%s: %w: %s", name, how, ex)
	}
	return res, fmt.Errorf("%s: %w", name, how)
}

// capture keeps the first max bytes written to it and counts the rest. Its
// writers never fail and never block on anything but its lock, so the
// command is never held up by its output.
type capture struct {
	mu     sync.Mutex
	max    int
	all    []byte
	stdout []byte
	total  int64
}

func (c *capture) write(p []byte, stdout bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total += int64(len(p))
	if n := min(len(p), c.max-len(c.all)); n > 0 {
		c.all = append(c.all, p[:n]...)
	}
	if n := min(len(p), c.max-len(c.stdout)); stdout && n > 0 {
		c.stdout = append(c.stdout, p[:n]...)
	}
}

// Two distinct writer types, so that exec gives each stream its own pipe
// and [Result.Stdout] can tell them apart.
type stdoutWriter struct{ c *capture }
type stderrWriter struct{ c *capture }

func (w stdoutWriter) Write(p []byte) (int, error) { w.c.write(p, true); return len(p), nil }
func (w stderrWriter) Write(p []byte) (int, error) { w.c.write(p, false); return len(p), nil }

// display is argv for a message: arguments quoted when they hold anything
// but plain characters, and the whole shortened.
func display(argv []string) string {
	var b strings.Builder
	for i, a := range argv {
		if i > 0 {
			b.WriteByte(' ')
		}
		if a == "" || strings.ContainsFunc(a, notPlain) {
			a = strconv.Quote(a)
		}
		b.WriteString(a)
	}
	return shorten(b.String(), 120)
}

func notPlain(r rune) bool {
	switch {
	case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
		return false
	}
	return !strings.ContainsRune("-_./:=@%+,[]", r)
}

// excerpt is the end of the output, where a failing program usually says
// why, quoted on one line.
func excerpt(out []byte) string {
	s := strings.TrimSpace(string(out))
	if s == "" {
		return ""
	}
	const n = 100
	if len(s) > n {
		return "..." + strconv.Quote(s[len(s)-n:])
	}
	return strconv.Quote(s)
}

func shorten(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
