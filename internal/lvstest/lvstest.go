// Package lvstest holds checks that tests of tables share.
package lvstest

import (
	"reflect"
	"testing"

	"github.com/lvsctl/lvsctl/lvs"
)

// EveryOptionSet fails t unless some service of tab, the table called
// name, sets each field of lvs.ServiceOpts and some real server each field
// of lvs.DestOpts (and, with timeouts, tab each of lvs.Timeouts): a table
// that a test carries through a format then stays complete as fields are
// added to the settings.
func EveryOptionSet(t testing.TB, name string, tab *lvs.Table, timeouts bool) {
	t.Helper()
	set := func(v reflect.Value, what string) {
		for i := range v.Index(0).NumField() {
			found := false
			for j := range v.Len() {
				found = found || !v.Index(j).Field(i).IsZero()
			}
			if !found {
				t.Errorf("no %s of %s sets %s: set it in one", what, name, v.Index(0).Type().Field(i).Name)
			}
		}
	}
	var opts []lvs.ServiceOpts
	var dopts []lvs.DestOpts
	for _, s := range tab.Services {
		opts = append(opts, s.Opts)
		for _, d := range s.Dests {
			dopts = append(dopts, d.Opts)
		}
	}
	set(reflect.ValueOf(opts), "service")
	set(reflect.ValueOf(dopts), "real server")
	if timeouts {
		set(reflect.ValueOf([]lvs.Timeouts{tab.Timeouts}), "table")
	}
}
