package lvscf

import (
	"strings"
)

// A token is one blank-separated word of a line.
type token struct {
	text  string // without its quotes
	quote byte   // '"', '\'' or 0
	col   int    // 1-based byte column where the token starts
}

// A line is one source line after tokenizing.
type line struct {
	num     int
	text    string  // the line as written, for trailing comments
	comment string  // the comment text when the line is a comment line
	toks    []token // nil for blank and comment lines
	err     *Error  // a tokenizing error; toks is then nil
	glued   bool    // "=" was not separated by blanks (key=value)
	notes   []string
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

// splitLines splits src at "\n", "\r\n" or "\r", as piranha ends lines at
// either character; CRLF counts as one line break.
func splitLines(src string) []string {
	var lines []string
	for len(src) > 0 {
		i := strings.IndexAny(src, "\r\n")
		if i < 0 {
			lines = append(lines, src)
			break
		}
		lines = append(lines, src[:i])
		if src[i] == '\r' && i+1 < len(src) && src[i+1] == '\n' {
			i++
		}
		src = src[i+1:]
	}
	return lines
}

// lexLine tokenizes one line the way piranha's tokenizeString does: tokens
// are split on blanks (space and tab); a token that starts with " or ' runs
// to the next identical quote, blanks included, with no escapes.
//
// One lenient reading is noted on the line so that the parser can warn:
// blanks after a closing quote at the end of the line, which piranha's
// tokenizer reports as "quotation mismatch". Trailing comments are the
// parser's business: `send = #x` is a value in piranha, not a comment.
func lexLine(file string, num int, text string) line {
	ln := line{num: num, text: text}
	i := 0
	for i < len(text) && isBlank(text[i]) {
		i++
	}
	if i == len(text) {
		return ln
	}
	if text[i] == '#' {
		ln.comment = text[i:]
		return ln
	}
	for i < len(text) {
		start := i
		if q := text[i]; q == '"' || q == '\'' {
			end := strings.IndexByte(text[i+1:], q)
			if end < 0 {
				ln.err = &Error{File: file, Line: num, Col: start + 1, Msg: MsgBadQuoting,
					Detail: "no closing " + string(q) + " on this line (lvs.cf values cannot span lines or contain their own quote character)"}
				return ln
			}
			end += i + 1
			if end+1 < len(text) && !isBlank(text[end+1]) {
				ln.err = &Error{File: file, Line: num, Col: end + 2, Msg: MsgBadQuoting,
					Detail: "text right after the closing " + string(q) + "; put a blank between values"}
				return ln
			}
			ln.toks = append(ln.toks, token{text: text[i+1 : end], quote: q, col: start + 1})
			i = end + 1
		} else {
			for i < len(text) && !isBlank(text[i]) {
				i++
			}
			tok := text[start:i]
			switch eq := strings.IndexByte(tok, '='); {
			case len(ln.toks) == 0 && eq > 0:
				// key=value or key= value: piranha reads one token and
				// reports "unknown command"; split it at the "=".
				ln.toks = append(ln.toks, token{text: tok[:eq], col: start + 1}, token{text: "=", col: start + eq + 1})
				ln.glued = true
				i = start + eq + 1
				if i < len(text) && !isBlank(text[i]) {
					continue
				}
			case len(ln.toks) == 1 && eq == 0 && len(tok) > 1:
				// key =value: piranha reports "equal (=) expected".
				ln.toks = append(ln.toks, token{text: "=", col: start + 1})
				ln.glued = true
				i = start + 1
				continue
			default:
				ln.toks = append(ln.toks, token{text: tok, col: start + 1})
			}
		}
		ws := i
		for i < len(text) && isBlank(text[i]) {
			i++
		}
		if i == len(text) && i > ws && ln.toks[len(ln.toks)-1].quote != 0 {
			ln.notes = append(ln.notes, "blanks after the closing quote ignored; piranha reports quotation mismatch for them")
		}
	}
	return ln
}
