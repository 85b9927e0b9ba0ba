package apply

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/lvsctl/lvsctl/internal/rundir"
)

// LockHolder is what a lock file says about the apply that holds it.
type LockHolder struct {
	PID     int       `json:"pid"`
	Command string    `json:"command"`
	Since   time.Time `json:"since"`
}

// A LockedError says that another process held the lock for the whole
// timeout.
type LockedError struct {
	Path   string
	Holder *LockHolder // nil if the holder's information could not be read
}

func (e *LockedError) Error() string {
	who := "another process"
	if h := e.Holder; h != nil {
		who = fmt.Sprintf("pid %d, %q since %s", h.PID, h.Command, h.Since.Local().Format(time.RFC3339))
	}
	return fmt.Sprintf("another lvsctl apply holds the lock %s (%s); wait for it to finish, or pass --lock-timeout to wait longer", e.Path, who)
}

// lockPoll is how often Lock retries a held lock.
const lockPoll = 50 * time.Millisecond

// Lock takes the exclusive apply lock at path (a [rundir.Dir.LockPath]),
// so that two applies to the same namespace never interleave. It retries
// for up to timeout (0: one try) and then returns a [*LockedError] naming
// the holder. The holder's information (pid, info as the command, the
// time) is written into the lock file, mode 0600, once the lock is held.
//
// The lock's directory must pass [rundir.Open] (it is created 0700 if
// missing), and the lock file is opened without following a symbolic link
// and must be a regular file: lvsctl runs as root, and a link planted there
// would otherwise have it empty the file the link points to.
//
// The lock is an flock: the kernel drops it when the process dies, so a
// crashed apply never leaves a stale lock. The file itself stays.
func Lock(path string, timeout time.Duration, info string) (unlock func() error, err error) {
	if _, err := rundir.Open(filepath.Dir(path)); err != nil {
		return nil, err
	}
	h := LockHolder{PID: os.Getpid(), Command: info, Since: time.Now().UTC().Truncate(time.Second)}
	data, _ := json.Marshal(h)
	unlock, holder, err := rundir.Flock(path, data, timeout, lockPoll)
	if errors.Is(err, rundir.ErrHeld) {
		return nil, &LockedError{Path: path, Holder: parseHolder(holder)}
	}
	return unlock, err
}

// parseHolder reads a lock's record; nil when it names no holder.
func parseHolder(data []byte) *LockHolder {
	var h LockHolder
	if json.Unmarshal(data, &h) != nil || h.PID == 0 {
		return nil
	}
	return &h
}
