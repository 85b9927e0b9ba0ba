package keepalived

import (
	"fmt"
	"strings"
	"unicode"

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
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// Errors is every error found, in the order the files were read. It is the
// error type [Parse], [Load] and [File.Convert] return.
type Errors []*Error

func (es Errors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Unwrap returns the errors one by one, for errors.As and errors.Is.
func (es Errors) Unwrap() []error {
	errs := make([]error, len(es))
	for i, e := range es {
		errs[i] = e
	}
	return errs
}

// capped returns es cut to MaxErrors errors and one that says so.
func (es Errors) capped() Errors {
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
