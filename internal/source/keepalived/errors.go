package keepalived

import (
	"fmt"
	"strconv"
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
	// diag is the error in the common form, placed in its file with
	// byte offsets and a snippet of its line; nil before withSource, or
	// when its file is not at hand.
	diag *diag.Diagnostic
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// Excerpt returns the source line, after its number, and a caret under
// the column (none when the whole line is meant), each line indented by
// indent; "" when the error has no source line. The line is shown as
// every diagnostic's snippet shows it ([diag.Shown]): control characters
// escaped, a long line cut around the column.
func (e *Error) Excerpt(indent string) string {
	if e.diag == nil || e.diag.Snippet == nil || e.diag.Snippet.Code == "" {
		return ""
	}
	code, at := e.diag.Snippet.Code, e.diag.Snippet.HighlightStartOffset
	num := strconv.Itoa(e.Line)
	s := indent + num + " | " + code + "\n"
	if e.Col > 0 {
		s += indent + strings.Repeat(" ", len(num)+3) + diag.Marker(code, at, at) + "\n"
	}
	return s
}

// withSource places each error in its file, of srcs, the files read by
// name, with the snippet of its line.
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
	}
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
	// Missing says that the note is about part of the configuration that
	// is not there (an include that names no file), which a reader shows
	// on its own, as a warning, rather than counting it with the settings
	// not carried.
	Missing bool
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
