package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// FuzzParse checks that no input panics, that every error points at a line
// of the input, and that a configuration without errors yields a valid,
// normalized table.
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{"testdata/*.hcl", "../examples/*.hcl"} {
		paths, _ := filepath.Glob(pattern)
		for _, p := range paths {
			src, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(src)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		cfg, diags := Parse(src, "fuzz.hcl")
		if cfg == nil {
			t.Fatal("Parse returned a nil Config")
		}
		for _, d := range diags {
			if d.Severity != hcl.DiagError {
				continue
			}
			if d.Subject == nil || d.Subject.Start.Line < 1 {
				t.Fatalf("error without a position: %s: %s", d.Summary, d.Detail)
			}
			if d.Summary == "" || d.Detail == "" {
				t.Fatalf("error without a summary or detail at %s", d.Subject)
			}
		}
		if diags.HasErrors() {
			if cfg.Table != nil {
				t.Fatal("a configuration with errors yielded a table")
			}
			return
		}
		if cfg.Table == nil {
			t.Fatal("no table and no error")
		}
		if ps := cfg.Table.Validate(); len(ps) > 0 {
			t.Fatalf("accepted a table the kernel would refuse: %v", ps)
		}
		again := cfg.Table.Clone()
		again.Normalize()
		if render(&Config{Table: again}) != render(&Config{Table: cfg.Table}) {
			t.Fatal("the table was not normalized")
		}
	})
}
