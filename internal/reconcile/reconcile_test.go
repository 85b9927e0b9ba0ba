package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/internal/apply"
	"github.com/lvsctl/lvsctl/internal/apply/applytest"
	"github.com/lvsctl/lvsctl/internal/health"
	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/internal/plan"
	"github.com/lvsctl/lvsctl/internal/pulse/vip"
	"github.com/lvsctl/lvsctl/internal/source/config"
	"github.com/lvsctl/lvsctl/internal/syncbuf"
	"github.com/lvsctl/lvsctl/lvs"
	"github.com/prometheus/client_golang/prometheus"
)

const webHCL = `
virtual_server "web" {
  address = "10.0.0.2:80"
  vip {
    address = "10.0.0.2"
    device  = "eth0:1"
  }
  real_server "a" { address = "192.168.10.1" }
  real_server "b" { address = "192.168.10.2" }
}
`

// extraHCL is webHCL with one more service, as an operator adds it.
const extraHCL = webHCL + `
virtual_server "mail" {
  address = "10.0.0.3:25"
  real_server "m" { address = "192.168.10.9" }
}
`

// countingKernel counts the whole-table reads of an applytest kernel.
type countingKernel struct {
	*applytest.Kernel
	reads atomic.Int64
}

func (k *countingKernel) Table() (*lvs.Table, error) {
	k.reads.Add(1)
	if os.Getenv("DBG") != "" {
		debug.PrintStack()
	}
	return k.Kernel.Table()
}

// addrs records the floating addresses held, and the order of events
// shared with the kernel (through log).
type addrs struct {
	mu   sync.Mutex
	held map[netip.Addr]bool
	fail error
	log  *events
}

func (a *addrs) Add(v vip.Address) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail != nil {
		return a.fail
	}
	a.held[v.Addr] = true
	a.log.add("add " + v.Addr.String())
	return nil
}

func (a *addrs) Del(v vip.Address) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.held[v.Addr] {
		a.log.add("del " + v.Addr.String())
	}
	delete(a.held, v.Addr)
	return nil
}

func (a *addrs) Announce(vip.Address) error { return nil }

func (a *addrs) has(s string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.held[netip.MustParseAddr(s)]
}

type events struct {
	mu sync.Mutex
	l  []string
}

func (e *events) add(s string) {
	e.mu.Lock()
	e.l = append(e.l, s)
	e.mu.Unlock()
}

func (e *events) list() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.l)
}

type fixture struct {
	t     *testing.T
	dir   string
	file  string
	k     *countingKernel
	addrs *addrs
	ev    *events
	r     *Reconciler
	logs  *syncbuf.Buffer
	stop  context.CancelFunc
	done  chan error
}

func load(path string) (*model.Config, error) {
	cfg, _, diags := config.Load(path)
	if diags.HasErrors() {
		return nil, diags
	}
	return cfg, nil
}

func newFixture(t *testing.T, src string, failover bool) *fixture {
	t.Helper()
	f := &fixture{t: t, dir: t.TempDir(), k: &countingKernel{Kernel: applytest.New()}, ev: &events{}, logs: &syncbuf.Buffer{}}
	f.file = filepath.Join(f.dir, "lvsctl.hcl")
	f.write(src)
	f.addrs = &addrs{held: map[netip.Addr]bool{}, log: f.ev}
	f.r = &Reconciler{
		Kernel: f.k, LockPath: filepath.Join(f.dir, "default.lock"), LockInfo: "test",
		Source:   &Source{Path: f.file, Load: load},
		Failover: failover, Addrs: f.addrs,
		Log:    slog.New(slog.NewTextHandler(f.logs, nil)),
		Resync: time.Hour,
	}
	if _, err := f.r.Start(); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) write(src string) {
	f.t.Helper()
	// Through a new file and a rename, as editors save.
	tmp := f.file + ".tmp"
	if err := os.WriteFile(tmp, []byte(src), 0o600); err != nil {
		f.t.Fatal(err)
	}
	if err := os.Rename(tmp, f.file); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) run() {
	ctx, cancel := context.WithCancel(context.Background())
	f.stop = cancel
	f.done = make(chan error, 1)
	go func() { f.done <- f.r.Run(ctx, 2*time.Second) }()
	f.t.Cleanup(func() { f.shutdown() })
}

