// Package rundir is lvsctl's run-time state directory (/run/lvsctl unless
// --state-dir or LVSCTL_STATE_DIR says otherwise) and the identity of the
// network namespaces whose state it keeps. It is the one place that knows
// the names of the files in that directory:
//
//	apply-<netns>.lock       the apply lock (package apply)
//	health-<netns>.json      the health published by lvsctl check (package health)
//	daemon-<netns>.lock      the daemon that manages the namespace ([ClaimDaemon])
//	realserver-<netns>.json  what lvsctl realserver changed, for --undo
//
// where <netns> is [NetnsID.String]: the namespace's identity, not the
// spelling of --netns. lvsctl runs as root and the directory decides who
// may change the IPVS table, so [Open] refuses a directory that someone
// else could write to.
package rundir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Default is the state directory when neither --state-dir nor [EnvVar]
// names one.
const Default = "/run/lvsctl"

// EnvVar is the environment variable that sets the state directory of every
// command (the --state-dir flag wins).
const EnvVar = "LVSCTL_STATE_DIR"

// Dir is a state directory that [Open] has checked.
type Dir struct{ Path string }

// Open returns the state directory at path, creating it mode 0700 (and
// its missing parents 0755) if it does not exist. It refuses a path that
// is a symbolic link or not a directory, a directory that group or others
// may write to, and one that the effective user does not own: whoever can
// write there can take the apply lock, or publish health that takes real
// servers out of rotation.
func Open(path string) (Dir, error) {
	if path == "" {
		return Dir{}, errors.New("no state directory given (--state-dir)")
	}
	path = filepath.Clean(path)
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return Dir{}, fmt.Errorf("cannot create the state directory: %w", err)
		}
		if err := os.Mkdir(path, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return Dir{}, fmt.Errorf("cannot create the state directory: %w", err)
		}
	}
	return OpenExisting(path)
}

// OpenExisting is [Open] without creating anything, for commands that only
// read: an error that wraps [fs.ErrNotExist] says that nothing was ever
// written there.
func OpenExisting(path string) (Dir, error) {
	if path == "" {
		return Dir{}, errors.New("no state directory given (--state-dir)")
	}
	path = filepath.Clean(path)
	fi, err := os.Lstat(path)
	if err != nil {
		return Dir{}, fmt.Errorf("state directory: %w", err)
	}
	if err := check(path, fi); err != nil {
		return Dir{}, err
	}
	return Dir{Path: path}, nil
}

// check says why fi, the lstat of path, is not a safe state directory.
func check(path string, fi fs.FileInfo) error {
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("state directory %s is a symbolic link; lvsctl does not follow it: remove it, or pass its target with --state-dir", path)
	case !fi.IsDir():
		return fmt.Errorf("state directory %s is not a directory: move it away, or pass another --state-dir", path)
	case fi.Mode().Perm()&0o022 != 0:
		return fmt.Errorf("state directory %s is writable by group or others (mode %04o): run chmod 0700 %s", path, fi.Mode().Perm(), path)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("state directory %s: cannot tell its owner", path)
	}
	euid := os.Geteuid()
	switch {
	case int(st.Uid) == euid:
		return nil
	case st.Uid == 0:
		return fmt.Errorf("state directory %s belongs to root: run lvsctl as root, or pass a --state-dir of your own", path)
	default:
		return fmt.Errorf("state directory %s belongs to uid %d, not to uid %d that runs lvsctl: run chown %d %s (root for /run/lvsctl), or pass another --state-dir", path, st.Uid, euid, euid, path)
	}
}

// LockPath is the apply lock of namespace ns.
func (d Dir) LockPath(ns NetnsID) string { return d.file("apply-", ns, ".lock") }

// HealthPath is where lvsctl check publishes the health of namespace ns.
func (d Dir) HealthPath(ns NetnsID) string { return d.file("health-", ns, ".json") }

// DaemonPath is the lock of the daemon (check or pulse) that manages
// namespace ns; see [ClaimDaemon].
func (d Dir) DaemonPath(ns NetnsID) string { return d.file("daemon-", ns, ".lock") }

// RealserverPath is where lvsctl realserver records what it changed in
// namespace ns, so that --undo restores it.
func (d Dir) RealserverPath(ns NetnsID) string { return d.file("realserver-", ns, ".json") }

func (d Dir) file(prefix string, ns NetnsID, suffix string) string {
	return filepath.Join(d.Path, prefix+ns.String()+suffix)
}
