package regular

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestOpenRefusesAllButRegularFiles(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(file, link); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path string
		flag int
		want string // "" to open
	}{
		{file, 0, ""},
		{link, 0, ""},
		{link, syscall.O_NOFOLLOW, "symbolic link"},
		{fifo, 0, "fifo is not a regular file (a named pipe)"},
		{dir, 0, "is not a regular file (a directory)"},
		{"/dev/zero", 0, "/dev/zero is not a regular file (a character device)"},
		{filepath.Join(dir, "missing"), 0, "no such file"},
	} {
		done := make(chan error, 1)
		go func() {
			f, _, err := Open(c.path, c.flag)
			if err == nil {
				f.Close()
			}
			done <- err
		}()
		select {
		case err := <-done:
			if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want) && !(c.want == "symbolic link" && errors.Is(err, syscall.ELOOP))) {
				t.Errorf("Open(%s, %#x): %v; want %q", c.path, c.flag, err, c.want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("Open(%s) blocked", c.path)
		}
	}
	if _, _, err := Open(filepath.Join(dir, "missing"), 0); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing file: %v, want fs.ErrNotExist", err)
	}
}

func TestReadAllBounds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, []byte("0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		max  int64
		want string
		err  error
	}{{10, "0123456789", nil}, {100, "0123456789", nil}, {9, "", ErrTooLarge}} {
		f, fi, err := Open(path, 0)
		if err != nil {
			t.Fatal(err)
		}
		b, err := ReadAll(f, fi, c.max)
		f.Close()
		if string(b) != c.want || !errors.Is(err, c.err) {
			t.Errorf("ReadAll max %d: %q, %v; want %q, %v", c.max, b, err, c.want, c.err)
		}
	}
}
