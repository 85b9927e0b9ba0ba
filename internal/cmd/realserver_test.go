package cmd

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/lvsctl/lvsctl/internal/rundir"
)

// The command line of realserver; what it does to a host is tested in
// package realserver (logic) and e2e (in the lab VM).
func TestRealserverUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--vip", "10.0.0.2"}, "realserver needs --mode dr or --mode tun"},
		{[]string{"--mode", "dr"}, "realserver needs at least one --vip ADDR"},
		{[]string{"--mode", "nat", "--vip", "10.0.0.2"}, `mode "nat" needs nothing on the real server`},
		{[]string{"--mode", "xx", "--vip", "10.0.0.2"}, `unknown mode "xx"`},
		{[]string{"--mode", "dr", "--vip", "10.0.0.2:80"}, `--vip "10.0.0.2:80" is not an IP address`},
		{[]string{"--mode", "dr", "--vip", "10.0.0.2", "extra"}, `realserver takes no arguments (got "extra")`},
		{[]string{"--mode", "dr", "--vip", "10.0.0.2", "--netns", ".."}, `".." is not a network namespace name`},
	} {
		var out bytes.Buffer
		code := Main(context.Background(), append([]string{"lvsctl", "realserver"}, tc.args...), Env{
			Stdin: strings.NewReader(""), Stdout: &out, Stderr: &out, StateDir: t.TempDir(),
		})
		if code != 1 || !strings.Contains(out.String(), tc.want) {
			t.Errorf("lvsctl realserver %s: exit %d, output:\n%s\nwant %q", strings.Join(tc.args, " "), code, out.String(), tc.want)
		}
	}
}

// A state file that names something outside what realserver writes makes
// --undo refuse the whole file before it changes anything, and leaves the
// file as it is.
func TestRealserverUndoRefusesABadStateFile(t *testing.T) {
	dir := t.TempDir()
	id, err := rundir.Netns("")
	if err != nil {
		t.Skip(err)
	}
	path := rundir.Dir{Path: dir}.RealserverPath(id)
	bad := `{"sysctls": [{"name": "../../../etc/shadow", "old": "root::0:0", "new": "1"}]}`
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	code := Main(context.Background(), []string{"lvsctl", "realserver", "--undo"}, Env{
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &out, StateDir: dir,
	})
	for _, want := range []string{`entry sysctls[0] (name "../../../etc/shadow")`, "nothing was changed", "delete it (rm " + path + ")"} {
		if code != 1 || !strings.Contains(out.String(), want) {
			t.Errorf("exit %d, output:\n%s\nwant %q", code, out.String(), want)
		}
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != bad {
		t.Errorf("the state file changed: %q %v", b, err)
	}
}
