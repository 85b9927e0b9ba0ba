package lvscf

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// excerptMax is the most characters of offending input an error message
// quotes, between the quotes.
const excerptMax = 60

// excerpt quotes s as strconv.Quote does, but at most excerptMax
// characters of it: a cut ends with "…" before the closing quote. It
// reads no more of s than it quotes, so a huge token costs nothing.
func excerpt(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	n := 0
	for i := 0; i < len(s); {
		_, size := utf8.DecodeRuneInString(s[i:])
		q := strconv.Quote(s[i : i+size])
		q = q[1 : len(q)-1]
		w := utf8.RuneCountInString(q)
		if more := i+size < len(s); n+w > excerptMax || more && n+w+1 > excerptMax {
			b.WriteString("…")
			break
		}
		b.WriteString(q)
		n += w
		i += size
	}
	b.WriteByte('"')
	return b.String()
}

// show returns s as a message shows a name or a value from the file with
// %s: as it is when it is short and printable, else as its excerpt. Every
// message that shows text from the file uses show, or excerpt for %q.
func show(s string) string {
	if len(s) > excerptMax {
		return excerpt(s)
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return excerpt(s)
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
