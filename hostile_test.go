//go:build linux

package main

// The hostile-input table of RELIABILITY.md: each class of input that a
// user, a broken tool or an attacker can hand lvsctl, run through the
// lvsctl command as a process of its own, with what it did measured (exit
// status, first line of the message, peak memory, seconds) and the IPVS
// table compared before and after. TestHostileInput runs it on the fake
// kernel, anywhere; TestKernelHostileInput on the real one, with ipvsadm
// -S -n as the witness.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/internal/ipvstest"
	"github.com/lvsctl/lvsctl/internal/rundir"
)

// hostileCase is one row of the table: files to make in a fresh
// directory, then the lvsctl arguments ({dir} is that directory, {ns} the
// namespace under test), and what the refusal must say.
type hostileCase struct {
	class string
	setup func(t *testing.T, h *hostileRun)
	args  []string
	want  string // a regexp on stderr
	// ownNetns marks a case that must run in a namespace the test made:
	// it is left out on the fake kernel, which has none.
	ownNetns bool
}

// hostileRun is the environment of one table run.
type hostileRun struct {
	dir      string // the inputs
	stateDir string
	ns       string   // the namespace under test, "" on the fake kernel
	env      []string // what points the lvsctl command at the kernel under test
	witness  func() string
}

func (h *hostileRun) path(name string) string { return filepath.Join(h.dir, name) }

