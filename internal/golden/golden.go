// Package golden compares what a test printed with a reviewed file in
// testdata (a "golden" file), and with -update writes the file from the
// output instead, for the diff to be reviewed in git. Only tests import it.
package golden

import (
	"flag"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files from the tests' output")

// Check compares got with the file at path and fails t where they differ,
// with a line diff; with -update it writes got to path instead.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to write it)", err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s differs; run the test with -update and review the diff (-want +got):\n%s", path, d)
	}
}
