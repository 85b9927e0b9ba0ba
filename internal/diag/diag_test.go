package diag

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestShown(t *testing.T) {
	long := strings.Repeat("a", 300) + "BAD" + strings.Repeat("b", 300)
	for _, tc := range []struct {
		line     string
		from, to int
		text     string
		hl       string
	}{
		{"weight = 70000", 9, 14, "weight = 70000", "70000"},
		{"\tweight = x", 10, 11, "\tweight = x", "x"},
		{"a\x00b = \xff", 6, 7, `a\x00b = \xff`, `\xff`},
		{"a\rb", 1, 2, `a\rb`, `\r`},
		{"é = 日本", 5, 11, "é = 日本", "日本"},
		{"short", 9, 12, "short", ""}, // past the end: clamped
		{long, 300, 303, "…" + strings.Repeat("a", 53) + "BAD" + strings.Repeat("b", 104) + "…", "BAD"},
		{long, 0, 603, strings.Repeat("a", 160) + "…", strings.Repeat("a", 160)},
	} {
		text, hs, he := Shown([]byte(tc.line), tc.from, tc.to)
		if text != tc.text || text[hs:he] != tc.hl {
			t.Errorf("Shown(%q, %d, %d) = %q highlighting %q, want %q highlighting %q", tc.line, tc.from, tc.to, text, text[hs:he], tc.text, tc.hl)
		}
		if n := utf8.RuneCountInString(text); n > MaxLine+2 {
			t.Errorf("%d characters shown", n)
		}
	}
}

func TestMarker(t *testing.T) {
	for _, tc := range []struct {
		text   string
		hs, he int
		want   string
	}{
		{"  weight = 70000", 11, 16, "           ^^^^^"},
		{"\t\tweight = x", 11, 12, "\t\t         ^"},
		{"a = 日本", 4, 10, "    ^^"},
		{"a =", 3, 3, "   ^"}, // an empty range still gets a caret
	} {
		if got := Marker(tc.text, tc.hs, tc.he); got != tc.want {
			t.Errorf("Marker(%q, %d, %d) = %q, want %q", tc.text, tc.hs, tc.he, got, tc.want)
		}
	}
}

func TestSnip(t *testing.T) {
	src := []byte("a {\n  b = [\n    1,\n    2]\n}\n")
	start := bytes.Index(src, []byte("["))
	end := bytes.Index(src, []byte("]")) + 1
	s := Snip(src, Range{Start: Pos{Line: 2, Column: 7, Byte: start}, End: Pos{Line: 4, Column: 7, Byte: end}}, nil, 2, "a")
	if s.Code != "  b = [\n    1,\n    2]" || s.StartLine != 2 || *s.Context != "a" || s.Values == nil {
		t.Fatalf("%+v", s)
	}
	if hl := s.Code[s.HighlightStartOffset:s.HighlightEndOffset]; hl != "[\n    1,\n    2]" {
		t.Fatalf("highlight %q", hl)
	}
	// The lines of the range around come too; the highlight stays.
	one := bytes.Index(src, []byte("1"))
	s = Snip(src, Range{Start: Pos{Line: 3, Column: 5, Byte: one}, End: Pos{Line: 3, Column: 6, Byte: one + 1}},
		&Range{Start: Pos{Byte: start}, End: Pos{Byte: end}}, 2, "")
	if s.Code != "  b = [\n    1,\n    2]" || s.Context != nil || s.Code[s.HighlightStartOffset:s.HighlightEndOffset] != "1" {
		t.Fatalf("%+v", s)
	}
	// At most MaxSnippetLines lines, each bounded.
	big := []byte(strings.Repeat(strings.Repeat("x", 1000)+"\n", 100))
	s = Snip(big, Range{Start: Pos{Line: 1, Column: 1}, End: Pos{Line: 100, Byte: len(big)}}, nil, 1, strings.Repeat("c", 5000))
	if n := strings.Count(s.Code, "\n") + 1; n != MaxSnippetLines || len(s.Code) > MaxSnippetLines*(MaxLine*4+1) || len(*s.Context) > MaxDetail+3 {
		t.Fatalf("%d lines, %d bytes, context of %d", n, len(s.Code), len(*s.Context))
	}
}

// TestLines checks the ranges of line-based sources against the input,
// with each of the line ends piranha and ipvsadm know.
func TestLines(t *testing.T) {
	src := []byte("serial_no = 1\r\nprimary = 10.0.0.1\rvirtual  \"a b\" {\n\taddress = 日本 x\n")
	for _, tc := range []struct {
		loneCR    bool
		line, col int
		text      string
		start     Pos
	}{
		{true, 1, 1, "serial_no", Pos{1, 1, 0}},
		{true, 1, 13, "1", Pos{1, 13, 12}},
		{true, 2, 11, "10.0.0.1", Pos{2, 11, 25}},
		{true, 3, 10, `"a b"`, Pos{3, 10, 43}},
		{true, 3, 0, `virtual  "a b" {`, Pos{3, 1, 34}},
		{true, 4, 12, "日本", Pos{4, 12, 62}},
		{true, 4, 19, "x", Pos{4, 15, 69}},
		{false, 2, 11, "10.0.0.1", Pos{2, 11, 25}}, // \r alone is not a line end for ipvsadm
	} {
		l := NewLines("f", src, tc.loneCR)
		r := l.Range(tc.line, tc.col)
		if r == nil || r.Start != tc.start || string(src[r.Start.Byte:r.End.Byte]) != tc.text {
			t.Errorf("Range(%d, %d) = %+v, want %q at %+v", tc.line, tc.col, r, tc.text, tc.start)
			continue
		}
		d := l.At(Error, tc.line, tc.col, "s", "d")
		if hl := d.Snippet.Code[d.Snippet.HighlightStartOffset:d.Snippet.HighlightEndOffset]; hl != tc.text {
			t.Errorf("highlight %q, want %q", hl, tc.text)
		}
	}
	l := NewLines("f", src, true)
	if l.Range(0, 0) != nil || l.Range(99, 1) != nil {
		t.Error("a range for a line not in the file")
	}
	if d := l.At(Warning, 0, 0, "s", ""); d.Range != nil || d.Snippet != nil {
		t.Error("a whole-file diagnostic has a place")
	}
}

func TestReport(t *testing.T) {
	var ds Diagnostics
	for range MaxDiagnostics + 10 {
		ds = append(ds, &Diagnostic{Severity: Warning, Summary: "w"})
	}
	ds = append(ds, &Diagnostic{Severity: Error, Summary: "e", Detail: strings.Repeat("d", 3*MaxDetail)})
	r := NewReport(ds)
	if len(r.Diagnostics) != MaxDiagnostics+1 || r.Valid || r.ErrorCount != 1 || r.WarningCount != MaxDiagnostics {
		t.Fatalf("%d diagnostics, valid %v, %d errors, %d warnings", len(r.Diagnostics), r.Valid, r.ErrorCount, r.WarningCount)
	}
	if last := r.Diagnostics[MaxDiagnostics]; last.Summary != "Too many problems" || !strings.HasPrefix(last.Detail, "11 more problems") {
		t.Fatalf("%+v", last)
	}
	var b bytes.Buffer
	if err := WriteJSON(&b, nil); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b.Bytes(), &m); err != nil || m["valid"] != true || m["diagnostics"] == nil {
		t.Fatalf("%s: %v", b.Bytes(), err)
	}
	if got := ShortText(strings.Repeat("é", MaxDetail)); len(got) > MaxDetail+3 || !utf8.ValidString(got) {
		t.Fatalf("ShortText gave %d bytes", len(got))
	}
}
