package config

import (
	"fmt"
	"strconv"
	"strings"
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

// clipQuoted shortens every Go-quoted string in msg longer than
// excerptMax characters to its excerpt, so that a message built with %q
// from a huge token stays short.
func clipQuoted(msg string) string {
	if len(msg) < excerptMax+2 {
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
		if len(q) > excerptMax+2 {
			if s, err := strconv.Unquote(q); err == nil {
				if e := excerpt(s); len(e) < len(q) {
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

// sizeString writes a byte count as a limit is stated: "16 MiB", "64 KiB",
// or "1000 bytes".
func sizeString(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
