package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/lvsctl/lvsctl/internal/diag"
	"github.com/lvsctl/lvsctl/internal/diag/diagtest"
)

// TestDiagnosticPositions checks the place of every kind of diagnostic —
// hclsyntax's parse errors, the limits checked before parsing, gohcl's
// schema errors, lvsctl's own rules and the kernel's ranges — against the
// input: its line, column and byte offset, the text at it, its printed
// file:line:column and the caret under that column, and the snippet of
// its JSON form.
func TestDiagnosticPositions(t *testing.T) {
	long := strings.Repeat("x", MaxStringLength+1)
	for _, tc := range []struct {
		name, src string
		summary   string
		line, col int
		text      string // at the start of the range, and highlighted
		context   string // the snippet's context; "" for none
	}{
		{"parse: missing brace", "virtual_server \"web\" {\n  address = \"10.0.0.2:80\"\n", "Unclosed configuration block", 1, 22, "{", "virtual_server \"web\""},
		{"parse: two values", "virtual_server \"w\" {\n  address = \"10.0.0.2:80\" \"x\"\n}\n", "Missing newline after argument", 2, 27, `"x"`, "virtual_server \"w\""},
		{"parse: tab before", "virtual_server \"w\" {\n\taddress = \"10.0.0.2:80\"\n\tweight = ]\n}\n", "Invalid expression", 3, 11, "]", "virtual_server \"w\""},
		{"schema: unknown argument", "virtual_server \"w\" {\n  address = \"10.0.0.2:80\"\n  shceduler = \"rr\"\n}\n", "Unsupported argument", 3, 3, "shceduler", "virtual_server \"w\""},
		{"schema: unknown block", "virtaul_server \"w\" {\n}\n", "Unsupported block type", 1, 1, "virtaul_server", "virtaul_server \"w\""},
		{"schema: wrong type", "virtual_server \"w\" {\n  address = \"10.0.0.2:80\"\n  real_server \"a\" {\n    address = \"10.0.0.3\"\n    weight  = \"heavy\"\n  }\n}\n", "Unsuitable value type", 5, 16, "heavy", "virtual_server \"w\""},
		{"schema: a list across lines", "virtual_server \"w\" {\n  address = \"10.0.0.2:80\"\n  real_server \"a\" {\n    address = \"10.0.0.3\"\n    weight = [\n      1,\n      2]\n  }\n}\n", "Unsuitable value type", 5, 14, "[", "virtual_server \"w\""},
		{"rule: scheduler", "virtual_server \"w\" {\n  address   = \"10.0.0.2:80\"\n  scheduler = \"fastest\"\n}\n", "Invalid scheduler", 3, 15, `"fastest"`, "virtual_server \"w\""},
		{"kernel: weight", "virtual_server \"w\" {\n  address = \"10.0.0.2:80\"\n  real_server \"a\" {\n    address = \"10.0.0.3\"\n    weight  = 70000\n  }\n}\n", "Invalid weight", 5, 15, "70000", "virtual_server \"w\""},
		{"kernel: non-ASCII before", "# ünïcödé\nvirtual_server \"é\" {\n  address = \"10.0.0.2:80\"\n  scheduler = \"日本\"\n}\n", "Invalid scheduler", 4, 15, `"日本"`, "virtual_server \"é\""},
		{"limit: string", "virtual_server \"w\" {\n  address = \"" + long + "\"\n}\n", "String too long", 2, 13, `"`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := []byte(tc.src)
			_, files, diags := Parse(src, "t.hcl")
			var d *hcl.Diagnostic
			for _, e := range diags {
				if e.Summary == tc.summary {
					d = e
					break
				}
			}
			if d == nil {
				t.Fatalf("no %q in %v", tc.summary, diags)
			}
			if d.Subject.Start.Line != tc.line || d.Subject.Start.Column != tc.col {
				t.Fatalf("%s at %d:%d, want %d:%d", tc.summary, d.Subject.Start.Line, d.Subject.Start.Column, tc.line, tc.col)
			}
			if !bytes.HasPrefix(src[d.Subject.Start.Byte:], []byte(tc.text)) {
				t.Fatalf("byte %d is at %.20q, want %q", d.Subject.Start.Byte, src[d.Subject.Start.Byte:], tc.text)
			}

			// The text: file:line:column, then the source line, then the
			// caret under the column.
			var out bytes.Buffer
			if err := WriteDiagnostics(&out, files, hcl.Diagnostics{d}, 0); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(out.String(), "\n")
			if want := fmt.Sprintf("  on t.hcl:%d:%d", tc.line, tc.col); !strings.HasPrefix(lines[2], want) {
				t.Fatalf("place line %q, want %q…", lines[2], want)
			}
			prefix := fmt.Sprintf("%4d: ", tc.line)
			if !strings.HasPrefix(lines[3], prefix) {
				t.Fatalf("source line %q", lines[3])
			}
			// The caret is under the column: as many characters (a tab
			// for a tab) precede it as precede the column in the line.
			caret := strings.IndexByte(lines[4], '^')
			if caret < 0 {
				t.Fatalf("no caret line: %q", lines[4])
			}
			if n := len([]rune(lines[4][:caret])) - len(prefix); n != tc.col-1 {
				t.Fatalf("caret at column %d, want %d:\n%s\n%s", n+1, tc.col, lines[3], lines[4])
			}
			if got := []rune(lines[3])[len(prefix)+tc.col-1:]; !strings.HasPrefix(string(got), tc.text[:min(len(tc.text), 3)]) {
				t.Fatalf("the caret is under %q, want %q", string(got), tc.text)
			}

			// The JSON form: the same range, and a snippet that
			// highlights the text.
			ds := Diagnostics(files, hcl.Diagnostics{d})
			diagtest.CheckJSON(t, src, ds)
			r := ds[0].Range
			diagtest.CheckPos(t, src, r.Start)
			diagtest.CheckPos(t, src, r.End)
			if r.Start.Byte != d.Subject.Start.Byte || r.End.Byte != d.Subject.End.Byte {
				t.Fatalf("range %+v, subject %v", r, d.Subject)
			}
			s := ds[0].Snippet
			if s == nil || s.StartLine != tc.line {
				t.Fatalf("snippet %+v", s)
			}
			// The code is the lines of the subject and its context, as
			// the text shows them.
			if ctx := d.Context; ctx != nil && ctx.End.Line > ctx.Start.Line {
				if n := strings.Count(s.Code, "\n") + 1; n != ctx.End.Line-ctx.Start.Line+1 {
					t.Fatalf("%d lines of code for context %v: %q", n, ctx, s.Code)
				}
			}
			hl := s.Code[s.HighlightStartOffset:s.HighlightEndOffset]
			if hl == "" || !strings.HasPrefix(hl, tc.text) && !strings.HasPrefix(tc.text, hl) {
				t.Fatalf("highlight %q of %q, want %q", hl, s.Code, tc.text)
			}
			ctx := ""
			if s.Context != nil {
				ctx = *s.Context
			}
			if ctx != tc.context {
				t.Fatalf("context %q, want %q", ctx, tc.context)
			}
		})
	}
}

