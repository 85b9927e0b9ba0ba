package config

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lvsctl/lvsctl/internal/quote"

	"github.com/hashicorp/hcl/v2"
	wordwrap "github.com/mitchellh/go-wordwrap"
)

// Bounds on what diagnostics show, whatever the file holds.
const (
	// MaxDiagnostics is how many diagnostics Load, Parse and
	// WriteDiagnostics give; one more says how many were left out.
	MaxDiagnostics = 100
	// maxShownLine is the most bytes of a source line a diagnostic shows;
	// a longer line is cut around the place the diagnostic is about.
	maxShownLine = 160
	// maxShownLines is the most source lines one diagnostic shows.
	maxShownLines = 20
	// maxDetail is the longest summary or detail, in bytes, once its
	// quoted text is cut to excerpts.
	maxDetail = 2000
)

// WriteDiagnostics renders diags as Terraform does: the summary, the file,
// line and enclosing block, the source line, then the detail, wrapped at
// width columns (0 does not wrap).
//
// The text is hcl's diagnostic writer's, but what it shows is bounded: at
// most MaxDiagnostics diagnostics, each with at most 20 source lines of at
// most 160 bytes (a longer line is cut around the place meant, with "…"),
// and quoted text in messages cut to 60-character excerpts. hcl's writer
// printed whole lines, and rescanned the whole file for each diagnostic:
// a file with one 100 MB line took minutes and echoed it.
func WriteDiagnostics(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics, width uint) error {
	var b bytes.Buffer
	for _, d := range limitDiags(diags) {
		if d.Expression != nil && d.EvalContext != nil {
			// hcl's writer also shows the values of the variables in the
			// expression; lvsctl evaluates nothing with variables, but a
			// diagnostic from elsewhere still gets its full rendering.
			if err := hcl.NewDiagnosticTextWriter(&b, files, width, false).WriteDiagnostic(d); err != nil {
				return err
			}
			continue
		}
		writeDiagnostic(&b, files, d, width)
	}
	_, err := w.Write(b.Bytes())
	return err
}

func writeDiagnostic(b *bytes.Buffer, files map[string]*hcl.File, d *hcl.Diagnostic, width uint) {
	severity := "???????"
	switch d.Severity {
	case hcl.DiagError:
		severity = "Error"
	case hcl.DiagWarning:
		severity = "Warning"
	}
	fmt.Fprintf(b, "%s: %s\n\n", severity, d.Summary)
	if d.Subject != nil {
		writeSource(b, files, d)
	}
	if d.Detail != "" {
		detail := d.Detail
		if width != 0 {
			detail = wordwrap.WrapString(detail, width)
		}
		fmt.Fprintf(b, "%s\n\n", detail)
	}
}

