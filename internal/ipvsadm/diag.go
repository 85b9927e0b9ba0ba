package ipvsadm

import (
	"errors"

	"github.com/lvsctl/lvsctl/internal/diag"
)

// Diagnostics returns err, what ParseSave gave for src (the dump called
// name), as diagnostics for `lvsctl validate --json` and `plan --json`:
// each [*Error] at its line and column, highlighting the offending word.
// An error with no place (the input could not be read) has no range.
func Diagnostics(name string, src []byte, err error) diag.Diagnostics {
	if err == nil {
		return nil
	}
	var lines *diag.Lines
	var ds diag.Diagnostics
	for _, e := range leaves(err) {
		var pe *Error
		if !errors.As(e, &pe) {
			ds = append(ds, &diag.Diagnostic{Severity: diag.Error, Summary: "Cannot read the ipvsadm dump", Detail: diag.Sentence(e.Error())})
			continue
		}
		if lines == nil {
			lines = diag.NewLines(name, src, false) // bufio.ScanLines' lines
		}
		ds = append(ds, lines.At(diag.Error, pe.Line, pe.Col, "Invalid ipvsadm rule", diag.Sentence(pe.Msg)))
	}
	return ds
}

// leaves returns the errors joined in err (by errors.Join), or err alone.
func leaves(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