func (f *fixture) shutdown() error {
	if f.stop == nil {
		return nil
	}
	f.stop()
	f.stop = nil
	return <-f.done
}

func (f *fixture) services() []string {
	t, _ := f.k.Kernel.Table()
	var out []string
	for _, s := range t.Services {
		var ds []string
		for _, d := range s.Dests {
			ds = append(ds, d.Addr.String())
		}
		out = append(out, s.Key.String()+"="+strings.Join(ds, ","))
	}
	return out
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestStandbyReleasesWhatACrashedRunLeft(t *testing.T) {
	f := newFixture(t, webHCL, true)
	// What a killed active run left: the table and the VIP.
	cfg, _ := load(f.file)
	f.k.Seed(cfg.Table)
	f.addrs.held[netip.MustParseAddr("10.0.0.2")] = true
	f.k.SetFault(func(c applytest.Call) error { f.ev.add(c.Method); return nil })
	f.run()
	f.r.SetActive(false)
	waitFor(t, "the release", func() bool { return len(f.services()) == 0 && !f.addrs.has("10.0.0.2") })
	if got := f.ev.list(); len(got) == 0 || got[0] != "del 10.0.0.2" {
		t.Errorf("events %v: the address must go before the table", got)
	}
}

func TestNothingHappensBeforeTheRoleIsKnown(t *testing.T) {
	f := newFixture(t, webHCL, true)
	cfg, _ := load(f.file)
	f.k.Seed(cfg.Table)
	f.addrs.held[netip.MustParseAddr("10.0.0.2")] = true
	f.run()
	time.Sleep(100 * time.Millisecond)
	if len(f.services()) != 1 || !f.addrs.has("10.0.0.2") {
		t.Fatal("a node whose role is not known yet must keep what it has: it may be starting active")
	}
	f.r.SetActive(true)
	<-f.r.Ready()
	if len(f.services()) != 1 || !f.addrs.has("10.0.0.2") {
		t.Fatal("an active node lost its table or VIP")
	}
}

func TestActiveTableBeforeAddresses(t *testing.T) {
	f := newFixture(t, webHCL, true)
	f.k.SetFault(func(c applytest.Call) error { f.ev.add(c.Method); return nil })
	f.run()
	f.r.SetActive(true)
	waitFor(t, "the VIP", func() bool { return f.addrs.has("10.0.0.2") })
	got := f.ev.list()
	if i := slices.Index(got, "add 10.0.0.2"); i < 0 || slices.Index(got, "AddDest") > i || slices.Index(got, "AddService") > i {
		t.Errorf("events %v: the table must be in place before the VIP", got)
	}
}

func TestNoVIPWithoutItsTableAndRetries(t *testing.T) {
	f := newFixture(t, webHCL, true)
	var failing atomic.Bool
	failing.Store(true)
	f.k.SetFault(func(c applytest.Call) error {
		if failing.Load() {
			return syscall.ENOMEM
		}
		return nil
	})
	f.run()
	f.r.SetActive(true)
	waitFor(t, "a few failed converges", func() bool { return f.r.Stats().Failures >= 3 })
	if f.addrs.has("10.0.0.2") {
		t.Fatal("the VIP came up without its table")
	}
	failing.Store(false)
	waitFor(t, "the retry to succeed", func() bool { return f.addrs.has("10.0.0.2") && len(f.services()) == 1 })
	if !strings.Contains(f.logs.String(), "cannot converge the director; retrying") {
		t.Errorf("the failure was not logged:\n%s", f.logs)
	}
}

// TestExplainAddsTheCause checks that a converge error goes through
// Explain before it is logged: cmd adds there that a namespace's loopback
// is down, which the kernel's EINVAL does not say.
func TestExplainAddsTheCause(t *testing.T) {
	f := newFixture(t, webHCL, false)
	var failing atomic.Bool
	failing.Store(true)
	f.k.SetFault(func(c applytest.Call) error {
		if failing.Load() && c.Method == "AddDest" {
			return syscall.EINVAL
		}
		return nil
	})
	var explained atomic.Int32
	f.r.Explain = func(err error) error {
		var oe *apply.OpError
		if !errors.As(err, &oe) || !errors.Is(err, syscall.EINVAL) {
			return err
		}
		explained.Add(1)
		return fmt.Errorf("%w; the cause: lo is down", err)
	}
	f.run()
	waitFor(t, "a failed converge", func() bool { return f.r.Stats().Failures >= 1 })
	failing.Store(false)
	waitFor(t, "the retry to succeed", func() bool { s := f.services(); return len(s) == 1 && !strings.HasSuffix(s[0], "=") })
	if explained.Load() == 0 {
		t.Fatal("Explain was not given the apply's error")
	}
	if logs := f.logs.String(); !strings.Contains(logs, "cannot converge the director; retrying") || !strings.Contains(logs, "the cause: lo is down") {
		t.Errorf("the cause is not in the log:\n%s", logs)
	}
}

func TestWaitsForTheLockAndNeverGivesUp(t *testing.T) {
	f := newFixture(t, webHCL, true)
	unlock, err := apply.Lock(f.r.LockPath, 0, "apply (an operator)")
	if err != nil {
		t.Fatal(err)
	}
	f.run()
	f.r.SetActive(true)
	waitFor(t, "the lock to be found busy", func() bool { return f.r.Stats().LockBusy >= 2 })
	if f.addrs.has("10.0.0.2") {
		t.Fatal("the VIP came up while the table could not be applied")
	}
	_ = unlock()
	waitFor(t, "the takeover after the lock", func() bool { return f.addrs.has("10.0.0.2") && len(f.services()) == 1 })
}

func TestHealthTransitionIsOneOperationWithoutReadingTheTable(t *testing.T) {
	f := newFixture(t, strings.Replace(webHCL, `real_server "a"`, "health_check {\n    type = \"tcp\"\n  }\n  real_server \"a\"", 1), false)
	h := f.runWithHealth()
	waitFor(t, "the table", func() bool { return len(f.services()) == 1 })
	reads, ops := f.k.reads.Load(), f.k.Ops()
	conv := f.r.Stats().Converges

	web := lvs.ServiceKey{Family: lvs.IPv4, Protocol: lvs.TCP, Addr: netip.MustParseAddr("10.0.0.2"), Port: 80}
	h.set(health.States{{Service: web, Dest: netip.MustParseAddrPort("192.168.10.1:80")}: {Down: true}})
	f.r.Kick()
	waitFor(t, "a removed", func() bool { return f.services()[0] == "tcp 10.0.0.2:80=192.168.10.2:80" })
	waitFor(t, "the converge counted", func() bool { return f.r.Stats().Converges > conv })
	if d := f.k.Ops() - ops; d != 1 {
		t.Errorf("%d kernel operations for one transition, want 1", d)
	}
	if d := f.k.reads.Load() - reads; d != 0 {
		t.Errorf("%d table reads for one transition, want 0", d)
	}
	if f.addrs.has("10.0.0.2") {
		t.Error("check must never touch the floating addresses")
	}
}

type fakeHealth struct {
	mu sync.Mutex
	st health.States
	q  health.Quorums
}

func (h *fakeHealth) set(st health.States) {
	h.mu.Lock()
	h.st = st
	h.mu.Unlock()
}

func (h *fakeHealth) setQuorums(st health.States, q health.Quorums) {
	h.mu.Lock()
	h.st, h.q = st, q
	h.mu.Unlock()
}

// runWithHealth runs f's reconciler with a fake health source, returned
// for the test to set, and waits until it is ready.
func (f *fixture) runWithHealth() *fakeHealth {
	h := &fakeHealth{}
	f.r.Health = h
	f.run()
	<-f.r.Ready()
	return h
}

// convergeMatchesWhole hands the reconciler the health states st and the
// quorums q (nil for none) through h, waits for the converge they cause,
// and fails at step unless the kernel then holds what the whole
// computation (health.Desired) gives for cfg.
func (f *fixture) convergeMatchesWhole(step int, h *fakeHealth, cfg *model.Config, st health.States, q health.Quorums) {
	f.t.Helper()
	h.setQuorums(st, q)
	conv := f.r.Stats().Converges
	f.r.Kick()
	waitFor(f.t, "the converge", func() bool { return f.r.Stats().Converges > conv })
	live, err := f.k.Kernel.Table()
	if err != nil {
		f.t.Fatal(err)
	}
	want := health.Desired(cfg, st, q, health.Policy{}, time.Now())
	if p := plan.Diff(live, want, plan.Options{}); !p.Empty() {
		f.t.Fatalf("step %d: the kernel differs from the whole computation by %d operations, first %+v", step, len(p.Ops), p.Ops[0])
	}
}

func (h *fakeHealth) Snapshot() (health.States, health.Quorums, health.Policy) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.st, h.q, health.Policy{}
}