// writeSource writes where d is and the source lines it is about, as hcl's
// writer does: the lines that overlap the subject and the context, each
// with its number.
func writeSource(b *bytes.Buffer, files map[string]*hcl.File, d *hcl.Diagnostic) {
	snip := *d.Subject
	if d.Context != nil {
		snip = hcl.RangeOver(snip, *d.Context)
	}
	if snip.Empty() {
		snip.End.Byte++
		snip.End.Column++
	}
	file := files[d.Subject.Filename]
	if file == nil || file.Bytes == nil {
		fmt.Fprintf(b, "  on %s line %d:\n  (source code not available)\n\n", d.Subject.Filename, d.Subject.Start.Line)
		return
	}
	where := ""
	if cs, ok := file.Nav.(contextStringer); ok {
		if s := cs.ContextString(d.Subject.Start.Byte); s != "" {
			where = ", in " + quote.Clip(s)
		}
	}
	fmt.Fprintf(b, "  on %s line %d%s:\n", d.Subject.Filename, d.Subject.Start.Line, where)
	src := file.Bytes
	start := min(max(snip.Start.Byte, 0), len(src))
	// The line that holds the start of the snippet, or that the newline
	// at its start ends.
	lineAt := bytes.LastIndexByte(src[:start], '\n') + 1
	num := snip.Start.Line
	shown, more := 0, 0
	for lineAt < len(src) && lineAt <= snip.End.Byte {
		next := len(src)
		if i := bytes.IndexByte(src[lineAt:], '\n'); i >= 0 {
			next = lineAt + i + 1
		}
		end := next
		if end > lineAt && src[end-1] == '\n' {
			end--
			if end > lineAt && src[end-1] == '\r' {
				end--
			}
		}
		line := hcl.Range{Filename: snip.Filename, Start: hcl.Pos{Byte: lineAt}, End: hcl.Pos{Byte: end}}
		if line.Overlaps(snip) {
			if shown < maxShownLines {
				fmt.Fprintf(b, "%4d: %s\n", num, shownLine(src[lineAt:end], d.Subject.Start.Byte-lineAt))
				shown++
			} else {
				more++
			}
		}
		// hcl counts a lone carriage return as a line end too.
		num += 1 + bytes.Count(src[lineAt:end], []byte("\r")) - bytes.Count(src[lineAt:end], []byte("\r\n"))
		lineAt = next
	}
	if more > 0 {
		fmt.Fprintf(b, "      (%d more lines)\n", more)
	}
	b.WriteByte('\n')
}

// shownLine returns line, or when it is longer than maxShownLine a piece of
// it around the byte at (where the diagnostic points), with "…" where it
// is cut and control characters escaped as strconv.Quote escapes them.
func shownLine(line []byte, at int) string {
	if len(line) <= maxShownLine {
		return string(line)
	}
	at = min(max(at, 0), len(line))
	from := max(at-maxShownLine/3, 0)
	for from > 0 && !utf8.RuneStart(line[from]) {
		from--
	}
	var s strings.Builder
	if from > 0 {
		s.WriteString("…")
	}
	n := 0
	for i := from; i < len(line); {
		r, size := utf8.DecodeRune(line[i:])
		text := string(line[i : i+size])
		if r == utf8.RuneError && size == 1 || r != '\t' && !unicode.IsPrint(r) {
			q := strconv.Quote(text)
			text = q[1 : len(q)-1]
		}
		if n += utf8.RuneCountInString(text); n > maxShownLine {
			s.WriteString("…")
			break
		}
		s.WriteString(text)
		i += size
	}
	return s.String()
}

// limitDiags returns diags with their quoted text cut to excerpts, their
// summaries and details at most maxDetail bytes, and no more than
// MaxDiagnostics of them, plus one that says how many more there were.
func limitDiags(diags hcl.Diagnostics) hcl.Diagnostics {
	out := make(hcl.Diagnostics, 0, min(len(diags), MaxDiagnostics+1))
	for i, d := range diags {
		if i == MaxDiagnostics && len(diags) > MaxDiagnostics+1 {
			// One diagnostic for the rest, at the first of them (the
			// first error, if any: the rest must still fail).
			rest := diags[MaxDiagnostics:]
			first := rest[0]
			for _, e := range rest {
				if e.Severity == hcl.DiagError {
					first = e
					break
				}
			}
			return append(out, &hcl.Diagnostic{Severity: first.Severity, Summary: "Too many problems",
				Detail: fmt.Sprintf("%d more problems are not shown (lvsctl shows the first %d); fix these first.",
					len(rest), MaxDiagnostics),
				Subject: first.Subject})
		}
		summary, detail := shortText(d.Summary), shortText(d.Detail)
		if summary != d.Summary || detail != d.Detail {
			c := *d
			c.Summary, c.Detail = summary, detail
			d = &c
		}
		out = append(out, d)
	}
	return out
}

// shortText cuts the quoted text in s to excerpts, and s to maxDetail
// bytes.
func shortText(s string) string {
	s = quote.Clip(s)
	if len(s) <= maxDetail {
		return s
	}
	cut := maxDetail
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