// TestDiagnosticsJSONShape checks the document against Terraform's
// validate -json output field by field, for a file with an error.
func TestDiagnosticsJSONShape(t *testing.T) {
	src := "virtual_server \"w\" {\n  address   = \"10.0.0.2:80\"\n  scheduler = \"fastest\"\n}\n"
	_, files, diags := Parse([]byte(src), "t.hcl")
	var out bytes.Buffer
	if err := diag.WriteJSON(&out, Diagnostics(files, diags)); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"format_version": "1.0", "valid": false, "error_count": 1.0, "warning_count": 0.0,
		"diagnostics": []any{map[string]any{
			"severity": "error", "summary": "Invalid scheduler",
			"detail": `"fastest" is not an IPVS scheduler; use one of rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh, twos.`,
			"range": map[string]any{"filename": "t.hcl",
				"start": map[string]any{"line": 3.0, "column": 15.0, "byte": 63.0},
				"end":   map[string]any{"line": 3.0, "column": 24.0, "byte": 72.0}},
			"snippet": map[string]any{"context": `virtual_server "w"`, "code": `  scheduler = "fastest"`, "start_line": 3.0,
				"highlight_start_offset": 14.0, "highlight_end_offset": 23.0, "values": []any{}},
		}},
	}
	gotJSON, _ := json.Marshal(got)
	wantJSON, _ := json.Marshal(want)
	if !bytes.Equal(gotJSON, wantJSON) {
		t.Errorf("got  %s\nwant %s", gotJSON, wantJSON)
	}
}

