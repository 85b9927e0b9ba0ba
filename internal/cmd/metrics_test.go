package cmd

import (
	"runtime"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestBuildInfo(t *testing.T) {
	want := `# HELP lvsctl_build_info Always 1; the labels say which lvsctl runs: version, commit (with -dirty for a build from a modified tree) and goversion.
# TYPE lvsctl_build_info gauge
lvsctl_build_info{commit="` + vcsCommit() + `",goversion="` + runtime.Version() + `",version="` + Version + `"} 1
`
	reg := newRegistry()
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "lvsctl_build_info"); err != nil {
		t.Error(err)
	}
	if problems, err := testutil.GatherAndLint(reg, "lvsctl_build_info"); err != nil || len(problems) > 0 {
		t.Errorf("promlint: %v %v", problems, err)
	}
}