func TestDriftIsPutBack(t *testing.T) {
	f := newFixture(t, webHCL, false)
	f.r.Resync = 50 * time.Millisecond
	f.run()
	<-f.r.Ready()
	web := lvs.ServiceKey{Family: lvs.IPv4, Protocol: lvs.TCP, Addr: netip.MustParseAddr("10.0.0.2"), Port: 80}
	if err := f.k.DeleteService(web); err != nil { // ipvsadm -D behind its back
		t.Fatal(err)
	}
	waitFor(t, "the service back", func() bool { return len(f.services()) == 1 && f.r.Stats().DriftRepairs == 1 })
	if !strings.Contains(f.logs.String(), "changed behind lvsctl's back") {
		t.Errorf("the drift was not logged:\n%s", f.logs)
	}
}

// An operator edits the daemon's file and applies it: the daemon follows
// the file and never reverts the change.
func TestOperatorsApplyOfTheDaemonsFileIsKept(t *testing.T) {
	f := newFixture(t, webHCL, false)
	f.run()
	<-f.r.Ready()
	f.write(extraHCL)
	cfg, err := load(f.file)
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := apply.Lock(f.r.LockPath, time.Second, "apply")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := apply.Converge(context.Background(), f.k.Kernel, cfg.Table, apply.ConvergeOptions{}); err != nil {
		t.Fatal(err)
	}
	_ = unlock()
	// A health event makes the daemon converge right after.
	f.r.Kick()
	time.Sleep(200 * time.Millisecond)
	f.r.Kick()
	waitFor(t, "the reload", func() bool { return f.r.Stats().Reloads == 1 })
	if got := f.services(); len(got) != 2 {
		t.Fatalf("the operator's service was reverted: %v", got)
	}
}

