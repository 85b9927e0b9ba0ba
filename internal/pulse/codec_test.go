package pulse

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/internal/pulse/wire"
)

// The authenticated codec reads no clock (epochs are random, freshness
// comes from the echo handshake), so no test of it steps one: a clock
// stepped on either director cannot change what it accepts.

var codecKey = bytes.Repeat([]byte{9}, 32)

// exchange is one keepalive of two codecs that send at once; it returns
// what each made of the other's heartbeat.
func exchange(p, b Codec) (pErr, bErr error) {
	fromP, fromB := p.Encode(wire.Standby, 0), b.Encode(wire.Standby, 0)
	_, _, pErr = p.Decode(fromB)
	_, _, bErr = b.Decode(fromP)
	return pErr, bErr
}

func TestAuthCodecHandshake(t *testing.T) {
	p, b := NewAuthCodec(wire.Primary, codecKey), NewAuthCodec(wire.Backup, codecKey)
	// The first heartbeats echo nothing; from the second on, all pass.
	if pErr, bErr := exchange(p, b); !errors.Is(pErr, wire.ErrUnconfirmed) || !errors.Is(bErr, wire.ErrUnconfirmed) {
		t.Fatalf("first keepalive: %v, %v", pErr, bErr)
	}
	var recorded [][]byte // the backup's first run, as an attacker saw it
	for i := range 50 {
		fromB := b.Encode(wire.Active, 0)
		recorded = append(recorded, fromB)
		if _, _, err := p.Decode(fromB); err != nil {
			t.Fatalf("keepalive %d: %v", i, err)
		}
		if _, _, err := b.Decode(p.Encode(wire.Standby, 0)); err != nil {
			t.Fatalf("keepalive %d: %v", i, err)
		}
	}

	// The backup restarts: the pair confirms again by the third
	// keepalive, the primary accepting the backup's second heartbeat.
	b = NewAuthCodec(wire.Backup, codecKey)
	pErr, _ := exchange(p, b)
	if !errors.Is(pErr, wire.ErrUnconfirmed) {
		t.Fatalf("the restarted backup's first heartbeat: %v", pErr)
	}
	if pErr, _ := exchange(p, b); pErr != nil {
		t.Fatalf("the restarted backup's second heartbeat: %v", pErr)
	}
	if pErr, bErr := exchange(p, b); pErr != nil || bErr != nil {
		t.Fatalf("third keepalive: %v, %v", pErr, bErr)
	}
	// Its first run's heartbeats are replays now.
	for _, r := range recorded {
		if _, _, err := p.Decode(r); !errors.Is(err, wire.ErrReplayed) {
			t.Fatalf("the backup's first run: %v", err)
		}
	}

	// The primary restarts while the backup is dead: a flood of the
	// backup's first run, which announces it active, is never accepted
	// and the primary would take over.
	p = NewAuthCodec(wire.Primary, codecKey)
	for i := range 10000 {
		if _, _, err := p.Decode(recorded[i%len(recorded)]); err == nil {
			t.Fatalf("replay %d accepted by the restarted primary", i)
		}
		if i%100 == 0 {
			p.Encode(wire.Standby, 0)
		}
	}
	if c := p.Counts(); c.Accepted != 0 || c.Unconfirmed != 10000 {
		t.Fatalf("counts %+v", c)
	}
	// The primary's own heartbeats reflected at it.
	if _, _, err := p.Decode(p.Encode(wire.Active, 0)); !errors.Is(err, wire.ErrReflected) {
		t.Fatalf("reflected: %v", err)
	}
}

// fakeClock is a clock that tests move.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time      { return c.t }
func (c *fakeClock) add(d time.Duration) { c.t = c.t.Add(d) }

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func piranhaPeer(s wire.State) []byte { return wire.EncodePiranha(s) }

// machineAt is a started Machine.
func machineAt(c *fakeClock, s Settings) *Machine {
	m := NewMachine(s)
	m.Step(c.now(), Event{Kind: Start})
	return m
}

func TestPiranhaCodecFlood(t *testing.T) {
	const keepalive = 2 * time.Second // piranha's default
	clock := newFakeClock()
	c := NewPiranhaCodec(keepalive, 1, clock.now)
	m := machineAt(clock, Settings{Role: wire.Backup, Keepalive: keepalive, Deadtime: 5 * time.Second})
	feed := func(b []byte) error {
		st, _, err := c.Decode(b)
		if err == nil {
			m.Step(clock.now(), Event{Kind: Heartbeat, Peer: st})
		}
		return err
	}
	// The primary is standby, heard every keepalive.
	for range 5 {
		clock.add(keepalive)
		if err := feed(piranhaPeer(wire.Standby)); err != nil {
			t.Fatal(err)
		}
	}
	if m.Status().Peer != wire.Standby {
		t.Fatalf("peer %v", m.Status().Peer)
	}

	// 10,000 spoofed "active" heartbeats within one second.
	accepted, changes, peer := 0, 0, m.Status().Peer
	for range 10000 {
		clock.add(100 * time.Microsecond)
		err := feed(piranhaPeer(wire.Active))
		switch {
		case err == nil:
			accepted++
		case !errors.Is(err, wire.ErrRateLimited):
			t.Fatal(err)
		}
		if now := m.Status().Peer; now != peer {
			changes, peer = changes+1, now
		}
	}
	if accepted > 6 || changes > 1 {
		t.Fatalf("the flood: %d heartbeats accepted, %d changes of the peer's state", accepted, changes)
	}
	if got := c.Counts(); got.Accepted != uint64(5+accepted) || got.RateLimited != uint64(10000-accepted) {
		t.Fatalf("counts %+v", got)
	}
	t.Logf("flood: %d accepted, %d changes", accepted, changes)

	// A flood that alternates the states, after the bucket refilled,
	// changes nothing: no state is announced twice in a row.
	clock.add(10 * keepalive)
	before := m.Status().Peer
	for i := range 10000 {
		clock.add(100 * time.Microsecond)
		st := wire.Active + wire.Standby - before // the other state first
		if i%2 == 1 {
			st = before
		}
		_ = feed(piranhaPeer(st))
		if m.Status().Peer != before {
			t.Fatalf("an alternating flood changed the peer to %v at packet %d", m.Status().Peer, i)
		}
	}
}

