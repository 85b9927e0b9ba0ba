package cmd

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/lvsctl/lvsctl/internal/apply"
	"github.com/lvsctl/lvsctl/kernel"
)

// run runs lvsctl with args and a kernel open returns, in a fresh state
// directory; it returns the exit status, stdout and stderr.
func run(t *testing.T, open func(string) (apply.Kernel, error), args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), append([]string{"lvsctl"}, args...), Env{
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
		OpenKernel: open, StateDir: t.TempDir(),
		Getenv:    func(string) string { return "" },
		ProbeIPVS: func(string) (kernel.Info, error) { return kernel.Info{}, kernel.ErrNoIPVS },
	})
	return code, out.String(), errb.String()
}

func noIPVS(string) (apply.Kernel, error) { return nil, kernel.ErrNoIPVS }

// allCommands is every command of the app with its path ("pulse status").
func allCommands() map[string]*cli.Command {
	cmds := map[string]*cli.Command{}
	var walk func(prefix string, cs []*cli.Command)
	walk = func(prefix string, cs []*cli.Command) {
		for _, c := range cs {
			cmds[prefix+c.Name] = c
			walk(prefix+c.Name+" ", c.Subcommands)
		}
	}
	walk("", newApp(Env{Getenv: func(string) string { return "" }}).Commands)
	return cmds
}

// placeholder is the word help shows after a flag: the backquoted part of
// its usage (urfave/cli's convention), "" for none.
func placeholder(f cli.Flag) string {
	u, _ := f.(cli.DocGenerationFlag)
	parts := strings.Split(u.GetUsage(), "`")
	if len(parts) < 3 {
		return ""
	}
	return parts[1]
}

// TestFlagPlaceholders holds every flag that takes a value to a
// placeholder that says what the value is, never urfave/cli's "value".
func TestFlagPlaceholders(t *testing.T) {
	for path, c := range allCommands() {
		for _, f := range c.Flags {
			if _, ok := f.(*cli.BoolFlag); ok {
				continue
			}
			if p := placeholder(f); p == "" || p == "value" {
				t.Errorf("lvsctl %s --%s: no placeholder in its usage (put it in backquotes)", path, f.Names()[0])
			}
		}
	}
	code, out, _ := run(t, noIPVS, "pulse", "--help")
	if code != 0 || strings.Contains(out, " value ") || !strings.Contains(out, "--arp-count N") {
		t.Errorf("pulse --help (status %d):\n%s", code, out)
	}
}

func TestFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"plan", "--bogus"}, "lvsctl: flag provided but not defined: --bogus\n"},
		{[]string{"plan", "--drain-timeout", "5"}, "lvsctl: --drain-timeout 5: a duration needs a unit, e.g. 5s (" + durationHelp + ")\n"},
		{[]string{"apply", "--lock-timeout", "soon"}, "lvsctl: --lock-timeout \"soon\" is not a duration: " + durationHelp + "\n"},
		{[]string{"check", "--resync", "30"}, "lvsctl: --resync 30: a duration needs a unit, e.g. 30s"},
		{[]string{"pulse", "--arp-interval", "1.5"}, "lvsctl: --arp-interval 1.5: a duration needs a unit, e.g. 1.5s"},
		{[]string{"pulse", "--arp-count", "many"}, "lvsctl: --arp-count \"many\" is not a whole number\n"},
		{[]string{"pulse", "status", "--status-file"}, "lvsctl: flag needs an argument: --status-file\n"},
		{[]string{"plan", "-f"}, "lvsctl: flag needs an argument: -f\n"},
	} {
		code, _, stderr := run(t, noIPVS, tc.args...)
		if code != 1 || !strings.HasPrefix(stderr, tc.want) {
			t.Errorf("lvsctl %s: status %d, stderr:\n%s\nwant it to start with:\n%s", strings.Join(tc.args, " "), code, stderr, tc.want)
		}
		if regexp.MustCompile(`(^|\s)-[a-z][a-z-]+`).MatchString(stderr) {
			t.Errorf("lvsctl %s: a flag with one dash: %s", strings.Join(tc.args, " "), stderr)
		}
	}
}

// TestEveryDurationFlagNeedsAUnit gives every duration flag of every
// command a bare number.
func TestEveryDurationFlagNeedsAUnit(t *testing.T) {
	n := 0
	for path, c := range allCommands() {
		for _, f := range c.Flags {
			if _, ok := f.(*cli.DurationFlag); !ok {
				continue
			}
			n++
			name := f.Names()[0]
			args := append(strings.Fields(path), "--"+name, "7")
			_, _, stderr := run(t, noIPVS, args...)
			if want := "lvsctl: --" + name + " 7: a duration needs a unit, e.g. 7s"; !strings.HasPrefix(stderr, want) {
				t.Errorf("lvsctl %s: %s", strings.Join(args, " "), stderr)
			}
		}
	}
	if n < 5 {
		t.Errorf("only %d duration flags found", n)
	}
}
