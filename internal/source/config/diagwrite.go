package config

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/lvsctl/lvsctl/internal/diag"
	"github.com/lvsctl/lvsctl/internal/quote"

	"github.com/hashicorp/hcl/v2"
	wordwrap "github.com/mitchellh/go-wordwrap"
)

// MaxDiagnostics is how many diagnostics Load, Parse and WriteDiagnostics
// give; one more says how many were left out.
const MaxDiagnostics = diag.MaxDiagnostics

// WriteDiagnostics renders diags as Terraform does: the summary, the place
// (file:line:column) and enclosing block, the source lines with the
// column marked, then the detail, wrapped at width columns (0 does not
// wrap).
//
// The text is hcl's diagnostic writer's with the column added, but what it
// shows is bounded: at most MaxDiagnostics diagnostics, each with at most
// diag.MaxSnippetLines source lines of at most diag.MaxLine characters (a
// longer line is cut around the place meant, with "…"), and quoted text in
// messages cut to 60-character excerpts. hcl's writer printed whole lines,
// and rescanned the whole file for each diagnostic: a file with one 100 MB
// line took minutes and echoed it. (It also showed the values of the
// variables in an expression; lvsctl evaluates nothing with variables.)
func WriteDiagnostics(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics, width uint) error {
	var b bytes.Buffer
	for _, d := range limitDiags(diags) {
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
		fmt.Fprintf(b, "  on %s:\n  (source code not available)\n\n", place(d.Subject))
		return
	}
	where := ""
	if s := contextOf(file, d.Subject); s != "" {
		where = ", in " + quote.Clip(s)
	}
	fmt.Fprintf(b, "  on %s%s:\n", place(d.Subject), where)
	src := file.Bytes
	start := min(max(snip.Start.Byte, 0), len(src))
	// The line that holds the start of the snippet, or that the newline
	// at its start ends.
	lineAt := bytes.LastIndexByte(src[:start], '\n') + 1
	num := snip.Start.Line
	shown, more := 0, 0
	marked := false
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
			if shown < diag.MaxSnippetLines {
				text, hs, he := diag.Shown(src[lineAt:end], d.Subject.Start.Byte-lineAt, d.Subject.End.Byte-lineAt)
				prefix := fmt.Sprintf("%4d: ", num)
				fmt.Fprintf(b, "%s%s\n", prefix, text)
				if !marked && lineAt <= d.Subject.Start.Byte && d.Subject.Start.Byte <= end {
					// The column the diagnostic is about, marked as
					// compilers mark it.
					fmt.Fprintf(b, "%s%s\n", strings.Repeat(" ", len(prefix)), diag.Marker(text, hs, he))
					marked = true
				}
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

// limitDiags returns diags with their quoted text cut to excerpts, their
// summaries and details at most diag.MaxDetail bytes, and no more than
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
		summary, detail := diag.ShortText(d.Summary), diag.ShortText(d.Detail)
		if summary != d.Summary || detail != d.Detail {
			c := *d
			c.Summary, c.Detail = summary, detail
			d = &c
		}
		out = append(out, d)
	}
	return out
}

// place is where r starts, as compilers and editors write it:
// file:line:column.
func place(r *hcl.Range) string {
	return fmt.Sprintf("%s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
}

// contextOf names the block that r is in (`virtual_server "web"`), or is
// "" when the file cannot say.
func contextOf(file *hcl.File, r *hcl.Range) string {
	if cs, ok := file.Nav.(contextStringer); ok {
		return cs.ContextString(r.Start.Byte)
	}
	return ""
}
