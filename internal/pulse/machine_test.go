package pulse

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/internal/pulse/wire"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const (
	ka = 2 * time.Second
	dt = 5 * time.Second
)

type step struct {
	at     time.Duration
	ev     Event
	want   []Action
	active bool
}

var (
	start   = Event{Kind: Start}
	tick    = Event{Kind: Tick}
	hbAct   = Event{Kind: Heartbeat, Peer: wire.Active}
	hbStby  = Event{Kind: Heartbeat, Peer: wire.Standby}
	linkDn  = Event{Kind: LinkDown}
	linkUp  = Event{Kind: LinkUp}
	stop    = Event{Kind: Stop}
	send    = []Action{SendHeartbeat}
	takeove = []Action{SendHeartbeat, Activate}
	release = []Action{SendHeartbeat, Deactivate}
)

func primary() Settings { return Settings{Role: wire.Primary, Keepalive: ka, Deadtime: dt} }
func backup() Settings  { return Settings{Role: wire.Backup, Keepalive: ka, Deadtime: dt} }

func TestMachine(t *testing.T) {
	with := func(s Settings, f func(*Settings)) Settings { f(&s); return s }
	for _, tc := range []struct {
		name  string
		s     Settings
		steps []step
	}{
		{"primary alone is active at once and silent", with(primary(), func(s *Settings) { s.Alone = true }), []step{
			{0, start, []Action{Activate}, true},
			{10 * time.Second, tick, nil, true},
		}},
		{"force active", with(backup(), func(s *Settings) { s.ForceActive = true }), []step{
			{0, start, takeove, true},
		}},
		{"partner dead after deadtime", primary(), []step{
			{0, start, send, false},
			{ka, tick, send, false},
			{2 * ka, tick, send, false},
			{dt - time.Millisecond, tick, nil, false},
			{dt, tick, []Action{SendHeartbeat, Activate}, true},
			{dt + ka, tick, send, true},
		}},
		{"heartbeats keep a standby standby", backup(), []step{
			{0, start, send, false},
			{4 * time.Second, hbAct, nil, false},
			{8 * time.Second, hbAct, nil, false},
			{8*time.Second + dt - time.Millisecond, tick, send, false},
			{8*time.Second + dt, tick, takeove, true},
		}},
		{"cold start: primary takes over from a standby backup at once", primary(), []step{
			{0, start, send, false},
			{100 * time.Millisecond, hbStby, takeove, true},
			{ka, hbStby, nil, true},
		}},
		{"cold start: backup waits for the primary", backup(), []step{
			{0, start, send, false},
			{100 * time.Millisecond, hbStby, nil, false},
			{ka, hbAct, nil, false},
			{ka + time.Second, tick, send, false},
			{2 * ka, tick, nil, false},
		}},
		{"backup takes over from a primary that stays standby", backup(), []step{
			{0, start, send, false},
			{time.Second, hbStby, nil, false},
			{3 * time.Second, hbStby, send, false},
			{5 * time.Second, hbStby, send, false},
			{time.Second + dt, tick, takeove, true},
		}},
		{"backup takes over at once when the primary releases", backup(), []step{
			{0, start, send, false},
			{time.Second, hbAct, nil, false},
			{2 * time.Second, hbStby, takeove, true},
		}},
		{"returning primary stays standby", primary(), []step{
			{0, start, send, false},
			{time.Second, hbAct, nil, false},
			{3 * time.Second, hbAct, nil, false},
			{3*time.Second + dt - time.Millisecond, tick, send, false},
			{4 * time.Second, hbAct, nil, false},
		}},
		{"returning primary preempts when configured", with(primary(), func(s *Settings) { s.Preempt = true }), []step{
			{0, start, send, false},
			{time.Second, hbAct, takeove, true},
			{2 * time.Second, hbAct, []Action{Reannounce}, true},
			// The backup yielded: its announcements are undone.
			{3 * time.Second, hbStby, []Action{Reannounce}, true},
		}},
		{"split brain: the backup yields", with(backup(), func(s *Settings) { s.ForceActive = true }), []step{
			{0, start, takeove, true},
			{time.Second, hbAct, release, false},
			{2 * time.Second, hbAct, nil, false},
			{3 * time.Second, tick, send, false},
		}},
		{"split brain: the primary keeps the VIPs and re-announces", with(primary(), func(s *Settings) { s.ForceActive = true }), []step{
			{0, start, takeove, true},
			{time.Second, hbAct, []Action{Reannounce}, true},
			{2 * time.Second, hbStby, []Action{Reannounce}, true},
			{2 * time.Second, tick, send, true},
		}},
		{"heartbeat link cut and healed: the backup yields to the primary", backup(), []step{
			{0, start, send, false},
			{time.Second, hbAct, nil, false},
			// The link between the directors is cut: both go active.
			{time.Second + dt, tick, takeove, true},
			{20 * time.Second, tick, send, true},
			// Healed: the primary's RUNNING reaches the backup.
			{21 * time.Second, hbAct, release, false},
		}},
		{"split healed: the primary re-announces when the yielded backup turns standby", with(primary(), func(s *Settings) { s.ForceActive = true }), []step{
			{0, start, takeove, true},
			{time.Second, hbStby, nil, true},
			{2 * time.Second, hbAct, []Action{Reannounce}, true},
			{2*time.Second + time.Millisecond, hbStby, []Action{Reannounce}, true},
			{3 * time.Second, hbStby, nil, true},
			{3 * time.Second, tick, send, true},
		}},
		{"split healed: a partner heard after a silence may have held the VIPs", with(primary(), func(s *Settings) { s.ForceActive = true }), []step{
			{0, start, takeove, true},
			{time.Second, hbStby, nil, true},
			{time.Second + dt + time.Millisecond, hbStby, []Action{Reannounce}, true},
			{time.Second + dt + 2*time.Millisecond, hbStby, nil, true},
		}},
		{"link down releases and forbids taking over", with(primary(), func(s *Settings) { s.ForceActive = true }), []step{
			{0, start, takeove, true},
			{time.Second, linkDn, release, false},
			{time.Second + dt, tick, send, false},
			{20 * time.Second, hbStby, nil, false},
			{30 * time.Second, tick, send, false},
			// Back up: a full deadtime for the partner to be heard.
			{31 * time.Second, linkUp, nil, false},
			{31*time.Second + time.Millisecond, hbAct, nil, false},
			{32 * time.Second, hbAct, nil, false},
		}},
		{"link up with a silent partner: take over after deadtime", primary(), []step{
			{0, start, send, false},
			{time.Second, linkDn, nil, false},
			{10 * time.Second, linkUp, send, false},
			{10*time.Second + dt, tick, takeove, true},
		}},
		{"stop releases an active node, then nothing", primary(), []step{
			{0, start, send, false},
			{time.Second, hbStby, takeove, true},
			{2 * time.Second, stop, release, false},
			{20 * time.Second, tick, nil, false},
			{21 * time.Second, hbStby, nil, false},
		}},
		{"stop on a standby node does nothing", backup(), []step{
			{0, start, send, false},
			{time.Second, stop, nil, false},
		}},
		{"sub-second keepalive and deadtime", Settings{Role: wire.Backup, Keepalive: 100 * time.Millisecond, Deadtime: 300 * time.Millisecond}, []step{
			{0, start, send, false},
			{50 * time.Millisecond, hbAct, nil, false},
			{100 * time.Millisecond, tick, send, false},
			{200 * time.Millisecond, tick, send, false},
			{300 * time.Millisecond, tick, send, false},
			{349 * time.Millisecond, tick, nil, false},
			{350 * time.Millisecond, tick, takeove, true},
		}},
		{"events before start are ignored", primary(), []step{
			{0, hbStby, nil, false},
			{10 * time.Second, tick, nil, false},
			{10 * time.Second, start, send, false},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMachine(tc.s)
			for i, st := range tc.steps {
				got := m.Step(t0.Add(st.at), st.ev)
				if !slices.Equal(got, st.want) {
					t.Fatalf("step %d (%v at %v): actions %v, want %v", i, st.ev, st.at, got, st.want)
				}
				if m.Active() != st.active {
					t.Fatalf("step %d (%v at %v): active %v, want %v (%s)", i, st.ev, st.at, m.Active(), st.active, m.Status().Reason)
				}
			}
		})
	}
}

