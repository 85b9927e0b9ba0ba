package lvscf

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvsctl/lvsctl/internal/diag"
	"github.com/lvsctl/lvsctl/internal/diag/diagtest"
)

// TestDiagnostics checks the places of lvs.cf problems in their JSON form
// against the input: the line, the column and byte offset of the token (or
// of the line when the problem has no column), with each line end piranha
// reads.
func TestDiagnostics(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		sev       diag.Severity
		summary   string
		line, col int    // of the range's start; col in characters
		text      string // the range's text
	}{
		{"token", "virtual web {\n     active = 1\n     address = 10.0.0.300 eth0:1\n}\n",
			diag.Error, "Invalid host name or ip address", 3, 16, "10.0.0.300"},
		{"token after CRLF", "serial_no = 1\r\nvirtual web {\r\n     address = 10.0.0.300 eth0:1\r\n}\r\n",
			diag.Error, "Invalid host name or ip address", 3, 16, "10.0.0.300"},
		{"token after a lone CR", "serial_no = 1\rvirtual web {\r     address = 10.0.0.300 eth0:1\r}\r",
			diag.Error, "Invalid host name or ip address", 3, 16, "10.0.0.300"},
		{"non-ASCII before", "virtual wéb {\n     active = 1\n     address = 10.0.0.2 ñ\n     port = 8o\n}\n",
			diag.Error, "Invalid argument", 4, 13, "8o"},
		{"unknown key", "virtual web {\n     actve = 1\n}\n", diag.Error, "Unknown command", 2, 6, "actve"},
		{"quoting", "virtual web {\n     send = \"GET /\n}\n", diag.Error, "Quotation mismatch", 2, 13, "\"GET"},
		{"warning: the line", "serial_no=3\nvirtual web {\n     active = 1\n     address = 10.0.0.2 eth0:1\n     server a {\n         address = 192.168.10.1\n         active = 1\n     }\n}\n",
			diag.Warning, "Piranha quirk", 1, 1, "serial_no=3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := []byte(tc.src)
			f, warns, err := Parse(bytes.NewReader(src), "lvs.cf")
			if err == nil {
				_, err = f.Config()
			}
			ds := Diagnostics("lvs.cf", src, warns, err)
			diagtest.CheckJSON(t, src, ds)
			var d *diag.Diagnostic
			for _, e := range ds {
				if e.Severity == tc.sev && e.Summary == tc.summary {
					d = e
					break
				}
			}
			if d == nil {
				t.Fatalf("no %s %q in %v", tc.sev, tc.summary, err)
			}
			r := d.Range
			if r == nil || r.Start.Line != tc.line || r.Start.Column != tc.col || string(src[r.Start.Byte:r.End.Byte]) != tc.text {
				t.Fatalf("range %+v, want %q at %d:%d", r, tc.text, tc.line, tc.col)
			}
			if !strings.ContainsAny(tc.src, "\r") {
				diagtest.CheckPos(t, src, r.Start)
				diagtest.CheckPos(t, src, r.End)
			}
			s := d.Snippet
			if hl := s.Code[s.HighlightStartOffset:s.HighlightEndOffset]; hl != tc.text || s.StartLine != tc.line {
				t.Fatalf("snippet %+v highlights %q", s, hl)
			}
		})
	}
	// Errors about the whole file have no place.
	ds := Diagnostics("lvs.cf", nil, nil, Errors{{File: "lvs.cf", Msg: MsgEmpty, Detail: "the file is empty"}})
	if len(ds) != 1 || ds[0].Range != nil || ds[0].Summary != "Empty configuration" || ds[0].Detail != "The file is empty." {
		t.Fatalf("%+v", ds[0])
	}
}

// FuzzDiagnostics checks that whatever an lvs.cf holds, its diagnostics
// make valid, bounded JSON whose ranges lie in the input.
func FuzzDiagnostics(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.cf")
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Add([]byte("serial_no = 1\nprimary = " + strings.Repeat("\x00\xff", MaxLineLength) + "\n"))
	f.Add([]byte(strings.Repeat("virtual v {\n actve = 1\n}\n", 2*MaxErrors)))
	f.Fuzz(func(t *testing.T, src []byte) {
		file, warns, err := Parse(bytes.NewReader(src), "fuzz.cf")
		if err == nil {
			_, err = file.Config()
		}
		diagtest.CheckJSON(t, src, Diagnostics("fuzz.cf", src, warns, err))
	})
}
