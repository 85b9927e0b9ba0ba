package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSystemdUnits runs systemd-analyze verify on the example units in
// examples/systemd: they must load without a single warning (an unknown
// or misspelled setting is only a warning, with exit status 0, so the
// output must be empty too), and they must keep what lvsctl's daemons
// rely on.
func TestSystemdUnits(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("systemd-analyze is not installed: scripts/deps.sh installs systemd")
		}
		t.Skip("systemd-analyze is not installed (scripts/deps.sh installs systemd)")
	}
	units, err := filepath.Glob("examples/systemd/*.service")
	if err != nil {
		t.Fatal(err)
	}
	if len(units) != 2 {
		t.Fatalf("want lvsctl-check.service and lvsctl-pulse.service in examples/systemd, found %v", units)
	}
	// verify fails on an ExecStart= whose program is not an executable
	// file, and lvsctl is not installed in /usr/sbin where the tests run.
	// It never runs the program, so the units are verified with the path
	// pointing at an executable that exists, this test binary; building
	// lvsctl for it would take longer and tell verify nothing more.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var paths []string
	for _, u := range units {
		b, err := os.ReadFile(u)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		cmd := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(u), "lvsctl-"), ".service")
		for _, want := range []string{
			"\nExecStart=/usr/sbin/lvsctl " + cmd + " -f /etc/lvsctl/lvsctl.hcl\n",
			// cmd/daemon.go's notifier: READY=1, RELOADING=1, STOPPING=1,
			// WATCHDOG=1 from lvsctl itself.
			"\nType=notify\n", "\nNotifyAccess=main\n", "\nWatchdogSec=30s\n",
			"\nExecReload=/bin/kill -HUP $MAINPID\n",
			// lvsctl stops its own children after its release.
			"\nKillMode=mixed\n",
			// The apply lock and the health state, kept across restarts.
			"\nRuntimeDirectory=lvsctl\n", "\nRuntimeDirectoryPreserve=yes\n",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("%s lacks %q", u, strings.TrimSpace(want))
			}
		}
		other := map[string]string{"check": "pulse", "pulse": "check"}[cmd]
		if !strings.Contains(text, "\nConflicts=lvsctl-"+other+".service\n") {
			t.Errorf("%s does not conflict with lvsctl-%s.service", u, other)
		}
		text = strings.ReplaceAll(text, "/usr/sbin/lvsctl", exe)
		p := filepath.Join(dir, filepath.Base(u))
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	var out bytes.Buffer
	verify := exec.Command(analyze, append([]string{"verify"}, paths...)...)
	verify.Stdout, verify.Stderr = &out, &out
	err = verify.Run()
	if err != nil || out.Len() > 0 {
		t.Fatalf("systemd-analyze verify %s: %v\n%s", strings.Join(units, " "), err, out.String())
	}
}
