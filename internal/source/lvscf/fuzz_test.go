package lvscf

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse checks that no input makes Parse or Table panic or hang, that
// every error points at a line, and that messages and their number stay
// within the limits. The corpus in testdata/fuzz/FuzzParse
// is seeded with the real files; the seeds below add the error shapes.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.cf")
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	for _, s := range []string{
		"virtual v {\n", "\"", "a = 'b", "}\n}", "primary=0x0a000001\r\n", "virtual v {\n server s {\n port = 0x\n",
		"virtual v {\n dirs = [ a ] b\n}", "keepalive = 1 # c\n", "x =\"y\"z", "\r\r\n\n",
	} {
		f.Add([]byte(s))
	}
	// A line over the limit (the committed corpus has the small shapes
	// of the other limits: long tokens, too many errors and warnings).
	f.Add([]byte("serial_no = 1\nprimary = " + strings.Repeat("\x00", MaxLineLength) + "\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		checkLoad(t, src)
		file, warns, err := Parse(bytes.NewReader(src), "fuzz.cf")
		if len(warns) > MaxWarnings+1 {
			t.Errorf("%d warnings", len(warns))
		}
		for _, w := range warns {
			if w.File != "fuzz.cf" {
				t.Errorf("warning without the file name: %v", w)
			}
			if len(w.Msg) > 400 {
				t.Errorf("a %d-byte warning: %.400s", len(w.Msg), w.Msg)
			}
		}
		if err != nil {
			if file != nil {
				t.Fatalf("File and error both returned: %v", err)
			}
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error %T %v is not Errors", err, err)
			}
			if len(es) > MaxErrors+1 {
				t.Fatalf("%d errors", len(es))
			}
			for _, e := range es {
				if e.Line < 1 && len(src) > 0 && len(src) <= MaxSize {
					t.Fatalf("error without a line: %v", e)
				}
				// A message quotes at most a short excerpt of the file.
				if len(e.Error()) > 400 {
					t.Fatalf("a %d-byte message: %.400s", len(e.Error()), e)
				}
			}
			return
		}
		tb, err := file.Table()
		if err != nil {
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("table error %T %v is not Errors", err, err)
			}
			for _, e := range es {
				// Only the fos refusal may lack a line (no service key line
				// cannot happen with service = fos, so none may).
				if e.Line < 1 {
					t.Fatalf("table error without a line: %v", e)
				}
			}
			return
		}
		if probs := tb.Validate(); len(probs) > 0 {
			t.Fatalf("Table returned a table with problems: %v", probs)
		}
		Detect("fuzz", src)
	})
}

// checkLoad checks what Load returns for src: errors in line order, each
// with a line, a short message and its line's excerpt, at most
// MaxErrors+1 of them; or a configuration whose table is valid.
func checkLoad(t *testing.T, src []byte) {
	l, _, err := Load(bytes.NewReader(src), "fuzz.cf")
	if err == nil {
		if probs := l.Config.Table.Validate(); len(probs) > 0 {
			t.Fatalf("Load returned a table with problems: %v", probs)
		}
		return
	}
	var es Errors
	if !errors.As(err, &es) || len(es) == 0 || len(es) > MaxErrors+1 {
		t.Fatalf("Load: %T %d %v", err, len(es), err)
	}
	for i, e := range es {
		if len(e.Error()) > 400 || len(e.Excerpt()) > 400 {
			t.Fatalf("a %d-byte message or a %d-byte excerpt: %.400s", len(e.Error()), len(e.Excerpt()), e)
		}
		if i > 0 && e.Line < es[i-1].Line {
			t.Fatalf("errors out of line order: %v", es)
		}
	}
}
