package realserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/lvsctl/lvsctl/internal/atomicfile"
	"github.com/lvsctl/lvsctl/internal/regular"
)

// maxStateSize bounds the state file: it records a few sysctls, links and
// one entry per VIP.
const maxStateSize = 1 << 20

// LoadState reads the state file at path; a missing file is an empty state.
// The file is untrusted (--undo writes what it names, as root): it is
// opened without following a symbolic link, must be a regular file of at
// most 1 MiB holding exactly one JSON object with no unknown fields, and
// every entry must pass [State.Validate]. Otherwise LoadState refuses the
// whole file, names the entry, and says to delete it.
func LoadState(path string) (*State, error) {
	refuse := func(format string, args ...any) (*State, error) {
		return nil, BadStateFile(path, fmt.Errorf(format, args...))
	}
	f, fi, err := regular.Open(path, syscall.O_NOFOLLOW)
	var nr *regular.NotRegularError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &State{}, nil
	case errors.Is(err, syscall.ELOOP):
		return refuse("a symbolic link")
	case errors.As(err, &nr):
		return refuse("not a regular file (%s)", regular.Kind(nr.Mode))
	case err != nil:
		return nil, err
	}
	defer f.Close()
	b, err := regular.ReadAll(f, fi, maxStateSize)
	if errors.Is(err, regular.ErrTooLarge) {
		return refuse("larger than %d bytes", maxStateSize)
	}
	if err != nil {
		return nil, fmt.Errorf("state file %s: %w", path, err)
	}
	st, err := decodeState(b)
	if err != nil {
		return refuse("%v", err)
	}
	return st, nil
}

// stateKeys are the object keys of a state file, spelt exactly.
var stateKeys = []string{"sysctls", "addresses", "links_up", "name", "old", "new", "link", "prefix", "mode"}

// decodeState reads a state strictly: one JSON object, no unknown fields,
// keys spelt exactly as SaveState writes them (encoding/json would take
// "SYSCTLS" too) and none twice in an object, nothing after it, every
// entry valid.
func decodeState(b []byte) (*State, error) {
	if err := checkKeys(b); err != nil {
		return nil, fmt.Errorf("not valid JSON for a state: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var st State
	if err := dec.Decode(&st); err != nil {
		return nil, fmt.Errorf("not valid JSON for a state: %v", strings.TrimPrefix(err.Error(), "json: "))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the state's JSON object")
	}
	if err := st.Validate(); err != nil {
		return nil, err
	}
	return &st, nil
}

// SaveState writes st to path (0600, written whole through a synced
// temporary file and a rename: see [atomicfile.WriteFile]), or removes the
// file when st is empty.
func SaveState(path string, st *State) error {
	if st.Empty() {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(b, '\n'), 0o600)
}

// checkKeys refuses a JSON text with an object key that is not one of
// stateKeys, or that appears twice in one object, or nested deeper than a
// state is. Syntax errors are left to the decoder.
func checkKeys(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	// One entry per open array or object, with the keys an object has
	// had so far (at most len(stateKeys) before one repeats).
	type open struct {
		object bool
		keys   []string
	}
	var stack []open
	inObject := func() bool { return len(stack) > 0 && stack[len(stack)-1].object }
	expectKey := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		isKey := false
		if len(stack) > 4 {
			return errors.New("arrays or objects nested deeper than a state's")
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				stack = append(stack, open{object: true})
				expectKey = true
				continue
			case '[':
				stack = append(stack, open{})
				expectKey = false
				continue
			default:
				stack = stack[:len(stack)-1]
			}
		case string:
			if expectKey {
				isKey = true
				top := &stack[len(stack)-1]
				switch {
				case !slices.Contains(stateKeys, v):
					return fmt.Errorf("unknown field %q", v)
				case slices.Contains(top.keys, v):
					return fmt.Errorf("field %q twice in one object", v)
				}
				top.keys = append(top.keys, v)
			}
		}
		// In an object, a key follows every value.
		expectKey = inObject() && !isKey
	}
}
