package keepalived

import (
	"errors"

	"github.com/lvsctl/lvsctl/internal/diag"
)

// Diagnostics returns the problems of reading a keepalived.conf in the
// common form: err's errors, and each of notes (a setting not carried as
// keepalived has it, or a default of keepalived's that surprises) as a
// warning. f is the file read, nil when reading
// failed; it places the notes in their files.
func Diagnostics(f *File, notes []Note, err error) diag.Diagnostics {
	var ds diag.Diagnostics
	var errs Errors
	switch {
	case errors.As(err, &errs):
		for _, e := range errs {
			d := e.diag
			if d == nil {
				d = &diag.Diagnostic{Severity: diag.Error, Summary: e.Msg}
			}
			ds = append(ds, d)
		}
	case err != nil:
		ds = append(ds, &diag.Diagnostic{Severity: diag.Error, Summary: "Cannot read the configuration", Detail: diag.Sentence(err.Error())})
	}
	lines := map[string]*diag.Lines{}
	for _, n := range notes {
		// A note's message starts with the keyword as written, so it is
		// not capitalised.
		d := &diag.Diagnostic{Severity: diag.Warning, Summary: n.Msg}
		if f != nil {
			if src, ok := f.srcs[n.File]; ok {
				if lines[n.File] == nil {
					lines[n.File] = diag.NewLines(n.File, src, false)
				}
				d = lines[n.File].At(diag.Warning, n.Line, n.Col, d.Summary, d.Detail)
			}
		}
		ds = append(ds, d)
	}
	diag.Sort(ds)
	return ds
}
