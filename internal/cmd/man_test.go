package cmd

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// TestManPages renders every page with groff as man(1) does, with every
// warning on (-ww): no warning, and each page carries its command's
// usage, arguments and every flag --help shows.
func TestManPages(t *testing.T) {
	groff, err := exec.LookPath("groff")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("groff is not installed: scripts/deps.sh installs groff-base")
		}
		t.Skip("groff is not installed (scripts/deps.sh installs groff-base)")
	}
	pages := map[string]string{}
	for _, p := range ManPages("1.2.3", "2026-12-02") {
		pages[p.Name] = p.Text
	}
	render := func(name string) string {
		c := exec.Command(groff, "-man", "-Tutf8", "-ww", "-P-cbou")
		c.Stdin = strings.NewReader(pages[name])
		var out, errb bytes.Buffer
		c.Stdout, c.Stderr = &out, &errb
		if err := c.Run(); err != nil || errb.Len() > 0 {
			t.Errorf("groff %s: %v\n%s", name, err, errb.String())
		}
		return out.String()
	}
	// The words of the text, so that the filling (line breaks, the
	// blanks of justification) does not matter.
	words := func(s string) string { return strings.Join(strings.Fields(s), " ") }

	root := words(render("lvsctl.1"))
	for _, w := range []string{"LVSCTL(1)", "lvsctl 1.2.3", "2026-12-02", "EXIT STATUS", "LVSCTL_CONFIG", "LVSCTL_STATE_DIR", "/etc/lvsctl/lvsctl.hcl", "lvsctl-plan(1)", "ipvsadm(8)"} {
		if !strings.Contains(root, w) {
			t.Errorf("lvsctl.1 lacks %q:\n%s", w, root)
		}
	}
	app := newApp(Env{Getenv: func(string) string { return "" }})
	var walk func(path []string, cmds []*cli.Command)
	n := 1
	walk = func(path []string, cmds []*cli.Command) {
		for _, c := range cmds {
			p := append(append([]string(nil), path...), c.Name)
			name := pageName(p) + ".1"
			if _, ok := pages[name]; !ok {
				t.Errorf("no page %s for lvsctl %s", name, strings.Join(p, " "))
				continue
			}
			n++
			text := words(render(name))
			want := []string{strings.ToUpper(pageName(p)) + "(1)", words(c.Usage), "lvsctl " + strings.Join(p, " ")}
			if a := strings.TrimSpace(c.ArgsUsage); a != "" {
				want = append(want, a)
			}
			for _, f := range c.VisibleFlags() {
				for _, fn := range f.Names() {
					if len(fn) == 1 {
						want = append(want, "-"+fn)
					} else {
						want = append(want, "--"+fn)
					}
				}
			}
			for _, w := range want {
				if !strings.Contains(text, w) {
					t.Errorf("%s lacks %q:\n%s", name, w, text)
				}
			}
			walk(p, c.Subcommands)
		}
	}
	walk(nil, app.Commands)
	if n != len(pages) {
		t.Errorf("%d pages for %d commands", len(pages), n)
	}
}

func TestRoffEscape(t *testing.T) {
	for in, want := range map[string]string{
		`--file`:       `\-\-file`,
		`a\b`:          `a\eb`,
		"plan → apply": `plan \[u2192] apply`,
		".start":       `.start`,
	} {
		if got := roffEscape(in); got != want {
			t.Errorf("roffEscape(%q) = %q, want %q", in, got, want)
		}
	}
	if got := roffLine(".start"); got != `\&.start` {
		t.Errorf("roffLine(.start) = %q", got)
	}
	if got := roffLine("'quoted"); got != `\&'quoted` {
		t.Errorf("roffLine('quoted) = %q", got)
	}
}
