package cmd

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/lvsctl/lvsctl/internal/apply"
)

var flagWordRe = regexp.MustCompile(`--[a-z][a-z0-9-]*`)

// checkFlags fails for every --flag in text that is not a flag of the
// command it is meant for: cmd, where text runs, unless a "lvsctl NAME"
// before it in the same clause names another command.
func checkFlags(t *testing.T, cmds map[string]*cli.Command, cmd, what, text string) {
	t.Helper()
	for _, clause := range regexp.MustCompile(`[;.:(),\n]\s`).Split(text, -1) {
		target := cmd
		words := strings.Fields(clause)
		for i, w := range words {
			w = strings.Trim(w, "\"`'")
			if w == "piranha's" || w == "ipvsadm" || w == "keepalived" {
				target = "-" // another program's flags follow
				continue
			}
			if w == "lvsctl" && i+1 < len(words) {
				name := strings.Trim(words[i+1], "\"`'")
				if i+2 < len(words) && cmds[name+" "+strings.Trim(words[i+2], "\"`'")] != nil {
					name += " " + strings.Trim(words[i+2], "\"`'")
				}
				if cmds[name] != nil {
					target = name
				}
				continue
			}
			for _, f := range flagWordRe.FindAllString(w, -1) {
				if f == "--help" || f == "--version" && target == "" {
					continue
				}
				c := cmds[target]
				if target == "-" {
					continue
				}
				if c == nil || findFlag(c.Flags, strings.TrimPrefix(f, "--")) == nil {
					t.Errorf("%s names %s, which lvsctl %s does not have:\n%s", what, f, target, text)
				}
			}
		}
	}
}

// TestHintsNameTheirCommandsFlags runs each command into its usual
// failures (no IPVS, missing files, a file of the wrong kind) and reads
// every usage and description: every flag they name must be one of the
// command they are about.
func TestHintsNameTheirCommandsFlags(t *testing.T) {
	cmds := allCommands()
	for path, c := range cmds {
		checkFlags(t, cmds, path, "lvsctl "+path+"'s usage", c.Usage)
		checkFlags(t, cmds, path, "lvsctl "+path+"'s description", c.Description)
		for _, f := range c.Flags {
			if u, ok := f.(cli.DocGenerationFlag); ok {
				checkFlags(t, cmds, path, "lvsctl "+path+" --"+f.Names()[0], u.GetUsage())
			}
		}
	}

	dir := t.TempDir()
	cfg := filepath.Join(dir, "web.hcl")
	if err := os.WriteFile(cfg, []byte("virtual_server \"web\" {\n  address = \"10.0.0.2:80\"\n  protocol = \"tcp\"\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(other, []byte("notes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	runs := [][]string{
		{"validate", "-f", missing},
		{"plan", "-f", cfg},
		{"plan", "-f", missing},
		{"plan", "-f", cfg, "--out", cfg},
		{"plan", "-f", cfg, "--out", other},
		{"plan", "-f", cfg, "--live", missing},
		{"apply", "-f", cfg, "--auto-approve"},
		{"apply", "-f", cfg},
		{"apply", missing},
		{"apply", cfg},
		{"apply", other},
		{"apply", "-f", cfg, other},
		{"apply", other, "--auto-approve"},
		{"show"},
		{"show", "-f", cfg},
		{"save"},
		{"convert", missing},
		{"convert", other},
		{"check", "--once", "-f", cfg},
		{"check", "--once", "-f", missing},
		{"pulse", "-f", missing},
		{"pulse", "status", "--status-file", missing},
	}
	for _, args := range runs {
		_, stdout, stderr := run(t, noIPVS, args...)
		path := args[0]
		if len(args) > 1 && cmds[args[0]+" "+args[1]] != nil {
			path += " " + args[1]
		}
		checkFlags(t, cmds, path, "lvsctl "+strings.Join(args, " "), stderr+stdout)
	}
	// The hint that matters most: only plan can do without the kernel.
	if _, _, stderr := run(t, noIPVS, "plan", "-f", cfg); !strings.Contains(stderr, "--live DUMP") {
		t.Errorf("plan without IPVS: %s", stderr)
	}
	if _, _, stderr := run(t, noIPVS, "show"); strings.Contains(stderr, "--live") || !strings.Contains(stderr, "modprobe ip_vs") {
		t.Errorf("show without IPVS: %s", stderr)
	}
}

// TestApplyReadsThePlanFirst: apply PLANFILE reads and validates the file
// before it opens the kernel, so that a wrong file is reported as such on
// any machine.
func TestApplyReadsThePlanFirst(t *testing.T) {
	opened := false
	open := func(ns string) (apply.Kernel, error) { opened = true; return noIPVS(ns) }
	dir := t.TempDir()
	damaged := filepath.Join(dir, "damaged.plan")
	if err := os.WriteFile(damaged, []byte(`{"kind": "lvsctl-plan", "format_version": 1, "bogus": 1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ file, want string }{
		{filepath.Join(dir, "missing.plan"), "lvsctl: reading " + dir + "/missing.plan: no such file or directory\n"},
		{damaged, "lvsctl: " + damaged + " is a damaged plan file"},
	} {
		code, _, stderr := run(t, open, "apply", tc.file)
		if code != 1 || !strings.HasPrefix(stderr, tc.want) || opened {
			t.Errorf("apply %s: status %d, kernel opened %v, stderr:\n%s", tc.file, code, opened, stderr)
		}
	}
}
