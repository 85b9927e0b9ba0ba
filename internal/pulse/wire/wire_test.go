package wire

// No test here steps a clock: nothing in this package reads one. Epochs
// are random (NewEpoch) and freshness comes from the echo handshake, so a
// clock stepped on either node cannot change what is accepted.

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var key = bytes.Repeat([]byte("k"), 32)

func TestRoundTrip(t *testing.T) {
	p := Packet{State: Active, Role: Backup, Flags: Defers | 0x80, Epoch: 0x0123456789abcdef, Seq: 42, Echo: 0xfedcba9876543210}
	b := Encode(p, key)
	if b[7] != 0x82 {
		t.Fatalf("flags byte %#x, want 0x82", b[7])
	}
	if len(b) != Size || Size != 64 {
		t.Fatalf("len = %d, want %d = 64", len(b), Size)
	}
	if b[4] != 2 || Version != 2 {
		t.Fatalf("version byte %d", b[4])
	}
	if got := b[24:32]; !bytes.Equal(got, []byte{0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10}) {
		t.Fatalf("echo at 24-31 = % x", got)
	}
	got, err := Decode(b, key)
	if err != nil || got != p {
		t.Fatalf("Decode = %+v, %v; want %+v", got, err, p)
	}
}

func TestDecodeRefuses(t *testing.T) {
	good := Encode(Packet{State: Standby, Role: Primary, Epoch: 1, Seq: 1, Echo: 7}, key)
	flip := func(i int) []byte { b := bytes.Clone(good); b[i] ^= 1; return b }
	otherKey := bytes.Repeat([]byte("x"), 32)
	for _, tc := range []struct {
		name string
		b    []byte
		key  []byte
		want error
	}{
		{"short", good[:Size-1], key, ErrMalformed},
		{"long", append(bytes.Clone(good), 0), key, ErrMalformed},
		{"empty", nil, key, ErrMalformed},
		{"magic", flip(0), key, ErrMalformed},
		{"state bit", flip(5), key, ErrForged},
		{"seq bit", flip(23), key, ErrForged},
		{"echo bit", flip(31), key, ErrForged},
		{"mac bit", flip(Size - 1), key, ErrForged},
		{"other key", good, otherKey, ErrForged},
		{"good", good, key, nil},
		{"echo 0", Encode(Packet{State: Standby, Role: Primary, Epoch: 1, Seq: 1}, key), key, nil},
		{"bad state", Encode(Packet{State: 3, Role: Primary, Epoch: 1, Seq: 1}, key), key, ErrMalformed},
		{"bad role", Encode(Packet{State: Active, Role: 0, Epoch: 1, Seq: 1}, key), key, ErrMalformed},
		{"seq 0", Encode(Packet{State: Active, Role: Primary, Epoch: 1, Seq: 0}, key), key, ErrMalformed},
		{"epoch 0", Encode(Packet{State: Active, Role: Primary, Epoch: 0, Seq: 1}, key), key, ErrMalformed},
	} {
		_, err := Decode(tc.b, tc.key)
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
}

// encodeV1 is a heartbeat as lvsctl with packet version 1 sent it: no
// echo, the HMAC over bytes 0-23.
func encodeV1(p Packet) []byte {
	b := make([]byte, 24, v1Size)
	copy(b, magic[:])
	b[4] = 1
	b[5] = byte(p.State)
	b[6] = byte(p.Role)
	putUint64(b[8:], p.Epoch)
	putUint64(b[16:], p.Seq)
	return append(b, sign(b)...)
}

func putUint64(b []byte, v uint64) {
	for i := range 8 {
		b[i] = byte(v >> (56 - 8*i))
	}
}

func TestDecodeRefusesOtherVersion(t *testing.T) {
	// A heartbeat from an lvsctl of version 1, authentic under the key.
	v1 := encodeV1(Packet{State: Active, Role: Primary, Epoch: 1700000000123456789, Seq: 1})
	if len(v1) != 56 {
		t.Fatalf("v1 packet of %d bytes", len(v1))
	}
	_, err := Decode(v1, key)
	if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "version 1, this lvsctl speaks 2: the partner runs an older lvsctl") {
		t.Fatalf("v1: err = %v", err)
	}
	v := &Verifier{Key: key, Self: Backup, Epoch: NewEpoch()}
	if _, err := v.Check(v1); !errors.Is(err, ErrMalformed) || v.Counts.Malformed != 1 {
		t.Fatalf("v1 through a Verifier: %v %+v", err, v.Counts)
	}

	// A later version, of this version's size and re-signed, so that
	// only the version is wrong.
	b := Encode(Packet{State: Active, Role: Primary, Epoch: 1, Seq: 1}, key)
	b[4] = 3
	b = append(b[:headSize], sign(b[:headSize])...)
	if _, err := Decode(b, key); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "version 3") || !strings.Contains(err.Error(), "newer lvsctl") {
		t.Fatalf("v3: err = %v", err)
	}
}

