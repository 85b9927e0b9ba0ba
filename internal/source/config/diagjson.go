package config

import (
	"github.com/hashicorp/hcl/v2"

	"github.com/lvsctl/lvsctl/internal/diag"
)

// Diagnostics returns diags, as Load or Parse gave them with files, in
// lvsctl's common form for JSON: each with its range and a snippet of the
// source with the block it is in. Like WriteDiagnostics it shows at most
// MaxDiagnostics of them and bounded text.
func Diagnostics(files map[string]*hcl.File, diags hcl.Diagnostics) diag.Diagnostics {
	out := make(diag.Diagnostics, 0, len(diags))
	for _, d := range limitDiags(diags) {
		c := &diag.Diagnostic{Severity: diag.Error, Summary: d.Summary, Detail: d.Detail}
		if d.Severity == hcl.DiagWarning {
			c.Severity = diag.Warning
		}
		if s := d.Subject; s != nil {
			c.Range = &diag.Range{Filename: s.Filename,
				Start: diag.Pos{Line: s.Start.Line, Column: s.Start.Column, Byte: s.Start.Byte},
				End:   diag.Pos{Line: s.End.Line, Column: s.End.Column, Byte: s.End.Byte}}
			if f := files[s.Filename]; f != nil && f.Bytes != nil {
				// As Terraform does, the snippet's lines also cover the
				// diagnostic's context (the whole expression), when it
				// has one in the same file.
				var around *diag.Range
				start := s.Start.Line
				if x := d.Context; x != nil && x.Filename == s.Filename {
					around = &diag.Range{Start: diag.Pos{Byte: x.Start.Byte}, End: diag.Pos{Byte: x.End.Byte}}
					if x.Start.Byte < s.Start.Byte {
						start = x.Start.Line
					}
				}
				c.Snippet = diag.Snip(f.Bytes, *c.Range, around, start, contextOf(f, s))
			}
		}
		out = append(out, c)
	}
	return out
}
