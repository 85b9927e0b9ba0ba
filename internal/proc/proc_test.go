//go:build linux

package proc

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// These tests run real processes: /bin/sh scripts written into the test's
// directory, run as the program (Run itself never uses a shell). Their
// bounds are generous on purpose: they tell "returns when it should" from
// "waits for a sleep 1000", not fast from slow.

const slack = 5 * time.Second

// script writes body as an executable /bin/sh script and returns its path.
func script(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "script")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// groupMembers lists the live processes (zombies aside: they are dead, only
// not yet reaped by whoever adopted them) whose process group is pgid.
func groupMembers(t *testing.T, pgid int) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		state, pg, ok := procStat(pid)
		if ok && pg == pgid && state != "Z" && state != "X" {
			pids = append(pids, pid)
		}
	}
	return pids
}

// procStat reads the state and process group of pid from /proc/PID/stat.
func procStat(pid int) (state string, pgid int, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", 0, false
	}
	// The command name, in parentheses, may hold blanks and parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return "", 0, false
	}
	f := strings.Fields(string(b[i+1:])) // state ppid pgrp ...
	if len(f) < 3 {
		return "", 0, false
	}
	pgid, err = strconv.Atoi(f[2])
	return f[0], pgid, err == nil
}

// alive says whether pid is a live process (a zombie is not).
func alive(pid int) bool {
	state, _, ok := procStat(pid)
	return ok && state != "Z" && state != "X"
}

