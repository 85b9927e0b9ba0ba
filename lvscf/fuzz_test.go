package lvscf

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that no input makes Parse or Table panic or hang, and
// that every error points at a line. The corpus in testdata/fuzz/FuzzParse
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
	f.Fuzz(func(t *testing.T, src []byte) {
		file, warns, err := Parse(bytes.NewReader(src), "fuzz.cf")
		for _, w := range warns {
			if w.File != "fuzz.cf" {
				t.Errorf("warning without the file name: %v", w)
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
			for _, e := range es {
				if e.Line < 1 && len(src) > 0 && len(src) <= MaxSize {
					t.Fatalf("error without a line: %v", e)
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
