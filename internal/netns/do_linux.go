package netns

import (
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// Do runs fn on an OS thread that has joined the network namespace whose
// file is at path (see [Path]); "" runs fn directly. Sockets that fn opens
// and programs it starts belong to that namespace, and stay there.
//
// fn runs on a goroutine of its own, locked to its thread, so the caller's
// thread never changes namespace. After fn the thread goes back to its own
// namespace and is released; if it cannot go back it stays locked, and Go
// ends the thread with the goroutine, so that no other goroutine ever runs
// in the wrong namespace. A panic in fn is raised again in the caller.
func Do(path string, fn func() error) error {
	return do(path, fn, unix.Setns)
}

// do is [Do] with the setns(2) it calls.
func do(path string, fn func() error, setns func(fd, nstype int) error) error {
	if path == "" {
		return fn()
	}
	target, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("cannot open network namespace %s: %w", path, err)
	}
	defer unix.Close(target)
	done := make(chan result, 1)
	go func() {
		var r result
		// Deferred, so that it is sent when fn calls runtime.Goexit too.
		defer func() { done <- r }()
		run(&r, path, target, fn, setns)
	}()
	r := <-done
	if r.panicked {
		panic(r.panic)
	}
	return r.err
}

// result is how fn ended, on the goroutine that ran it.
type result struct {
	err      error
	panicked bool
	panic    any
}

// run is the goroutine of [Do]: it locks its thread, moves it into the
// namespace target (the file at path), calls fn, moves the thread back,
// and says in r how that went.
func run(r *result, path string, target int, fn func() error, setns func(fd, nstype int) error) {
	runtime.LockOSThread()
	// The thread's own namespace, to go back to: this thread's, which is
	// the process's unless someone else left it elsewhere.
	self, err := unix.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		runtime.UnlockOSThread()
		r.err = fmt.Errorf("cannot open this thread's network namespace: %w", err)
		return
	}
	defer unix.Close(self)
	if err := setns(target, unix.CLONE_NEWNET); err != nil {
		// setns(2) changes nothing when it fails.
		runtime.UnlockOSThread()
		if errors.Is(err, unix.EINVAL) {
			r.err = fmt.Errorf("cannot enter network namespace %s: not a network namespace (%w)", path, err)
		} else {
			r.err = fmt.Errorf("cannot enter network namespace %s: %w", path, err)
		}
		return
	}
	returned := false
	defer func() {
		if !returned {
			if p := recover(); p != nil {
				r.panicked, r.panic = true, p
			} else {
				r.err = errors.New("the function run in network namespace " + path + " exited its goroutine (runtime.Goexit)")
			}
		}
		if err := setns(self, unix.CLONE_NEWNET); err != nil {
			// Still locked: the thread ends with this goroutine.
			r.err = errors.Join(r.err, fmt.Errorf("cannot return from network namespace %s: %w (the thread was discarded)", path, err))
			return
		}
		runtime.UnlockOSThread()
	}()
	r.err = fn()
	returned = true
}