func sign(head []byte) []byte {
	m := newMAC(key)
	m.Write(head)
	return m.Sum(nil)
}

func TestNewEpoch(t *testing.T) {
	seen := map[uint64]bool{}
	for range 1000 {
		e := NewEpoch()
		if e == 0 || seen[e] {
			t.Fatalf("epoch %d: zero or drawn twice", e)
		}
		seen[e] = true
	}
}

// A node is one run of a director's heartbeat code: a new epoch, its
// Sender echoing what its Verifier learned, as pulse's authCodec does.
type node struct {
	name string
	s    Sender
	v    Verifier
}

func newNode(name string, role Role) *node {
	e := NewEpoch()
	return &node{name: name, s: Sender{Role: role, Epoch: e, Key: key}, v: Verifier{Key: key, Self: role, Epoch: e}}
}

func (n *node) send(st State) []byte {
	n.s.Echo = n.v.Echo()
	return n.s.Next(st)
}

func (n *node) recv(b []byte) error {
	_, err := n.v.Check(b)
	return err
}

// round is one keepalive of a pair that both send at once: each sends,
// then each receives the other's packet (over two paths when dup). It
// returns what p and b made of the other's packet.
func round(p, b *node, dup bool) (fromP, fromB []byte, pErr, bErr error) {
	fromP, fromB = p.send(Standby), b.send(Standby)
	pErr, bErr = p.recv(fromB), b.recv(fromP)
	if dup {
		if err := p.recv(fromB); pErr == nil && !errors.Is(err, ErrDuplicate) {
			panic(fmt.Sprintf("second copy to %s: %v", p.name, err))
		}
		if err := b.recv(fromP); bErr == nil && !errors.Is(err, ErrDuplicate) {
			panic(fmt.Sprintf("second copy to %s: %v", b.name, err))
		}
	}
	return fromP, fromB, pErr, bErr
}

// confirm runs rounds until both accept, failing after max rounds, and
// returns how many it took.
func confirm(t *testing.T, p, b *node, max int) int {
	t.Helper()
	for i := 1; i <= max; i++ {
		_, _, pErr, bErr := round(p, b, true)
		if pErr == nil && bErr == nil {
			return i
		}
		for _, err := range []error{pErr, bErr} {
			if err != nil && !errors.Is(err, ErrUnconfirmed) {
				t.Fatalf("round %d: %v", i, err)
			}
		}
	}
	t.Fatalf("%s and %s did not confirm each other in %d keepalives", p.name, b.name, max)
	return 0
}

func TestHandshake(t *testing.T) {
	// Both start at once and send each keepalive: the first packets
	// echo nothing; the second ones echo the partner and are accepted.
	p, b := newNode("primary", Primary), newNode("backup", Backup)
	_, _, pErr, bErr := round(p, b, true)
	if !errors.Is(pErr, ErrUnconfirmed) || !errors.Is(bErr, ErrUnconfirmed) {
		t.Fatalf("first packets: %v, %v", pErr, bErr)
	}
	if n := confirm(t, p, b, 1); n != 1 {
		t.Fatalf("confirmed in %d more keepalives", n)
	}
	for i := range 100 {
		if _, _, pErr, bErr := round(p, b, true); pErr != nil || bErr != nil {
			t.Fatalf("keepalive %d: %v, %v", i, pErr, bErr)
		}
	}
	want := Counts{Accepted: 101, Unconfirmed: 2, Duplicate: 101}
	if p.v.Counts != want || b.v.Counts != want {
		t.Fatalf("counts %+v and %+v, want %+v", p.v.Counts, b.v.Counts, want)
	}
	if p.v.Confirmed() != b.s.Epoch || b.v.Confirmed() != p.s.Epoch {
		t.Fatal("confirmed epochs are not the partners'")
	}

	// One node starts first and sends alone: its partner accepts the
	// second packet it receives, its first reply is accepted in turn.
	p, b = newNode("primary", Primary), newNode("backup", Backup)
	if err := b.recv(p.send(Standby)); !errors.Is(err, ErrUnconfirmed) {
		t.Fatal(err)
	}
	if err := p.recv(b.send(Standby)); err != nil {
		t.Fatalf("the backup's first packet, echoing the primary: %v", err)
	}
	if err := b.recv(p.send(Active)); err != nil {
		t.Fatalf("the primary's second packet: %v", err)
	}
}

