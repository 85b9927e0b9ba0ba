package health

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/lvs"
)

// fakeProbes fails the probes of the addresses marked down.
type fakeProbes struct {
	mu   sync.Mutex
	down map[netip.AddrPort]bool
}

func (f *fakeProbes) set(a netip.AddrPort, down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down == nil {
		f.down = map[netip.AddrPort]bool{}
	}
	f.down[a] = down
}

func (f *fakeProbes) probe(_ context.Context, _ *model.HealthCheck, a netip.AddrPort) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down[a] {
		return errors.New("connection refused")
	}
	return nil
}

// applied records the tables handed to Apply.
type applied struct {
	mu     sync.Mutex
	tables []*lvs.Table
}

func (a *applied) apply(t *lvs.Table) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tables = append(a.tables, t)
}

// watch makes c hand a the table its health gives at every change, as the
// reconciler would compute it.
func (a *applied) watch(c *Checker) *Checker {
	c.Changed = func() {
		st, q, pol := c.Snapshot()
		c.mu.Lock()
		cfg := c.cfg
		c.mu.Unlock()
		a.apply(Desired(cfg, st, q, pol, time.Now()))
	}
	return c
}

func (a *applied) last() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.tables) == 0 {
		return "(none)"
	}
	return weights(a.tables[len(a.tables)-1], web)
}

