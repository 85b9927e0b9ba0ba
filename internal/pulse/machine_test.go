package pulse

import (
	"slices"
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
