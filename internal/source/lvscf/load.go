package lvscf

import (
	"cmp"
	"io"
	"slices"

	"github.com/lvsctl/lvsctl/internal/model"
)

// Loaded is an lvs.cf read and converted by [Load].
type Loaded struct {
	File        *File
	Config      *model.Config      // what the file means; see File.Config
	Annotations *model.Annotations // for config.Write; see File.Convert
}

// Load reads an lvs.cf and converts it (see [Parse] and [File.Convert]) in
// one pass: the errors of its lines, of its table and of its conversion
// are reported together (as [Errors], each with its Source line), in line
// order, at most MaxErrors of them and then a count of the rest. A problem
// that follows from a line with an error of its own (a server with no
// address because its address line is wrong) is not reported again. When
// a malformed block header or an unclosed block keeps the file from being
// read in blocks, only its line errors are reported.
func Load(r io.Reader, filename string) (*Loaded, []Warning, error) {
	p, err := parseFile(r, filename)
	if err != nil {
		return nil, nil, err
	}
	errs := p.errs
	var cfg *model.Config
	var ann *model.Annotations
	if !p.stopped {
		var cerrs Errors
		cfg, ann, cerrs = p.f.convert()
		errs = append(errs, cerrs...)
	}
	warns := p.warnings()
	if len(errs) > 0 {
		slices.SortStableFunc(errs, func(a, b *Error) int {
			return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
		})
		more := p.moreErrs
		if len(errs) > MaxErrors {
			more += len(errs) - MaxErrors
			errs = errs[:MaxErrors]
		}
		for _, e := range errs {
			if e.Line > 0 && e.Line <= len(p.f.lines) {
				e.Source = p.f.lines[e.Line-1]
			}
		}
		return nil, warns, withMore(errs, more)
	}
	return &Loaded{File: p.f, Config: cfg, Annotations: ann}, warns, nil
}
