package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/lvsctl/lvsctl/internal/syncbuf"
)

// loggerFrom runs newLogger behind daemonFlags with args, as check and
// pulse parse them.
func loggerFrom(t *testing.T, w io.Writer, args ...string) (*slog.Logger, error) {
	t.Helper()
	var log *slog.Logger
	var lerr error
	app := &cli.App{
		Name:           "lvsctl",
		Flags:          daemonFlags(),
		ExitErrHandler: func(*cli.Context, error) {},
		Action: func(c *cli.Context) error {
			log, lerr = newLogger(c, w)
			return nil
		},
	}
	if err := app.Run(append([]string{"lvsctl"}, args...)); err != nil {
		t.Fatal(err)
	}
	return log, lerr
}

func TestNewLoggerFormats(t *testing.T) {
	var b bytes.Buffer
	log, err := loggerFrom(t, &b)
	if err != nil {
		t.Fatal(err)
	}
	log.Debug("hidden")
	log.Info("checking", "file", "/etc/lvsctl/lvsctl.hcl")
	if got := b.String(); strings.Contains(got, "hidden") || !strings.Contains(got, "level=INFO msg=checking file=/etc/lvsctl/lvsctl.hcl\n") {
		t.Errorf("default (text, info) logged:\n%s", got)
	}

	b.Reset()
	log, err = loggerFrom(t, &b, "--log-format", "json", "--log-level", "warn")
	if err != nil {
		t.Fatal(err)
	}
	log.Info("hidden")
	log.Warn("real server down", "real_server", "web1")
	var rec map[string]any
	if err := json.Unmarshal(b.Bytes(), &rec); err != nil {
		t.Fatalf("json: %v\n%s", err, b.String())
	}
	if rec["level"] != "WARN" || rec["msg"] != "real server down" || rec["real_server"] != "web1" {
		t.Errorf("json logged %v", rec)
	}

	b.Reset()
	log, err = loggerFrom(t, &b, "--log-level", "debug")
	if err != nil {
		t.Fatal(err)
	}
	log.Debug("probe", "address", "192.168.10.11:80")
	if !strings.Contains(b.String(), "level=DEBUG msg=probe") {
		t.Errorf("--log-level debug logged %q", b.String())
	}
}

func TestNewLoggerRejects(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--log-format", "logfmt"}, `--log-format is text or json, not "logfmt"`},
		{[]string{"--log-level", "verbose"}, `--log-level is debug, info, warn or error, not "verbose"`},
		{[]string{"--log-level", "INFO"}, `--log-level is debug, info, warn or error, not "INFO"`},
	} {
		_, err := loggerFrom(t, io.Discard, tc.args...)
		var ue usageError
		if !errors.As(err, &ue) || ue.msg != tc.want {
			t.Errorf("%v: got %v, want usage error %q", tc.args, err, tc.want)
		}
	}
}

// multiLine prints over several lines with %v and %+v.
type multiLine struct{}

func (multiLine) String() string { return "line one\nline two" }

// TestNewLoggerOneLinePerEvent: whatever a message or an attribute holds
// — a multi-line diagnostics block, an error wrapping one, CR, the
// Unicode line and paragraph separators, NEL — one event is one line, in
// both formats, so that journald and log shippers never split it.
func TestNewLoggerOneLinePerEvent(t *testing.T) {
	diags := "lvsctl.hcl:3,14-15: Invalid address; \"10.0.0.300\" is not an IP address.\n" +
		"lvsctl.hcl:9,3-9: Unsupported argument; An argument named \"weigth\" is not expected here.\n"
	nasty := "a\nb\r\nc\rd\u2028e\u2029f\u0085g\x00h\ti\vj\fk"
	for _, format := range logFormats {
		t.Run(format, func(t *testing.T) {
			var b bytes.Buffer
			log, err := loggerFrom(t, &b, "--log-format", format)
			if err != nil {
				t.Fatal(err)
			}
			log.Error("configuration not reloaded:\nit has errors", "file", "/etc/lvsctl/lvsctl.hcl", "diagnostics", diags)
			log.Warn(nasty, nasty, nasty, "error", fmt.Errorf("reading:\n%w", errors.New("two\nlines")))
			log.Info("stringer", "value", multiLine{}, "bytes", []byte(nasty))
			log.WithGroup("g\nh").Info("group", slog.Group("x\ny", "k\nv", nasty))
			out := b.String()
			lines := strings.SplitAfter(out, "\n")
			if lines[len(lines)-1] != "" {
				t.Fatalf("output does not end with a newline:\n%s", out)
			}
			lines = lines[:len(lines)-1]
			if len(lines) != 4 {
				t.Fatalf("4 events gave %d lines:\n%s", len(lines), out)
			}
			for _, sep := range []string{"\r", "\u2028", "\u2029", "\u0085", "\x00", "\v", "\f"} {
				if strings.Contains(out, sep) {
					t.Errorf("output holds %q:\n%s", sep, out)
				}
			}
			if format == "json" {
				for _, l := range lines {
					var rec map[string]any
					if err := json.Unmarshal([]byte(l), &rec); err != nil {
						t.Errorf("not one JSON object: %v\n%s", err, l)
					}
				}
				var rec map[string]any
				_ = json.Unmarshal([]byte(lines[0]), &rec)
				if rec["diagnostics"] != diags {
					t.Errorf("diagnostics came back as %q", rec["diagnostics"])
				}
				rec = nil
				_ = json.Unmarshal([]byte(lines[1]), &rec)
				if rec["msg"] != nasty || rec[nasty] != nasty {
					t.Errorf("escaped strings came back as %q", rec)
				}
			} else if !strings.Contains(lines[0], `diagnostics="lvsctl.hcl:3,14-15: Invalid address; \"10.0.0.300\" is not an IP address.\nlvsctl.hcl:9,3-9:`) {
				t.Errorf("diagnostics not quoted on one line:\n%s", lines[0])
			}
		})
	}
}

