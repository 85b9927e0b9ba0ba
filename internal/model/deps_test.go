package model

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/lvsctl/lvsctl/"

// imports returns the imports of the package in dir, test files left out.
func imports(t *testing.T, dir string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no Go files in %s (%v)", dir, err)
	}
	var out []string
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			out = append(out, p)
		}
	}
	return out
}

// TestImports holds the model to the standard library and lvs, so that a
// configuration source or a consumer of the model never depends on
// another format through it.
func TestImports(t *testing.T) {
	for _, p := range imports(t, ".") {
		first, _, _ := strings.Cut(p, "/")
		if strings.Contains(first, ".") && p != module+"lvs" {
			t.Errorf("model imports %s; it may import only lvs and the standard library", p)
		}
	}
}

// TestConsumersWithoutHCL checks that the packages acting on the model,
// and the lvs.cf source, reach no HCL package through this module's
// packages.
func TestConsumersWithoutHCL(t *testing.T) {
	seen := map[string]bool{}
	var walk func(pkg string, path []string)
	walk = func(pkg string, path []string) {
		if seen[pkg] {
			return
		}
		seen[pkg] = true
		dir := filepath.Join("../..", filepath.FromSlash(strings.TrimPrefix(pkg, module)))
		if _, err := os.Stat(dir); err != nil {
			t.Fatalf("%s: %v", pkg, err)
		}
		for _, p := range imports(t, dir) {
			switch {
			case strings.HasPrefix(p, "github.com/hashicorp/") || p == module+"internal/source/config":
				t.Errorf("%s imports %s", strings.Join(append(path, pkg), " → "), p)
			case strings.HasPrefix(p, module):
				walk(p, append(path, pkg))
			}
		}
	}
	for _, pkg := range []string{"internal/health", "internal/pulse", "internal/pulse/vip", "internal/pulse/wire", "internal/source/lvscf", "internal/source/keepalived", "internal/reconcile"} {
		walk(module+pkg, nil)
	}
}