func TestWake(t *testing.T) {
	m := NewMachine(backup())
	if !m.Wake().IsZero() {
		t.Fatal("wake before start")
	}
	m.Step(t0, start)
	if got := m.Wake(); !got.Equal(t0.Add(ka)) {
		t.Fatalf("wake = %v, want next send", got)
	}
	m = NewMachine(Settings{Role: wire.Backup, Keepalive: 10 * time.Second, Deadtime: 3 * time.Second})
	m.Step(t0, start)
	if got := m.Wake(); !got.Equal(t0.Add(3 * time.Second)) {
		t.Fatalf("wake = %v, want the deadline", got)
	}
	m.Step(t0.Add(time.Second), hbStby)
	if got := m.Wake(); !got.Equal(t0.Add(4 * time.Second)) {
		t.Fatalf("wake = %v, want the new deadline", got)
	}
	alone := NewMachine(Settings{Role: wire.Primary, Alone: true})
	alone.Step(t0, start)
	if !alone.Wake().IsZero() {
		t.Fatal("a lone director needs no ticks")
	}
}

// TestPair runs two machines against each other through a lossless,
// instant link: exactly one is active in steady state, whatever happens.
func TestPair(t *testing.T) {
	p, b := NewMachine(primary()), NewMachine(backup())
	now := t0
	deliver := func(from, to *Machine, acts []Action) {
		for _, a := range acts {
			if a == SendHeartbeat {
				st := wire.Standby
				if from.Active() {
					st = wire.Active
				}
				to.Step(now, Event{Kind: Heartbeat, Peer: st})
			}
		}
	}
	deliver(p, b, p.Step(now, start))
	deliver(b, p, b.Step(now.Add(time.Millisecond), start))
	run := func(d time.Duration, pAlive bool) {
		end := now.Add(d)
		for now.Before(end) {
			now = now.Add(100 * time.Millisecond)
			if pAlive {
				deliver(p, b, p.Step(now, tick))
			}
			deliver(b, p, b.Step(now, tick))
		}
	}
	run(20*time.Second, true)
	if !p.Active() || b.Active() {
		t.Fatalf("cold start: primary %v backup %v", p.Active(), b.Active())
	}
	// The primary dies.
	run(dt+ka, false)
	if !b.Active() {
		t.Fatal("the backup did not take over")
	}
	// It comes back: it stays standby.
	p = NewMachine(primary())
	deliver(p, b, p.Step(now, start))
	run(30*time.Second, true)
	if p.Active() || !b.Active() {
		t.Fatalf("after return: primary %v backup %v", p.Active(), b.Active())
	}
	// The backup is stopped: the primary takes over at once.
	deliver(b, p, b.Step(now, stop))
	if !p.Active() {
		t.Fatal("the primary did not take over when the backup released")
	}
}