func TestVerifier(t *testing.T) {
	v := &Verifier{Key: key, Self: Primary, Epoch: 0x1111}
	s := &Sender{Role: Backup, Epoch: 100, Key: key, Echo: 0x1111}
	p1 := s.Next(Active)
	p2 := s.Next(Standby)
	if _, err := v.Check(p1); err != nil {
		t.Fatal(err)
	}
	// The same packet over the second heartbeat path.
	if _, err := v.Check(p1); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("second copy: %v", err)
	}
	got, err := v.Check(p2)
	if err != nil || got.Seq != 2 || got.State != Standby {
		t.Fatalf("p2: %+v %v", got, err)
	}
	if _, err := v.Check(p1); !errors.Is(err, ErrReplayed) {
		t.Fatalf("old seq: %v", err)
	}
	// A restarted peer: a new epoch, any value, from 1 again.
	s2 := &Sender{Role: Backup, Epoch: 50, Key: key}
	if _, err := v.Check(s2.Next(Standby)); !errors.Is(err, ErrUnconfirmed) {
		t.Fatalf("new epoch, no echo: %v", err)
	}
	s2.Echo = v.Echo()
	if s2.Echo != 100 {
		t.Fatalf("echo %d while 100 is confirmed", s2.Echo)
	}
	s2.Echo = 0x1111 // as after hearing this node
	if _, err := v.Check(s2.Next(Standby)); err != nil {
		t.Fatalf("new epoch, smaller than the old: %v", err)
	}
	if v.Echo() != 50 {
		t.Fatalf("echo %d after confirming 50", v.Echo())
	}
	// The old run's later packets are now replays, even echoing us.
	if _, err := v.Check(s.Next(Active)); !errors.Is(err, ErrReplayed) {
		t.Fatalf("old epoch: %v", err)
	}
	// Our own packets reflected back, even echoing our epoch.
	own := &Sender{Role: Primary, Epoch: 0x1111, Key: key, Echo: 0x1111}
	if _, err := v.Check(own.Next(Active)); !errors.Is(err, ErrReflected) {
		t.Fatalf("reflected: %v", err)
	}
	forged := (&Sender{Role: Backup, Epoch: 400, Key: bytes.Repeat([]byte("z"), 32), Echo: 0x1111}).Next(Active)
	if _, err := v.Check(forged); !errors.Is(err, ErrForged) {
		t.Fatalf("forged: %v", err)
	}
	if _, err := v.Check([]byte("junk")); !errors.Is(err, ErrMalformed) {
		t.Fatalf("junk: %v", err)
	}
	want := Counts{Accepted: 3, Replayed: 2, Duplicate: 1, Reflected: 1, Forged: 1, Malformed: 1, Unconfirmed: 1}
	if v.Counts != want {
		t.Fatalf("counts = %+v, want %+v", v.Counts, want)
	}
}

func TestVerifierWithoutEpochAcceptsNothing(t *testing.T) {
	// A Verifier not given its node's epoch confirms nobody, even a
	// sender that echoes nothing.
	v := &Verifier{Key: key, Self: Primary}
	s := &Sender{Role: Backup, Epoch: 100, Key: key}
	for range 3 {
		if _, err := v.Check(s.Next(Active)); !errors.Is(err, ErrUnconfirmed) {
			t.Fatal(err)
		}
	}
}

