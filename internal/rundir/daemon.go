package rundir

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
	"unicode"
)

// Owner is the daemon that manages a namespace, as its daemon lock file
// ([Dir.DaemonPath]) records it.
type Owner struct {
	PID     int       `json:"pid"`
	Command string    `json:"command"` // the lvsctl command: "check", "pulse"
	File    string    `json:"file"`    // its configuration, an absolute path
	Since   time.Time `json:"since"`
}

// A ClaimedError says that another live process holds the daemon lock.
type ClaimedError struct {
	Path  string
	Owner *Owner // nil when the file does not say (yet) who it is
}

func (e *ClaimedError) Error() string {
	if e.Owner == nil {
		return fmt.Sprintf("another process already manages this namespace (it holds %s); stop it first", e.Path)
	}
	o := e.Owner
	msg := fmt.Sprintf("lvsctl %s (pid %d) already manages this namespace", o.Command, o.PID)
	if o.File != "" {
		msg += " from " + o.File
	}
	if !o.Since.IsZero() {
		msg += ", since " + o.Since.Local().Format(time.RFC3339)
	}
	return msg + "; stop it first"
}

// claimTries is how often ClaimDaemon tries a held lock before it gives
// up: a [DaemonOwner] that is looking at the lock holds it (shared) for a
// moment.
const (
	claimTries = 5
	claimPoll  = 20 * time.Millisecond
)

// ClaimDaemon makes this process the daemon that manages a namespace: it
// takes an exclusive flock on path (a [Dir.DaemonPath]) for as long as the
// daemon runs, and writes o into it as JSON (PID and Since default to this
// process and now). When another live process holds it, the error is a
// [*ClaimedError] that names it. The kernel drops the flock when the
// process dies, so a crashed daemon never blocks the next one.
//
// The file is opened without following symbolic links and must be a
// regular file; it is only truncated once the flock is held.
func ClaimDaemon(path string, o Owner) (release func() error, err error) {
	if o.PID == 0 {
		o.PID = os.Getpid()
	}
	if o.Since.IsZero() {
		o.Since = time.Now().UTC().Truncate(time.Second)
	}
	data, err := json.Marshal(o)
	if err != nil {
		return nil, err
	}
	release, holder, err := Flock(path, data, claimTries*claimPoll, claimPoll)
	if errors.Is(err, ErrHeld) {
		return nil, &ClaimedError{Path: path, Owner: parseOwner(holder)}
	}
	return release, err
}

// DaemonOwner says which daemon holds the daemon lock at path: nil when no
// live process holds it (or the file does not exist). An owner whose file
// could not be read (it is being written, or it is not lvsctl's) is
// returned with its fields zero.
func DaemonOwner(path string) (*Owner, error) {
	f, err := OpenFile(path, os.O_RDONLY)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// A shared lock that can be had means nobody holds the exclusive one.
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
	if err == nil {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		return nil, nil
	}
	if !errors.Is(err, syscall.EWOULDBLOCK) {
		return nil, fmt.Errorf("cannot test the daemon lock %s: %w", path, err)
	}
	if o := readOwner(f); o != nil {
		return o, nil
	}
	return &Owner{}, nil
}

// readOwner reads an Owner from f, or nil when f does not hold a valid one.
func readOwner(f *os.File) *Owner { return parseOwner(readRecord(f)) }

// parseOwner reads an Owner from a lock's record, or nil when it is not a
// valid one.
func parseOwner(data []byte) *Owner {
	if data == nil {
		return nil
	}
	var o Owner
	if json.Unmarshal(data, &o) != nil || !o.valid() {
		return nil
	}
	return &o
}

func (o *Owner) valid() bool {
	printable := func(s string, max int) bool {
		return len(s) <= max && strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) < 0
	}
	return o.PID > 0 && o.Command != "" && printable(o.Command, 256) &&
		(o.File == "" || filepath.IsAbs(o.File) && printable(o.File, 4096))
}

// OpenFile opens a file of the state directory, creating it 0600 with
// os.O_CREATE, without following a symbolic link (someone who planted one
// could make root truncate the file it points to) and without blocking on
// a FIFO; it refuses anything but a regular file.
func OpenFile(path string, flag int) (*os.File, error) {
	f, err := os.OpenFile(path, flag|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0o600)
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("%s is a symbolic link; lvsctl does not follow it: remove it", path)
	}
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s is not a regular file (%s): remove it", path, fi.Mode().Type())
	}
	return f, nil
}