// gate is a fake health engine: the machine reads its servers through
// Event.Health.
type gate struct{ servers []ServerHealth }

func (g *gate) view() []ServerHealth { return g.servers }

// up and down are one real server's view, probed at from.
func up(probed time.Duration) ServerHealth { return ServerHealth{Probed: t0.Add(probed)} }
func down(since time.Duration) ServerHealth {
	return ServerHealth{Down: true, Since: t0.Add(since), Probed: t0.Add(since)}
}

// gated is a primary with one health check of interval and timeout 1s
// (rise and fall 1): its checks settle within SettleBound = 4s.
func gated() Settings {
	s := primary()
	s.SettleMax = SettleBound(time.Second, time.Second, 1, 1)
	return s
}

func preempting() Settings {
	s := gated()
	s.Preempt = true
	return s
}

// run feeds m the events of steps with g's health, checking actions,
// activity and, where want is set, the flags of the next heartbeat.
type gstep struct {
	at     time.Duration
	set    []ServerHealth // replaces the health before the event, when set
	ev     Event
	want   []Action
	active bool
	flags  wire.Flags // checked when nonzero
}

func runGate(t *testing.T, m *Machine, g *gate, steps []gstep) {
	t.Helper()
	for i, st := range steps {
		if st.set != nil {
			g.servers = st.set
		}
		ev := st.ev
		ev.Health = g.view
		got := m.Step(t0.Add(st.at), ev)
		if !slices.Equal(got, st.want) {
			t.Fatalf("step %d (%v at %v): actions %v, want %v (%s)", i, st.ev, st.at, got, st.want, m.Status().Reason)
		}
		if m.Active() != st.active {
			t.Fatalf("step %d (%v at %v): active %v, want %v (%s)", i, st.ev, st.at, m.Active(), st.active, m.Status().Reason)
		}
		if st.flags != 0 && m.Flags() != st.flags {
			t.Fatalf("step %d (%v at %v): flags %v, want %v (%s)", i, st.ev, st.at, m.Flags(), st.flags, m.Status().Reason)
		}
	}
}