func TestBadOrEmptyConfigurationIsRefusedAndTheOldKept(t *testing.T) {
	f := newFixture(t, webHCL, false)
	f.run()
	<-f.r.Ready()
	for _, src := range []string{
		webHCL[:len(webHCL)/2], // truncated mid-write
		"",                     // truncated to nothing
		"# every service commented out\n",
	} {
		// The file watch may see the change before the explicit reload
		// does, and then both refuse it: count from before the write.
		before := f.r.Stats().ReloadsRefused
		f.write(src)
		<-f.r.Reload()
		waitFor(t, "the refusal", func() bool { return f.r.Stats().ReloadsRefused > before })
		if got := f.services(); len(got) != 1 {
			t.Fatalf("%q: the table changed: %v", src, got)
		}
	}
	if !strings.Contains(f.logs.String(), "no virtual servers") {
		t.Errorf("log:\n%s", f.logs)
	}
	f.write(extraHCL)
	waitFor(t, "the good file", func() bool { return len(f.services()) == 2 })
}

func TestStuckCommandsBlockNothing(t *testing.T) {
	f := newFixture(t, webHCL, true)
	release := make(chan struct{})
	f.r.ActiveCmd = []string{"active"}
	f.r.InactiveCmd = []string{"inactive"}
	var ran events
	f.r.Command = func(ctx context.Context, argv []string) error {
		ran.add(argv[0])
		select {
		case <-release: // stuck until its time limit, which here never comes
		case <-ctx.Done(): // or killed
		}
		return errors.New("killed")
	}
	f.run()
	f.r.SetActive(true)
	waitFor(t, "active", func() bool { return f.addrs.has("10.0.0.2") })
	f.r.SetActive(false)
	waitFor(t, "standby despite the stuck active_cmd", func() bool { return !f.addrs.has("10.0.0.2") && len(f.services()) == 0 })
	// The stuck active_cmd speaks for a role the node left: it is killed
	// and inactive_cmd runs at once.
	waitFor(t, "inactive_cmd", func() bool { return slices.Contains(ran.list(), "inactive") })
	f.r.SetActive(true)
	waitFor(t, "active again", func() bool { return f.addrs.has("10.0.0.2") && len(f.services()) == 1 })
	close(release)
	if err := f.shutdown(); err != nil {
		t.Fatal(err)
	}
	if f.addrs.has("10.0.0.2") || len(f.services()) != 0 {
		t.Error("shutdown did not release")
	}
	if got := ran.list(); !slices.Equal(got, []string{"active", "inactive", "active", "inactive"}) {
		t.Errorf("commands %v", got)
	}
}