func TestPartnerRestarts(t *testing.T) {
	p, b := newNode("primary", Primary), newNode("backup", Backup)
	confirm(t, p, b, 2)
	var recorded [][]byte // what the backup's first run sent
	for range 10 {
		_, fromB, _, _ := round(p, b, true)
		recorded = append(recorded, fromB)
	}

	// The backup restarts: the primary accepts its second packet, and
	// the backup the primary's packet that follows.
	b2 := newNode("backup restarted", Backup)
	_, _, pErr, bErr := round(p, b2, true)
	if !errors.Is(pErr, ErrUnconfirmed) || !errors.Is(bErr, ErrUnconfirmed) {
		t.Fatalf("first keepalive after the restart: %v, %v", pErr, bErr)
	}
	_, _, pErr, bErr = round(p, b2, true)
	if pErr != nil {
		t.Fatalf("the restarted backup's second packet: %v", pErr)
	}
	if !errors.Is(bErr, ErrUnconfirmed) {
		t.Fatalf("the primary's packet sent before it confirmed: %v", bErr)
	}
	if _, _, pErr, bErr = round(p, b2, true); pErr != nil || bErr != nil {
		t.Fatalf("third keepalive: %v, %v", pErr, bErr)
	}
	// The first run's packets are replays now, forever.
	for _, r := range recorded {
		if err := p.recv(r); !errors.Is(err, ErrReplayed) {
			t.Fatalf("the first run's packet: %v", err)
		}
	}
	if _, _, pErr, bErr = round(p, b2, true); pErr != nil || bErr != nil {
		t.Fatalf("after the replays: %v, %v", pErr, bErr)
	}

	// The primary restarts, and the same holds the other way: its
	// second packet is accepted, and the backup's next one, its third
	// keepalive since the restart.
	p2 := newNode("primary restarted", Primary)
	if n := confirm(t, p2, b2, 3); n != 3 {
		t.Fatalf("re-confirmed in %d keepalives", n)
	}
}

func TestBothRestart(t *testing.T) {
	p, b := newNode("primary", Primary), newNode("backup", Backup)
	confirm(t, p, b, 2)
	var old [][]byte
	for range 5 {
		fromP, fromB, _, _ := round(p, b, true)
		old = append(old, fromP, fromB)
	}
	p2, b2 := newNode("primary restarted", Primary), newNode("backup restarted", Backup)
	// Replays of both first runs, to both, before and while they start.
	for _, o := range old {
		for _, n := range []*node{p2, b2} {
			if err := n.recv(o); err == nil || !errors.Is(err, ErrReflected) && !errors.Is(err, ErrUnconfirmed) {
				t.Fatalf("%s took an old packet: %v", n.name, err)
			}
		}
	}
	if n := confirm(t, p2, b2, 3); n > 3 {
		t.Fatalf("confirmed in %d keepalives", n)
	}
	if p2.v.Confirmed() != b2.s.Epoch || b2.v.Confirmed() != p2.s.Epoch {
		t.Fatal("confirmed an old run")
	}
}

// record runs a pair for a while and returns what each sent, the
// unconfirmed first packets included.
func record(t *testing.T, p, b *node, keepalives int) (fromP, fromB [][]byte) {
	t.Helper()
	for range keepalives {
		pp, bb, _, _ := round(p, b, false)
		fromP, fromB = append(fromP, pp), append(fromB, bb)
	}
	if p.v.Confirmed() == 0 || b.v.Confirmed() == 0 {
		t.Fatal("the recorded pair did not confirm")
	}
	return fromP, fromB
}