var (
	hbActNew  = Event{Kind: Heartbeat, Peer: wire.Active, PeerFlags: wire.Defers}
	hbStbyNew = Event{Kind: Heartbeat, Peer: wire.Standby, PeerFlags: wire.Defers}
	hbActUns  = Event{Kind: Heartbeat, Peer: wire.Active, PeerFlags: wire.Defers | wire.Unsettled}
	settledF  = wire.Defers
	unsettled = wire.Defers | wire.Unsettled
)

// isolatedPrimary is the partition of the RELIABILITY report: the active
// primary cut off from everything at 3s (its partner last heard at 2s),
// its real server going down at 4s, the backup taking over meanwhile, and
// the links back at 10s, where the backup's heartbeat arrives.
func isolatedPrimary() []gstep {
	return []gstep{
		{0, []ServerHealth{up(0)}, start, send, false, settledF},
		{100 * time.Millisecond, nil, hbStbyNew, takeove, true, settledF},
		{2 * time.Second, nil, hbStbyNew, nil, true, settledF},
		// Cut off: its check fails, and nobody is heard.
		{4 * time.Second, []ServerHealth{down(4 * time.Second)}, tick, send, true, settledF},
		// The partner is silent for a deadtime: the real server lost
		// during the silence makes the primary unsettled, and its
		// heartbeats say so from now on, before the heal.
		{7*time.Second + time.Millisecond, nil, tick, send, true, unsettled},
		{8 * time.Second, nil, tick, nil, true, unsettled},
		// Healed: the backup, active, is heard. The primary's check
		// has not passed again: it yields, and the backup keeps.
		{10 * time.Second, nil, hbActNew, release, false, unsettled},
		{10*time.Second + 300*time.Millisecond, nil, hbActNew, nil, false, unsettled},
	}
}

