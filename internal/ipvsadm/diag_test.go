package ipvsadm

import (
	"errors"
	"strings"
	"testing"

	"github.com/lvsctl/lvsctl/internal/diag"
	"github.com/lvsctl/lvsctl/internal/diag/diagtest"
)

// TestDiagnostics checks the places of dump problems in their JSON form
// against the input: the line, and the column and byte offset of the word
// at fault.
func TestDiagnostics(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		line, col int
		text      string
	}{
		{"port", "-A -t 10.0.0.2:80 -s wlc\n-a -t 10.0.0.2:80 -r 10.0.0.3:80x -m\n", 2, 31, "80x"},
		{"scheduler", "-A -t 10.0.0.2:80 -s fastest\n", 1, 22, "fastest"},
		{"option", "ipvsadm -A -t 10.0.0.2:80 --bogus\n", 1, 27, "--bogus"},
		{"CRLF", "-A -t 10.0.0.2:80 -s wlc\r\n-a -t 10.0.0.9:80 -r 10.0.0.3:80 -m\r\n", 2, 4, "-t"},
		{"non-ASCII comment before", "# dümp\n-A -t 10.0.0.2:80 -s ñ\n", 2, 22, "ñ"},
		{"weight", "-A -t 10.0.0.2:80 -s wlc\n-a -t 10.0.0.2:80 -r 10.0.0.3:80 -m -w 70000\n", 2, 40, "70000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := []byte(tc.src)
			_, err := ParseSave(strings.NewReader(tc.src), "dump.txt")
			if err == nil {
				t.Fatal("no error")
			}
			ds := Diagnostics("dump.txt", src, err)
			diagtest.CheckJSON(t, src, ds)
			d := ds[0]
			r := d.Range
			if d.Severity != diag.Error || r == nil || r.Start.Line != tc.line || r.Start.Column != tc.col || string(src[r.Start.Byte:r.End.Byte]) != tc.text {
				t.Fatalf("%v: range %+v, want %q at %d:%d", err, r, tc.text, tc.line, tc.col)
			}
			if !strings.Contains(tc.src, "\r") {
				diagtest.CheckPos(t, src, r.Start)
				diagtest.CheckPos(t, src, r.End)
			}
			if s := d.Snippet; s.Code[s.HighlightStartOffset:s.HighlightEndOffset] != tc.text {
				t.Fatalf("snippet %+v", s)
			}
		})
	}
	// An error of reading has no place.
	ds := Diagnostics("dump.txt", nil, errors.New("reading dump.txt: I/O error"))
	if len(ds) != 1 || ds[0].Range != nil || ds[0].Detail != "Reading dump.txt: I/O error." {
		t.Fatalf("%+v", ds[0])
	}
}

// FuzzDiagnostics checks that whatever a dump holds, its diagnostics make
// valid, bounded JSON whose ranges lie in the input.
func FuzzDiagnostics(f *testing.F) {
	f.Add("-A -t 10.0.0.2:80 -s wlc\n-a -t 10.0.0.2:80 -r 10.0.0.3:80x -m\n")
	f.Add("-A -t 10.0.0.2:80 -s \x00\xff" + strings.Repeat("\x1b[2J", 10000) + "\n")
	f.Add("-A -t 10.0.0.2:80\r-a -t 10.0.0.2:80 -r 10.0.0.3 -w 70000\r\n")
	f.Fuzz(func(t *testing.T, in string) {
		_, err := ParseSave(strings.NewReader(in), "in")
		diagtest.CheckJSON(t, []byte(in), Diagnostics("in", []byte(in), err))
	})
}