// notifySocket listens on a unixgram socket in a temporary directory and
// makes it NOTIFY_SOCKET, as systemd does for a Type=notify unit.
func notifySocket(t *testing.T) *net.UnixConn {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	t.Setenv("WATCHDOG_USEC", "")
	t.Setenv("WATCHDOG_PID", "")
	return conn
}

// next reads one notification, failing after a second.
func next(t *testing.T, conn *net.UnixConn) string {
	t.Helper()
	msg, ok := within(conn, time.Second)
	if !ok {
		t.Fatal("no notification within a second")
	}
	return msg
}

// within reads one notification, or reports that none came within d.
func within(conn *net.UnixConn, d time.Duration) (string, bool) {
	buf := make([]byte, 4096)
	_ = conn.SetReadDeadline(time.Now().Add(d))
	n, err := conn.Read(buf)
	if err != nil {
		return "", false
	}
	return string(buf[:n]), true
}

func monotonicUsec(t *testing.T) int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		t.Fatal(err)
	}
	return ts.Nano() / 1000
}

// TestNotifierLifecycle walks a daemon's life as check and pulse call the
// notifier: ready after startup, reloading and ready again around a
// SIGHUP, a status line, stopping on SIGTERM.
func TestNotifierLifecycle(t *testing.T) {
	conn := notifySocket(t)
	var logs bytes.Buffer
	n := newNotifier(slog.New(slog.NewTextHandler(&logs, nil)))
	if n.WatchdogInterval() != 0 {
		t.Errorf("watchdog interval %s without WATCHDOG_USEC", n.WatchdogInterval())
	}

	n.Ready()
	if got := next(t, conn); got != "READY=1" {
		t.Errorf("startup done: got %q, want READY=1", got)
	}

	before := monotonicUsec(t)
	n.Reloading()
	after := monotonicUsec(t)
	got := next(t, conn)
	lines := strings.Split(got, "\n")
	if len(lines) != 2 || lines[0] != "RELOADING=1" || !strings.HasPrefix(lines[1], "MONOTONIC_USEC=") {
		t.Fatalf("reload: got %q, want RELOADING=1 and MONOTONIC_USEC", got)
	}
	usec, err := strconv.ParseInt(strings.TrimPrefix(lines[1], "MONOTONIC_USEC="), 10, 64)
	if err != nil || usec < before || usec > after {
		t.Errorf("MONOTONIC_USEC=%d (%v), want within [%d, %d] of CLOCK_MONOTONIC", usec, err, before, after)
	}
	n.Ready()
	if got := next(t, conn); got != "READY=1" {
		t.Errorf("reload done: got %q, want READY=1", got)
	}

	n.Status("active: 3 VIPs\nsecond line\r\u2028third")
	if got := next(t, conn); got != "STATUS=active: 3 VIPs second line  third" {
		t.Errorf("status: got %q, want one line", got)
	}

	n.Stopping()
	if got := next(t, conn); got != "STOPPING=1" {
		t.Errorf("shutdown: got %q, want STOPPING=1", got)
	}
	if msg, ok := within(conn, 50*time.Millisecond); ok {
		t.Errorf("unexpected notification %q", msg)
	}
	if logs.Len() > 0 {
		t.Errorf("notifier logged:\n%s", logs.String())
	}
}