func TestHealthGate(t *testing.T) {
	with := func(s Settings, f func(*Settings)) Settings { f(&s); return s }
	for _, tc := range []struct {
		name  string
		s     Settings
		steps []gstep
	}{
		{"heal with failing checks: the primary defers to the active backup", gated(), isolatedPrimary()},
		{"heal, then the checks pass: without preempt the primary stays standby, as any primary that came back", gated(), append(isolatedPrimary(),
			gstep{10*time.Second + 600*time.Millisecond, []ServerHealth{up(10*time.Second + 500*time.Millisecond)}, hbActNew, nil, false, settledF},
			gstep{12 * time.Second, nil, hbActNew, nil, false, settledF},
		)},
		{"heal, then the checks pass: a preempting primary takes the VIPs back", preempting(), append(isolatedPrimary(),
			gstep{10*time.Second + 600*time.Millisecond, []ServerHealth{up(10*time.Second + 500*time.Millisecond)}, hbActNew, takeove, true, settledF},
			gstep{10*time.Second + 900*time.Millisecond, nil, hbActNew, []Action{Reannounce}, true, settledF},
			gstep{11 * time.Second, nil, hbStbyNew, []Action{Reannounce}, true, settledF},
		)},
		{"heal with checks passing again by the time the backup is heard: the primary wins at once", gated(), append(isolatedPrimary()[:6],
			gstep{10 * time.Second, []ServerHealth{up(9500 * time.Millisecond)}, hbActNew, []Action{Reannounce}, true, settledF},
		)},
		{"heal, checks still failing: a preempting primary takes the VIPs back after SettleMax", preempting(), append(isolatedPrimary(),
			gstep{12 * time.Second, []ServerHealth{down(4 * time.Second)}, hbActNew, nil, false, unsettled},
			// SettleMax (4s) after the heal: a tick is due then.
			gstep{14*time.Second - time.Millisecond, nil, tick, send, false, unsettled},
			gstep{14 * time.Second, nil, tick, takeove, true, settledF},
		)},
		{"backup dies while the primary's checks fail: the primary takes over anyway",
			with(preempting(), func(s *Settings) { s.SettleMax = time.Minute }), append(isolatedPrimary(),
				gstep{11 * time.Second, []ServerHealth{down(4 * time.Second)}, hbActNew, nil, false, unsettled},
				// No heartbeat after 11s: dead at 16s.
				gstep{16*time.Second - time.Millisecond, nil, tick, send, false, unsettled},
				gstep{16 * time.Second, nil, tick, takeove, true, unsettled},
			)},
		{"backup releases while the primary's checks fail: the primary takes over at once",
			with(gated(), func(s *Settings) { s.SettleMax = time.Minute }), append(isolatedPrimary(),
				gstep{11 * time.Second, nil, hbStbyNew, takeove, true, unsettled},
			)},
		{"the backup was cut off, not the primary: the primary's checks held, it wins at once", gated(), []gstep{
			{0, []ServerHealth{up(0), {Down: true, Since: t0.Add(-time.Hour), Probed: t0}}, start, send, false, settledF},
			{100 * time.Millisecond, nil, hbStbyNew, takeove, true, settledF},
			{2 * time.Second, nil, hbStbyNew, nil, true, settledF},
			// A real server down before the silence says nothing about it.
			{8 * time.Second, []ServerHealth{up(8 * time.Second), {Down: true, Since: t0.Add(-time.Hour), Probed: t0.Add(8 * time.Second)}}, tick, send, true, settledF},
			{10 * time.Second, nil, hbActNew, []Action{Reannounce}, true, settledF},
		}},
		{"an older backup (no Defers flag) would yield too: the primary keeps the VIPs", gated(), append(isolatedPrimary()[:6],
			gstep{10 * time.Second, nil, hbAct, []Action{Reannounce}, true, unsettled},
		)},
		{"lone node: active at once, checks unprobed", with(gated(), func(s *Settings) { s.Alone = true }), []gstep{
			{0, []ServerHealth{{}}, start, []Action{Activate}, true, settledF},
		}},
		{"forced active: keeps the VIPs in a split brain, checks unprobed", with(gated(), func(s *Settings) { s.ForceActive = true }), []gstep{
			{0, []ServerHealth{{}}, start, takeove, true, settledF},
			{time.Second, nil, hbActNew, []Action{Reannounce}, true, settledF},
		}},
		{"restart of a preempting primary: it waits for a probe of every real server",
			with(gated(), func(s *Settings) { s.Preempt = true }), []gstep{
				// Up as the previous run's state file said: not probed
				// in this run.
				{0, []ServerHealth{up(-time.Minute), up(-time.Minute)}, start, send, false, unsettled},
				{100 * time.Millisecond, nil, hbActNew, nil, false, unsettled},
				{700 * time.Millisecond, []ServerHealth{up(500 * time.Millisecond), up(-time.Minute)}, hbActNew, nil, false, unsettled},
				// A fall under way is not settled either.
				{time.Second, []ServerHealth{up(500 * time.Millisecond), {Probed: t0.Add(900 * time.Millisecond), Pending: true}}, hbActNew, nil, false, unsettled},
				{1300 * time.Millisecond, []ServerHealth{up(500 * time.Millisecond), down(1200 * time.Millisecond)}, hbActNew, takeove, true, settledF},
			}},
		{"restart of a preempting primary whose checks never settle: it preempts after SettleMax",
			with(gated(), func(s *Settings) { s.Preempt = true }), []gstep{
				{0, []ServerHealth{up(-time.Minute)}, start, send, false, unsettled},
				{100 * time.Millisecond, nil, hbActNew, nil, false, unsettled},
				{4*time.Second - time.Millisecond, nil, tick, send, false, unsettled},
				{4 * time.Second, nil, tick, takeove, true, settledF},
			}},
		{"restart of a primary without preempt: standby whatever its checks say", gated(), []gstep{
			{0, []ServerHealth{up(-time.Minute)}, start, send, false, unsettled},
			{100 * time.Millisecond, nil, hbActNew, nil, false, unsettled},
			{time.Second, []ServerHealth{up(500 * time.Millisecond)}, hbActNew, nil, false, settledF},
			{5 * time.Second, nil, hbActNew, nil, false, settledF},
		}},
		{"cold start: the primary takes over from a standby backup at once, checks unprobed", gated(), []gstep{
			{0, []ServerHealth{{}}, start, send, false, unsettled},
			{100 * time.Millisecond, nil, hbStbyNew, takeove, true, unsettled},
		}},
		{"monitored link down and up: a preempting primary waits for what its checks took out meanwhile",
			with(gated(), func(s *Settings) { s.Preempt = true }), []gstep{
				{0, []ServerHealth{up(0)}, start, send, false, settledF},
				{100 * time.Millisecond, nil, hbStbyNew, takeove, true, settledF},
				{time.Second, nil, linkDn, release, false, settledF},
				{3 * time.Second, []ServerHealth{down(3 * time.Second)}, tick, send, false, unsettled},
				{5 * time.Second, nil, linkUp, send, false, unsettled},
				{5*time.Second + 100*time.Millisecond, nil, hbActNew, nil, false, unsettled},
				{6 * time.Second, []ServerHealth{up(5*time.Second + 500*time.Millisecond)}, hbActNew, takeove, true, settledF},
			}},
		{"the active backup keeps the VIPs while the active primary is unsettled, and re-announces when it yields", backup(), []gstep{
			{0, nil, start, send, false, settledF},
			{time.Second, nil, hbActNew, nil, false, 0},
			// The primary is cut off: the backup takes over.
			{6 * time.Second, nil, tick, takeove, true, 0},
			// Healed: the primary announces active but unsettled.
			{8 * time.Second, nil, hbActUns, nil, true, settledF},
			{8*time.Second + 300*time.Millisecond, nil, hbActUns, nil, true, 0},
			{8*time.Second + 600*time.Millisecond, nil, hbStbyNew, []Action{Reannounce}, true, 0},
			// Settled, the primary takes the VIPs back: the backup yields.
			{10 * time.Second, nil, hbActNew, release, false, 0},
		}},
		{"the active backup keeps the VIPs for a deadtime at most against an unsettled primary that does not yield", backup(), []gstep{
			{0, nil, start, send, false, 0},
			{6 * time.Second, nil, tick, takeove, true, 0},
			{7 * time.Second, nil, hbActUns, nil, true, 0},
			{9 * time.Second, nil, hbActUns, nil, true, 0},
			{12*time.Second - time.Millisecond, nil, hbActUns, nil, true, 0},
			{12 * time.Second, nil, hbActUns, release, false, 0},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runGate(t, NewMachine(tc.s), &gate{}, tc.steps)
		})
	}
}

