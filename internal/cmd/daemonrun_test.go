package cmd

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/internal/apply"
	"github.com/lvsctl/lvsctl/internal/syncbuf"
)

// A running daemon is `lvsctl check` or `lvsctl pulse` that a test runs in
// a goroutine against a fake kernel, its log captured for the test to wait
// on.
type running struct {
	t      *testing.T
	name   string
	out    syncbuf.Buffer
	cancel context.CancelFunc
	done   chan int // its exit status
}

// startDaemon runs lvsctl with args (the words after "lvsctl") on kernel k,
// with dir as its state directory, until the test stops it.
func startDaemon(t *testing.T, k apply.Kernel, dir string, args ...string) *running {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	r := &running{t: t, name: args[0], cancel: cancel, done: make(chan int, 1)}
	go func() {
		r.done <- Main(ctx, append([]string{"lvsctl"}, args...), Env{
			Stdin: strings.NewReader(""), Stdout: &r.out, Stderr: &r.out, StateDir: dir,
			OpenKernel: func(string) (apply.Kernel, error) { return k, nil },
		})
	}()
	return r
}

// waitFor waits up to 10 s for cond, and fails the test with the log so
// far when it does not come.
func (r *running) waitFor(what string, cond func() bool) {
	r.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			r.t.Fatalf("timed out waiting for %s:\n%s", what, r.out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitLog waits for n lines of the log that hold s.
func (r *running) waitLog(s string, n int) {
	r.t.Helper()
	r.waitFor(strconv.Quote(s)+" ×"+strconv.Itoa(n), func() bool { return strings.Count(r.out.String(), s) >= n })
}

// stop ends the daemon as SIGTERM does (through its context), and fails
// the test unless it exits with status 0 within 10 s.
func (r *running) stop() {
	r.t.Helper()
	r.cancel()
	select {
	case code := <-r.done:
		if code != 0 {
			r.t.Errorf("exit status %d:\n%s", code, r.out.String())
		}
	case <-time.After(10 * time.Second):
		r.t.Fatalf("%s did not stop", r.name)
	}
}