// eventually polls cond for up to slack: SIGKILL is delivered
// asynchronously, so a killed process may be seen for a moment after Run
// returns.
func eventually(cond func() bool) bool {
	for deadline := time.Now().Add(slack); ; time.Sleep(10 * time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// noneLeft fails the test if anything of group pgid is still alive, and
// kills it so that a failing test leaves nothing behind.
func noneLeft(t *testing.T, pgid int) {
	t.Helper()
	if !eventually(func() bool { return len(groupMembers(t, pgid)) == 0 }) {
		t.Errorf("processes left in group %d: %v", pgid, groupMembers(t, pgid))
	}
}

// cleanupGroup kills group pgid when the test ends.
func cleanupGroup(t *testing.T, pgid int) {
	if pgid > 0 { // kill(0) would be the test's own group
		t.Cleanup(func() { _ = syscall.Kill(-pgid, syscall.SIGKILL) })
	}
}

// readPid waits for a script to write a pid into file.
func readPid(t *testing.T, file string) int {
	t.Helper()
	var pid int
	if !eventually(func() bool {
		b, err := os.ReadFile(file)
		if err != nil || !bytes.HasSuffix(b, []byte("\n")) {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil
	}) {
		t.Fatalf("no pid in %s", file)
	}
	return pid
}

func TestRunExitStatus(t *testing.T) {
	res, err := Run(context.Background(), []string{script(t, "echo fine")}, Options{})
	if err != nil || res.ExitCode != 0 || string(res.Output) != "fine\n" || !res.Started || res.Pid == 0 {
		t.Errorf("res %+v, err %v", res, err)
	}

	prog := script(t, "echo 'cannot reach\tthe server' >&2; exit 3")
	res, err = Run(context.Background(), []string{prog, "10.0.0.1", "80"}, Options{})
	if res.ExitCode != 3 || res.TimedOut || res.Signal != 0 {
		t.Errorf("res %+v", res)
	}
	want := prog + ` 10.0.0.1 80: exit status 3: "cannot reach\tthe server"`
	if err == nil || err.Error() != want {
		t.Errorf("err %v\nwant %s", err, want)
	}

	// Output has both streams, Stdout only standard output.
	res, err = Run(context.Background(), []string{script(t, "echo out; echo err >&2")}, Options{})
	if err != nil || string(res.Stdout) != "out\n" || len(res.Output) != 8 || !bytes.Contains(res.Output, []byte("err\n")) {
		t.Errorf("stdout %q, output %q, err %v", res.Stdout, res.Output, err)
	}

	_, err = Run(context.Background(), []string{prog, "10.0.0.1", "80"}, Options{Name: "active_cmd"})
	if want := `active_cmd: exit status 3: "cannot reach\tthe server"`; err == nil || err.Error() != want {
		t.Errorf("err %v\nwant %s", err, want)
	}

	res, err = Run(context.Background(), []string{script(t, "kill -TERM $$")}, Options{})
	if res.Signal != syscall.SIGTERM || res.ExitCode != -1 || err == nil || !strings.HasSuffix(err.Error(), ": killed by SIGTERM") {
		t.Errorf("res %+v, err %v", res, err)
	}
}

// The error is one line with a short excerpt of the output, however long
// and strange the output is.
func TestRunErrorExcerpt(t *testing.T) {
	prog := script(t, `i=0; while [ $i -lt 100 ]; do echo "line $i"; i=$((i+1)); done; printf '\033[31m\001end'; exit 1`)
	_, err := Run(context.Background(), []string{prog}, Options{})
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	if strings.ContainsAny(msg, "\n\r\033\001") || len(msg) > len(prog)+200 || !strings.Contains(msg, `\x1b[31m\x01end"`) {
		t.Errorf("error %q", msg)
	}
}

func TestRunNotStarted(t *testing.T) {
	for _, tt := range []struct {
		argv []string
		want error
	}{
		{[]string{"lvsctl-no-such-program"}, exec.ErrNotFound},
		{[]string{"/nonexistent/check", "x"}, os.ErrNotExist},
	} {
		res, err := Run(context.Background(), tt.argv, Options{})
		if res.Started || !errors.Is(err, tt.want) || !strings.HasPrefix(err.Error(), display(tt.argv)+": ") {
			t.Errorf("%q: res %+v, err %v", tt.argv, res, err)
		}
	}
	if _, err := Run(context.Background(), nil, Options{}); err == nil {
		t.Error("an empty argv ran")
	}
	// A file that is not executable.
	path := filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if res, err := Run(context.Background(), []string{path}, Options{}); res.Started || err == nil {
		t.Errorf("res %+v, err %v", res, err)
	}
}

// Arguments reach the program verbatim: no shell ever sees them.
func TestRunLiteralArgs(t *testing.T) {
	dir := t.TempDir()
	pwned := filepath.Join(dir, "pwned")
	prog := script(t, `printf '%s\n' "$@"`)
	args := []string{
		"; touch " + pwned, "$(touch " + pwned + ")", "`touch " + pwned + "`",
		"a b", "*", "| touch " + pwned, "&& touch " + pwned, "$HOME", "'\"", "x\\y", "> " + pwned,
	}
	res, err := Run(context.Background(), append([]string{prog}, args...), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Join(args, "\n") + "\n"; string(res.Output) != want {
		t.Errorf("output %q, want %q", res.Output, want)
	}
	if _, err := os.Stat(pwned); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an argument ran a command: %v", err)
	}
}

// With KillGroupOnExit nothing the command started outlives it, even when
// it exits successfully at once.
func TestRunKillGroupOnExit(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	prog := script(t, "sleep 1000 &\necho $! > "+pidFile+"\nexit 0")
	start := time.Now()
	res, err := Run(context.Background(), []string{prog}, Options{KillGroupOnExit: true})
	cleanupGroup(t, res.Pid)
	if err != nil || res.ExitCode != 0 || res.TimedOut {
		t.Fatalf("res %+v, err %v", res, err)
	}
	if d := time.Since(start); d > slack {
		t.Errorf("Run took %v", d)
	}
	sleep := readPid(t, pidFile)
	if !eventually(func() bool { return !alive(sleep) }) {
		t.Errorf("the background sleep %d is still running", sleep)
	}
	noneLeft(t, res.Pid)
}

// Without KillGroupOnExit, a process that the command detaches (its own
// session, output closed) keeps running: this is how active_cmd starts a
// daemon.
func TestRunLeavesDetachedChild(t *testing.T) {
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("no setsid")
	}
	pidFile := filepath.Join(t.TempDir(), "pid")
	prog := script(t, "setsid sh -c 'echo $$ > "+pidFile+"; exec sleep 1000' </dev/null >/dev/null 2>&1 &\nexit 0")
	res, err := Run(context.Background(), []string{prog}, Options{})
	if err != nil || res.HeldOutput {
		t.Fatalf("res %+v, err %v", res, err)
	}
	daemon := readPid(t, pidFile)
	t.Cleanup(func() { _ = syscall.Kill(daemon, syscall.SIGKILL) })
	time.Sleep(100 * time.Millisecond)
	if !alive(daemon) {
		t.Errorf("the detached daemon %d was killed", daemon)
	}
}

// A background child that keeps the output open cannot hold Run past
// WaitDelay after the leader exits.
func TestRunOutputHeldByChild(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	prog := script(t, "echo $$ > "+pidFile+"\necho before\nsleep 1000 &\nexit 0")
	type ran struct {
		res Result
		err error
	}
	done := make(chan ran, 1)
	start := time.Now()
	go func() {
		res, err := Run(context.Background(), []string{prog}, Options{WaitDelay: 100 * time.Millisecond})
		done <- ran{res, err}
	}()
	cleanupGroup(t, readPid(t, pidFile))
	var r ran
	select {
	case r = <-done:
	case <-time.After(2 * slack):
		t.Fatalf("Run still waits after %v: it waits for the child", time.Since(start))
	}
	if r.err != nil || r.res.ExitCode != 0 || !r.res.HeldOutput || r.res.TimedOut {
		t.Errorf("res %+v, err %v", r.res, r.err)
	}
	if string(r.res.Output) != "before\n" {
		t.Errorf("output %q", r.res.Output)
	}
	// The group was not killed: that is KillGroupOnExit's job.
	if len(groupMembers(t, r.res.Pid)) == 0 {
		t.Error("the background child was killed without KillGroupOnExit")
	}
}

// A command that runs past Timeout is killed with everything it started.
func TestRunTimeout(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	prog := script(t, "sleep 1000 &\necho $! > "+pidFile+"\nsleep 1000")
	start := time.Now()
	res, err := Run(context.Background(), []string{prog}, Options{Timeout: 200 * time.Millisecond})
	cleanupGroup(t, res.Pid)
	if d := time.Since(start); d > slack {
		t.Errorf("Run took %v for a 200ms timeout", d)
	}
	if !res.TimedOut || res.Canceled || res.Signal != syscall.SIGKILL || res.ExitCode != -1 {
		t.Errorf("res %+v", res)
	}
	if !errors.Is(err, ErrTimeout) || err.Error() != prog+": killed after 200ms: timeout" {
		t.Errorf("err %v", err)
	}
	noneLeft(t, res.Pid)
	// On a loaded machine the timeout may come before the script forked.
	if b, err := os.ReadFile(pidFile); err == nil && bytes.HasSuffix(b, []byte("\n")) {
		if sleep, _ := strconv.Atoi(strings.TrimSpace(string(b))); alive(sleep) {
			t.Errorf("the background sleep %d is still running", sleep)
		}
	} else {
		t.Log("the script was killed before it started its background sleep")
	}
}

// Ending ctx kills the whole group, like a timeout.
func TestRunCancel(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	prog := script(t, "sleep 1000 &\necho $! > "+pidFile+"\nsleep 1000")
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		// Cancel once the background sleep has started (or after slack).
		eventually(func() bool { b, _ := os.ReadFile(pidFile); return bytes.HasSuffix(b, []byte("\n")) })
		cancel()
	}()
	start := time.Now()
	res, err := Run(ctx, []string{prog}, Options{Timeout: time.Hour})
	cleanupGroup(t, res.Pid)
	if d := time.Since(start); d > 2*slack {
		t.Errorf("Run took %v after the cancellation", d)
	}
	if !res.Canceled || res.TimedOut || !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), ": killed after ") {
		t.Errorf("res %+v, err %v", res, err)
	}
	noneLeft(t, res.Pid)

	// A context already ended starts nothing.
	if res, err := Run(ctx, []string{prog}, Options{}); res.Started || !errors.Is(err, context.Canceled) {
		t.Errorf("res %+v, err %v", res, err)
	}
}