func TestSettleBound(t *testing.T) {
	for _, tc := range []struct {
		interval, timeout time.Duration
		rise, fall        int
		want              time.Duration
	}{
		{time.Second, time.Second, 1, 1, 4 * time.Second},
		{time.Second, time.Second, 1, 2, 6 * time.Second},
		{5 * time.Second, 5 * time.Second, 1, 1, 20 * time.Second},
		{6 * time.Second, 3 * time.Second, 3, 0, 36 * time.Second},
		{time.Second, time.Second, 0, 0, 4 * time.Second},
	} {
		if got := SettleBound(tc.interval, tc.timeout, tc.rise, tc.fall); got != tc.want {
			t.Errorf("SettleBound(%s, %s, %d, %d) = %s, want %s", tc.interval, tc.timeout, tc.rise, tc.fall, got, tc.want)
		}
	}
}

// TestWakeSettleMax: a primary waiting for its checks is woken when
// SettleMax ends the wait, not a keepalive later.
func TestWakeSettleMax(t *testing.T) {
	s := gated()
	s.Preempt, s.Keepalive = true, 10*time.Second
	s.Deadtime = 20 * time.Second
	m := NewMachine(s)
	g := &gate{servers: []ServerHealth{{}}}
	m.Step(t0, Event{Kind: Start, Health: g.view})
	m.Step(t0.Add(time.Second), Event{Kind: Heartbeat, Peer: wire.Active, PeerFlags: wire.Defers, Health: g.view})
	if got, want := m.Wake(), t0.Add(s.SettleMax); !got.Equal(want) {
		t.Fatalf("wake = %v, want %v", got.Sub(t0), want.Sub(t0))
	}
}

