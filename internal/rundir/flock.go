package rundir

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"
)

// ErrHeld says that another live process holds a lock file.
var ErrHeld = errors.New("held by another process")

// maxRecord bounds what is read of a lock holder's record: the file is
// another process's.
const maxRecord = 16 << 10

// Flock takes the exclusive flock of the lock file at path (opened with
// [OpenFile], created 0600), trying every poll until wait has passed (a
// zero wait tries once), and writes record into it once it is held, so
// that others can say who holds it. When another process holds it for the
// whole wait, the error wraps [ErrHeld] and holder is that process's record
// (at most 16 KiB, for the caller to validate: it is untrusted).
//
// The kernel drops an flock when its process dies, so a crashed holder
// never leaves a stale lock; the file itself stays. release clears the
// record while the lock is still held, so that the file never names a
// process that no longer holds it, then unlocks.
func Flock(path string, record []byte, wait, poll time.Duration) (release func() error, holder []byte, err error) {
	f, err := OpenFile(path, os.O_RDWR|os.O_CREATE)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot open the lock %s: %w", path, err)
	}
	deadline := time.Now().Add(wait)
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, nil, fmt.Errorf("cannot lock %s: %w", path, err)
		}
		if !time.Now().Before(deadline) {
			holder = readRecord(f)
			f.Close()
			return nil, holder, fmt.Errorf("%s: %w", path, ErrHeld)
		}
		time.Sleep(max(min(poll, time.Until(deadline)), time.Millisecond))
	}
	werr := f.Truncate(0)
	if werr == nil {
		_, werr = f.WriteAt(append(record, '\n'), 0)
	}
	if werr != nil {
		f.Close() // drops the flock
		return nil, nil, fmt.Errorf("cannot write the lock %s: %w", path, werr)
	}
	_ = f.Chmod(0o600)
	done := false
	return func() error {
		if done {
			return nil
		}
		done = true
		terr := f.Truncate(0)
		uerr := syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		cerr := f.Close()
		return errors.Join(terr, uerr, cerr)
	}, nil, nil
}

// readRecord reads a lock holder's record from f: nil when it is larger
// than maxRecord or cannot be read.
func readRecord(f *os.File) []byte {
	data, err := io.ReadAll(io.NewSectionReader(f, 0, maxRecord+1))
	if err != nil || len(data) > maxRecord {
		return nil
	}
	return data
}