func TestReplayToRestartedNodeWhilePartnerDead(t *testing.T) {
	// An attacker recorded three runs of the backup, each with a run of
	// the primary, then the primary restarts and the backup dies.
	var fromB, fromP [][]byte
	for range 3 {
		pp, bb := record(t, newNode("primary", Primary), newNode("backup", Backup), 50)
		fromP, fromB = append(fromP, pp...), append(fromB, bb...)
	}
	victim := newNode("primary restarted", Primary)
	// A long flood, first in the recorded order, then shuffled, with the
	// victim sending its heartbeats (echoing what it learned) meanwhile.
	for i := range 20000 {
		b := fromB[(i*7919)%len(fromB)]
		if i < len(fromB) {
			b = fromB[i]
		}
		err := victim.recv(b)
		if err == nil {
			t.Fatalf("packet %d of the flood accepted", i)
		}
		if !errors.Is(err, ErrUnconfirmed) && !errors.Is(err, ErrReplayed) {
			t.Fatalf("packet %d: %v", i, err)
		}
		if i%100 == 0 {
			victim.send(Standby)
		}
	}
	// The primary's own old packets, reflected at it.
	for _, p := range fromP {
		if err := victim.recv(p); !errors.Is(err, ErrReflected) {
			t.Fatalf("an old packet of the primary: %v", err)
		}
	}
	if c := victim.v.Counts; c.Accepted != 0 || victim.v.Confirmed() != 0 {
		t.Fatalf("the victim accepted replays: %+v", c)
	}
	// The backup comes back: the flood left nothing in the way, beyond
	// a keepalive for each recorded run whose epoch the victim echoes.
	if n := confirm(t, victim, newNode("backup restarted", Backup), 8); n > 6 {
		t.Fatalf("confirmed in %d keepalives", n)
	}
}

func TestReplayToRunningNodeWhilePartnerDead(t *testing.T) {
	// The victim did not restart: the dead partner's packets of this
	// run, and of its earlier runs, are replays.
	p, b := newNode("primary", Primary), newNode("backup", Backup)
	_, first := record(t, p, b, 20)
	b2 := newNode("backup restarted", Backup)
	confirm(t, p, b2, 3)
	_, second := record(t, p, b2, 20)
	// b2 dies.
	for i := range 10000 {
		var r []byte
		if i%2 == 0 {
			r = first[i/2%len(first)]
		} else {
			r = second[i/2%len(second)]
		}
		if err := p.recv(r); err == nil {
			t.Fatalf("replay %d accepted", i)
		}
	}
}

func TestReplaysInterleavedWithLivePartner(t *testing.T) {
	// Recordings of five earlier runs of each node.
	var oldB, oldP [][]byte
	for range 5 {
		pp, bb := record(t, newNode("primary", Primary), newNode("backup", Backup), 20)
		oldP, oldB = append(oldP, pp...), append(oldB, bb...)
	}
	flood := func(n *node, old [][]byte, i int) {
		// Old packets, each of a different run, after the live one
		// and just before the node sends: the worst place.
		for j := range 5 {
			if err := n.recv(old[(i+j*20)%len(old)]); err == nil {
				t.Fatalf("%s accepted an old packet", n.name)
			}
		}
	}
	// Both start under the flood.
	p, b := newNode("primary", Primary), newNode("backup", Backup)
	keepalive := func(i int) (pErr, bErr error) {
		fromP, fromB := p.send(Standby), b.send(Standby)
		pErr, bErr = p.recv(fromB), b.recv(fromP)
		flood(p, oldB, i)
		flood(b, oldP, i)
		return pErr, bErr
	}
	confirmed := -1
	for i := range 20 {
		if pErr, bErr := keepalive(i); pErr == nil && bErr == nil {
			confirmed = i
			break
		}
	}
	// The live partner's epoch is echoed within as many packets as
	// there are epochs heard: five old ones and the live one.
	if confirmed < 0 || confirmed > 7 {
		t.Fatalf("confirmed at keepalive %d under the flood", confirmed)
	}
	t.Logf("confirmed at keepalive %d", confirmed)
	// Once confirmed, the flood cannot disturb them.
	for i := range 200 {
		if pErr, bErr := keepalive(i); pErr != nil || bErr != nil {
			t.Fatalf("keepalive %d after confirming: %v, %v", i, pErr, bErr)
		}
	}
	// The backup restarts under the flood: the pair re-confirms.
	b = newNode("backup restarted", Backup)
	confirmed = -1
	for i := range 20 {
		if pErr, bErr := keepalive(i); pErr == nil && bErr == nil {
			confirmed = i
			break
		}
	}
	if confirmed < 0 || confirmed > 8 {
		t.Fatalf("re-confirmed at keepalive %d under the flood", confirmed)
	}
	for i := range 200 {
		if pErr, bErr := keepalive(i); pErr != nil || bErr != nil {
			t.Fatalf("keepalive %d after re-confirming: %v, %v", i, pErr, bErr)
		}
	}
}