// writeRepeat writes prefix, n times chunk, then suffix, in pieces: Linux
// carries a process's peak memory across exec, so a test that built a
// large input in memory would inflate the figure of every lvsctl it runs.
func (h *hostileRun) writeRepeat(t *testing.T, name, prefix, chunk string, n int, suffix string) {
	t.Helper()
	f, err := os.Create(h.path(name))
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	w.WriteString(prefix)
	for range n {
		w.WriteString(chunk)
	}
	w.WriteString(suffix)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func (h *hostileRun) write(t *testing.T, name string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(h.path(name), data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(h.path(name), mode); err != nil { // past the umask
		t.Fatal(err)
	}
}

// hostileMeasure is what one lvsctl run did.
type hostileMeasure struct {
	code    int
	signal  string
	stderr  string
	stdout  string
	maxRSS  int64 // KiB
	seconds float64
	// stderrLen is how long stderr was; stderr holds its first 64 KiB.
	stderrLen int
}

// capped keeps the first max bytes written to it, and counts them all.
// (It must not embed bytes.Buffer: io.Copy would use the buffer's
// ReadFrom and keep everything.)
type capped struct {
	buf    bytes.Buffer
	max, n int
}

func (c *capped) Write(p []byte) (int, error) {
	c.n += len(p)
	if room := c.max - c.buf.Len(); room > 0 {
		c.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (c *capped) String() string { return c.buf.String() }

// lvsctl runs the lvsctl command of this test binary (see TestMain) as a
// process of its own, so that its exit status, peak memory and any crash
// are its own.
func (h *hostileRun) lvsctl(t *testing.T, args ...string) hostileMeasure {
	t.Helper()
	exe, err := exec.LookPath("lvsctl")
	if err != nil {
		t.Fatalf("the lvsctl command of this test binary is not in PATH: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, exe, args...)
	c.Dir = h.dir
	c.Env = append(os.Environ(), h.env...)
	c.Env = append(c.Env, "LVSCTL_TEST_STATEDIR="+h.stateDir, "LVSCTL_CONFIG=")
	// At most 64 KiB of each is kept: the test process's own peak memory
	// counts in that of the next lvsctl it starts (see writeRepeat).
	stdout, stderr := &capped{max: 64 << 10}, &capped{max: 64 << 10}
	c.Stdout, c.Stderr = stdout, stderr
	start := time.Now()
	err = c.Run()
	m := hostileMeasure{seconds: time.Since(start).Seconds(), stdout: stdout.String(), stderr: stderr.String()}
	m.stderrLen = stderr.n
	if ctx.Err() != nil {
		t.Fatalf("lvsctl %s did not finish in 5 minutes", strings.Join(args, " "))
	}
	if c.ProcessState == nil {
		t.Fatalf("lvsctl %s: %v", strings.Join(args, " "), err)
	}
	m.code = c.ProcessState.ExitCode()
	if ws, ok := c.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		m.signal = ws.Signal().String()
	}
	if ru, ok := c.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.maxRSS = ru.Maxrss
	}
	return m
}

// nested returns n opening tokens, then n closing ones.
func nested(open, close string, n int) []byte {
	return []byte(strings.Repeat(open, n) + strings.Repeat(close, n))
}

const hostileGood = `virtual_server "web" {
  address = "10.0.0.2:80"
  real_server "real1" {
    address = "192.168.10.100:80"
  }
  real_server "real2" {
    address = "192.168.10.101:80"
  }
}
`

// tamper writes the saved plan v2.plan with old replaced by new, mode 0600.
func tamper(t *testing.T, h *hostileRun, name, old, new string) {
	t.Helper()
	b, err := os.ReadFile(h.path("v2.plan"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("v2.plan has no %q to tamper with", old)
	}
	h.write(t, name, bytes.Replace(b, []byte(old), []byte(new), 1), 0o600)
}

var hostileCases = []hostileCase{
	{
		class: "HCL: lists nested 100,000 deep (200 KB)",
		setup: func(t *testing.T, h *hostileRun) {
			h.write(t, "deep.hcl", append([]byte("x = "), nested("[", "]", 100_000)...), 0o644)
		},
		args: []string{"apply", "--auto-approve", "-f", "{dir}/deep.hcl"},
		want: `Nesting too deep`,
	},
	{
		class: "HCL: blocks nested 200,000 deep",
		setup: func(t *testing.T, h *hostileRun) {
			h.write(t, "blocks.hcl", nested("a {\n", "}\n", 200_000), 0o644)
		},
		args: []string{"apply", "--auto-approve", "-f", "{dir}/blocks.hcl"},
		want: `Nesting too deep`,
	},
	{
		class: "HCL: one 100 MB string",
		setup: func(t *testing.T, h *hostileRun) {
			h.writeRepeat(t, "huge.hcl", `x = "`, strings.Repeat("a", 1<<20), 100, `"`)
		},
		args: []string{"apply", "--auto-approve", "-f", "{dir}/huge.hcl"},
		want: `at most 16 MiB`,
	},
	{
		class: "HCL: a 1 MB string in a 1 MB file",
		setup: func(t *testing.T, h *hostileRun) {
			h.write(t, "string.hcl", []byte("virtual_server \"w\" {\n  address = \""+strings.Repeat("\\u00e9", 200_000)+"\"\n}\n"), 0o644)
		},
		args: []string{"apply", "--auto-approve", "-f", "{dir}/string.hcl"},
		want: `String too long`,
	},
	{
		class: "HCL: 300,000 attributes",
		setup: func(t *testing.T, h *hostileRun) {
			h.write(t, "many.hcl", bytes.Repeat([]byte("a = 1\n"), 300_000), 0o644)
		},
		args: []string{"apply", "--auto-approve", "-f", "{dir}/many.hcl"},
		want: `more than 250000 blocks, attributes and list elements`,
	},
	{
		class: "HCL: 1 MB of random bytes",
		setup: func(t *testing.T, h *hostileRun) {
			b := make([]byte, 1<<20)
			seed := uint32(1)
			for i := range b {
				seed = seed*1664525 + 1013904223
				b[i] = byte(seed >> 24)
			}
			h.write(t, "random.hcl", b, 0o644)
		},
		args: []string{"apply", "--auto-approve", "-f", "{dir}/random.hcl"},
		want: `Error: `,
	},
	{
		class: "HCL: a timeout the kernel would refuse half-way",
		setup: func(t *testing.T, h *hostileRun) {
			h.write(t, "timeout.hcl", []byte("timeouts {\n  tcp = \"2147484s\"\n}\n"+hostileGood), 0o644)
		},
		args: []string{"apply", "--auto-approve", "-f", "{dir}/timeout.hcl"},
		want: `Timeout tcp of 2147484s is longer than the kernel accepts: at most 2147483s`,
	},
	{
		class: "/dev/zero as the configuration",
		args:  []string{"apply", "--auto-approve", "-f", "/dev/zero"},
		want:  `.`,
	},
	{
		class: "a FIFO nobody writes as the configuration",
		setup: func(t *testing.T, h *hostileRun) {
			if err := syscall.Mkfifo(h.path("fifo.hcl"), 0o600); err != nil {
				t.Fatal(err)
			}
		},
		args: []string{"apply", "--auto-approve", "-f", "{dir}/fifo.hcl"},
		want: `fifo.hcl is not a regular file \(a named pipe\)`,
	},
	{
		class: "lvs.cf: a 3 MB line of NUL bytes",
		setup: func(t *testing.T, h *hostileRun) {
			h.writeRepeat(t, "nul/lvs.cf", "serial_no = 1\n", "\x00", 3<<20, "")
		},
		args: []string{"apply", "--auto-approve", "-f", "{dir}/nul/lvs.cf"},
		want: `lvs.cf:2:1: line too long: the line is 3145728 bytes long`,
	},
	{
		class: "lvs.cf: 30 MB, convert",
		setup: func(t *testing.T, h *hostileRun) {
			h.writeRepeat(t, "big/lvs.cf", "", "# a comment line of lvs.cf, repeated\n", 30<<20/37, "")
		},
		args: []string{"convert", "{dir}/big/lvs.cf"},
		want: `larger than 4 MiB`,
	},
	{
		class: "ipvsadm dump: a 2 MB line, convert",
		setup: func(t *testing.T, h *hostileRun) {
			h.writeRepeat(t, "line.dump", "-A -t 10.0.0.2:80 -s ", "w", 2<<20, "\n")
		},
		args: []string{"convert", "--from", "ipvsadm", "{dir}/line.dump"},
		want: `longer than`,
	},
	{
		class: "ipvsadm dump: 80,000 real servers in one service, plan --live",
		setup: func(t *testing.T, h *hostileRun) {
			f, err := os.Create(h.path("wide.dump"))
			if err != nil {
				t.Fatal(err)
			}
			w := bufio.NewWriter(f)
			w.WriteString("-A -t 10.0.0.2:80 -s wlc\n")
			for i := range 80_000 {
				fmt.Fprintf(w, "-a -t 10.0.0.2:80 -r 10.%d.%d.%d:80 -m -w 1\n", 1+i>>16, i>>8&255, i&255)
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			f.Close()
			h.write(t, "good.hcl", []byte(hostileGood), 0o644)
		},
		// Not refused: a large input that must stay linear. plan
		// --detailed-exitcode exits 2 for changes.
		args: []string{"plan", "--detailed-exitcode", "--live", "{dir}/wide.dump", "-f", "{dir}/good.hcl"},
		want: `^$`,
	},
	{
		class: "show --json table: an unknown forwarding method, plan --live",
		setup: func(t *testing.T, h *hostileRun) {
			h.write(t, "fwd7.json", []byte(`{"services": [{"protocol": "tcp", "address": "10.0.0.2:80", "scheduler": "wlc", "real_servers": [{"address": "192.168.10.100:80", "forwarding": "7", "weight": 1}]}]}`), 0o644)
			h.write(t, "good.hcl", []byte(hostileGood), 0o644)
		},
		args: []string{"plan", "--live", "{dir}/fwd7.json", "-f", "{dir}/good.hcl"},
		want: `fwd7.json: `,
	},
	{
		class: "saved plan: an extra operation (add a real server)",
		setup: func(t *testing.T, h *hostileRun) {
			tamper(t, h, "added-dest.plan", `"ops": [`, `"ops": [{"action": "add_dest", "service": {"family": 2, "protocol": 6, "addr": "10.0.0.2", "port": 80}, "to_dest": {"addr": "192.168.10.200:80", "opts": {"forward": 0, "weight": 1}}},`)
		},
		args: []string{"apply", "{dir}/added-dest.plan"},
		want: `operation 1 \(add real server 192.168.10.200:80 to tcp 10.0.0.2:80\) is not in the plan lvsctl computes; refusing; nothing was changed`,
	},
	{
		class: "saved plan: an extra operation (delete a service)",
		setup: func(t *testing.T, h *hostileRun) {
			tamper(t, h, "delete.plan", `"ops": [`, `"ops": [{"action": "delete_service", "service": {"family": 2, "protocol": 6, "addr": "10.0.0.2", "port": 80}, "from": {"scheduler": "wlc", "netmask": 32}},`)
		},
		args: []string{"apply", "{dir}/delete.plan"},
		want: `operation 1 \(delete service tcp 10.0.0.2:80\) is not in the plan lvsctl computes`,
	},
	{
		class: "saved plan: forwarding method 7",
		setup: func(t *testing.T, h *hostileRun) {
			tamper(t, h, "fwd7.plan", `"forward": 0`, `"forward": 7`)
		},
		args: []string{"apply", "{dir}/fwd7.plan"},
		want: `unknown forwarding method 7`,
	},
	{
		class: "saved plan: truncated",
		setup: func(t *testing.T, h *hostileRun) {
			b, err := os.ReadFile(h.path("v2.plan"))
			if err != nil {
				t.Fatal(err)
			}
			h.write(t, "short.plan", b[:len(b)/2], 0o600)
		},
		args: []string{"apply", "{dir}/short.plan"},
		want: `short.plan`,
	},
	{
		class: "saved plan: mode 0666",
		setup: func(t *testing.T, h *hostileRun) {
			tamper(t, h, "open.plan", `"ops"`, `"ops"`)
			if err := os.Chmod(h.path("open.plan"), 0o666); err != nil {
				t.Fatal(err)
			}
		},
		args: []string{"apply", "{dir}/open.plan"},
		want: `open.plan has mode 0666: a plan must not be readable or writable by group or others`,
	},
	{
		class: "saved plan: owned by another user",
		setup: func(t *testing.T, h *hostileRun) {
			tamper(t, h, "nobody.plan", `"ops"`, `"ops"`)
			if os.Geteuid() != 0 { // giving a file away needs root
				if os.Getenv(ipvstest.CIEnv) == "true" {
					t.Fatal("giving the plan to another user needs root, and CI=true requires this case")
				}
				t.Skip("giving the plan to another user needs root")
			}
			if err := os.Chown(h.path("nobody.plan"), 65534, 65534); err != nil {
				t.Fatal(err)
			}
		},
		args: []string{"apply", "{dir}/nobody.plan"},
		want: `nobody.plan is owned by uid 65534`,
	},
	{
		class: "saved plan: a symbolic link",
		setup: func(t *testing.T, h *hostileRun) {
			if err := os.Symlink(h.path("v2.plan"), h.path("link.plan")); err != nil {
				t.Fatal(err)
			}
		},
		args: []string{"apply", "{dir}/link.plan"},
		want: `link.plan is a symbolic link`,
	},
	{
		class: "saved plan: 300 MB (sparse)",
		setup: func(t *testing.T, h *hostileRun) {
			h.write(t, "huge.plan", nil, 0o600)
			if err := os.Truncate(h.path("huge.plan"), 300<<20); err != nil {
				t.Fatal(err)
			}
		},
		args: []string{"apply", "{dir}/huge.plan"},
		want: `huge.plan`,
	},
	{
		class: "state directory writable by others",
		setup: func(t *testing.T, h *hostileRun) {
			if err := os.Mkdir(h.path("open-state"), 0o777); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(h.path("open-state"), 0o777); err != nil {
				t.Fatal(err)
			}
			h.write(t, "good.hcl", []byte(hostileGood), 0o644)
		},
		args: []string{"apply", "--auto-approve", "--state-dir", "{dir}/open-state", "-f", "{dir}/v2.hcl"},
		want: `writable by group or others \(mode 0777\): run chmod 0700`,
	},
	{
		class: "apply lock: a symbolic link to another file",
		setup: func(t *testing.T, h *hostileRun) {
			if err := os.Mkdir(h.path("link-state"), 0o700); err != nil {
				t.Fatal(err)
			}
			id, err := rundir.Netns("")
			if err != nil {
				t.Fatal(err)
			}
			h.write(t, "precious.txt", []byte("precious\n"), 0o644)
			if err := os.Symlink(h.path("precious.txt"), rundir.Dir{Path: h.path("link-state")}.LockPath(id)); err != nil {
				t.Fatal(err)
			}
		},
		args: []string{"apply", "--auto-approve", "--state-dir", "{dir}/link-state", "-f", "{dir}/v2.hcl"},
		want: `is a symbolic link; lvsctl does not follow it`,
	},
	{
		class: "realserver --undo: a state file naming ../../etc/passwd",
		setup: func(t *testing.T, h *hostileRun) {
			if err := os.Mkdir(h.path("rs-state"), 0o700); err != nil {
				t.Fatal(err)
			}
			id, err := rundir.Netns(h.ns)
			if err != nil {
				t.Fatal(err)
			}
			path := rundir.Dir{Path: h.path("rs-state")}.RealserverPath(id)
			h.write(t, filepath.Join("rs-state", filepath.Base(path)), []byte(`{"sysctls": [{"name": "net/../../etc/passwd", "old": "root::0:0::/:/bin/sh", "new": "x"}]}`), 0o600)
		},
		args:     []string{"realserver", "--undo", "--netns", "{ns}", "--state-dir", "{dir}/rs-state"},
		want:     `nothing was changed`,
		ownNetns: true, // were it not refused, it would change that namespace's sysctls
	},
}

// runHostile runs every case and fails on a crash, a run that did not
// exit 1 (2 for the plan that is not refused), a message longer than a
// screen, or a table that changed; it logs the table's rows.
func runHostile(t *testing.T, h *hostileRun) {
	h.write(t, "v1.hcl", []byte(hostileGood), 0o644)
	h.write(t, "v2.hcl", []byte(strings.Replace(hostileGood, "192.168.10.101:80\"\n", "192.168.10.101:80\"\n    weight  = 5\n", 1)), 0o644)
	if m := h.lvsctl(t, "apply", "--auto-approve", "-f", h.path("v1.hcl")); m.code != 0 {
		t.Fatalf("apply v1.hcl: exit %d\n%s", m.code, m.stderr)
	}
	if m := h.lvsctl(t, "plan", "-f", h.path("v2.hcl"), "--out", h.path("v2.plan")); m.code != 0 {
		t.Fatalf("plan --out v2.plan: exit %d\n%s", m.code, m.stderr)
	}
	passwd, _ := os.ReadFile("/etc/passwd")
	before := h.witness()
	var rows []string
	for _, c := range hostileCases {
		if c.ownNetns && h.ns == "" {
			continue // TestKernelHostileInput runs it, in its own namespace
		}
		t.Run(c.class, func(t *testing.T) {
			if c.setup != nil {
				c.setup(t, h)
			}
			args := make([]string, len(c.args))
			for i, a := range c.args {
				a = strings.ReplaceAll(a, "{dir}", h.dir)
				if a == "{ns}" {
					a = h.ns
				}
				args[i] = a
			}
			m := h.lvsctl(t, args...)
			msg := summary(m.stderr, h.dir)
			rows = append(rows, fmt.Sprintf("| %s | %d | %s | %.0f MiB | %.2f s |", c.class, m.code, mdEscape(msg), float64(m.maxRSS)/1024, m.seconds))
			wantCode := 1
			if c.want == `^$` {
				wantCode = 2
			}
			if m.signal != "" || m.code != wantCode || strings.Contains(m.stderr, "goroutine ") || strings.Contains(m.stderr, "panic:") {
				t.Errorf("lvsctl %s: want exit status %d, got %d %s\n[stderr]\n%s", strings.Join(args, " "), wantCode, m.code, m.signal, quoteClip(m.stderr))
			}
			// Matched with its white space collapsed: diagnostics wrap.
			if !regexp.MustCompile(c.want).MatchString(strings.Join(strings.Fields(m.stderr), " ")) {
				t.Errorf("lvsctl %s: stderr does not match %q:\n%s", strings.Join(args, " "), c.want, quoteClip(m.stderr))
			}
			if m.stderrLen > 4096 {
				t.Errorf("lvsctl %s: %d bytes of error message; want a short excerpt", strings.Join(args, " "), m.stderrLen)
			}
			if m.maxRSS > 1<<20 { // KiB: 1 GiB
				t.Errorf("lvsctl %s: peak memory %d MiB", strings.Join(args, " "), m.maxRSS>>10)
			}
			if after := h.witness(); after != before {
				t.Errorf("the table changed:\n[before]\n%s[after]\n%s", before, after)
			}
		})
	}
	if after, _ := os.ReadFile("/etc/passwd"); !bytes.Equal(after, passwd) {
		t.Errorf("/etc/passwd changed")
	}
	if b, err := os.ReadFile(h.path("precious.txt")); err == nil && string(b) != "precious\n" {
		t.Errorf("the file the lock's link points to changed: %q", b)
	}
	t.Logf("hostile inputs:\n| input | exit | message (first line) | peak memory | seconds |\n|---|---|---|---|---|\n%s", strings.Join(rows, "\n"))
	if out := os.Getenv("LVSCTL_HOSTILE_TABLE"); out != "" {
		os.WriteFile(out, []byte(strings.Join(rows, "\n")+"\n"), 0o644)
	}
}

// summary is the message, its white space collapsed and the test's
// directory shown as DIR, clipped for a table cell.
func summary(s, dir string) string {
	s = strings.Join(strings.Fields(strings.ReplaceAll(s, dir, "DIR")), " ")
	if r := []rune(s); len(r) > 160 {
		s = string(r[:160]) + "…"
	}
	return s
}

func mdEscape(s string) string {
	return "`" + strings.ReplaceAll(s, "`", "'") + "`"
}

func quoteClip(s string) string {
	if len(s) > 2000 {
		return s[:2000] + fmt.Sprintf("… (%d bytes)", len(s))
	}
	return s
}

// TestHostileInput runs the hostile-input table on the fake kernel.
func TestHostileInput(t *testing.T) {
	if testing.Short() {
		t.Skip("writes some 250 MB of inputs")
	}
	dir := t.TempDir()
	h := &hostileRun{dir: dir, stateDir: t.TempDir()}
	for _, d := range []string{"nul", "big"} {
		os.Mkdir(filepath.Join(dir, d), 0o755)
	}
	fake := filepath.Join(t.TempDir(), "kernel.json")
	h.env = []string{fakeKernelVar + "=" + fake, netnsVar + "="}
	h.witness = func() string {
		m := h.lvsctl(t, "save")
		if m.code != 0 {
			t.Fatalf("lvsctl save: %s", m.stderr)
		}
		return m.stdout
	}
	runHostile(t, h)
}

// TestKernelHostileInput runs the hostile-input table on the real kernel,
// in a fresh namespace, with ipvsadm -S -n as the witness.
func TestKernelHostileInput(t *testing.T) {
	ipvstest.Require(t)
	dir := t.TempDir()
	h := &hostileRun{dir: dir, stateDir: t.TempDir(), ns: ipvstest.NewNetns(t)}
	for _, d := range []string{"nul", "big"} {
		os.Mkdir(filepath.Join(dir, d), 0o755)
	}
	h.env = []string{netnsVar + "=" + h.ns}
	h.witness = func() string { return ipvstest.InNetns(t, h.ns, "ipvsadm", "-S", "-n") }
	runHostile(t, h)
}