// TestNotifierWithoutSocket: run by hand or by another supervisor, the
// notifier does nothing, says nothing and starts no watchdog.
func TestNotifierWithoutSocket(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	t.Setenv("WATCHDOG_USEC", "100000")
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	os.Unsetenv("NOTIFY_SOCKET")
	var logs bytes.Buffer
	n := newNotifier(slog.New(slog.NewTextHandler(&logs, nil)))
	if n.WatchdogInterval() != 0 {
		t.Errorf("watchdog interval %s without NOTIFY_SOCKET", n.WatchdogInterval())
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n.Watchdog(ctx, func() bool { t.Error("alive called without a watchdog"); return true })
	n.Ready()
	n.Reloading()
	n.Status("x")
	n.Stopping()
	time.Sleep(120 * time.Millisecond)
	if logs.Len() > 0 {
		t.Errorf("notifier logged:\n%s", logs.String())
	}
	var nilNotifier *notifier
	nilNotifier.Ready()
	nilNotifier.Watchdog(ctx, nil)
}

// TestNotifierSocketGone: a vanished socket is logged once, not per
// notification, and does not stop anything.
func TestNotifierSocketGone(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", filepath.Join(t.TempDir(), "gone"))
	t.Setenv("WATCHDOG_USEC", "")
	var logs bytes.Buffer
	n := newNotifier(slog.New(slog.NewTextHandler(&logs, nil)))
	n.Ready()
	n.Status("x")
	n.Stopping()
	if got := strings.Count(logs.String(), "cannot notify systemd"); got != 1 {
		t.Errorf("logged %d failures, want 1:\n%s", got, logs.String())
	}
}

// TestNotifierWatchdog: with WATCHDOG_USEC the watchdog is petted every
// half interval while the main loop is alive, not at all while it is
// stalled (so systemd restarts the unit), again when it recovers, and no
// more once the daemon's context ends.
func TestNotifierWatchdog(t *testing.T) {
	conn := notifySocket(t)
	const interval = 200 * time.Millisecond
	t.Setenv("WATCHDOG_USEC", strconv.FormatInt(interval.Microseconds(), 10))
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	var logs syncbuf.Buffer
	n := newNotifier(slog.New(slog.NewTextHandler(&logs, nil)))
	if n.WatchdogInterval() != interval {
		t.Fatalf("watchdog interval %s, want %s", n.WatchdogInterval(), interval)
	}
	var alive atomic.Bool
	alive.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	n.Watchdog(ctx, alive.Load)

	// Petted about every interval/2 while alive.
	for i := 0; i < 3; i++ {
		if got := next(t, conn); got != "WATCHDOG=1" {
			t.Fatalf("got %q, want WATCHDOG=1", got)
		}
	}
	if el := time.Since(start); el < 3*interval/2-20*time.Millisecond {
		t.Errorf("3 pets in %s, want one every %s", el, interval/2)
	}

	// Stalled: no pet for several intervals (one may already be on its way).
	alive.Store(false)
	time.Sleep(interval / 4)
	for {
		if _, ok := within(conn, 10*time.Millisecond); !ok {
			break
		}
	}
	if msg, ok := within(conn, 2*interval); ok {
		t.Fatalf("petted while stalled: %q", msg)
	}
	if !strings.Contains(logs.String(), "main loop stalled") {
		t.Errorf("stall not logged:\n%s", logs.String())
	}

	// Recovered before systemd acted: petting resumes.
	alive.Store(true)
	if got := next(t, conn); got != "WATCHDOG=1" {
		t.Fatalf("after recovery got %q, want WATCHDOG=1", got)
	}
	if !strings.Contains(logs.String(), "making progress again") {
		t.Errorf("recovery not logged:\n%s", logs.String())
	}

	// The daemon's context ends: no more pets.
	cancel()
	time.Sleep(interval / 4)
	for {
		if _, ok := within(conn, 10*time.Millisecond); !ok {
			break
		}
	}
	if msg, ok := within(conn, 2*interval); ok {
		t.Fatalf("petted after the context ended: %q", msg)
	}
}

// TestNotifierWatchdogOtherPID: WATCHDOG_PID names another process (a
// child that inherited the environment): no watchdog here.
func TestNotifierWatchdogOtherPID(t *testing.T) {
	notifySocket(t)
	t.Setenv("WATCHDOG_USEC", "100000")
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getppid()))
	if d := newNotifier(nil).WatchdogInterval(); d != 0 {
		t.Errorf("watchdog interval %s for another process's WATCHDOG_PID", d)
	}
}

func TestProgress(t *testing.T) {
	var p progress
	alive := p.Within(100 * time.Millisecond)
	if alive() {
		t.Error("alive before the first Mark")
	}
	p.Mark()
	if !alive() {
		t.Error("not alive just after Mark")
	}
	time.Sleep(150 * time.Millisecond)
	if alive() {
		t.Error("alive 150ms after the last Mark, with a 100ms window")
	}
	p.Mark()
	if !alive() {
		t.Error("not alive after a new Mark")
	}
}
