package lvscf

import (
	"unicode"

	"github.com/lvsctl/lvsctl/internal/quote"
)

// show returns s as a message shows a name or a value from the file with
// %s: as it is when it is short and printable, else as its excerpt. Every
// message that shows text from the file uses show, or excerpt for %q.
func show(s string) string {
	if len(s) > quote.Max {
		return quote.Excerpt(s)
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return quote.Excerpt(s)
		}
	}
	return s
}

// shorten cuts a message from elsewhere (an error of regexp, say, which
// quotes the pattern) to 200 characters, with "…" when cut.
func shorten(s string) string {
	n := 0
	for i := range s {
		if n == 200 {
			return s[:i] + "…"
		}
		n++
	}
	return s
}
