package rundir_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/internal/ipvstest"
	"github.com/lvsctl/lvsctl/internal/rundir"
)

// helperVar makes the test binary print Netns("") and exit: run under
// "ip netns exec", it is lvsctl started the same way.
const helperVar = "RUNDIR_TEST_PRINT_NETNS"

func TestMain(m *testing.M) {
	if os.Getenv(helperVar) != "" {
		id, err := rundir.Netns("")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(id)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// newNetns creates a network namespace named after name with ip netns add
// and deletes it at the end of the test; it skips without root or
// iproute2, and fails instead under CI=true ([ipvstest.RequireNetns]).
func newNetns(t *testing.T, name string) string {
	t.Helper()
	ipvstest.RequireNetns(t)
	ip := ipvstest.IPCommand(t)
	name = fmt.Sprintf("lvsctl-rundir-%d-%s", os.Getpid(), name)
	if out, err := exec.Command(ip, "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", name, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command(ip, "netns", "delete", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns delete %s: %v: %s", name, err, out)
		}
	})
	return name
}

func mustNetns(t *testing.T, ns string) rundir.NetnsID {
	t.Helper()
	id, err := rundir.Netns(ns)
	if err != nil {
		t.Fatalf("Netns(%q): %v", ns, err)
	}
	return id
}

// One namespace, however it is named, has one identity: its name, its
// path under /run/netns, and "" inside "ip netns exec NAME".
func TestNetnsOneIdentity(t *testing.T) {
	name := newNetns(t, "web")
	byName := mustNetns(t, name)
	byPath := mustNetns(t, "/run/netns/"+name)
	if byName != byPath {
		t.Errorf("--netns %s is %v but --netns /run/netns/%s is %v", name, byName, name, byPath)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	c := exec.Command(ipvstest.IPCommand(t), "netns", "exec", name, self)
	c.Env = append(os.Environ(), helperVar+"=1")
	out, err := c.Output()
	if err != nil {
		t.Fatalf("ip netns exec %s: %v", name, err)
	}
	if got := strings.TrimSpace(string(out)); got != byName.String() {
		t.Errorf("inside ip netns exec %s the namespace is %s, want %s", name, got, byName)
	}
	if here := mustNetns(t, ""); here == byName {
		t.Errorf("the test's own namespace has the new namespace's identity %v", here)
	}
	d := rundir.Dir{Path: "/run/lvsctl"}
	if d.LockPath(byName) != d.LockPath(byPath) || d.HealthPath(byName) != d.HealthPath(byPath) {
		t.Errorf("one namespace, two file names")
	}
}

// Names that differ only in punctuation are different namespaces: they
// once shared a lock and a health file.
func TestNetnsDistinctNames(t *testing.T) {
	dot, under := newNetns(t, "a.b"), newNetns(t, "a_b")
	a, b := mustNetns(t, dot), mustNetns(t, under)
	if a == b {
		t.Fatalf("%s and %s have one identity %v", dot, under, a)
	}
	d := rundir.Dir{Path: "/run/lvsctl"}
	for _, f := range []func(rundir.NetnsID) string{d.LockPath, d.HealthPath, d.DaemonPath, d.RealserverPath} {
		if f(a) == f(b) {
			t.Errorf("%s and %s share %s", dot, under, f(a))
		}
	}
}

func TestNetnsCurrent(t *testing.T) {
	id := mustNetns(t, "")
	if id.Ino == 0 {
		t.Fatalf("Netns(\"\") = %v", id)
	}
	if again := mustNetns(t, "/proc/self/ns/net"); again != id {
		t.Errorf("/proc/self/ns/net is %v, this thread's namespace %v", again, id)
	}
	want := fmt.Sprintf("netns-%d-%d", id.Dev, id.Ino)
	if id.String() != want {
		t.Errorf("String() = %q, want %q", id, want)
	}
	if strings.ContainsAny(id.String(), "/. ") {
		t.Errorf("%q is not a file name part", id)
	}
}

func TestNetnsErrors(t *testing.T) {
	if _, err := rundir.Netns("lvsctl-no-such-namespace"); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("a missing namespace: %v", err)
	}
	if _, err := rundir.Netns("/etc/hostname"); err == nil || !strings.Contains(err.Error(), "not a network namespace") {
		t.Errorf("a plain file: %v", err)
	}
	for _, ns := range []string{".", ".."} {
		if _, err := rundir.Netns(ns); err == nil {
			t.Errorf("Netns(%q) accepted", ns)
		}
	}
}

func TestNetnsPath(t *testing.T) {
	for in, want := range map[string]string{"": "", "blue": "/run/netns/blue", "/proc/1/ns/net": "/proc/1/ns/net", "./x": "./x"} {
		if got, err := rundir.NetnsPath(in); got != want || err != nil {
			t.Errorf("NetnsPath(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestOpenCreates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run", "lvsctl")
	d, err := rundir.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if d.Path != path {
		t.Errorf("Path = %q, want %q", d.Path, path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("created with mode %04o, want 0700", fi.Mode().Perm())
	}
	// Existing and not writable by others: fine, as it is.
	if err := os.Chmod(path, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := rundir.Open(path); err != nil {
		t.Errorf("a 0755 directory: %v", err)
	}
	if _, err := rundir.OpenExisting(filepath.Join(path, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenExisting of a missing directory: %v, want ErrNotExist", err)
	}
}

func TestOpenRefuses(t *testing.T) {
	tmp := t.TempDir()
	open := filepath.Join(tmp, "open")
	if err := os.Mkdir(open, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	group := filepath.Join(tmp, "group")
	if err := os.Mkdir(group, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(group, 0o770); err != nil {
		t.Fatal(err)
	}
	real := filepath.Join(tmp, "real")
	if err := os.Mkdir(real, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(tmp, "link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(tmp, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		open:  "chmod 0700",
		group: "chmod 0700",
		link:  "symbolic link",
		file:  "not a directory",
	}
	if os.Geteuid() == 0 {
		other := filepath.Join(tmp, "other")
		if err := os.Mkdir(other, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(other, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		cases[other] = "chown 0"
	}
	for path, want := range cases {
		for name, open := range map[string]func(string) (rundir.Dir, error){"Open": rundir.Open, "OpenExisting": rundir.OpenExisting} {
			if _, err := open(path); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s(%s) = %v, want an error saying %q", name, filepath.Base(path), err, want)
			}
		}
	}
	// Nothing was changed on the way.
	if fi, _ := os.Stat(open); fi.Mode().Perm() != 0o777 {
		t.Errorf("Open changed the mode of %s", open)
	}
}

func TestClaimDaemon(t *testing.T) {
	d, err := rundir.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	path := d.DaemonPath(mustNetns(t, ""))
	if o, err := rundir.DaemonOwner(path); o != nil || err != nil {
		t.Fatalf("DaemonOwner before any daemon = %v, %v", o, err)
	}
	since := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	release, err := rundir.ClaimDaemon(path, rundir.Owner{Command: "check", File: "/etc/lvsctl/web.hcl", Since: since})
	if err != nil {
		t.Fatal(err)
	}
	want := rundir.Owner{PID: os.Getpid(), Command: "check", File: "/etc/lvsctl/web.hcl", Since: since}
	o, err := rundir.DaemonOwner(path)
	if err != nil || o == nil || *o != want {
		t.Fatalf("DaemonOwner while claimed = %+v, %v; want %+v", o, err, want)
	}
	// A second claim (another open file description: as another process)
	// is refused and names the first.
	_, err = rundir.ClaimDaemon(path, rundir.Owner{Command: "pulse", File: "/etc/lvsctl/other.hcl"})
	var ce *rundir.ClaimedError
	if !errors.As(err, &ce) || ce.Owner == nil || *ce.Owner != want || ce.Path != path {
		t.Fatalf("second claim: %v", err)
	}
	msg := fmt.Sprintf("lvsctl check (pid %d) already manages this namespace from /etc/lvsctl/web.hcl", os.Getpid())
	if !strings.Contains(err.Error(), msg) {
		t.Errorf("error %q does not say %q", err, msg)
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	if err := release(); err != nil {
		t.Errorf("second release: %v", err)
	}
	if o, err := rundir.DaemonOwner(path); o != nil || err != nil {
		t.Errorf("DaemonOwner after release = %+v, %v", o, err)
	}
	release, err = rundir.ClaimDaemon(path, rundir.Owner{Command: "pulse"})
	if err != nil {
		t.Fatalf("claim after release: %v", err)
	}
	defer release()
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("daemon lock mode %04o, want 0600", fi.Mode().Perm())
	}
}

// A held lock whose file says nothing valid (another program's, or a
// hostile one) gives an owner with no details, never garbage.
func TestDaemonOwnerUntrusted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "daemon.lock")
	release, err := rundir.ClaimDaemon(path, rundir.Owner{Command: "check"})
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	bad := []string{
		`{"pid": 0, "command": "check"}`,
		`{"pid": 1, "command": ""}`,
		`{"pid": 1, "command": "check\u001b[2J"}`,
		`{"pid": 1, "command": "check", "file": "relative.hcl"}`,
		`{"pid": 1, "command": "` + strings.Repeat("x", 20000) + `"}`,
		`{"pid": 1, "command": "check"`,
		"",
	}
	for _, content := range bad {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		o, err := rundir.DaemonOwner(path)
		if err != nil || o == nil || *o != (rundir.Owner{}) {
			t.Errorf("DaemonOwner with %.40q = %+v, %v; want an empty owner", content, o, err)
		}
		_, err = rundir.ClaimDaemon(path, rundir.Owner{Command: "pulse"})
		var ce *rundir.ClaimedError
		if !errors.As(err, &ce) || ce.Owner != nil {
			t.Errorf("claim with %.40q: %v", content, err)
		}
	}
	good, _ := json.Marshal(rundir.Owner{PID: 42, Command: "pulse", File: "/etc/lvsctl/a.hcl"})
	if err := os.WriteFile(path, good, 0o600); err != nil {
		t.Fatal(err)
	}
	if o, _ := rundir.DaemonOwner(path); o == nil || o.PID != 42 {
		t.Errorf("DaemonOwner = %+v, want pid 42", o)
	}
}

func TestClaimDaemonNoFollow(t *testing.T) {
	tmp := t.TempDir()
	target := filepath.Join(tmp, "precious")
	if err := os.WriteFile(target, []byte("keep me\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(tmp, "daemon.lock")
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	if _, err := rundir.ClaimDaemon(path, rundir.Owner{Command: "check"}); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("claim through a symlink: %v", err)
	}
	if _, err := rundir.DaemonOwner(path); err == nil {
		t.Errorf("DaemonOwner through a symlink accepted")
	}
	if b, _ := os.ReadFile(target); string(b) != "keep me\n" {
		t.Errorf("the symlink's target now holds %q", b)
	}
	fifo := filepath.Join(tmp, "fifo")
	if err := mkfifo(fifo); err != nil {
		t.Skip(err)
	}
	if _, err := rundir.ClaimDaemon(fifo, rundir.Owner{Command: "check"}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("claim of a FIFO: %v", err)
	}
}

func mkfifo(path string) error { return syscall.Mkfifo(path, 0o600) }