// TestFastParseDiagnosticPositions checks that a file fastDecode reads
// gives its diagnostics the positions hclsyntax gives them: the structs the
// rules see are fastDecode's until a problem makes Parse read the file
// again with hclsyntax, so the two must agree. What does not fit the
// schema (an unknown name, a value of the wrong type) fastDecode declines.
func TestFastParseDiagnosticPositions(t *testing.T) {
	for _, tc := range []struct {
		src  string
		fast bool
	}{
		{"virtual_server \"w\" {\n  address   = \"10.0.0.2:80\"\n  scheduler = \"fastest\"\n}\n", true},
		{"virtual_server \"w\" {\n  address = \"10.0.0.2:80\"\n  shceduler = \"rr\"\n}\n", false},
		{"virtual_server \"w\" {\n  address = \"10.0.0.2:80\" # c\n  real_server \"a\" {\n    address = \"10.0.0.3\" // c\n    weight  = 70000\n  }\n  /* c */ real_server \"b\" {\n    address = \"10.0.0.3\"\n  }\n}\n", true},
		{"virtual_server \"w\" {\n\taddress = \"10.0.0.2:80\"\n\treal_server \"a\" {\n\t\taddress = \"10.0.0.3\"\n\t\tweight = \"heavy\"\n\t}\n}\n", false},
		{"virtual_server \"w\" {\n  address = \"10.0.0.2:80\"\n  ports = [1, \"x\\n\\t\\\"\", true]\n}\n", false},
		{"virtual_server \"w\" {\n  address = \"10.0.0.2:80\"\n  scheduler_flags = [\"x\\n\\t\\\"\", \"sh-port\"]\n}\n", true},
		{"ignore {\n  addresses = [\"10.0.0.2\", \"nope\"]\n}\n", true},
		{"drain_timeout = \"5 minutes\"\n", true},
	} {
		_, _, fastDiags, fast := parse([]byte(tc.src), "t.hcl", true)
		if fast != tc.fast {
			t.Errorf("fastDecode read %q: %t, want %t", tc.src, fast, tc.fast)
			continue
		}
		_, _, slowDiags, _ := parse([]byte(tc.src), "t.hcl", false)
		if len(slowDiags) == 0 {
			t.Fatalf("no diagnostics for %q", tc.src)
		}
		if !fast {
			continue
		}
		if got, want := positions(fastDiags), positions(slowDiags); got != want {
			t.Errorf("%q:\n fastDecode %s\n hclsyntax  %s", tc.src, got, want)
		}
	}
}

// positions renders each diagnostic's summary, subject and context with
// their lines, columns and bytes.
func positions(diags hcl.Diagnostics) string {
	var b strings.Builder
	r := func(r *hcl.Range) string {
		if r == nil {
			return "-"
		}
		return fmt.Sprintf("%d:%d@%d-%d:%d@%d", r.Start.Line, r.Start.Column, r.Start.Byte, r.End.Line, r.End.Column, r.End.Byte)
	}
	for _, d := range diags {
		fmt.Fprintf(&b, "[%s %s %s] ", d.Summary, r(d.Subject), r(d.Context))
	}
	return b.String()
}
