package wire

import (
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/lvsctl/lvsctl/internal/regular"
)

// MinKeySize is the shortest key accepted: 256 bits, the HMAC's block
// strength.
const MinKeySize = 32

// keyHelp says how to make a key file at path.
func keyHelp(path string) string {
	return fmt.Sprintf("make one on the first director with: install -m 0600 /dev/null %[1]s && head -c 32 /dev/urandom > %[1]s; then copy it to the other director, keeping mode 0600", path)
}

// LoadKey reads the shared heartbeat key from path: the file's bytes as
// they are. It refuses a missing file, one readable or writable by group or
// others, and one shorter than MinKeySize, saying how to make a good one.
func LoadKey(path string) ([]byte, error) {
	f, fi, err := regular.Open(path, 0)
	var nr *regular.NotRegularError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("heartbeat key file %s does not exist: %s", path, keyHelp(path))
	case errors.As(err, &nr):
		return nil, fmt.Errorf("heartbeat key file %s is not a regular file: %s", path, keyHelp(path))
	case err != nil:
		return nil, fmt.Errorf("cannot open the heartbeat key file: %w", err)
	}
	defer f.Close()
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("heartbeat key file %s has mode %04o, open to group or others: run chmod 0600 %s (and make a new key if others may have read it)", path, perm, path)
	}
	key, err := io.ReadAll(io.LimitReader(f, 1<<16))
	if err != nil {
		return nil, fmt.Errorf("cannot read the heartbeat key file: %w", err)
	}
	if len(key) < MinKeySize {
		return nil, fmt.Errorf("heartbeat key file %s holds %d bytes, fewer than %d: %s", path, len(key), MinKeySize, keyHelp(path))
	}
	return key, nil
}
