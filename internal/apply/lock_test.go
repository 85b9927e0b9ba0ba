package apply_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/internal/apply"
)

func TestLockContention(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run", "default.lock")
	unlock, err := apply.Lock(path, 0, "apply -f web.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("lock file mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("lock dir mode %v (%v), want 0700", fi.Mode().Perm(), err)
	}

	start := time.Now()
	_, err = apply.Lock(path, 200*time.Millisecond, "apply again")
	if waited := time.Since(start); waited < 200*time.Millisecond {
		t.Errorf("second Lock gave up after %v, before its timeout", waited)
	}
	var le *apply.LockedError
	if !errors.As(err, &le) || le.Holder == nil {
		t.Fatalf("second Lock: %v, want a *LockedError with the holder", err)
	}
	if le.Holder.PID != os.Getpid() || le.Holder.Command != "apply -f web.hcl" {
		t.Errorf("holder = %+v", le.Holder)
	}
	for _, want := range []string{"another lvsctl apply holds the lock " + path, fmt.Sprintf("pid %d", os.Getpid()), `"apply -f web.hcl" since`, "--lock-timeout"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}

	// A waiter gets the lock as soon as the holder lets go.
	got := make(chan error, 1)
	go func() {
		u, err := apply.Lock(path, 5*time.Second, "waiter")
		if err == nil {
			err = u()
		}
		got <- err
	}()
	time.Sleep(100 * time.Millisecond)
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Errorf("waiter after unlock: %v", err)
	}
	if err := unlock(); err != nil {
		t.Errorf("second unlock: %v", err)
	}
}

func TestLockNeverInterleaves(t *testing.T) {
	path := filepath.Join(t.TempDir(), "default.lock")
	var mu sync.Mutex
	inside, maxInside := 0, 0
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			unlock, err := apply.Lock(path, 10*time.Second, fmt.Sprintf("apply %d", i))
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			inside++
			maxInside = max(maxInside, inside)
			mu.Unlock()
			time.Sleep(10 * time.Millisecond)
			mu.Lock()
			inside--
			mu.Unlock()
			if err := unlock(); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if maxInside != 1 {
		t.Errorf("%d holders at once, want 1", maxInside)
	}
}

// TestLockHelperProcess holds the lock named by LVSCTL_LOCK_HELPER until
// its standard input closes; TestLockAcrossProcesses runs it.
func TestLockHelperProcess(t *testing.T) {
	path := os.Getenv("LVSCTL_LOCK_HELPER")
	if path == "" {
		t.Skip("helper process only")
	}
	unlock, err := apply.Lock(path, 0, "apply (helper)")
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("locked")
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	_ = unlock()
	os.Exit(0)
}

func TestLockAcrossProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "default.lock")
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHelperProcess$")
	cmd.Env = append(os.Environ(), "LVSCTL_LOCK_HELPER="+path)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if line != "locked\n" {
		t.Fatalf("helper said %q", line)
	}
	_, err := apply.Lock(path, 100*time.Millisecond, "apply here")
	var le *apply.LockedError
	if !errors.As(err, &le) || le.Holder == nil || le.Holder.PID != cmd.Process.Pid {
		t.Errorf("Lock while another process holds it: %v, want the helper's pid %d", err, cmd.Process.Pid)
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	unlock, err := apply.Lock(path, 0, "apply here")
	if err != nil {
		t.Fatalf("Lock after the other process exited: %v", err)
	}
	unlock()
}

// A lock file that is a symbolic link is refused, and the file it points
// to is left as it was: lvsctl runs as root, so following it would let
// whoever planted the link have root empty any file.
func TestLockRefusesSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "precious")
	if err := os.WriteFile(target, []byte("keep me\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "apply.lock")
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	if unlock, err := apply.Lock(path, 0, "apply"); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		if unlock != nil {
			unlock()
		}
		t.Errorf("Lock through a symlink: %v", err)
	}
	if b, err := os.ReadFile(target); err != nil || string(b) != "keep me\n" {
		t.Errorf("the symlink's target holds %q (%v), want it untouched", b, err)
	}
	if fi, err := os.Stat(target); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("the symlink's target mode changed: %v %v", fi.Mode(), err)
	}
}

// A lock directory that others may write to is refused (rundir.Open).
func TestLockRefusesOpenDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if _, err := apply.Lock(filepath.Join(dir, "apply.lock"), 0, "apply"); err == nil || !strings.Contains(err.Error(), "chmod 0700") {
		t.Errorf("Lock in a 0777 directory: %v", err)
	}
}
