package cmd

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestBuildInfo(t *testing.T) {
	// A build stamped by go build from a modified checkout: the labels are
	// what lvsctl version reads, the commit marked -dirty.
	bi := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.modified", Value: "true"}}}
	want := `# HELP lvsctl_build_info Always 1; the labels say which lvsctl runs: version, commit (with -dirty for a build from a modified tree) and goversion.
# TYPE lvsctl_build_info gauge
lvsctl_build_info{commit="0123abcd-dirty",goversion="` + runtime.Version() + `",version="` + Version + `"} 1
`
	reg := prometheus.NewRegistry()
	reg.MustRegister(buildInfoGaugeOf(readBuildInfo(bi)))
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "lvsctl_build_info"); err != nil {
		t.Error(err)
	}
	if problems, err := testutil.GatherAndLint(newRegistry(), "lvsctl_build_info"); err != nil || len(problems) > 0 {
		t.Errorf("promlint: %v %v", problems, err)
	}
}
