package netns

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lvsctl/lvsctl/internal/ipvstest"
)

// ino is the inode of a namespace file: its identity.
func ino(t *testing.T, path string) uint64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// threadIno is the namespace of the calling thread.
func threadIno(t *testing.T) uint64 {
	return ino(t, fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
}

// threadsIn returns the threads of this process that are in the
// namespace whose inode is ns. A thread that Go is ending (any but the
// main thread) is given a moment to go.
func threadsIn(t *testing.T, ns uint64) []int {
	t.Helper()
	var in []int
	for range 100 {
		in = in[:0]
		tasks, err := filepath.Glob("/proc/self/task/*/ns/net")
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range tasks {
			var st syscall.Stat_t
			if syscall.Stat(p, &st) == nil && st.Ino == ns {
				tid, _ := strconv.Atoi(strings.Split(p, "/")[4])
				in = append(in, tid)
			}
		}
		if len(in) == 0 || len(in) == 1 && in[0] == os.Getpid() {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	return in
}

// noThreadIn fails t if a thread of this process is still in the
// namespace whose inode is ns, to run other goroutines there.
func noThreadIn(t *testing.T, ns uint64) {
	t.Helper()
	if in := threadsIn(t, ns); len(in) > 0 {
		t.Errorf("threads %v of this process are still in the namespace", in)
	}
}

// newNetns creates a namespace and returns its file and inode.
func newNetns(t *testing.T) (string, uint64) {
	t.Helper()
	ipvstest.RequireNetns(t)
	path := "/run/netns/" + ipvstest.NewNetns(t)
	return path, ino(t, path)
}

func TestDo(t *testing.T) {
	path, ns := newNetns(t)
	home := threadIno(t)
	var in uint64
	err := Do(path, func() error {
		in = threadIno(t)
		return errors.New("fn's error")
	})
	if err == nil || err.Error() != "fn's error" {
		t.Errorf("Do = %v, want fn's error as it is", err)
	}
	if in != ns {
		t.Errorf("fn ran in namespace %d, want %s's %d", in, path, ns)
	}
	if ns == home {
		t.Fatalf("the new namespace is this thread's")
	}
	if got := threadIno(t); got != home {
		t.Errorf("the caller's thread is in namespace %d after Do, want %d", got, home)
	}
	noThreadIn(t, ns)
	// By the name's file, by a /proc path: the same namespace.
	if err := Do(path, func() error { in = threadIno(t); return nil }); err != nil || in != ns {
		t.Errorf("second Do = %v in %d, want nil in %d", err, in, ns)
	}
}

// When the thread cannot go back to its namespace, Do says so and the
// thread goes with fn's goroutine: no goroutine runs in the namespace
// afterwards.
func TestDoCannotReturn(t *testing.T) {
	path, ns := newNetns(t)
	runtime.LockOSThread() // so that threadIno is the caller's thread
	defer runtime.UnlockOSThread()
	home := threadIno(t)
	wedged := false // the main thread was the one
	for i := range 10 {
		back := 0
		setns := func(fd, nstype int) error {
			if back++; back == 2 { // the way back
				return unix.EPERM
			}
			return unix.Setns(fd, nstype)
		}
		var tid int
		err := do(path, func() error { tid = unix.Gettid(); return errors.New("fn's error") }, setns)
		if err == nil || !strings.HasPrefix(err.Error(), "fn's error\n") || !strings.Contains(err.Error(), "cannot return from network namespace "+path) {
			t.Fatalf("do with a failing way back = %q, want fn's error and then the way back's", err)
		}
		if !errors.Is(err, unix.EPERM) {
			t.Errorf("%v does not wrap EPERM", err)
		}
		if got := threadIno(t); got != home {
			t.Fatalf("round %d: the caller's thread is in namespace %d, want its own %d", i, got, home)
		}
		// Go ends a thread whose goroutine exits locked to it, except the
		// main thread (the process's first, tid = pid): that one it parks
		// for good (runtime.mexit, "just wedge it"). Neither runs a
		// goroutine again.
		wedged = wedged || tid == os.Getpid()
		in := threadsIn(t, ns)
		if len(in) > 1 || len(in) == 1 && (in[0] != os.Getpid() || !wedged) {
			t.Fatalf("round %d: threads %v (pid %d) are still in the namespace after thread %d failed to leave it", i, in, os.Getpid(), tid)
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/self/task/%d", tid)); err == nil && tid != os.Getpid() {
			t.Errorf("thread %d that could not go back still exists", tid)
		}
	}
	// However many goroutines run now, on whatever threads, none is there.
	var wg sync.WaitGroup
	var bad atomic.Int64
	for range 4 * runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for range 50 {
				runtime.LockOSThread()
				if threadIno(t) == ns {
					bad.Add(1)
				}
				runtime.UnlockOSThread()
				runtime.Gosched()
			}
		})
	}
	wg.Wait()
	if n := bad.Load(); n > 0 {
		t.Errorf("%d goroutines ran in the namespace", n)
	}
}

// A panic in fn reaches the caller, after the thread went back.
func TestDoPanic(t *testing.T) {
	path, ns := newNetns(t)
	defer func() {
		if p := recover(); p != "boom" {
			t.Errorf("recovered %v, want boom", p)
		}
		noThreadIn(t, ns)
	}()
	_ = Do(path, func() error { panic("boom") })
	t.Error("Do returned after fn panicked")
}

func TestDoGoexit(t *testing.T) {
	path, ns := newNetns(t)
	err := Do(path, func() error { runtime.Goexit(); return nil })
	if err == nil || !strings.Contains(err.Error(), "Goexit") {
		t.Errorf("Do of a function that calls runtime.Goexit = %v", err)
	}
	noThreadIn(t, ns)
}

// Errors before the thread moves; these need no root.
func TestDoErrors(t *testing.T) {
	ran := false
	fn := func() error { ran = true; return nil }
	if err := Do("/run/netns/lvsctl-no-such-namespace", fn); err == nil || !strings.Contains(err.Error(), "cannot open network namespace") {
		t.Errorf("a missing namespace: %v", err)
	}
	file := filepath.Join(t.TempDir(), "plain")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Do(file, fn); err == nil || !strings.Contains(err.Error(), "not a network namespace") {
		t.Errorf("a plain file: %v", err)
	}
	if err := Do("/proc/self/ns/mnt", fn); err == nil || !strings.Contains(err.Error(), "not a network namespace") {
		t.Errorf("a mount namespace: %v", err)
	}
	if ran {
		t.Error("fn ran although Do failed")
	}
}
