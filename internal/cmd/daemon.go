package cmd

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"
)

// What the two long-running commands, check and pulse, share: their
// logging flags and their conversation with systemd (sd_notify(3)).

// daemonFlags are the logging flags of check and pulse.
func daemonFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "log-format", Value: "text", Usage: "log as `FORMAT`: " + orList(logFormats)},
		&cli.StringFlag{Name: "log-level", Value: "info", Usage: "log events at `LEVEL` and above: " + orList(logLevelNames)},
	}
}

var (
	logFormats    = []string{"text", "json"}
	logLevelNames = []string{"debug", "info", "warn", "error"}
	logLevels     = map[string]slog.Level{
		"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError,
	}
)

// orList is "a, b or c".
func orList(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// newLogger is the logger that daemonFlags ask for, writing to w: one
// event per line, in logfmt-like text (slog.TextHandler) or JSON, so that
// journald and log shippers never split an event. The handlers escape
// what would break a line — TextHandler quotes every key, message and
// value holding a space or a non-printable character (a newline becomes
// \n, U+2028 \u2028), JSONHandler escapes control characters and
// U+2028/U+2029 — except that JSONHandler leaves NEL (U+0085) raw, which
// oneLineJSON escapes. So a multi-line value such as a block of
// configuration diagnostics is passed as one attribute and stays on its
// line; TestNewLoggerOneLinePerEvent holds both formats to that.
func newLogger(c *cli.Context, w io.Writer) (*slog.Logger, error) {
	name := c.String("log-level")
	level, ok := logLevels[name]
	if !ok {
		return nil, usageError{fmt.Sprintf("--log-level is %s, not %q", orList(logLevelNames), name)}
	}
	opts := &slog.HandlerOptions{Level: level}
	switch f := c.String("log-format"); f {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(oneLineJSON{w}, opts)), nil
	default:
		return nil, usageError{fmt.Sprintf("--log-format is %s, not %q", orList(logFormats), f)}
	}
}

// oneLineJSON escapes NEL (U+0085), a Unicode line break that
// slog.JSONHandler writes as it is, to \u0085. The handler writes each
// record, valid UTF-8, with one Write, and outside its strings only ASCII,
// so the bytes C2 85 are always a NEL inside a JSON string, where the
// escape means the same.
type oneLineJSON struct{ w io.Writer }

var nel = []byte(`\u0085`)

