package cmd

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/lvsctl/lvsctl/internal/apply/applytest"
)

// The command line of pulse; the daemon itself is tested in package pulse
// (state machine, wire format, and a failover in network namespaces).
func TestPulseUsage(t *testing.T) {
	dir := t.TempDir()
	noPulse := filepath.Join(dir, "nopulse.hcl")
	os.WriteFile(noPulse, []byte("virtual_server \"web\" {\n  address = \"10.0.0.2:80\"\n}\n"), 0o600)
	// 203.0.113.0/24 is documentation space: never a local address.
	remote := filepath.Join(dir, "remote.hcl")
	web := "virtual_server \"web\" {\n  address = \"10.0.0.2:80\"\n}\n"
	os.WriteFile(remote, []byte(web+"pulse {\n  primary = \"203.0.113.1\"\n  backup = \"203.0.113.2\"\n}\n"), 0o600)
	noKey := filepath.Join(dir, "nokey.hcl")
	os.WriteFile(noKey, []byte(web+"pulse {\n  primary = \"203.0.113.1\"\n  backup = \"203.0.113.2\"\n  key_file = \""+filepath.Join(dir, "missing.key")+"\"\n}\n"), 0o600)
	// A configuration truncated to its pulse block would delete every
	// service: a daemon refuses to start on it.
	empty := filepath.Join(dir, "empty.hcl")
	os.WriteFile(empty, []byte("pulse {\n  primary = \"203.0.113.1\"\n}\n"), 0o600)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"pulse", "extra"}, `pulse takes no arguments (got "extra"); did you mean pulse status?`},
		{[]string{"pulse", "--role", "boss", "-f", remote}, `role "boss" is neither primary nor backup`},
		{[]string{"pulse", "--arp-count", "0", "-f", remote}, "--arp-count must be at least 1"},
		{[]string{"pulse", "--quorum", "0", "-f", remote}, "--quorum must be at least 1 (got 0)"},
		{[]string{"pulse", "--slow-start", "-1s", "-f", remote}, "--slow-start must not be negative"},
		{[]string{"pulse", "-f", noPulse}, "the configuration has no pulse block"},
		{[]string{"pulse", "-f", empty}, "has no virtual servers: a daemon would delete every service in the table"},
		{[]string{"pulse", "-f", remote}, "neither the primary (203.0.113.1) nor the backup (203.0.113.2) address is on this host: add it, or pass --role"},
		{[]string{"pulse", "--role", "backup", "-f", noKey}, "does not exist: make one on the first director with: install -m 0600 /dev/null " + filepath.Join(dir, "missing.key")},
		{[]string{"pulse", "status", "--status-file", filepath.Join(dir, "none.json")}, "is lvsctl pulse running on this director?"},
	} {
		var out bytes.Buffer
		code := Main(context.Background(), append([]string{"lvsctl"}, tc.args...), Env{
			Stdin: strings.NewReader(""), Stdout: &out, Stderr: &out, StateDir: t.TempDir(),
		})
		if code != 1 || !strings.Contains(out.String(), tc.want) {
			t.Errorf("lvsctl %s: exit %d, output:\n%s\nwant %q", strings.Join(tc.args, " "), code, out.String(), tc.want)
		}
	}
}

func TestPulseStatus(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pulse.json")
	os.WriteFile(path, []byte(`{"pid":1,"role":"backup","state":"active","reason":"partner dead: no heartbeat for 5s",
"peer":"active","peer_addresses":["10.0.0.10:539"],"last_heartbeat":"2020-01-01T00:00:00Z","link_ok":true,
"heartbeats":{"Accepted":10,"Forged":2,"Replayed":1,"Malformed":0,"Reflected":0},"foreign":3,"updated":"2020-01-01T00:00:00Z"}`), 0o600)
	var out bytes.Buffer
	code := Main(context.Background(), []string{"lvsctl", "pulse", "status", "--status-file", path}, Env{Stdout: &out, Stderr: &out})
	for _, want := range []string{
		"Role:           backup",
		"State:          active (partner dead: no heartbeat for 5s)",
		"Partner:        10.0.0.10:539",
		"Heartbeats:     10 accepted, 0 unconfirmed, 2 forged, 1 replayed, 0 malformed, 0 reflected, 0 rate-limited, 3 from other hosts",
		"may not be running",
	} {
		if code != 0 || !strings.Contains(out.String(), want) {
			t.Errorf("exit %d, output:\n%s\nwant %q", code, out.String(), want)
		}
	}
}

// SIGHUP reloads pulse (what systemctl reload and piranha's init script
// send) instead of ending it: a new virtual server is applied, an invalid
// file is refused with the running configuration kept, and SIGTERM (the
// context here) then releases the table. A lone director (no backup) is
// active from the start, and without vip blocks touches no address.
func TestPulseReload(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "lvsctl.hcl")
	const pulseBlock = "pulse {\n  primary = \"127.0.0.1\"\n}\n"
	web := "virtual_server \"web\" {\n  address = \"10.0.0.2:80\"\n  real_server \"a\" { address = \"192.168.10.1\" }\n}\n"
	mail := "virtual_server \"mail\" {\n  address = \"10.0.0.3:25\"\n  real_server \"m\" { address = \"192.168.10.9\" }\n}\n"
	write := func(src string) {
		t.Helper()
		if err := os.WriteFile(cfgPath+".tmp", []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(cfgPath+".tmp", cfgPath); err != nil {
			t.Fatal(err)
		}
	}
	write(pulseBlock + web)
	k := applytest.New()
	pulse := startDaemon(t, k, dir, "pulse", "-f", cfgPath, "--status-file", filepath.Join(dir, "pulse.json"))
	services := func() int {
		live, err := k.Table()
		if err != nil {
			t.Fatal(err)
		}
		return len(live.Services)
	}
	pulse.waitFor("the table", func() bool { return services() == 1 })

	write(pulseBlock + web + mail)
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	pulse.waitFor("the reload", func() bool { return services() == 2 && strings.Contains(pulse.out.String(), "configuration reloaded") })

	write(pulseBlock + web + "virtual_server \"broken\" {\n")
	for range 3 { // a storm
		if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}
	pulse.waitLog("configuration not reloaded; keeping the one in force", 1)
	if n := services(); n != 2 {
		t.Fatalf("an invalid file changed the table: %d services", n)
	}
	select {
	case code := <-pulse.done:
		t.Fatalf("pulse ended on SIGHUP with status %d:\n%s", code, pulse.out.String())
	default:
	}

	pulse.stop()
	if n := services(); n != 0 {
		t.Errorf("SIGTERM left %d services on a released director", n)
	}
	for _, line := range strings.Split(strings.TrimSpace(pulse.out.String()), "\n") {
		if !strings.HasPrefix(line, "time=") {
			t.Errorf("a log line that is not one slog record: %q", line)
		}
	}
}
