package rundir

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A lock whose record cannot be written is not taken. (The first Flock
// dropped the write error in a shadowed err and returned the lock held
// with an empty record.)
func TestFlockWriteErrorReleases(t *testing.T) {
	path := filepath.Join(t.TempDir(), "apply.lock")
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	// The file size limit makes the write fail (EFBIG), as a full disk
	// would; Go ignores the SIGXFSZ that comes with it.
	lim := old
	lim.Cur = 4
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Fatal(err)
	}
	release, _, err := Flock(path, []byte("pid 1 lvsctl apply"), 0, time.Millisecond)
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	if err == nil || !strings.Contains(err.Error(), "cannot write the lock") {
		if release != nil {
			release()
		}
		t.Fatalf("Flock with a record it cannot write: %v; want a refusal", err)
	}
	// And the lock is free again.
	release, _, err = Flock(path, []byte("pid 2"), 0, time.Millisecond)
	if err != nil {
		t.Fatalf("the lock was left held: %v", err)
	}
	release()
}
