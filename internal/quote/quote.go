// Package quote keeps text from outside short in messages: lvsctl's
// parsers quote at most an excerpt of what they refuse, so that a huge or
// binary token never becomes a huge or unreadable error.
package quote

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Max is the most characters of offending input an error message
// quotes, between the quotes.
const Max = 60

// Excerpt quotes s as strconv.Quote does, but at most Max
// characters of it: a cut ends with "…" before the closing quote. It
// reads no more of s than it quotes, so a huge token costs nothing.
func Excerpt(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	n := 0
	for i := 0; i < len(s); {
		_, size := utf8.DecodeRuneInString(s[i:])
		q := strconv.Quote(s[i : i+size])
		q = q[1 : len(q)-1]
		w := utf8.RuneCountInString(q)
		if more := i+size < len(s); n+w > Max || more && n+w+1 > Max {
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

// Clip shortens every Go-quoted string in msg longer than
// Max characters to its excerpt, so that a message built with %q
// from a huge token stays short.
func Clip(msg string) string {
	if len(msg) < Max+2 {
		return msg
	}
	var b strings.Builder
	last := 0
	for i := 0; i < len(msg); i++ {
		if msg[i] != '"' {
			continue
		}
		q, err := strconv.QuotedPrefix(msg[i:])
		if err != nil {
			continue
		}
		if len(q) > Max+2 {
			if s, err := strconv.Unquote(q); err == nil {
				if e := Excerpt(s); len(e) < len(q) {
					b.WriteString(msg[last:i])
					b.WriteString(e)
					last = i + len(q)
				}
			}
		}
		i += len(q) - 1
	}
	if last == 0 {
		return msg
	}
	b.WriteString(msg[last:])
	return b.String()
}

// Size writes a byte count as a limit is stated: "16 MiB", "64 KiB",
// or "1000 bytes".
func Size(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
