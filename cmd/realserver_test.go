package cmd

import (
	"bytes"
	"context"
	"strings"
	"testing"
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
