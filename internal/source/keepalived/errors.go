package keepalived

import (
	"bytes"
	"fmt"
	"strings"
	"unicode"

	"github.com/lvsctl/lvsctl/internal/diag"
	"github.com/lvsctl/lvsctl/internal/quote"
)

// A Pos is a place in a file: 1-based line and byte column.
type Pos struct {
	File string
	Line int
	Col  int
}

func (p Pos) String() string {
	switch {
	case p.Line == 0:
		return p.File
	case p.Col == 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// An Error is one thing wrong in a keepalived.conf, at a place of the file
// that says it, with a short excerpt of the offending text.
type Error struct {
	Pos
	Msg string // what was wrong and what to do
	// Source is the line of the file at Pos, clipped to about 100
	// characters around Col, with control characters shown as "?"; ""
	// when there is none.
	Source string
	// Caret is the 1-based column of Col in Source; 0 when there is none.
	Caret int
	// diag is the error in the common form, placed in its file with
	// byte offsets and a snippet; nil before withSource, or when its
	// file is not at hand.
	diag *diag.Diagnostic
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// Excerpt returns the source line and a caret under the column, each
// line indented by indent, or "" when the error has no source line.
func (e *Error) Excerpt(indent string) string {
	if e.Source == "" {
		return ""
	}
	s := fmt.Sprintf("%s%d | %s\n", indent, e.Line, e.Source)
	if e.Caret > 0 {
		s += indent + strings.Repeat(" ", len(fmt.Sprint(e.Line))+3+e.Caret-1) + "^\n"
	}
	return s
}

// withSource fills in the Source of each error from srcs, the files read
// by name.
func withSource(es Errors, srcs map[string][]byte) {
	lines := map[string]*diag.Lines{}
	for _, e := range es {
		src, ok := srcs[e.File]
		if !ok || e.Line < 1 {
			continue
		}
		if lines[e.File] == nil {
			lines[e.File] = diag.NewLines(e.File, src, false)
		}
		// Not capitalised: a message starts with the keyword as written.
		e.diag = lines[e.File].At(diag.Error, e.Line, e.Col, e.Msg, "")
		line := lineOf(src, e.Line)
		if line == "" {
			continue
		}
		col := max(e.Col, 1)
		start := 0
		if col > 80 {
			start = col - 40
		}
		end := min(len(line), start+100)
		if start >= len(line) {
			continue
		}
		b := []byte(line[start:end])
		for i, c := range b {
			if c < ' ' || c == 0x7f || c >= 0x80 {
				b[i] = '?'
			}
		}
		e.Source = string(b)
		if start > 0 {
			e.Source = "…" + e.Source
			col = col - start + 1
		}
		if e.Col > 0 {
			e.Caret = col
		}
	}
}

// lineOf returns line n (1-based) of src without its line end, "" past
// the end or for a line over MaxLineLength.
func lineOf(src []byte, n int) string {
	for i := 1; len(src) > 0; i++ {
		j := bytes.IndexByte(src, '\n')
		line := src
		if j >= 0 {
			line, src = src[:j], src[j+1:]
		} else {
			src = nil
		}
		if i == n {
			if len(line) > MaxLineLength {
				return ""
			}
			return strings.TrimRight(string(line), "\r")
		}
	}
	return ""
}

// Errors is every error found, in the order the files were read. It is the
// error type [Parse], [Load] and [File.Convert] return.
type Errors = diag.Errors[*Error]

// capped returns es cut to MaxErrors errors and one that says so.
func capped(es Errors) Errors {
	if len(es) <= MaxErrors {
		return es
	}
	more := &Error{Pos: es[MaxErrors].Pos, Msg: fmt.Sprintf("%d more errors not shown (lvsctl shows the first %d); fix these first", len(es)-MaxErrors, MaxErrors)}
	return append(es[:MaxErrors:MaxErrors], more)
}

// A Note is something lvsctl read but does not carry into its
// configuration, or carries differently from keepalived, and why. Convert
// writes each above the place it concerns, as a "# NOTE:" comment.
type Note struct {
	Pos
	Msg string
}

func (n Note) String() string { return n.Pos.String() + ": " + n.Msg }

// show returns s as a message shows a word from the file with %s: as it
// is when it is short and printable, else as its excerpt.
func show(s string) string {
	if len(s) > quote.Max {
		return quote.Excerpt(s)
	}
	for _, r := range s {
		if !unicode.IsPrint(r) || r == '"' {
			return quote.Excerpt(s)
		}
	}
	if s == "" {
		return `""`
	}
	return s
}
