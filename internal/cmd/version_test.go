package cmd

import (
	"bytes"
	"errors"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/lvsctl/lvsctl/kernel"
)

func TestReadBuildInfo(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef"},
		{Key: "vcs.time", Value: "2026-12-02T09:57:21Z"},
		{Key: "vcs.modified", Value: "true"},
	}}
	var out bytes.Buffer
	writeVersion(&out, readBuildInfo(bi), "no (modprobe ip_vs)")
	want := "lvsctl " + Version + "\n" +
		"commit: 0123456789abcdef (with uncommitted changes)\n" +
		"date:   2026-12-02T09:57:21Z\n" +
		"go:     " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n" +
		"ipvs:   no (modprobe ip_vs)\n"
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out.String(), want)
	}
	// A release's stamps win over the build information.
	defer func(v, c, d string) { Version, Commit, Date = v, c, d }(Version, Commit, Date)
	Version, Commit, Date = "1.2.0", "fedcba", "2026-12-24T00:00:00Z"
	b := readBuildInfo(bi)
	if b.version != "1.2.0" || b.commit != "fedcba" || b.date != "2026-12-24T00:00:00Z" || b.modified {
		t.Errorf("stamped: %+v", b)
	}
	// go install ...@v1.3.0 records the module version.
	Version, Commit, Date = "0.1.0-dev", "", ""
	if b := readBuildInfo(&debug.BuildInfo{Main: debug.Module{Version: "v1.3.0"}}); b.version != "v1.3.0" || b.commit != "" {
		t.Errorf("installed: %+v", b)
	}
}

func TestIPVSStatus(t *testing.T) {
	for _, tc := range []struct {
		info kernel.Info
		err  error
		want string
	}{
		{kernel.Info{}, kernel.ErrNoIPVS, "no (modprobe ip_vs)"},
		{kernel.Info{}, errors.New("opening a generic netlink socket: permission denied"), "unknown (opening a generic netlink socket: permission denied)"},
		{kernel.Info{}, nil, "yes (its version can be read as root)"},
		{kernel.Info{Version: "1.2.1", ConnTabSize: 4096}, nil, "yes (version 1.2.1, connection table of 4096 buckets)"},
	} {
		if got := ipvsStatus(func(string) (kernel.Info, error) { return tc.info, tc.err }); got != tc.want {
			t.Errorf("%+v, %v: %q, want %q", tc.info, tc.err, got, tc.want)
		}
	}
}

func TestHelpAndVersionCommands(t *testing.T) {
	_, appHelp, _ := run(t, noIPVS, "--help")
	code, out, stderr := run(t, noIPVS, "help")
	if code != 0 || out != appHelp || !strings.Contains(out, "COMMANDS:") {
		t.Errorf("help: status %d, %q\n%s", code, stderr, out)
	}
	_, planHelp, _ := run(t, noIPVS, "plan", "--help")
	noState := func(s string) string { return regexp.MustCompile(`(?m)^.*--state-dir.*$`).ReplaceAllString(s, "") }
	if code, out, stderr := run(t, noIPVS, "help", "plan"); code != 0 || noState(out) != noState(planHelp) || !strings.Contains(out, "lvsctl plan - ") {
		t.Errorf("help plan: status %d, %q\n%s", code, stderr, out)
	}
	if code, out, _ := run(t, noIPVS, "help", "pulse", "status"); code != 0 || !strings.Contains(out, "lvsctl pulse status - ") {
		t.Errorf("help pulse status: status %d\n%s", code, out)
	}
	if code, _, stderr := run(t, noIPVS, "help", "pln"); code != 1 || !strings.HasPrefix(stderr, "lvsctl: unknown command \"pln\". Did you mean \"plan\"?\n") {
		t.Errorf("help pln: status %d, %s", code, stderr)
	}
	for _, args := range [][]string{{"version"}, {"--version"}, {"-v"}} {
		code, out, stderr := run(t, noIPVS, args...)
		if code != 0 || !strings.HasPrefix(out, "lvsctl "+Version+"\ncommit: ") || !strings.HasSuffix(out, "\nipvs:   no (modprobe ip_vs)\n") {
			t.Errorf("%s: status %d, %q\n%s", args, code, stderr, out)
		}
	}
}