func TestShutdownReleasesAddressesFirst(t *testing.T) {
	f := newFixture(t, webHCL, true)
	f.run()
	f.r.SetActive(true)
	<-f.r.Ready()
	f.k.SetFault(func(c applytest.Call) error { f.ev.add(c.Method); return nil })
	if err := f.shutdown(); err != nil {
		t.Fatal(err)
	}
	got := f.ev.list()
	i := slices.Index(got, "del 10.0.0.2")
	if i < 0 || slices.Index(got, "DeleteService") < i {
		t.Errorf("events %v: the address must go before the table", got)
	}
}

func TestMetrics(t *testing.T) {
	f := newFixture(t, webHCL, false)
	reg := prometheus.NewRegistry()
	if _, err := NewMetrics(reg, f.r); err != nil {
		t.Fatal(err)
	}
	f.run()
	<-f.r.Ready()
	f.write("")
	// The reload's look refuses the empty file, and a look of the loop's
	// own may have refused it already: each counts.
	<-f.r.Reload()
	refused := f.r.Stats().ReloadsRefused
	if refused < 1 {
		t.Fatal("the empty file was not refused")
	}
	var page strings.Builder
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			v := m.GetCounter().GetValue() + m.GetGauge().GetValue()
			labels := ""
			for _, l := range m.GetLabel() {
				labels += l.GetName() + "=" + l.GetValue()
			}
			fmt.Fprintf(&page, "%s{%s} %g\n", mf.GetName(), labels, v)
		}
	}
	for _, want := range []string{
		fmt.Sprintf("lvsctl_config_reloads_total{result=refused} %d", refused),
		"lvsctl_director_converged{} 1",
		// The service, its real servers, and the net.ipv4.ip_forward its
		// NAT needs (the fake kernel starts as a fresh host, at 0).
		"lvsctl_director_kernel_operations_total{} 4",
		"lvsctl_director_table_reads_total{} 1",
	} {
		if !strings.Contains(page.String(), want+"\n") {
			t.Errorf("no %q in:\n%s", want, page.String())
		}
	}
}

// A health transition recomputes only its services, and the table it
// leaves is, after any sequence of transitions, the one the whole
// computation gives — with one whole-table read in all.
func TestHealthTransitionsMatchTheWholeComputation(t *testing.T) {
	var src strings.Builder
	for i := range 30 {
		fmt.Fprintf(&src, "virtual_server \"s%d\" {\n  address = \"10.0.%d.%d:80\"\n", i, i/200, i%200+1)
		if i%3 == 0 {
			src.WriteString("  sorry_server = \"10.9.9.9:8080\"\n")
		}
		onFailure := "remove"
		if i%2 == 0 {
			onFailure = "quiesce"
		}
		fmt.Fprintf(&src, "  health_check {\n    type = \"tcp\"\n    on_failure = %q\n  }\n", onFailure)
		for j := range 4 {
			fmt.Fprintf(&src, "  real_server \"r%d\" { address = \"192.168.%d.%d\" }\n", j, i, j+1)
		}
		src.WriteString("}\n")
	}
	f := newFixture(t, src.String(), false)
	h := f.runWithHealth()
	cfg := f.r.Config()
	targets := health.Targets(cfg)
	rng := rand.New(rand.NewPCG(1, 2))
	st := health.States{}
	for step := range 60 {
		for range 1 + rng.IntN(3) {
			tg := targets[rng.IntN(len(targets))]
			s := st[tg.Key]
			s.Down = !s.Down
			st[tg.Key] = s
		}
		f.convergeMatchesWhole(step, h, cfg, maps.Clone(st), nil)
	}
	if n := f.k.reads.Load(); n != 1 {
		t.Errorf("%d whole-table reads, want 1", n)
	}
	if n := f.r.Stats().Partial; n < 55 {
		t.Errorf("only %d of 60 transitions recomputed just their services", n)
	}
}

