package lab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// lockFile takes an exclusive lock on the file at p (creating it), waiting
// until it is free or ctx ends. The lock goes with the process, so a
// crashed holder never blocks the others.
func lockFile(ctx context.Context, p string) (unlock func(), err error) {
	for {
		unlock, ok, err := tryLock(p)
		if err != nil || ok {
			return unlock, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for the lock %s: %w", p, context.Cause(ctx))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func tryLock(p string) (unlock func(), ok bool, err error) {
	f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, false, fmt.Errorf("opening the lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if err == syscall.EWOULDBLOCK {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("locking %s: %w", p, err)
	}
	return func() { f.Close() }, true, nil
}

// vmSlots is how many VMs may run at once on this machine:
// $LVSCTL_LAB_PARALLEL, default 1. Each emulated VM keeps two host cores
// busy, so more than one on a small machine only makes all of them slower.
func vmSlots() (int, error) {
	s := os.Getenv("LVSCTL_LAB_PARALLEL")
	if s == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("LVSCTL_LAB_PARALLEL=%q: want a number of VMs, 1 or more", s)
	}
	return n, nil
}

// takeVMSlot waits for one of the machine's VM slots (lock files in the
// cache directory) and returns the function that frees it. waiting is
// called once if the slots are all taken, so the caller can say why it
// stands still.
func takeVMSlot(ctx context.Context, cache string, waiting func()) (func(), error) {
	n, err := vmSlots()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return nil, fmt.Errorf("creating the lab cache: %w", err)
	}
	said := false
	for {
		for i := range n {
			unlock, ok, err := tryLock(filepath.Join(cache, "vm-"+strconv.Itoa(i)+".lock"))
			if err != nil {
				return nil, err
			}
			if ok {
				return unlock, nil
			}
		}
		if !said && waiting != nil {
			waiting()
			said = true
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for a free VM slot (LVSCTL_LAB_PARALLEL=%d): %w", n, context.Cause(ctx))
		case <-time.After(250 * time.Millisecond):
		}
	}
}
