package lvscf

import (
	"errors"

	"github.com/lvsctl/lvsctl/internal/diag"
)

// Diagnostics returns what reading src, the lvs.cf called name, gave —
// its warnings and err, as Parse and File.Config return them — as
// diagnostics for `lvsctl validate --json`, in line order: each at its
// line and column (the offending token, or the whole line when the error
// has no column), the summary piranha's message and the detail what to do.
// Warnings are severity warning.
func Diagnostics(name string, src []byte, warns []Warning, err error) diag.Diagnostics {
	lines := diag.NewLines(name, src, true) // piranha ends a line at a lone \r too
	var ds diag.Diagnostics
	var errs Errors
	var one *Error
	switch {
	case errors.As(err, &errs):
	case errors.As(err, &one):
		errs = Errors{one}
	case err != nil:
		ds = append(ds, &diag.Diagnostic{Severity: diag.Error, Summary: "Cannot read the configuration", Detail: diag.Sentence(err.Error())})
	}
	for _, e := range errs {
		ds = append(ds, lines.At(diag.Error, e.Line, e.Col, diag.Capitalize(e.Msg), diag.Sentence(e.Detail)))
	}
	for _, w := range warns {
		ds = append(ds, lines.At(diag.Warning, w.Line, 0, "Piranha quirk", diag.Sentence(w.Msg)))
	}
	diag.Sort(ds)
	return ds
}
