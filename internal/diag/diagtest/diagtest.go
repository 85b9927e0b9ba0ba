// Package diagtest checks diagnostics in the tests of the sources that
// make them: that their JSON is well formed and bounded, and that their
// positions are where they say in the input.
package diagtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"unicode/utf8"

	"github.com/lvsctl/lvsctl/internal/diag"
)

// MaxJSON is the most bytes the JSON of n diagnostics may take: a summary,
// a detail and a context of diag.MaxDetail bytes each and a snippet of
// diag.MaxSnippetLines lines of diag.MaxLine characters, every byte of
// which JSON might escape as \u00XX (six bytes).
func MaxJSON(n int) int {
	per := 6*3*diag.MaxDetail + diag.MaxSnippetLines*(6*4*diag.MaxLine+10) + 1000
	return 200 + n*per
}

// CheckJSON fails t unless the report of ds, made from src, is valid JSON
// of Terraform's validate shape within MaxJSON, whose counts agree with
// its diagnostics, whose ranges lie within src and whose snippets'
// highlights lie within their code.
func CheckJSON(t testing.TB, src []byte, ds diag.Diagnostics) {
	t.Helper()
	var out bytes.Buffer
	if err := diag.WriteJSON(&out, ds); err != nil {
		t.Fatal(err)
	}
	if !json.Valid(out.Bytes()) {
		t.Fatalf("not valid JSON:\n%s", out.Bytes())
	}
	if out.Len() > MaxJSON(len(ds)) {
		t.Fatalf("%d bytes of JSON for %d diagnostics", out.Len(), len(ds))
	}
	var r diag.Report
	dec := json.NewDecoder(&out)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatal(err)
	}
	if r.FormatVersion != "1.0" || r.Diagnostics == nil {
		t.Fatalf("format_version %q, diagnostics %v", r.FormatVersion, r.Diagnostics)
	}
	if len(r.Diagnostics) > diag.MaxDiagnostics+1 {
		t.Fatalf("%d diagnostics", len(r.Diagnostics))
	}
	errs, warns := r.Diagnostics.Count()
	if errs+warns != len(r.Diagnostics) || r.ErrorCount != errs || r.WarningCount != warns || r.Valid != (errs == 0) {
		t.Fatalf("valid %v, %d errors, %d warnings, but %d diagnostics of which %d errors",
			r.Valid, r.ErrorCount, r.WarningCount, len(r.Diagnostics), errs)
	}
	if ds.HasErrors() != (errs > 0) {
		t.Fatalf("the report has %d errors, the diagnostics HasErrors %v", errs, ds.HasErrors())
	}
	for _, d := range r.Diagnostics {
		if err := checkOne(src, d); err != nil {
			t.Fatalf("%s: %s: %v", d.Severity, d.Summary, err)
		}
	}
}

func checkOne(src []byte, d *diag.Diagnostic) error {
	if d.Summary == "" {
		return fmt.Errorf("no summary")
	}
	if r := d.Range; r != nil {
		if r.Start.Byte < 0 || r.Start.Byte > r.End.Byte || r.End.Byte > len(src) {
			return fmt.Errorf("range %+v outside the %d bytes of input", r, len(src))
		}
		if r.Start.Line < 1 || r.Start.Column < 1 || r.End.Line < r.Start.Line || r.End.Column < 1 {
			return fmt.Errorf("range %+v", r)
		}
	}
	if s := d.Snippet; s != nil {
		if d.Range == nil || s.StartLine < 1 || s.StartLine > d.Range.Start.Line {
			return fmt.Errorf("snippet from line %d for range %v", s.StartLine, d.Range)
		}
		if s.HighlightStartOffset < 0 || s.HighlightStartOffset > s.HighlightEndOffset || s.HighlightEndOffset > len(s.Code) {
			return fmt.Errorf("highlight %d-%d in %d bytes of code", s.HighlightStartOffset, s.HighlightEndOffset, len(s.Code))
		}
		if !utf8.ValidString(s.Code) || !utf8.ValidString(s.Code[:s.HighlightStartOffset]) || !utf8.ValidString(s.Code[:s.HighlightEndOffset]) {
			return fmt.Errorf("highlight %d-%d not at characters of %q", s.HighlightStartOffset, s.HighlightEndOffset, s.Code)
		}
		if s.Values == nil {
			return fmt.Errorf("values is null, not []")
		}
	}
	return nil
}

// CheckPos fails t unless p is where it says in src, whose lines end at
// "\n": on line p.Line, p.Column characters from its start, p.Byte bytes
// from the start of src.
func CheckPos(t testing.TB, src []byte, p diag.Pos) {
	t.Helper()
	if p.Byte < 0 || p.Byte > len(src) {
		t.Fatalf("%+v: byte outside the %d bytes of input", p, len(src))
	}
	line := 1 + bytes.Count(src[:p.Byte], []byte("\n"))
	lineAt := bytes.LastIndexByte(src[:p.Byte], '\n') + 1
	col := utf8.RuneCount(src[lineAt:p.Byte]) + 1
	if line != p.Line || col != p.Column {
		t.Fatalf("%+v: byte %d is line %d, column %d", p, p.Byte, line, col)
	}
}