// Output past MaxOutput is counted and dropped; the command is never
// blocked by a full pipe.
func TestRunMaxOutput(t *testing.T) {
	prog := script(t, "head -c 1048576 /dev/zero; head -c 1048576 /dev/zero >&2; echo done >&2")
	res, err := Run(context.Background(), []string{prog}, Options{MaxOutput: 1000, Timeout: 30 * time.Second})
	if err != nil || res.TimedOut {
		t.Fatalf("res %+v, err %v", res, err)
	}
	if len(res.Output) != 1000 || len(res.Stdout) != 1000 || !res.Truncated || res.OutputBytes != 2<<20+5 {
		t.Errorf("kept %d (stdout %d) of %d bytes, truncated %v", len(res.Output), len(res.Stdout), res.OutputBytes, res.Truncated)
	}

	res, err = Run(context.Background(), []string{prog}, Options{MaxOutput: -1})
	if err != nil || len(res.Output) != 0 || !res.Truncated {
		t.Errorf("MaxOutput -1: res.Output %d bytes, err %v", len(res.Output), err)
	}
	res, err = Run(context.Background(), []string{script(t, "echo short")}, Options{MaxOutput: 1000})
	if err != nil || res.Truncated || res.OutputBytes != 6 {
		t.Errorf("res %+v, err %v", res, err)
	}
}