// TestPairHealthGate runs a gated primary and a backup against each other
// through an instant link that a partition cuts off from the primary, whose
// real server its checks take out meanwhile and put back 3s after the
// heal: once it hears the backup (a keepalive at most) the primary no
// longer holds the VIPs while the real server is out, the backup keeps
// them meanwhile, and once the real server is back a preempting primary
// takes them; another stays standby, as any primary that came back.
func TestPairHealthGate(t *testing.T) {
	for _, preempt := range []bool{true, false} {
		t.Run(fmt.Sprintf("preempt=%v", preempt), func(t *testing.T) { pairHealthGate(t, preempt) })
	}
}

func pairHealthGate(t *testing.T, preempt bool) {
	ps := gated()
	ps.Preempt = preempt
	p, b := NewMachine(ps), NewMachine(backup())
	g := &gate{servers: []ServerHealth{up(0)}}
	now := t0
	cut := false
	deliver := func(from, to *Machine, acts []Action) {
		if cut {
			return
		}
		for _, a := range acts {
			if a == SendHeartbeat {
				st := wire.Standby
				if from.Active() {
					st = wire.Active
				}
				to.Step(now, Event{Kind: Heartbeat, Peer: st, PeerFlags: from.Flags(), Health: g.view})
			}
		}
	}
	deliver(p, b, p.Step(now, Event{Kind: Start, Health: g.view}))
	deliver(b, p, b.Step(now.Add(time.Millisecond), start))
	var both time.Duration
	run := func(d time.Duration, check func()) {
		end := now.Add(d)
		for now.Before(end) {
			now = now.Add(100 * time.Millisecond)
			deliver(p, b, p.Step(now, Event{Kind: Tick, Health: g.view}))
			deliver(b, p, b.Step(now, tick))
			if p.Active() && b.Active() {
				both += 100 * time.Millisecond
			}
			if check != nil {
				check()
			}
		}
	}
	run(10*time.Second, nil)
	if !p.Active() || b.Active() {
		t.Fatalf("cold start: primary %v backup %v", p.Active(), b.Active())
	}
	cut = true
	downAt := now.Add(2 * time.Second).Sub(t0)
	run(2*time.Second, nil)
	g.servers = []ServerHealth{down(downAt)}
	run(8*time.Second, nil)
	if !p.Active() || !b.Active() {
		t.Fatalf("partition: primary %v backup %v, want both", p.Active(), b.Active())
	}
	cut = false
	healed := now
	both = 0
	// The primary yields once it hears the backup, within a keepalive.
	run(ka+time.Second, func() {
		if p.Active() && now.Sub(healed) > ka+100*time.Millisecond {
			t.Fatalf("%v after the heal: the primary holds the VIPs with its real server out", now.Sub(healed))
		}
	})
	if p.Active() || !b.Active() {
		t.Fatalf("healed, checks unsettled: primary %v backup %v, want the backup alone", p.Active(), b.Active())
	}
	g.servers = []ServerHealth{up(now.Add(200 * time.Millisecond).Sub(t0))}
	run(2*time.Second, nil)
	if p.Active() != preempt || b.Active() == preempt {
		t.Fatalf("checks settled: primary %v backup %v, want the primary alone if it preempts, else the backup", p.Active(), b.Active())
	}
	if both > ka {
		t.Fatalf("both held the VIPs %v after the heal, more than a keepalive", both)
	}
}

