package diag

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"
)

// posError stands for a source's positioned error.
type posError struct {
	line int
	err  error
}

func (e *posError) Error() string { return fmt.Sprintf("f:%d: %v", e.line, e.err) }
func (e *posError) Unwrap() error { return e.err }

func TestErrors(t *testing.T) {
	es := Errors[*posError]{{1, errors.New("bad")}, {3, fs.ErrNotExist}}
	var err error = fmt.Errorf("reading: %w", es)
	if got, want := err.Error(), "reading: f:1: bad\nf:3: file does not exist"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	// The list itself, one of its errors, and what that one wraps.
	var list Errors[*posError]
	if !errors.As(err, &list) || len(list) != 2 || list[1].line != 3 {
		t.Errorf("errors.As the list: %v", list)
	}
	var one *posError
	if !errors.As(err, &one) || one.line != 1 {
		t.Errorf("errors.As one error: %v", one)
	}
	if !errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrExist) {
		t.Error("errors.Is does not look inside the list's errors")
	}
	if Errors[*posError](nil).Error() != "" || len(Errors[*posError](nil).Unwrap()) != 0 {
		t.Error("an empty list")
	}
}