func TestRetiredEpochs(t *testing.T) {
	// The backup restarts maxRetired times during one run of the
	// primary: every earlier run's packets stay replays.
	p := newNode("primary", Primary)
	var runs [][][]byte
	for range maxRetired + 1 {
		b := newNode("backup", Backup)
		confirm(t, p, b, 3)
		_, bb := record(t, p, b, 3)
		runs = append(runs, bb)
	}
	for i, run := range runs[:maxRetired] {
		for _, r := range run {
			if err := p.recv(r); !errors.Is(err, ErrReplayed) {
				t.Fatalf("run %d: %v", i, err)
			}
		}
	}
	if p.v.Confirmed() == 0 {
		t.Fatal("lost the live run")
	}
}

func TestReflected(t *testing.T) {
	p, b := newNode("primary", Primary), newNode("backup", Backup)
	confirm(t, p, b, 2)
	own := p.send(Active)
	if err := p.recv(own); !errors.Is(err, ErrReflected) {
		t.Fatalf("own packet: %v", err)
	}
	// Even when it echoes the node's own epoch.
	s := Sender{Role: Primary, Epoch: p.s.Epoch, Key: key, Echo: p.s.Epoch}
	if err := p.recv(s.Next(Active)); !errors.Is(err, ErrReflected) {
		t.Fatalf("own epoch echoed: %v", err)
	}
	if p.v.Counts.Reflected != 2 {
		t.Fatalf("counts %+v", p.v.Counts)
	}
}

func TestPiranha(t *testing.T) {
	// The bytes piranha's pulse sends on x86.
	if got := EncodePiranha(Active); !bytes.Equal(got, []byte{0xda, 0xdb, 0xad, 0xbd}) {
		t.Fatalf("RUNNING = % x", got)
	}
	if got := EncodePiranha(Standby); !bytes.Equal(got, []byte{0xbd, 0xda, 0xbd, 0xad}) {
		t.Fatalf("STOPPED = % x", got)
	}
	for _, s := range []State{Active, Standby} {
		if got, err := DecodePiranha(EncodePiranha(s)); err != nil || got != s {
			t.Fatalf("%v: %v %v", s, got, err)
		}
	}
	for _, b := range [][]byte{nil, {1, 2, 3}, {0xbd, 0xad, 0xdb, 0xda}, {0xef, 0xbe, 0xad, 0xde}, EncodePiranha(Active)[:3]} {
		if _, err := DecodePiranha(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("% x: err = %v", b, err)
		}
	}
}

func TestLoadKey(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good", key, 0o600)
	if k, err := LoadKey(good); err != nil || !bytes.Equal(k, key) {
		t.Fatalf("good: %q %v", k, err)
	}
	long := bytes.Repeat([]byte{7}, 5000)
	if k, err := LoadKey(write("long", long, 0o400)); err != nil || !bytes.Equal(k, long) {
		t.Fatalf("long: %d %v", len(k), err)
	}
	for _, tc := range []struct{ path, want string }{
		{filepath.Join(dir, "missing"), "does not exist: make one on the first director with: install -m 0600 /dev/null"},
		{write("group", key, 0o640), "mode 0640, open to group or others: run chmod 0600"},
		{write("world", key, 0o604), "mode 0604"},
		{write("short", key[:31], 0o600), "holds 31 bytes, fewer than 32: make one"},
		{write("empty", nil, 0o600), "holds 0 bytes"},
		{dir, "is not a regular file"},
	} {
		_, err := LoadKey(tc.path)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to contain %q", tc.path, err, tc.want)
		}
	}
	_, err := LoadKey(filepath.Join(dir, "missing"))
	if !strings.Contains(err.Error(), "head -c 32 /dev/urandom > "+filepath.Join(dir, "missing")) {
		t.Errorf("help does not name the path: %v", err)
	}
}

