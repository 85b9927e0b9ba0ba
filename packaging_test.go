package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lvsctl/lvsctl/internal/source/config"
)

// TestPackagedConfig holds the /etc/lvsctl/lvsctl.hcl the Debian package
// installs to what its comments promise: as shipped it validates and
// describes no virtual server (apply refuses it, so installing the
// package changes nothing), and its commented example, uncommented as it
// says, is a valid configuration with a virtual server.
func TestPackagedConfig(t *testing.T) {
	const path = "packaging/lvsctl.hcl"
	load := func(path string) int {
		t.Helper()
		cfg, sources, diags := config.Load(path)
		if diags.HasErrors() {
			var b bytes.Buffer
			_ = config.WriteDiagnostics(&b, sources, diags, 0)
			t.Fatalf("%s does not validate:\n%s", path, b.String())
		}
		return len(cfg.Table.Services)
	}
	if n := load(path); n != 0 {
		t.Errorf("%s as shipped has %d virtual servers, want none", path, n)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(b), "# virtual_server ")
	if i < 0 {
		t.Fatalf("%s has no commented example", path)
	}
	example := regexp.MustCompile(`(?m)^# ?`).ReplaceAllString(string(b[i:]), "")
	p := filepath.Join(t.TempDir(), "lvsctl.hcl")
	if err := os.WriteFile(p, []byte(example), 0o600); err != nil {
		t.Fatal(err)
	}
	if n := load(p); n != 1 {
		t.Errorf("the example of %s, uncommented, has %d virtual servers, want 1", path, n)
	}
}

// TestPackageContents checks that every file packaging/nfpm.yaml takes
// from the tree is there, so that make deb fails here first.
func TestPackageContents(t *testing.T) {
	b, err := os.ReadFile("packaging/nfpm.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ms := regexp.MustCompile(`(?m)^\s+(?:- )?src: (\S+)$|^  (?:postinstall|preremove|postremove): (\S+)$`).FindAllStringSubmatch(string(b), -1)
	// The binary, two units, the conffile, three completions, the man
	// pages, the docs and three maintainer scripts at the least: fewer
	// means the pattern no longer reads the file, and the test checks
	// nothing.
	if len(ms) < 12 {
		t.Fatalf("found %d files in packaging/nfpm.yaml; the test's pattern no longer reads it", len(ms))
	}
	for _, m := range ms {
		src := m[1] + m[2]
		if strings.HasPrefix(src, "build/") {
			continue // made by make deb
		}
		if files, _ := filepath.Glob(src); len(files) == 0 {
			t.Errorf("packaging/nfpm.yaml takes %s, which is not in the tree", src)
		}
	}
}