func TestRunEnvAndDir(t *testing.T) {
	dir := t.TempDir()
	prog := script(t, `echo "$LVSCTL_TEST_A|$LVSCTL_TEST_B|$HOME|$(pwd)"`)
	t.Setenv("LVSCTL_TEST_A", "inherited")
	res, err := Run(context.Background(), []string{prog}, Options{Env: []string{"LVSCTL_TEST_B=x", "LVSCTL_TEST_B=y"}, Dir: dir})
	if want := "inherited|y|" + os.Getenv("HOME") + "|" + dir + "\n"; err != nil || string(res.Output) != want {
		t.Errorf("output %q, want %q (err %v)", res.Output, want, err)
	}
	res, err = Run(context.Background(), []string{prog}, Options{Env: []string{"LVSCTL_TEST_B=b"}, ClearEnv: true})
	if err != nil || !strings.HasPrefix(string(res.Output), "|b||") {
		t.Errorf("ClearEnv: output %q, err %v", res.Output, err)
	}
}

// Enter wraps the start of the process (check --netns points it at
// another network namespace); its failure is Run's.
func TestRunEnter(t *testing.T) {
	prog := script(t, "exit 0")
	calls := 0
	res, err := Run(context.Background(), []string{prog}, Options{Enter: func(start func() error) error { calls++; return start() }})
	if err != nil || calls != 1 || !res.Started {
		t.Errorf("calls %d, res %+v, err %v", calls, res, err)
	}
	res, err = Run(context.Background(), []string{prog}, Options{Enter: func(func() error) error {
		return errors.New("cannot enter network namespace x")
	}})
	if res.Started || err == nil || err.Error() != prog+": cannot enter network namespace x" {
		t.Errorf("res %+v, err %v", res, err)
	}
}

func TestDisplay(t *testing.T) {
	if got, want := display([]string{"/bin/check", "--host=10.0.0.1", "a b", "", "$(x)"}), `/bin/check --host=10.0.0.1 "a b" "" "$(x)"`; got != want {
		t.Errorf("display %s, want %s", got, want)
	}
	if got := display([]string{strings.Repeat("x", 500)}); len(got) > 130 {
		t.Errorf("display is %d bytes long", len(got))
	}
}
