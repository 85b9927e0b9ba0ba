package reconcile

import (
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/internal/regular"
)

// A Source is the configuration as it is on disk: a file, or a directory
// of *.hcl files. The reconciler re-reads it when it changes, so that the
// daemon always works from what an operator last saved, and keeps the last
// good version when a new one does not load.
type Source struct {
	// Path is the file or directory.
	Path string
	// Load reads and validates the configuration at Path. Its error
	// carries the whole diagnostics text, which is logged as one record.
	Load func(path string) (*model.Config, error)

	// stamp and sum are what was on disk at the last look.
	stamp string
	sum   [sha256.Size]byte
}

// maxConfigBytes bounds what the daemon hashes; config.Load has its own
// limits on what it parses.
const maxConfigBytes = 256 << 20

// Changed reports whether the configuration on disk differs from the one
// last accepted with [Source.Mark]. It looks at the files' metadata first
// and reads them only when that changed or when deep is set (a rename in
// place can keep size and time), so that it is cheap enough to call before
// every converge. It returns the new digest, for Mark.
func (s *Source) Changed(deep bool) (changed bool, sum [sha256.Size]byte, err error) {
	files, err := s.files()
	if err != nil {
		return false, sum, err
	}
	var b strings.Builder
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			return false, sum, err
		}
		st, _ := fi.Sys().(*syscall.Stat_t)
		var ino uint64
		var ctime int64
		if st != nil {
			ino, ctime = st.Ino, st.Ctim.Nano()
		}
		fmt.Fprintf(&b, "%s %d %d %d %d\n", f, fi.Size(), fi.ModTime().UnixNano(), ino, ctime)
	}
	stamp := b.String()
	if stamp == s.stamp && !deep {
		return false, s.sum, nil
	}
	h := sha256.New()
	for _, f := range files {
		if err := hashFile(h, f); err != nil {
			return false, sum, err
		}
	}
	copy(sum[:], h.Sum(nil))
	if sum == s.sum {
		// Touched, not changed: remember the new metadata so that the
		// next look is cheap again.
		s.stamp = stamp
		return false, sum, nil
	}
	return true, sum, nil
}

// Mark records sum (from Changed) as the configuration in force.
func (s *Source) Mark(sum [sha256.Size]byte) {
	s.sum = sum
	// The metadata is taken again at the next look: the file may have
	// changed between Changed and Mark.
	s.stamp = ""
}

// files lists what Path is made of: itself, or a directory's *.hcl files
// in name order (as config.Load reads them).
func (s *Source) files() ([]string, error) {
	fi, err := os.Stat(s.Path)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return []string{s.Path}, nil
	}
	ents, err := os.ReadDir(s.Path)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".hcl") {
			out = append(out, filepath.Join(s.Path, e.Name()))
		}
	}
	slices.Sort(out)
	return out, nil
}

func hashFile(h io.Writer, path string) error {
	// Not blocking on a FIFO: the daemon's loop would hang with it.
	f, _, err := regular.Open(path, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprintf(h, "%s\x00", path)
	_, err = io.Copy(h, io.LimitReader(f, maxConfigBytes))
	return err
}
