package lvscf

import (
	"fmt"
	"strings"

	"github.com/lvsctl/lvsctl/internal/diag"
	"github.com/lvsctl/lvsctl/internal/quote"
)

// Piranha's error messages (lvsStrerror in lvsconfig.c), used as the first
// part of every parse error so that people who know piranha recognise them.
const (
	MsgBadQuoting    = "quotation mismatch"
	MsgEOF           = "unexpected end of file"
	MsgExtraArgs     = "unexpected arguments"
	MsgEqualExpected = "equal (=) expected after command"
	MsgMissingArgs   = "missing arguments"
	MsgBadHostname   = "invalid host name or ip address"
	MsgBadArgument   = "invalid argument"
	MsgIntExpected   = "integer expected"
	MsgBoolExpected  = "boolean expected"
	MsgBadCommand    = "unknown command"
	MsgListExpected  = "list expected"
	MsgOnlyOne       = "Cannot use both virtual AND failover services"
	MsgBadNetmask    = "Bad subnet mask specified"
	MsgEmpty         = "Empty configuration"
	MsgRead          = "I/O error while reading configuration"

	// lvsctl's own, for its limits (see Parse).
	MsgTooLong = "line too long"
	MsgTooMany = "too many errors"
)

// An Error is one thing wrong in an lvs.cf, at a line (and, where it helps,
// a column) of the file.
type Error struct {
	File   string
	Line   int    // 1-based; 0 only for errors about the whole file
	Col    int    // 1-based byte column of the offending token; 0 if none
	Msg    string // piranha's message, one of the Msg constants
	Detail string // what was wrong and what to do
	// Source is the line as written, set by Load; "" when unknown.
	Source string
}

// Excerpt shows the line of the error with a caret under its column, to
// print under the message; "" when there is nothing to show.
func (e *Error) Excerpt() string {
	if e.Source == "" {
		return ""
	}
	return quote.Source(e.Source, e.Col)
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Col > 0 {
			fmt.Fprintf(&b, ":%d", e.Col)
		}
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

// Errors is every error found in a file, in line order. It is the error type
// that [Parse] and [File.Table] return.
type Errors = diag.Errors[*Error]

// capped returns es cut to MaxErrors errors and one that says so.
func capped(es Errors) Errors {
	if len(es) <= MaxErrors {
		return es
	}
	return withMore(es[:MaxErrors:MaxErrors], len(es)-MaxErrors)
}

// withMore returns es and, when more errors were found than es holds, one
// that counts them.
func withMore(es Errors, more int) Errors {
	if more == 0 || len(es) == 0 {
		return es
	}
	last := es[len(es)-1]
	return append(es[:len(es):len(es)], &Error{File: last.File, Line: last.Line, Msg: MsgTooMany,
		Detail: fmt.Sprintf("%d more errors not shown (lvsctl shows the first %d); fix these first", more, MaxErrors)})
}

// A Warning is something lvsctl accepts but piranha would have read
// differently or refused, or a quirk worth knowing about.
type Warning struct {
	File string
	Line int
	Msg  string
}

func (w Warning) String() string {
	if w.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", w.File, w.Line, w.Msg)
	}
	return fmt.Sprintf("%s: %s", w.File, w.Msg)
}
