// Package diag is the one form of a problem found in a configuration, for
// every source lvsctl reads (HCL, lvs.cf, ipvsadm dumps): a severity, a
// summary and a detail, and where it is — file, line, column and byte
// offset — with the source it is about. Each source converts its own
// problems to it (config.Diagnostics, lvscf.Diagnostics,
// ipvsadm.Diagnostics), and cmd writes them as the JSON of `terraform
// validate -json` ([WriteJSON]), which editors and CI already read. The
// text forms stay each source's own; [Shown] and [Marker] show a source
// line with the column marked, for text and snippets alike.
//
// What a diagnostic carries is bounded whatever the input: a hostile file
// gives at most [MaxDiagnostics] of them (and one saying how many more),
// each with at most [MaxDetail] bytes of text and a snippet of at most
// [MaxSnippetLines] lines of at most [MaxLine] characters.
package diag

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lvsctl/lvsctl/internal/quote"
)

// Severity says whether a diagnostic makes a configuration invalid; its
// text is the JSON form.
type Severity string

const (
	// Error makes the configuration invalid: nothing is planned or
	// applied from it.
	Error Severity = "error"
	// Warning is something accepted that deserves a look (a piranha quirk,
	// a deprecated form); a configuration with warnings only is valid.
	Warning Severity = "warning"
)

// Bounds on what diagnostics carry.
const (
	// MaxDiagnostics is how many diagnostics are given; one more says how
	// many were left out.
	MaxDiagnostics = 100
	// MaxDetail is the longest summary or detail, in bytes, once the
	// quoted text in it is cut to excerpts.
	MaxDetail = 2000
	// MaxLine is the most characters of a source line a snippet shows; a
	// longer line is cut around the place meant, with "…".
	MaxLine = 160
	// MaxSnippetLines is the most source lines one snippet shows.
	MaxSnippetLines = 20
)

// A Pos is a place in a file. Line and Column count from 1, Column in
// characters (HCL's are grapheme clusters); Byte is the offset from the
// start of the file, from 0.
type Pos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"byte"`
}

// A Range is the text a diagnostic is about: from Start up to, not
// including, End.
type Range struct {
	Filename string `json:"filename"`
	Start    Pos    `json:"start"`
	End      Pos    `json:"end"`
}

// String is the range's start as compilers and editors write a place:
// file:line:column.
func (r Range) String() string {
	return fmt.Sprintf("%s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
}

// A Snippet is the source a diagnostic is about, as Terraform gives it:
// Code holds whole lines (cut when long, non-printable bytes escaped), the
// first of them line StartLine, and the highlight is Code's bytes from
// HighlightStartOffset to HighlightEndOffset.
type Snippet struct {
	// Context is the block the diagnostic is in (`virtual_server "web"`),
	// or nil.
	Context              *string `json:"context"`
	Code                 string  `json:"code"`
	StartLine            int     `json:"start_line"`
	HighlightStartOffset int     `json:"highlight_start_offset"`
	HighlightEndOffset   int     `json:"highlight_end_offset"`
	// Values is Terraform's list of the expression values involved;
	// lvsctl evaluates no expressions, so it is always empty.
	Values []string `json:"values"`
}

// A Diagnostic is one problem.
type Diagnostic struct {
	Severity Severity `json:"severity"`
	Summary  string   `json:"summary"`
	Detail   string   `json:"detail"`
	// Range is nil for a problem with no place (a file that cannot be
	// read).
	Range   *Range   `json:"range,omitempty"`
	Snippet *Snippet `json:"snippet,omitempty"`
}

// Diagnostics are the problems of one configuration, in file order.
type Diagnostics []*Diagnostic

// HasErrors reports whether any of ds is an error.
func (ds Diagnostics) HasErrors() bool {
	for _, d := range ds {
		if d.Severity == Error {
			return true
		}
	}
	return false
}

// Count returns how many of ds are errors and how many warnings.
func (ds Diagnostics) Count() (errors, warnings int) {
	for _, d := range ds {
		switch d.Severity {
		case Error:
			errors++
		case Warning:
			warnings++
		}
	}
	return errors, warnings
}

// Limit returns ds within the bounds: quoted text cut to excerpts, summary
// and detail to MaxDetail bytes (snippets made by [Snip] are bounded
// already), and at most
// MaxDiagnostics of them plus one that says how many more there were (an
// error if any of those is: the rest must still fail). ds is not changed.
func Limit(ds Diagnostics) Diagnostics {
	out := make(Diagnostics, 0, min(len(ds), MaxDiagnostics+1))
	for i, d := range ds {
		if i == MaxDiagnostics && len(ds) > MaxDiagnostics+1 {
			rest := ds[MaxDiagnostics:]
			first := rest[0]
			for _, e := range rest {
				if e.Severity == Error {
					first = e
					break
				}
			}
			return append(out, &Diagnostic{Severity: first.Severity, Summary: "Too many problems",
				Detail: fmt.Sprintf("%d more problems are not shown (lvsctl shows the first %d); fix these first.",
					len(rest), MaxDiagnostics),
				Range: first.Range})
		}
		c := *d
		c.Summary, c.Detail = ShortText(d.Summary), ShortText(d.Detail)
		out = append(out, &c)
	}
	return out
}

// ShortText cuts the quoted text in s to excerpts, and s to MaxDetail
// bytes.
func ShortText(s string) string {
	s = quote.Clip(s)
	if len(s) <= MaxDetail {
		return s
	}
	cut := MaxDetail
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// Capitalize returns s with its first letter upper case: a source's
// message ("unknown command") as a summary.
func Capitalize(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError {
		return s
	}
	return string(unicode.ToUpper(r)) + s[size:]
}

// Sentence makes a message read as a diagnostic's detail: capitalised,
// with a full stop.
func Sentence(s string) string {
	s = Capitalize(s)
	if s != "" && !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "?") {
		s += "."
	}
	return s
}

// Sort orders ds by place, stably: those with no place first, then by
// file and offset, so that a file's problems read top to bottom whatever
// order they were found in.
func Sort(ds Diagnostics) {
	slices.SortStableFunc(ds, func(a, b *Diagnostic) int {
		switch {
		case a.Range == nil && b.Range == nil:
			return 0
		case a.Range == nil:
			return -1
		case b.Range == nil:
			return 1
		}
		return cmp.Or(cmp.Compare(a.Range.Filename, b.Range.Filename), cmp.Compare(a.Range.Start.Byte, b.Range.Start.Byte))
	})
}
