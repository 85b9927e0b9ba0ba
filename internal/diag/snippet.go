package diag

import (
	"bytes"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Shown returns line as a diagnostic shows it, and where the bytes from
// and to of line are in what it returns: control characters and bytes
// that are not UTF-8 escaped as strconv.Quote escapes them (a tab stays a
// tab), and a line of more than MaxLine characters cut around from, with
// "…" where it is cut. A highlight that runs past the cut ends there.
//
// Only the part shown is read, so a line of a megabyte costs no more than
// a short one.
func Shown(line []byte, from, to int) (text string, hs, he int) {
	from = min(max(from, 0), len(line))
	to = min(max(to, from), len(line))
	start := 0
	if len(line) > MaxLine {
		start = max(from-MaxLine/3, 0)
		for start > 0 && !utf8.RuneStart(line[start]) {
			start--
		}
	}
	var b strings.Builder
	if start > 0 {
		b.WriteString("…")
	}
	hs, he = -1, -1
	n, i := 0, start
	for i < len(line) {
		if i >= from && hs < 0 {
			hs = b.Len()
		}
		if i >= to && he < 0 {
			he = b.Len()
		}
		r, size := utf8.DecodeRune(line[i:])
		piece := string(line[i : i+size])
		if r == utf8.RuneError && size == 1 || r != '\t' && !unicode.IsPrint(r) {
			q := strconv.Quote(piece)
			piece = q[1 : len(q)-1]
		}
		if n += utf8.RuneCountInString(piece); n > MaxLine {
			break
		}
		b.WriteString(piece)
		i += size
	}
	end := b.Len()
	if i < len(line) {
		b.WriteString("…")
	}
	if hs < 0 {
		hs = end
	}
	if he < 0 {
		he = end
	}
	return b.String(), hs, he
}

// Marker returns the line to print under text (as Shown returns it) that
// marks its bytes from hs to he with carets: a blank for each character
// before (a tab for a tab, so that the carets line up), and at least one
// caret.
func Marker(text string, hs, he int) string {
	hs = min(max(hs, 0), len(text))
	he = min(max(he, hs), len(text))
	var b strings.Builder
	for _, r := range text[:hs] {
		if r == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
	}
	b.WriteString(strings.Repeat("^", max(utf8.RuneCountInString(text[hs:he]), 1)))
	return b.String()
}

// Snip returns the snippet of src, the content of r's file, that r is
// about, as Terraform makes it: the lines that hold r and the range around
// it (nil for none; HCL's diagnostic context, such as the whole
// expression), at most MaxSnippetLines of them, each as Shown shows it,
// with r highlighted; context names the enclosing block, or is "". The
// byte offsets of r and around are what count; start is the line number of
// the first line shown.
func Snip(src []byte, r Range, around *Range, start int, context string) *Snippet {
	from := min(max(r.Start.Byte, 0), len(src))
	to := min(max(r.End.Byte, from), len(src))
	first, last := from, to
	if around != nil {
		first = min(first, max(around.Start.Byte, 0))
		last = max(last, min(around.End.Byte, len(src)))
	}
	lineAt := bytes.LastIndexByte(src[:first], '\n') + 1
	s := &Snippet{StartLine: start, Values: []string{}}
	if context != "" {
		c := ShortText(context)
		s.Context = &c
	}
	var code strings.Builder
	hs, he := -1, -1
	for n := 0; ; n++ {
		next := len(src)
		if i := bytes.IndexByte(src[lineAt:], '\n'); i >= 0 {
			next = lineAt + i + 1
		}
		lineEnd := next
		if lineEnd > lineAt && src[lineEnd-1] == '\n' {
			lineEnd--
		}
		if lineEnd > lineAt && src[lineEnd-1] == '\r' {
			lineEnd--
		}
		text, a, b := Shown(src[lineAt:lineEnd], from-lineAt, to-lineAt)
		if hs < 0 && from <= lineEnd {
			hs = code.Len() + a
		}
		if hs >= 0 && he < 0 && to <= next {
			he = code.Len() + b
		}
		code.WriteString(text)
		if next >= last || next >= len(src) || n+1 == MaxSnippetLines {
			break
		}
		code.WriteByte('\n')
		lineAt = next
	}
	s.Code = code.String()
	// A highlight past the lines shown ends with them.
	if hs < 0 {
		hs = len(s.Code)
	}
	if he < 0 {
		he = len(s.Code)
	}
	s.HighlightStartOffset, s.HighlightEndOffset = hs, he
	return s
}

// Lines finds lines and columns in the content of a line-based file (an
// lvs.cf, an ipvsadm dump), to give its problems the ranges an HCL
// diagnostic has.
type Lines struct {
	name   string
	src    []byte
	starts []int // the offset of each line's first byte
}

// NewLines indexes src, the content of the file name. Lines end at "\n"
// (and a "\r" before it); with loneCR also at a "\r" alone, as piranha
// reads an lvs.cf.
func NewLines(name string, src []byte, loneCR bool) *Lines {
	starts := []int{0}
	for i := 0; i < len(src); i++ {
		switch src[i] {
		case '\n':
			starts = append(starts, i+1)
		case '\r':
			if loneCR && (i+1 == len(src) || src[i+1] != '\n') {
				starts = append(starts, i+1)
			}
		}
	}
	return &Lines{name: name, src: src, starts: starts}
}

// text returns the bytes of line n (from 1), without its line end.
func (l *Lines) text(n int) (at int, text []byte) {
	at = l.starts[n-1]
	end := len(l.src)
	if n < len(l.starts) {
		end = l.starts[n]
	}
	text = l.src[at:end]
	text = bytes.TrimSuffix(text, []byte("\n"))
	text = bytes.TrimSuffix(text, []byte("\r"))
	return at, text
}

// Range returns the range of the token at col of line (both from 1; col
// in bytes, as the line-based parsers count): up to the next blank, or the
// whole line without its leading and trailing blanks when col is 0. It is
// nil when line is not in the file (0 means the whole file).
func (l *Lines) Range(line, col int) *Range {
	if line < 1 || line > len(l.starts) {
		return nil
	}
	at, text := l.text(line)
	blank := func(c byte) bool { return c == ' ' || c == '\t' || c == '\r' }
	var s, e int
	if col >= 1 {
		s = min(col-1, len(text))
		e = s
		if e < len(text) && (text[e] == '"' || text[e] == '\'') {
			// A quoted value runs to its closing quote, blanks and all.
			if q := bytes.IndexByte(text[e+1:], text[e]); q >= 0 {
				e += q + 2
			}
		}
		for e < len(text) && !blank(text[e]) {
			e++
		}
	} else {
		for s < len(text) && blank(text[s]) {
			s++
		}
		e = len(text)
		for e > s && blank(text[e-1]) {
			e--
		}
	}
	return &Range{Filename: l.name,
		Start: Pos{Line: line, Column: utf8.RuneCount(text[:s]) + 1, Byte: at + s},
		End:   Pos{Line: line, Column: utf8.RuneCount(text[:e]) + 1, Byte: at + e}}
}

// At returns a diagnostic at col of line (see Range), with its snippet;
// one at line 0, or a line not in the file, has neither.
func (l *Lines) At(sev Severity, line, col int, summary, detail string) *Diagnostic {
	d := &Diagnostic{Severity: sev, Summary: summary, Detail: detail, Range: l.Range(line, col)}
	if d.Range != nil {
		d.Snippet = l.snip(*d.Range)
	}
	return d
}

// snip is Snip for one line of a line-based file, whose line ends may be
// a lone "\r" that Snip would not see.
func (l *Lines) snip(r Range) *Snippet {
	at, text := l.text(r.Start.Line)
	code, hs, he := Shown(text, r.Start.Byte-at, r.End.Byte-at)
	return &Snippet{Code: code, StartLine: r.Start.Line, HighlightStartOffset: hs, HighlightEndOffset: he, Values: []string{}}
}