func (o oneLineJSON) Write(p []byte) (int, error) {
	if !bytes.Contains(p, []byte{0xc2, 0x85}) {
		return o.w.Write(p)
	}
	if _, err := o.w.Write(bytes.ReplaceAll(p, []byte{0xc2, 0x85}, nel)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// A notifier tells systemd what a daemon is doing, over NOTIFY_SOCKET
// (a unit with Type=notify, see examples/systemd/). Without NOTIFY_SOCKET
// — run by hand, from a script, under another supervisor — every method
// does nothing. Failures to notify are logged, never returned: systemd
// being unreachable must not stop a director. The zero value and a nil
// *notifier do nothing.
//
// A daemon calls, in order:
//
//	n := newNotifier(log)
//	... load the configuration, open the kernel, bind sockets ...
//	n.Watchdog(ctx, alive)  // once; alive reports that the main loop is turning
//	n.Ready()               // startup done: systemctl start returns, After= units start
//	n.Status("active, 3 VIPs") // any time: the line systemctl status shows
//	// on SIGHUP:
//	n.Reloading()           // before re-reading the configuration
//	n.Ready()               // after, whether the new one was taken or refused
//	// on SIGTERM, or when the main loop ends for any reason:
//	n.Stopping()            // before releasing VIPs or waiting for anything
type notifier struct {
	log *slog.Logger
	// interval is WATCHDOG_USEC when it is meant for this process
	// (WATCHDOG_PID is ours or unset); 0 without a watchdog.
	interval time.Duration

	mu      sync.Mutex
	failing bool // the last notification failed; log only the first failure
}

// newNotifier reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID. It
// leaves them in the environment: the socket is needed for every later
// notification, and children that inherit them (active_cmd, exec probes)
// are refused by systemd with NotifyAccess=main; SdWatchdogEnabled ignores
// a WATCHDOG_PID that is not theirs.
func newNotifier(log *slog.Logger) *notifier {
	n := &notifier{log: log}
	d, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		n.logger().Warn("systemd watchdog not used", "error", err)
	}
	n.interval = d
	return n
}

func (n *notifier) logger() *slog.Logger {
	if n == nil || n.log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return n.log
}

// WatchdogInterval is the unit's WatchdogSec= (WATCHDOG_USEC), 0 when
// there is no watchdog or no NOTIFY_SOCKET to pet it through.
func (n *notifier) WatchdogInterval() time.Duration {
	if n == nil || !notifySocketSet() {
		return 0
	}
	return n.interval
}

// Ready says that startup, or a reload, is done (READY=1).
func (n *notifier) Ready() { n.send(daemon.SdNotifyReady) }

// Reloading says that the daemon is re-reading its configuration
// (RELOADING=1). Ready must follow when it is done. MONOTONIC_USEC, the
// CLOCK_MONOTONIC time of the request, is what Type=notify-reload
// (systemd 253 and later) requires to match the reload with the request;
// older systemd ignores it.
func (n *notifier) Reloading() {
	msg := daemon.SdNotifyReloading
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err == nil {
		msg += "\nMONOTONIC_USEC=" + strconv.FormatInt(ts.Nano()/1000, 10)
	}
	n.send(msg)
}

// Stopping says that the daemon is shutting down (STOPPING=1); systemd
// then stops the watchdog and waits up to TimeoutStopSec= for the exit.
func (n *notifier) Stopping() { n.send(daemon.SdNotifyStopping) }

// Status sets the one-line status that systemctl status shows (STATUS=).
// Line breaks become blanks: a newline would end the assignment and start
// another one.
func (n *notifier) Status(s string) {
	s = strings.Map(func(r rune) rune {
		switch r {
		case '\n', '\r', '\v', '\f', '\u0085', '\u2028', '\u2029':
			return ' '
		}
		return r
	}, s)
	n.send("STATUS=" + s)
}

// Watchdog pets systemd's watchdog (WATCHDOG=1) every half
// WatchdogInterval, in a goroutine, the first time half an interval from
// now, until ctx is done — but only while
// alive() reports that the daemon's main loop is making progress. When it
// is not, the petting stops and, WatchdogSec= later, systemd kills the
// unit with SIGABRT and restarts it (Restart=on-failure); should the loop
// recover before then, the petting resumes. alive is called from the
// goroutine; it must be safe for that (see progress). Without a watchdog,
// Watchdog does nothing.
func (n *notifier) Watchdog(ctx context.Context, alive func() bool) {
	every := n.WatchdogInterval() / 2
	if every <= 0 {
		return
	}
	log := n.logger()
	go func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		stalled := false
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			if alive() {
				if stalled {
					log.Info("main loop making progress again; petting the systemd watchdog")
					stalled = false
				}
				n.send(daemon.SdNotifyWatchdog)
			} else if !stalled {
				log.Error("main loop stalled; no longer petting the systemd watchdog, which will restart the daemon",
					"watchdog", n.interval)
				stalled = true
			}
		}
	}()
}

func (n *notifier) send(state string) {
	if n == nil || !notifySocketSet() {
		return
	}
	_, err := daemon.SdNotify(false, state)
	n.mu.Lock()
	defer n.mu.Unlock()
	if err != nil {
		if !n.failing {
			n.logger().Warn("cannot notify systemd", "state", state, "error", err)
		}
		n.failing = true
		return
	}
	n.failing = false
}

func notifySocketSet() bool {
	return os.Getenv("NOTIFY_SOCKET") != ""
}

// progress records that a main loop turned, for Watchdog's alive: the
// loop calls Mark on each turn (or each wake-up of its select), and
// Within(d) reports whether it did during the last d. Its zero value has
// never been marked. Safe for concurrent use.
type progress struct{ last atomic.Int64 } // Unix nanoseconds of the last Mark

// Mark records progress now.
func (p *progress) Mark() { p.last.Store(time.Now().UnixNano()) }

// Within is an alive func for Watchdog: true when Mark was called in the
// last d. Pass the watchdog interval, and make sure the loop wakes up
// (a ticker) more often than that even when idle.
func (p *progress) Within(d time.Duration) func() bool {
	return func() bool {
		last := p.last.Load()
		return last != 0 && time.Since(time.Unix(0, last)) <= d
	}
}
