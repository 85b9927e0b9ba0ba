package cmd

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A configuration directory with several keepalived fragments among its
// files names the first in name order, the same one every run (the files
// come in a map).
func TestKeepalivedFragmentNamedInOrder(t *testing.T) {
	dir := t.TempDir()
	frag := "real_server 10.0.0.1 80 {\n  weight 1\n}\n"
	for _, n := range []string{"m.hcl", "c.hcl", "x.hcl", "q.hcl", "f.hcl"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(frag), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	want := filepath.Join(dir, "c.hcl") + " is keepalived configuration"
	for range 20 {
		var b bytes.Buffer
		checkConfig(Env{}, dir, false).writeText(&b)
		if !strings.Contains(b.String(), want) {
			t.Fatalf("got %q, want it to name %s", b.String(), want)
		}
	}
}