// TestGateStatus follows the health gate through the partition of
// isolatedPrimary as pulse status shows it: settled, silent while the
// partner is unheard, waiting from the heal with the time it opens by
// itself, then settled by its bound; a node without checks has no gate.
func TestGateStatus(t *testing.T) {
	m, g := NewMachine(preempting()), &gate{}
	steps := isolatedPrimary()
	want := []struct {
		gate  string
		opens time.Duration // 0: none
	}{
		{GateSettled, 0}, {GateSettled, 0}, {GateSettled, 0}, {GateSettled, 0},
		{GateSilent, 0}, {GateSilent, 0},
		{GateWaiting, 14 * time.Second}, {GateWaiting, 14 * time.Second},
	}
	for i := range steps {
		runGate(t, m, g, steps[i:i+1])
		st := m.Status()
		var opens time.Time
		if want[i].opens != 0 {
			opens = t0.Add(want[i].opens)
		}
		if st.Gate != want[i].gate || !st.GateOpens.Equal(opens) {
			t.Fatalf("after step %d (%v at %v): gate %q opening %v, want %q opening %v", i, steps[i].ev, steps[i].at, st.Gate, st.GateOpens, want[i].gate, opens)
		}
	}
	runGate(t, m, g, []gstep{{12 * time.Second, []ServerHealth{down(4 * time.Second)}, hbActNew, nil, false, unsettled},
		{14 * time.Second, nil, tick, takeove, true, settledF}})
	if st := m.Status(); st.Gate != GateSettledLate || !st.GateOpens.IsZero() {
		t.Fatalf("past its bound: gate %q opening %v, want %q", st.Gate, st.GateOpens, GateSettledLate)
	}
	if st := NewMachine(primary()).Status(); st.Gate != "" {
		t.Fatalf("a primary without health checks shows gate %q", st.Gate)
	}
}

// TestRenderGate: pulse status prints the gate, and when a waiting one
// opens by itself.
func TestRenderGate(t *testing.T) {
	sf := StatusFile{Role: "primary", State: "standby", Reason: "partner active", LinkOK: true, Updated: t0,
		HealthGate: GateWaiting, HealthGateOpens: t0.Add(3 * time.Second)}
	var b strings.Builder
	sf.Render(&b, t0.Add(500*time.Millisecond))
	if !strings.Contains(b.String(), "Health gate:    waiting for its health checks to settle (opens by itself in 2.5s)\n") {
		t.Errorf("status:\n%s", b.String())
	}
	sf.HealthGate, sf.HealthGateOpens = "", time.Time{}
	b.Reset()
	sf.Render(&b, t0)
	if strings.Contains(b.String(), "Health gate") {
		t.Errorf("a node without a gate shows one:\n%s", b.String())
	}
}
