package quote

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// sourceWidth is the most characters of a line that Source shows.
const sourceWidth = 72

// Source shows a line of an input file under a diagnostic, with a caret
// under byte column col (1-based; 0 for no caret):
//
//	| 	weight = heavy
//	|            ^
//
// A long line is shown as a window around col, cut with "…"; tabs and
// other unprintable characters are shown as one blank each, so that the
// caret stays under its character. It reads no more of line than it
// shows, and returns "" for a line with nothing to show.
func Source(line string, col int) string {
	if strings.TrimSpace(line) == "" && col <= 1 {
		return ""
	}
	// The window: from a little before col, sourceWidth characters.
	start := 0
	if col > sourceWidth-10 {
		start = col - (sourceWidth - 10)
		for start < len(line) && !utf8.RuneStart(line[start]) {
			start++
		}
	}
	var b strings.Builder
	b.WriteString("    | ")
	caret := -1
	n := 0
	if start > 0 {
		b.WriteString("…")
		n++
	}
	i := start
	for i < len(line) && n < sourceWidth {
		if i == col-1 {
			caret = n
		}
		r, size := utf8.DecodeRuneInString(line[i:])
		if r == utf8.RuneError && size <= 1 || !unicode.IsPrint(r) {
			r = ' '
		}
		b.WriteRune(r)
		n++
		i += size
	}
	if i < len(line) {
		b.WriteString("…")
	}
	if caret < 0 && col > 0 && col-1 >= i && i == len(line) {
		caret = n + (col - 1 - i) // just past the end: a missing value
	}
	out := strings.TrimRight(b.String(), " ")
	if caret >= 0 && caret <= sourceWidth+2 {
		out += "\n    | " + strings.Repeat(" ", caret) + "^"
	}
	return out
}
