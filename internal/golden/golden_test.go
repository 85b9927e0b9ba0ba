package golden

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeT records what Check reports instead of failing the test.
type fakeT struct {
	testing.TB
	failed bool
	msg    string
}

func (f *fakeT) Helper() {}
func (f *fakeT) Errorf(format string, args ...any) {
	f.failed = true
	f.msg = format
}
func (f *fakeT) Fatalf(format string, args ...any) { f.Errorf(format, args...) }
func (f *fakeT) Fatal(args ...any)                 { f.Errorf("fatal") }

func TestCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.golden")
	if err := os.WriteFile(path, []byte("a\nb\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var ok fakeT
	Check(&ok, path, []byte("a\nb\n"))
	if ok.failed {
		t.Error("the same output failed")
	}
	var differs fakeT
	Check(&differs, path, []byte("a\nc\n"))
	if !differs.failed || !strings.Contains(differs.msg, "-update") {
		t.Errorf("a different output: failed %v, %q", differs.failed, differs.msg)
	}
	var missing fakeT
	Check(&missing, path+".none", nil)
	if !missing.failed {
		t.Error("a missing golden file passed")
	}

	*update = true
	defer func() { *update = false }()
	var rewrite fakeT
	Check(&rewrite, path, []byte("new\n"))
	if b, err := os.ReadFile(path); rewrite.failed || err != nil || string(b) != "new\n" {
		t.Errorf("-update wrote %q (%v)", b, err)
	}
}
