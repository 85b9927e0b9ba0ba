// Package atomicfile replaces files whole: a reader sees the old content
// or the new, never part of either, and a write that fails leaves the old
// file as it was. It is the one way lvsctl writes its state, status, plan
// and test-kernel files.
package atomicfile

import (
	"io/fs"
	"path/filepath"

	"github.com/google/renameio/v2"
)

// WriteFile writes data to path with exactly the permissions perm (the
// umask does not apply), through a temporary file in path's directory
// that is synced before it is renamed over path. The temporary file is
// created with O_EXCL, so it is never opened through a symbolic link
// someone planted, and rename(2) replaces a symbolic link at path instead
// of following it: the file written is always a new regular file at path.
// On failure the temporary file is removed and path is left as it was.
//
// WriteFile checks nothing about path's directory; callers whose
// directory decides who may change what check it first (see
// [github.com/lvsctl/lvsctl/rundir.Open]).
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	// WithTempDir keeps renameio from trying os.TempDir first: the
	// temporary file must live beside path, in a directory the caller
	// has checked, not in /tmp.
	t, err := renameio.NewPendingFile(path, renameio.WithTempDir(filepath.Dir(path)), renameio.WithStaticPermissions(perm))
	if err != nil {
		return err
	}
	defer t.Cleanup()
	if _, err := t.Write(data); err != nil {
		return err
	}
	return t.CloseAtomicallyReplace()
}
