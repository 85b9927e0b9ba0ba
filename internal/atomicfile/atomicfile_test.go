package atomicfile_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/lvsctl/lvsctl/internal/atomicfile"
)

// only fails t unless dir holds exactly the named entries: no temporary
// file is left behind.
func only(t *testing.T, dir string, names ...string) {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Name())
	}
	if strings.Join(got, " ") != strings.Join(names, " ") {
		t.Errorf("%s holds %q, want %q", dir, got, names)
	}
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode()
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	if err := atomicfile.WriteFile(path, []byte("one\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "one\n" {
		t.Errorf("file holds %q", b)
	}
	if m := mode(t, path); m != 0o600 {
		t.Errorf("mode %v, want 0600", m)
	}
	// An existing file's mode does not carry over: the file is 0600 again.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.WriteFile(path, []byte("two\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "two\n" {
		t.Errorf("file holds %q after the second write", b)
	}
	if m := mode(t, path); m != 0o600 {
		t.Errorf("mode %v after replacing a 0644 file, want 0600", m)
	}
	only(t, dir, "state.json")
}

// A symbolic link planted at path is replaced, never followed: what it
// points to keeps its content.
func TestWriteFileReplacesSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "precious")
	if err := os.WriteFile(target, []byte("keep me\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "state.json")
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.WriteFile(path, []byte("new\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(target); string(b) != "keep me\n" {
		t.Errorf("the symlink's target now holds %q", b)
	}
	if m := mode(t, path); m != 0o600 {
		t.Errorf("%s is %v, want a regular 0600 file", path, m)
	}
	// A dangling link too: nothing is created where it points.
	gone := filepath.Join(dir, "gone")
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(gone, path); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.WriteFile(path, []byte("new\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(gone); err == nil {
		t.Errorf("writing through a dangling symlink created %s", gone)
	}
	only(t, dir, "precious", "state.json")
}

// A write that fails half-way (EFBIG beyond the file size limit, as a
// full disk would make it) is an error and leaves the old file whole.
func TestWriteFileShortWriteKeepsOld(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	old := []byte(strings.Repeat("o", 100) + "\n")
	if err := atomicfile.WriteFile(path, old, 0o600); err != nil {
		t.Fatal(err)
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Fatal(err)
	}
	small := lim
	small.Cur = 1000
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &small); err != nil {
		t.Fatal(err)
	}
	// Go ignores the SIGXFSZ that comes with the short write.
	err := atomicfile.WriteFile(path, []byte(strings.Repeat("n", 64<<10)), 0o600)
	if rerr := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); rerr != nil {
		t.Fatal(rerr)
	}
	if err == nil {
		t.Fatal("a write beyond the file size limit succeeded")
	}
	if b, _ := os.ReadFile(path); string(b) != string(old) {
		t.Errorf("after a failed write (%v) the file holds %d bytes, want the %d it had", err, len(b), len(old))
	}
	only(t, dir, "state.json")
}

func TestWriteFileErrors(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.WriteFile(sub, []byte("x"), 0o600); err == nil {
		t.Error("replacing a directory succeeded")
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, "missing", "f"), []byte("x"), 0o600); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
	only(t, dir, "sub")
	only(t, sub)
}