func TestCheckerOnce(t *testing.T) {
	cfg := loadConfig(t, desiredSrc)
	path := filepath.Join(t.TempDir(), "run", "health-default.json")
	var logs bytes.Buffer
	probes := &fakeProbes{}
	probes.set(kA.Dest, true)
	ap := &applied{}
	c := ap.watch(&Checker{StatePath: path, Probe: probes.probe, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	if err := c.Load(cfg); err != nil {
		t.Fatal(err)
	}
	if err := c.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := ap.last(); got != "10.0.1.2:80=5" {
		t.Errorf("applied %s", got)
	}
	if !strings.Contains(logs.String(), `msg="real server down" virtual_server=web real_server=a address=10.0.1.1:80 reason="connection refused (1 probe failed in a row, fall 1)" action=removed`) {
		t.Errorf("log:\n%s", logs.String())
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v, want 0600", fi.Mode().Perm())
	}

	// A second run (cron) reads the state: a still is down, and a needs
	// rise passes; with rise 1 one pass brings it back.
	probes.set(kA.Dest, false)
	c2 := ap.watch(&Checker{StatePath: path, Probe: probes.probe})
	if err := c2.Load(cfg); err != nil {
		t.Fatal(err)
	}
	if !c2.States()[kA].Down {
		t.Fatal("the state file did not carry a's state")
	}
	if err := c2.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := ap.last(); got != "10.0.1.1:80=10 10.0.1.2:80=5" {
		t.Errorf("applied %s", got)
	}
}

// TestCheckerProgress: Progress says when each real server's last probe
// of this run began; a state read back from the file (an earlier run's)
// has none.
func TestCheckerProgress(t *testing.T) {
	cfg := loadConfig(t, desiredSrc)
	path := filepath.Join(t.TempDir(), "health.json")
	probes := &fakeProbes{}
	probes.set(kA.Dest, true)
	c := &Checker{StatePath: path, Probe: probes.probe}
	if err := c.Load(cfg); err != nil {
		t.Fatal(err)
	}
	if err := c.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	c2 := &Checker{StatePath: path, Probe: probes.probe}
	if err := c2.Load(cfg); err != nil {
		t.Fatal(err)
	}
	before := c2.Progress()
	if len(before) == 0 {
		t.Fatal("no real server in Progress")
	}
	downs := 0
	for _, p := range before {
		if !p.Started.IsZero() {
			t.Fatalf("a state from the file counts as probed in this run: %+v", p)
		}
		if p.Down {
			downs++
		}
	}
	if downs != 1 {
		t.Fatalf("the file's state is not carried: %+v", before)
	}
	began := time.Now()
	if err := c2.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, p := range c2.Progress() {
		if p.Started.Before(began) {
			t.Fatalf("probed, yet Started %v is before the probe began (%v)", p.Started, began)
		}
	}
}

func TestEarliestAndPending(t *testing.T) {
	a, b := time.Unix(10, 0), time.Unix(20, 0)
	for _, tc := range []struct {
		at   []time.Time
		n    int
		want time.Time
	}{
		{[]time.Time{b, a}, 2, a},
		{[]time.Time{a}, 1, a},
		{[]time.Time{{}, b}, 2, time.Time{}},
		{[]time.Time{b, {}}, 2, time.Time{}},
		{[]time.Time{a}, 2, time.Time{}}, // a check added since
		{nil, 1, time.Time{}},
	} {
		if got := earliest(tc.at, tc.n); !got.Equal(tc.want) {
			t.Errorf("earliest(%v, %d) = %v, want %v", tc.at, tc.n, got, tc.want)
		}
	}
	for _, tc := range []struct {
		s    State
		want bool
	}{
		{State{}, false},
		{State{Fails: 1}, true},
		{State{Down: true, Fails: 2}, false},
		{State{Down: true, Passes: 1}, true},
		{State{Down: true, Checks: CheckStates{{Down: true, Fails: 3}, {Passes: 2}}}, false},
		{State{Down: true, Checks: CheckStates{{Down: true, Passes: 1}, {Passes: 2}}}, true},
	} {
		if got := tc.s.Pending(); got != tc.want {
			t.Errorf("%+v.Pending() = %v, want %v", tc.s, got, tc.want)
		}
	}
}

func TestCheckerReloadKeepsState(t *testing.T) {
	cfg := loadConfig(t, desiredSrc)
	probes := &fakeProbes{}
	probes.set(kA.Dest, true)
	probes.set(kB.Dest, true)
	c := &Checker{Probe: probes.probe}
	_ = c.Load(cfg)
	_ = c.Once(context.Background())
	// b's check changes (its counters restart), a's does not, and c is new.
	src := strings.Replace(desiredSrc, `on_failure = "quiesce"`, "on_failure = \"quiesce\"\n      rise = 3", 1)
	src = strings.Replace(src, `real_server "b" {`, "real_server \"c\" {\n    address = \"10.0.1.3\"\n  }\n  real_server \"b\" {", 1)
	if err := c.Load(loadConfig(t, src)); err != nil {
		t.Fatal(err)
	}
	st := c.States()
	if a := st[kA]; !a.Down || a.Fails != 1 {
		t.Errorf("a after reload: %+v", a)
	}
	if b := st[kB]; !b.Down || b.Fails != 0 {
		t.Errorf("b after reload: %+v (down kept, counters reset)", b)
	}
	if _, ok := st[Key{web, netip.MustParseAddrPort("10.0.1.3:80")}]; ok || len(c.targets) != 3 {
		t.Errorf("new real server c: %v targets, state %v", len(c.targets), st)
	}
}

func TestCheckerBadStateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "health.json")
	if err := os.WriteFile(path, []byte("not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := &Checker{StatePath: path}
	err := c.Load(loadConfig(t, desiredSrc))
	if err == nil || !strings.Contains(err.Error(), "is not a health state file") {
		t.Fatalf("err = %v", err)
	}
	if len(c.targets) != 2 || len(c.States()) != 0 {
		t.Error("a bad state file should leave a usable checker with everyone up")
	}
}

// waitFor polls cond for up to 5 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestCheckerRun(t *testing.T) {
	src := strings.Replace(desiredSrc, `type = "tcp"`, "type = \"tcp\"\n    interval = \"20ms\"\n    timeout = \"10ms\"\n    fall = 2", 1)
	cfg := loadConfig(t, src)
	probes := &fakeProbes{}
	ap := &applied{}
	path := filepath.Join(t.TempDir(), "health.json")
	c := ap.watch(&Checker{Probe: probes.probe, StatePath: path})
	_ = c.Load(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	reload := make(chan *model.Config)
	done := make(chan error)
	go func() { done <- c.Run(ctx, reload) }()

	waitFor(t, "the first apply", func() bool { return ap.last() == "10.0.1.1:80=10 10.0.1.2:80=5" })
	probes.set(kA.Dest, true)
	probes.set(kB.Dest, true)
	waitFor(t, "the sorry server", func() bool { return ap.last() == "10.0.1.2:80=0 10.0.9.9:8080=1" })
	probes.set(kA.Dest, false)
	waitFor(t, "a to come back", func() bool { return ap.last() == "10.0.1.1:80=10 10.0.1.2:80=0" })

	// A reload keeps b down.
	reload <- loadConfig(t, src)
	time.Sleep(30 * time.Millisecond)
	if got := ap.last(); got != "10.0.1.1:80=10 10.0.1.2:80=0" {
		t.Errorf("after reload: %s", got)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop")
	}
	f, err := ReadState(path)
	if err != nil || f == nil {
		t.Fatalf("state file: %v", err)
	}
	if st := f.States(c.targets); !st[kB].Down || st[kA].Down {
		t.Errorf("published %+v", f.RealServers)
	}
}

func TestStateFilePolicy(t *testing.T) {
	cfg := loadConfig(t, desiredSrc)
	path := filepath.Join(t.TempDir(), "h.json")
	pol := Policy{Quorum: 2, SlowStart: 90 * time.Second}
	if err := WriteState(path, NewStateFile(Targets(cfg), States{kA: {Down: true, Reason: "refused"}}, nil, pol, t0)); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if !strings.Contains(string(data), `"slow_start": "1m30s"`) {
		t.Errorf("state file:\n%s", data)
	}
	f, err := ReadState(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Policy() != pol {
		t.Errorf("policy %+v, want %+v", f.Policy(), pol)
	}
	if st := f.States(Targets(cfg)); len(st) != 1 || !st[kA].Down || st[kA].Reason != "refused" {
		t.Errorf("states %+v", st)
	}
	if f, err := ReadState(filepath.Join(t.TempDir(), "missing.json")); f != nil || err != nil {
		t.Errorf("a missing file: %v, %v", f, err)
	}
}
