package config

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"

	"github.com/lvsctl/lvsctl/internal/diag"
	"github.com/lvsctl/lvsctl/internal/diag/diagtest"
	"github.com/lvsctl/lvsctl/internal/model"
)

// FuzzParse checks that no input panics, that every error points at a line
// of the input, that diagnostics stay within their bounds (MaxDiagnostics,
// excerpts, short source lines), and that a configuration without errors
// yields a valid, normalized table that Write writes back as hclwrite
// would. The corpus in testdata/fuzz/FuzzParse has the limits' shapes.
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{"testdata/*.hcl", "../../../examples/*.hcl"} {
		paths, _ := filepath.Glob(pattern)
		for _, p := range paths {
			src, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(src)
		}
	}
	// Limits that need more input than a corpus entry should hold.
	f.Add([]byte("drain_timeout = \"" + strings.Repeat("x", MaxStringLength) + "\"\n"))
	f.Add([]byte("a = 1\n# " + strings.Repeat("\x00", MaxLineLength) + "\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		cfg, files, diags := Parse(src, "fuzz.hcl")
		if files == nil {
			t.Fatal("Parse returned no files to render diagnostics with")
		}
		if len(diags) > MaxDiagnostics+1 {
			t.Fatalf("%d diagnostics", len(diags))
		}
		var out bytes.Buffer
		if err := WriteDiagnostics(&out, files, diags, 78); err != nil {
			t.Fatal(err)
		}
		// Per diagnostic: a summary and detail of at most 2 KB, and 20
		// source lines of at most 160 characters, escaped (4 bytes each),
		// and the line that marks the column.
		if max := len(diags) * (2*diag.MaxDetail + 100 + (diag.MaxSnippetLines+1)*(4*diag.MaxLine+20)); out.Len() > max {
			t.Fatalf("%d bytes of diagnostics for %d of them", out.Len(), len(diags))
		}
		checkJSON(t, src, Diagnostics(files, diags))
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
			if cfg != nil {
				t.Fatal("a configuration with errors yielded a configuration")
			}
			return
		}
		if cfg == nil || cfg.Table == nil {
			t.Fatal("no table and no error")
		}
		if ps := cfg.Table.Validate(); len(ps) > 0 {
			t.Fatalf("accepted a table the kernel would refuse: %v", ps)
		}
		again := cfg.Table.Clone()
		again.Normalize()
		if render(&model.Config{Table: again}) != render(&model.Config{Table: cfg.Table}) {
			t.Fatal("the table was not normalized")
		}
		var b bytes.Buffer
		if err := Write(&b, cfg, nil); err != nil {
			t.Fatal(err)
		}
		if f := hclwrite.Format(b.Bytes()); !bytes.Equal(f, b.Bytes()) {
			t.Fatalf("Write's output is not as hclwrite.Format lays it out:\n%s", b.Bytes())
		}
	})
}

// checkJSON checks the JSON form of the diagnostics of src, and that the
// position of each is where it says in src (when its lines end at "\n"
// alone, the one convention both hcl and the check count alike).
func checkJSON(t *testing.T, src []byte, ds diag.Diagnostics) {
	t.Helper()
	diagtest.CheckJSON(t, src, ds)
	if bytes.IndexByte(src, '\r') >= 0 || !utf8.Valid(src) {
		return
	}
	for _, d := range ds {
		if d.Range != nil {
			diagtest.CheckPos(t, src, d.Range.Start)
			diagtest.CheckPos(t, src, d.Range.End)
		}
	}
}
