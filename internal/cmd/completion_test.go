package cmd

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// complete runs lvsctl with words and the completion marker, as the shell
// glue does, and returns the candidates it prints, without descriptions.
func completeWords(t *testing.T, words ...string) []string {
	t.Helper()
	var out, errb bytes.Buffer
	args := append(append([]string{"lvsctl"}, words...), completeMarker)
	code := Main(context.Background(), args, Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }})
	if code != 0 || errb.Len() > 0 {
		t.Fatalf("lvsctl %s: exit %d\n%s", strings.Join(args[1:], " "), code, errb.String())
	}
	var got []string
	for _, l := range strings.Split(strings.TrimRight(out.String(), "\n"), "\n") {
		if l != "" {
			got = append(got, strings.SplitN(l, "\t", 2)[0])
		}
	}
	return got
}

func TestCompletions(t *testing.T) {
	ns := t.TempDir()
	for _, n := range []string{"director", "client", ".hidden"} {
		if err := os.WriteFile(filepath.Join(ns, n), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	defer func(d string) { netnsDir = d }(netnsDir)
	netnsDir = ns

	for _, tc := range []struct {
		words []string
		want  string
	}{
		// Commands, and the subcommands of a command.
		{[]string{"pl"}, "plan"},
		{[]string{"c"}, "convert check completion"},
		{[]string{"pulse", ""}, "status"},
		// Flags of the command, filtered by what is typed.
		{[]string{"plan", "--l"}, "--live"},
		{[]string{"plan", "-"}, "--file -f --netns --state-dir --live --resolve --out --json --detailed-exitcode --drain-timeout --help -h"},
		{[]string{"--v"}, "--version"},
		{[]string{"pulse", "status", "--"}, "--status-file --help"},
		// Values: files are the shell's to complete, in every form of
		// writing a flag and its value.
		{[]string{"plan", "-f", ""}, ":file"},
		{[]string{"plan", "--file", "we"}, ":file"},
		{[]string{"plan", "--file", "=", "we"}, ":file"},
		{[]string{"plan", "--out=x"}, ":file"},
		{[]string{"plan", "--state-dir", ""}, ":dir"},
		{[]string{"check", "--log-level", ""}, "debug info warn error"},
		{[]string{"check", "--log-level", "=", "w"}, "warn"},
		{[]string{"check", "--log-level=w"}, "--log-level=warn"},
		{[]string{"check", "--log-format", ""}, "text json"},
		{[]string{"pulse", "--role", ""}, "primary backup"},
		{[]string{"convert", "--from", ""}, "lvscf keepalived ipvsadm json live"},
		{[]string{"realserver", "--mode", "t"}, "tun"},
		// Network namespaces by name, or a path to one.
		{[]string{"show", "--netns", ""}, "client director"},
		{[]string{"apply", "--netns", "d"}, "director"},
		{[]string{"apply", "--netns", "/run/"}, ":file"},
		// A value with nothing to offer: a number, an address.
		{[]string{"check", "--quorum", ""}, ""},
		{[]string{"check", "--metrics", ""}, ""},
		// Arguments.
		{[]string{"apply", ""}, ":file"},
		{[]string{"apply", "--auto-approve", "x"}, ":file"},
		{[]string{"convert", "--from", "lvscf", ""}, ":file"},
		{[]string{"completion", ""}, "bash zsh fish"},
		{[]string{"apply", "--", ""}, ":file"},
		{[]string{"check", "--"}, "--file --netns --once --state-dir --quorum --slow-start --lock-timeout --metrics --log-format --log-level --resync --help"},
		{[]string{"plan", ""}, ""},
		{[]string{"show", ""}, ""},
		// The flag under the cursor is completed as a flag, not as the
		// flag before a value.
		{[]string{"plan", "--file"}, "--file"},
	} {
		got := strings.Join(completeWords(t, tc.words...), " ")
		if got != tc.want {
			t.Errorf("lvsctl %q: got %q, want %q", tc.words, got, tc.want)
		}
	}
}

// TestCompletionHelpArgs: lvsctl help COMMAND [SUBCOMMAND] completes
// command names.
func TestCompletionHelpArgs(t *testing.T) {
	app := newApp(Env{Getenv: func(string) string { return "" }})
	for _, tc := range []struct {
		words []string
		want  string
	}{
		{[]string{"help", "pl"}, "plan"},
		{[]string{"help", "pulse", ""}, "status"},
		{[]string{"help", "plan", ""}, ""},
		{[]string{"help", "nosuch", ""}, ""},
	} {
		var got []string
		for _, l := range completions("help", nil, nil, app.Commands, false, tc.words) {
			got = append(got, strings.SplitN(l, "\t", 2)[0])
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("lvsctl %q: got %q, want %q", tc.words, got, tc.want)
		}
	}
}

// TestCompletionCoversFlags holds every flag that takes a value to a
// decision about what its value is: a file, a word from a list, or
// nothing to offer.
func TestCompletionCoversFlags(t *testing.T) {
	app := newApp(Env{Getenv: func(string) string { return "" }})
	var walk func(path string, cmds []*cli.Command)
	walk = func(path string, cmds []*cli.Command) {
		for _, c := range cmds {
			p := strings.TrimSpace(path + " " + c.Name)
			for _, f := range c.Flags {
				name := f.Names()[0]
				if _, ok := flagValues[name]; takesValue(f) && !ok {
					t.Errorf("lvsctl %s --%s takes a value, but flagValues does not say what it is", p, name)
				}
				if sf, ok := f.(*cli.StringFlag); ok && flagValues[name].kind == fileValue && !sf.TakesFile {
					t.Errorf("lvsctl %s --%s takes a file, but its TakesFile is not set", p, name)
				}
			}
			if c.ArgsUsage != "" && strings.TrimSpace(c.ArgsUsage) != "" {
				if _, ok := argValues[p]; !ok {
					t.Errorf("lvsctl %s takes %s, but argValues does not say what", p, c.ArgsUsage)
				}
			}
			walk(p, c.Subcommands)
		}
	}
	walk("", app.Commands)
}

func TestCompletionCommand(t *testing.T) {
	for _, shell := range completionShells {
		var out, errb bytes.Buffer
		if code := Main(context.Background(), []string{"lvsctl", "completion", shell}, Env{Stdout: &out, Stderr: &errb}); code != 0 {
			t.Fatalf("completion %s: exit %d: %s", shell, code, errb.String())
		}
		if !strings.Contains(out.String(), completeMarker) {
			t.Errorf("the %s script does not ask lvsctl for candidates:\n%s", shell, out.String())
		}
	}
	var out, errb bytes.Buffer
	if code := Main(context.Background(), []string{"lvsctl", "completion", "tcsh"}, Env{Stdout: &out, Stderr: &errb}); code != 1 ||
		!strings.Contains(errb.String(), `"tcsh" is not a shell lvsctl completes; use bash, zsh or fish`) {
		t.Errorf("completion tcsh: exit %d: %s", code, errb.String())
	}
}

// FuzzCompletions: whatever the words on the command line, completion
// prints candidates (or nothing) and never fails; every candidate starts
// with the word under the cursor (the shell replaces that word with it),
// unless it asks the shell for file names.
func FuzzCompletions(f *testing.F) {
	for _, s := range []string{"", "pl", "plan\x00-f\x00", "plan\x00--file\x00=\x00we", "check\x00--log-level=w",
		"--\x00", "apply\x00--\x00x", "pulse\x00status\x00--status-file", "=\x00=", "-\x00-", "--=", "plan\x00---x=y"} {
		f.Add(s)
	}
	app := newApp(Env{Getenv: func(string) string { return "" }})
	plan := app.Command("plan")
	f.Fuzz(func(t *testing.T, line string) {
		words := strings.Split(line, "\x00")
		cur := words[len(words)-1]
		for _, c := range [][]string{
			completions("", app.Flags, app.Commands, nil, true, words),
			completions("plan", plan.Flags, plan.Subcommands, app.Commands, false, words),
			completions("help", nil, nil, app.Commands, false, words),
		} {
			for _, l := range c {
				w := strings.SplitN(l, "\t", 2)[0]
				if l == ":file" || l == ":dir" {
					continue
				}
				if !strings.HasPrefix(w, cur) {
					t.Errorf("words %q: candidate %q does not start with %q", words, w, cur)
				}
			}
		}
	})
}
