package ipvsadm

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lvsctl/lvsctl/lvs"
)

// FuzzParseSave checks that ParseSave never panics, that every error it
// returns is an *Error with a line of the input, and that what it accepts
// is saved canonically: reading the dump of a table gives the table back.
// Error messages stay short whatever the input holds.
// Seeds are in testdata/fuzz/FuzzParseSave.
func FuzzParseSave(f *testing.F) {
	f.Fuzz(func(t *testing.T, in string) {
		tab, err := ParseSave(strings.NewReader(in), "in")
		if err != nil {
			lines := strings.Count(in, "\n") + 1
			for _, e := range leafErrors(err) {
				var pe *Error
				if !errors.As(e, &pe) {
					t.Fatalf("error without a position: %T %v", e, e)
				}
				if pe.File != "in" || pe.Line < 1 || pe.Line > lines || pe.Col < 1 {
					t.Fatalf("error at %d:%d of %d lines: %v", pe.Line, pe.Col, lines, pe)
				}
				// A message quotes at most a short excerpt of the input.
				if len(pe.Msg) > 300 {
					t.Fatalf("a %d-byte message: %.300s", len(pe.Msg), pe.Msg)
				}
			}
			return
		}
		for _, s := range tab.Services {
			if (s.Opts.Scheduler == "sh" || s.Opts.Scheduler == "mh") && s.Opts.SchedFlags&lvs.SchedFlag3 != 0 {
				return // ipvsadm cannot save this flag (see TestWriteSave)
			}
		}
		var b bytes.Buffer
		if err := WriteSave(&b, tab); err != nil {
			t.Fatal(err)
		}
		again, err := ParseSave(bytes.NewReader(b.Bytes()), "saved")
		if err != nil {
			t.Fatalf("reading the dump of what was read:\n%s\n%v", b.String(), err)
		}
		want := saved(tab)
		if !reflect.DeepEqual(want, again) {
			t.Fatalf("dump:\n%s\n(-read +reread):\n%s", b.String(), cmp.Diff(want, again, cmpAddrs))
		}
	})
}

// leafErrors flattens errors.Join trees.
func leafErrors(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, leafErrors(e)...)
		}
		return out
	}
	return []error{err}
}
