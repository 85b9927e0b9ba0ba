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
	names := testNames(map[string]string{"lb.example.com": "10.0.0.2", "web1": "192.168.10.1"})
	f.Fuzz(func(t *testing.T, in string) {
		// With names resolved, the same promises hold.
		if _, err := names.ParseLive(strings.NewReader(in), "in"); err != nil {
			checkErrors(t, in, err)
		}
		tab, err := ParseSave(strings.NewReader(in), "in")
		if err != nil {
			checkErrors(t, in, err)
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

// checkErrors checks the errors of in: each an *Error at a line of in,
// short, with a short excerpt; at most MaxErrors and one that counts the
// rest.
func checkErrors(t *testing.T, in string, err error) {
	lines := strings.Count(in, "\n") + 1
	leaves := leafErrors(err)
	if len(leaves) > MaxErrors+1 {
		t.Fatalf("%d errors", len(leaves))
	}
	for _, e := range leaves {
		var pe *Error
		if !errors.As(e, &pe) {
			t.Fatalf("error without a position: %T %v", e, e)
		}
		if pe.File != "in" || pe.Line < 1 || pe.Line > lines || pe.Col < 1 {
			t.Fatalf("error at %d:%d of %d lines: %v", pe.Line, pe.Col, lines, pe)
		}
		// A message quotes at most a short excerpt of the input.
		if len(pe.Msg) > 300 || len(pe.Excerpt()) > 400 {
			t.Fatalf("a %d-byte message or a %d-byte excerpt: %.300s", len(pe.Msg), len(pe.Excerpt()), pe.Msg)
		}
	}
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