// The same with quorums, hysteresis and dynamic weights: a change of a
// real server's weight or of a service's quorum alone recomputes its
// service too.
func TestWeightsAndQuorumsMatchTheWholeComputation(t *testing.T) {
	var src strings.Builder
	for i := range 20 {
		fmt.Fprintf(&src, "virtual_server \"s%d\" {\n  address = \"10.0.%d.%d:80\"\n  sorry_server = \"10.9.9.9:8080\"\n  quorum = 4\n  hysteresis = %d\n", i, i/200, i%200+1, i%3)
		onFailure := "remove"
		if i%2 == 0 {
			onFailure = "quiesce"
		}
		// A dynamic exec check: only its weights count (health.Desired).
		fmt.Fprintf(&src, "  health_check {\n    type = \"exec\"\n    program = \"/bin/true\"\n    dynamic = true\n    on_failure = %q\n  }\n", onFailure)
		for j := range 4 {
			fmt.Fprintf(&src, "  real_server \"r%d\" {\n    address = \"192.168.%d.%d\"\n    weight = 2\n  }\n", j, i, j+1)
		}
		src.WriteString("}\n")
	}
	f := newFixture(t, src.String(), false)
	h := f.runWithHealth()
	cfg := f.r.Config()
	targets := health.Targets(cfg)
	rng := rand.New(rand.NewPCG(3, 4))
	st := health.States{}
	q := health.JudgeQuorums(cfg, st, nil)
	for step := range 60 {
		for range 1 + rng.IntN(3) {
			tg := targets[rng.IntN(len(targets))]
			s := st[tg.Key]
			if rng.IntN(2) == 0 {
				s.Down = !s.Down
			} else {
				s.Weight = new(rng.IntN(4))
			}
			st[tg.Key] = s
		}
		snap := maps.Clone(st)
		q = health.JudgeQuorums(cfg, snap, q)
		f.convergeMatchesWhole(step, h, cfg, snap, maps.Clone(q))
	}
	if n := f.r.Stats().Partial; n < 55 {
		t.Errorf("only %d of 60 transitions recomputed just their services", n)
	}
}

// A stuck active_cmd, with no inactive_cmd to run instead, is killed when
// the node releases: a SIGTERM does not wait for its time limit.
func TestShutdownKillsAStuckActiveCmd(t *testing.T) {
	f := newFixture(t, webHCL, true)
	f.r.ActiveCmd = []string{"active"}
	started := make(chan struct{}, 2)
	f.r.Command = func(ctx context.Context, argv []string) error {
		started <- struct{}{}
		<-ctx.Done() // stuck until killed
		return ctx.Err()
	}
	f.run()
	f.r.SetActive(true)
	<-started
	// A re-announcement queues active_cmd again behind the stuck one.
	f.r.Reannounce()
	waitFor(t, "the second active_cmd queued", func() bool { return len(f.r.cmds) == 1 })
	begin := time.Now()
	if err := f.shutdown(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(begin); d > cmdShutdownGrace/2 {
		t.Errorf("shutdown took %s: it waited for the stuck active_cmd", d)
	}
}

// The daemon owns the kernel settings its table needs as apply does: a NAT
// director's net.ipv4.ip_forward is set with the table, put back when it
// changes behind lvsctl's back, and a setting nobody named is left alone.
func TestDaemonSetsForwarding(t *testing.T) {
	f := newFixture(t, webHCL, false)
	f.k.SeedSysctl("net.ipv4.vs.sloppy_tcp", "1")
	f.run()
	<-f.r.Ready()
	if v, _ := f.k.Sysctl(lvs.SysctlIPv4Forward); v != "1" {
		t.Fatalf("ip_forward is %q once the daemon is ready; want 1", v)
	}
	f.k.SeedSysctl(lvs.SysctlIPv4Forward, "0") // the admin, or a sysctl.conf reload
	f.write(webHCL + "\n")                     // any converge will do
	<-f.r.Reload()
	waitFor(t, "ip_forward put back", func() bool { v, _ := f.k.Sysctl(lvs.SysctlIPv4Forward); return v == "1" })
	if v, _ := f.k.Sysctl("net.ipv4.vs.sloppy_tcp"); v != "1" {
		t.Errorf("a setting nobody named changed: sloppy_tcp = %q", v)
	}
}