func TestPiranhaCodecNormalPeer(t *testing.T) {
	const keepalive = 100 * time.Millisecond
	for _, paths := range []int{1, 2} {
		clock := newFakeClock()
		c := NewPiranhaCodec(keepalive, paths, clock.now)
		state := wire.Standby
		var reported []wire.State
		for i := range 2000 {
			// A partner a little fast, and jittery.
			clock.add(keepalive*95/100 + time.Duration(i%7)*time.Millisecond)
			extra := 0
			if i%100 == 50 {
				// It changes state: a heartbeat at once, then the
				// periodic one.
				state = wire.Active + wire.Standby - state
				extra = 1
			}
			for range 1 + extra {
				for range paths {
					st, _, err := c.Decode(piranhaPeer(state))
					if err != nil {
						t.Fatalf("%d paths, heartbeat %d: %v", paths, i, err)
					}
					if len(reported) == 0 || reported[len(reported)-1] != st {
						reported = append(reported, st)
					}
				}
			}
			if i%100 == 51 && reported[len(reported)-1] != state {
				t.Fatalf("%d paths, heartbeat %d: change to %v not reported", paths, i, state)
			}
		}
		if got := c.Counts(); got.RateLimited != 0 || got.Malformed != 0 {
			t.Fatalf("%d paths: counts %+v", paths, got)
		}
		if len(reported) != 21 {
			t.Fatalf("%d paths: %d states reported, want 21", paths, len(reported))
		}
	}
}

func TestPiranhaCodecConfirmsChanges(t *testing.T) {
	clock := newFakeClock()
	c := NewPiranhaCodec(time.Second, 1, clock.now)
	for i, tc := range []struct{ in, want wire.State }{
		{wire.Standby, wire.Standby}, // the first is reported as it is
		{wire.Active, wire.Standby},  // a change, once: not yet
		{wire.Standby, wire.Standby},
		{wire.Active, wire.Standby},
		{wire.Active, wire.Active}, // twice in a row
		{wire.Standby, wire.Active},
		{wire.Active, wire.Active},
	} {
		clock.add(time.Second)
		if got, _, err := c.Decode(piranhaPeer(tc.in)); err != nil || got != tc.want {
			t.Fatalf("heartbeat %d (%v): %v %v, want %v", i, tc.in, got, err, tc.want)
		}
	}
	// Malformed ones neither count as heartbeats nor take tokens.
	for range 100 {
		if _, _, err := c.Decode([]byte{1, 2, 3, 4}); !errors.Is(err, wire.ErrMalformed) {
			t.Fatal(err)
		}
	}
	// A clock stepped back refills nothing, and does not break the
	// bucket: the three tokens left of the burst, then nothing until the
	// clock is past where it was.
	clock.add(10 * time.Second)
	if _, _, err := c.Decode(piranhaPeer(wire.Active)); err != nil {
		t.Fatal(err)
	}
	clock.add(-time.Hour)
	for i := range 3 {
		if _, _, err := c.Decode(piranhaPeer(wire.Active)); err != nil {
			t.Fatalf("burst %d: %v", i, err)
		}
	}
	if _, _, err := c.Decode(piranhaPeer(wire.Active)); !errors.Is(err, wire.ErrRateLimited) {
		t.Fatalf("over the burst: %v", err)
	}
	clock.add(time.Hour + time.Second)
	if _, _, err := c.Decode(piranhaPeer(wire.Active)); err != nil {
		t.Fatalf("after the clock caught up: %v", err)
	}
	if got := c.Counts(); got.Malformed != 100 || got.RateLimited != 1 || got.Accepted != 12 {
		t.Fatalf("counts %+v", got)
	}
}

// TestCodecFlags: the authenticated codec carries the machine's flags both
// ways; piranha's format has none, so a piranha partner never defers.
func TestCodecFlags(t *testing.T) {
	p, b := NewAuthCodec(wire.Primary, codecKey), NewAuthCodec(wire.Backup, codecKey)
	exchange(p, b)
	exchange(p, b)
	st, f, err := b.Decode(p.Encode(wire.Active, wire.Unsettled|wire.Defers))
	if err != nil || st != wire.Active || f != wire.Unsettled|wire.Defers {
		t.Fatalf("primary's heartbeat: %v %v %v", st, f, err)
	}
	if _, f, err := p.Decode(b.Encode(wire.Active, wire.Defers)); err != nil || f != wire.Defers {
		t.Fatalf("backup's heartbeat: flags %v, %v", f, err)
	}
	c := NewPiranhaCodec(time.Second, 1, time.Now)
	if got := c.Encode(wire.Active, wire.Unsettled|wire.Defers); !bytes.Equal(got, wire.EncodePiranha(wire.Active)) {
		t.Fatalf("piranha heartbeat with flags: % x", got)
	}
	if _, f, err := c.Decode(wire.EncodePiranha(wire.Active)); err != nil || f != 0 {
		t.Fatalf("piranha heartbeat: flags %v, %v", f, err)
	}
}
