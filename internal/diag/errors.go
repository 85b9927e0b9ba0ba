package diag

import "strings"

// Errors are the errors of one input, in the order they are reported:
// each line-based source's list of its own positioned errors
// (ipvsadm.Errors, lvscf.Errors and keepalived.Errors are this type of
// their *Error). Its text is theirs, one a line; errors.As and errors.Is
// see each of them.
type Errors[E error] []E

func (es Errors[E]) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Unwrap returns the errors one by one, for errors.As and errors.Is.
func (es Errors[E]) Unwrap() []error {
	errs := make([]error, len(es))
	for i, e := range es {
		errs[i] = e
	}
	return errs
}