// TestFlagsAuthenticated: the flags byte is under the HMAC, so flipping a
// bit in transit makes the packet a forgery; an older sender's 0 reads as
// no flag.
func TestFlagsAuthenticated(t *testing.T) {
	b := Encode(Packet{State: Active, Role: Primary, Flags: Unsettled, Epoch: 1, Seq: 1, Echo: 2}, key)
	b[7] &^= byte(Unsettled)
	if _, err := Decode(b, key); !errors.Is(err, ErrForged) {
		t.Fatalf("flags changed in transit: err %v, want ErrForged", err)
	}
	old := Encode(Packet{State: Active, Role: Primary, Epoch: 1, Seq: 1, Echo: 2}, key)
	p, err := Decode(old, key)
	if err != nil || p.Flags != 0 || p.Flags.Has(Unsettled) || p.Flags.Has(Defers) {
		t.Fatalf("an older sender's packet: %+v, %v", p, err)
	}
	if got := (Unsettled | Defers | 0x40).String(); got != "unsettled,defers,0x40" {
		t.Fatalf("String = %q", got)
	}
}

func FuzzDecode(f *testing.F) {
	// More seeds in testdata/fuzz/FuzzDecode.
	f.Add(Encode(Packet{State: Active, Role: Primary, Epoch: 1, Seq: 1, Echo: 2}, key))
	f.Add(encodeV1(Packet{State: Active, Role: Primary, Epoch: 1, Seq: 1}))
	f.Add([]byte("LVSP"))
	f.Add(EncodePiranha(Active))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Decode(b, key)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrForged) {
				t.Fatalf("unclassified error %v", err)
			}
		} else {
			if p.Epoch == 0 || p.Seq == 0 {
				t.Fatalf("decoded %+v", p)
			}
			// Whatever decodes re-encodes to the same bytes, the
			// flags' unknown bits included.
			again := Encode(p, key)
			if !bytes.Equal(again, b) {
				t.Fatalf("re-encoding differs:\n% x\n% x", again, b)
			}
		}
		// A Verifier never accepts a packet that does not echo its
		// epoch, whatever the bytes.
		v := &Verifier{Key: key, Self: Backup, Epoch: 2}
		if q, err := v.Check(b); err == nil && q.Echo != 2 {
			t.Fatalf("accepted %+v", q)
		}
		_, _ = DecodePiranha(b)
	})
}

// FuzzVerifier feeds a Verifier a sequence of authentic packets built
// from the input (each 3 bytes: epoch, sequence and echo, from small sets
// so that they collide) and checks what it accepts.
func FuzzVerifier(f *testing.F) {
	f.Add([]byte{0, 1, 0, 0, 1, 1, 0, 2, 1, 1, 1, 1, 1, 2, 1, 0, 3, 1})
	f.Add([]byte{2, 1, 0, 2, 1, 1, 2, 2, 1, 2, 2, 1, 3, 1, 1, 2, 3, 1})
	f.Fuzz(func(t *testing.T, in []byte) {
		const self = 0xabcdef
		v := &Verifier{Key: key, Self: Primary, Epoch: self}
		type run struct{ epoch, seq uint64 }
		var last run
		retired := map[uint64]bool{}
		nConfirmed := 0
		for i := 0; i+3 <= len(in); i += 3 {
			epoch := uint64(in[i]%8) + 1
			seq := uint64(in[i+1]%16) + 1
			echo := uint64(0)
			switch in[i+2] % 3 {
			case 1:
				echo = self
			case 2:
				echo = epoch + 100
			}
			b := Encode(Packet{State: Active, Role: Backup, Epoch: epoch, Seq: seq, Echo: echo}, key)
			before := v.Counts
			_, err := v.Check(b)
			if err != nil {
				continue
			}
			if echo != self {
				t.Fatalf("accepted %d/%d echoing %d", epoch, seq, echo)
			}
			if retired[epoch] {
				t.Fatalf("accepted retired epoch %d", epoch)
			}
			if epoch == last.epoch && seq <= last.seq {
				t.Fatalf("accepted %d/%d after %d/%d", epoch, seq, last.epoch, last.seq)
			}
			if epoch != last.epoch {
				if last.epoch != 0 {
					retired[last.epoch] = true
				}
				nConfirmed++
			}
			last = run{epoch, seq}
			if v.Counts.Accepted != before.Accepted+1 || v.Confirmed() != epoch || v.Echo() != epoch {
				t.Fatalf("after accepting %d/%d: %+v, confirmed %d", epoch, seq, v.Counts, v.Confirmed())
			}
		}
		// With at most 8 epochs, none is retired out of the window.
		if nConfirmed > maxRetired {
			t.Fatalf("%d epochs confirmed", nConfirmed)
		}
	})
}
