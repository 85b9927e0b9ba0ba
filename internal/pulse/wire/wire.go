// Package wire is the heartbeat packet format of lvsctl pulse: versioned,
// sequenced packets authenticated with HMAC-SHA256 over a shared key, and,
// only when asked for, piranha's unauthenticated 4-byte heartbeats.
//
// A packet (all integers big-endian):
//
//	offset size
//	0      4    magic "LVSP"
//	4      1    version (2)
//	5      1    state: 1 active, 2 standby
//	6      1    sender's role: 1 primary, 2 backup
//	7      1    flags (Flags; a receiver ignores bits it does not know)
//	8      8    epoch: 64 random bits drawn by the sender at its start
//	16     8    sequence number, from 1, per epoch
//	24     8    echo: the receiver's epoch, as the sender last learned it
//	              from the receiver's heartbeats (0: none yet)
//	32     32   HMAC-SHA256 of bytes 0-31 under the shared key
//
// The sender's role is authenticated so that a packet reflected back at its
// sender is refused. The epoch, sequence and echo let the receiver refuse
// replays without a clock and without state kept across restarts: a node
// counts a heartbeat as its partner's only when the packet echoes the
// node's own epoch, which is new at each start, so that nothing recorded
// before the node started can pass (see Verifier). Version 1 packets
// (epoch from the sender's clock, no echo) are refused.
package wire

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"strings"
)

// Version is the packet version this package writes and reads.
const Version = 2

// headSize is the length of the fields the HMAC covers.
const headSize = 32

// Size is the length of an authenticated packet.
const Size = headSize + sha256.Size

// v1Size is the length of a version 1 packet (no echo field).
const v1Size = 24 + sha256.Size

var magic = [4]byte{'L', 'V', 'S', 'P'}

// NewEpoch returns a new epoch for a run of this node: 64 random bits,
// never 0. No clock is read, so a node whose clock is stepped back, or a
// partner whose clock is behind, is not mistaken for a replay.
func NewEpoch() uint64 {
	var b [8]byte
	for {
		// crypto/rand.Read never fails (it aborts the program if the
		// kernel's generator cannot be read).
		_, _ = rand.Read(b[:])
		if e := binary.BigEndian.Uint64(b[:]); e != 0 {
			return e
		}
	}
}

// State is what the sender says it is doing.
type State uint8

// States.
const (
	Active  State = 1
	Standby State = 2
)

func (s State) String() string {
	switch s {
	case Active:
		return "active"
	case Standby:
		return "standby"
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// Role is the sender's place in the pair.
type Role uint8

// Roles.
const (
	Primary Role = 1
	Backup  Role = 2
)

func (r Role) String() string {
	switch r {
	case Primary:
		return "primary"
	case Backup:
		return "backup"
	}
	return fmt.Sprintf("role(%d)", uint8(r))
}

// Peer returns the other role of the pair.
func (r Role) Peer() Role {
	if r == Primary {
		return Backup
	}
	return Primary
}

// Flags are the sender's hints about its state, in byte 7. They are
// authenticated with the rest; a receiver ignores the bits it does not
// know, and an lvsctl that predates them sends 0, so a pair of mixed
// versions interoperates: a bit means something only when the receiver
// knows it and the sender set it.
type Flags uint8

// The flags.
const (
	// Unsettled: the sender's health checks have not settled since it
	// started or heard its partner again after a silence (real servers
	// not probed since, or a rise or fall under way), so its table may
	// lack real servers that serve. A primary sets it while it defers
	// taking the VIPs from an active backup.
	Unsettled Flags = 1 << 0
	// Defers: the sender knows Unsettled. As the active backup it keeps
	// the VIPs while the active primary announces Unsettled, rather than
	// yielding to it; a primary yields a split brain to a backup only
	// when the backup sets it, since an older backup would yield too.
	Defers Flags = 1 << 1
)

// Has reports whether every bit of g is set in f.
func (f Flags) Has(g Flags) bool { return f&g == g }

func (f Flags) String() string {
	var s []string
	for _, b := range []struct {
		f    Flags
		name string
	}{{Unsettled, "unsettled"}, {Defers, "defers"}} {
		if f.Has(b.f) {
			s = append(s, b.name)
			f &^= b.f
		}
	}
	if f != 0 {
		s = append(s, fmt.Sprintf("0x%02x", uint8(f)))
	}
	return strings.Join(s, ",")
}

// A Packet is one heartbeat.
type Packet struct {
	State State
	Role  Role
	// Flags are kept as received, unknown bits included.
	Flags Flags
	// Epoch identifies the sender's run: random, drawn at its start
	// (NewEpoch), never 0.
	Epoch uint64
	// Seq counts the sender's packets within Epoch, from 1.
	Seq uint64
	// Echo is the receiver's epoch as the sender last learned it from
	// the receiver's heartbeats; 0 when it has learned none yet.
	Echo uint64
}

// Errors of Decode and Verifier.Check, for counting.
var (
	ErrMalformed = errors.New("malformed heartbeat")
	ErrForged    = errors.New("heartbeat with a bad HMAC (wrong key, or forged)")
	ErrReplayed  = errors.New("replayed heartbeat (from an earlier run of the partner, or not newer than the last accepted)")
	ErrReflected = errors.New("heartbeat claiming this node's own role (reflected, or both nodes have the same role)")
	// ErrDuplicate is the last accepted heartbeat again: the copy that
	// came over the second heartbeat path. It is counted, not logged.
	ErrDuplicate = errors.New("duplicate heartbeat (the last accepted one, over the other path)")
	// ErrUnconfirmed is an authentic heartbeat that does not echo this
	// node's epoch: from a partner that has not heard this run of the
	// node yet (one or two packets after either starts), or recorded
	// earlier and replayed. It does not count as the partner alive.
	ErrUnconfirmed = errors.New("heartbeat not yet confirmed: it does not echo this node's epoch (the partner just started, or a replay)")
)

// Encode returns p authenticated with key.
func Encode(p Packet, key []byte) []byte {
	b := make([]byte, Size)
	copy(b, magic[:])
	b[4] = Version
	b[5] = byte(p.State)
	b[6] = byte(p.Role)
	b[7] = byte(p.Flags)
	binary.BigEndian.PutUint64(b[8:], p.Epoch)
	binary.BigEndian.PutUint64(b[16:], p.Seq)
	binary.BigEndian.PutUint64(b[24:], p.Echo)
	m := newMAC(key)
	m.Write(b[:headSize])
	m.Sum(b[:headSize])
	return b
}

// Decode checks b's format and HMAC under key and returns its packet. It
// does not check for replays: see Verifier. The error wraps ErrMalformed
// or ErrForged.
func Decode(b, key []byte) (Packet, error) {
	if len(b) >= 5 && [4]byte(b[:4]) == magic && b[4] != Version {
		// Said before the size, which differs between versions. The
		// version byte is not authenticated here: it only chooses the
		// message of a packet refused anyway.
		return Packet{}, versionError(b[4])
	}
	if len(b) != Size {
		return Packet{}, fmt.Errorf("%w: %d bytes, want %d", ErrMalformed, len(b), Size)
	}
	if [4]byte(b[:4]) != magic {
		return Packet{}, fmt.Errorf("%w: magic %x is not %q", ErrMalformed, b[:4], magic[:])
	}
	// The HMAC is checked before the other fields so that nothing an
	// attacker writes is interpreted.
	m := newMAC(key)
	m.Write(b[:headSize])
	if !hmac.Equal(m.Sum(nil), b[headSize:]) {
		return Packet{}, ErrForged
	}
	p := Packet{
		State: State(b[5]),
		Role:  Role(b[6]),
		Flags: Flags(b[7]),
		Epoch: binary.BigEndian.Uint64(b[8:]),
		Seq:   binary.BigEndian.Uint64(b[16:]),
		Echo:  binary.BigEndian.Uint64(b[24:]),
	}
	if p.State != Active && p.State != Standby {
		return Packet{}, fmt.Errorf("%w: unknown state %d", ErrMalformed, b[5])
	}
	if p.Role != Primary && p.Role != Backup {
		return Packet{}, fmt.Errorf("%w: unknown role %d", ErrMalformed, b[6])
	}
	if p.Epoch == 0 {
		return Packet{}, fmt.Errorf("%w: epoch 0", ErrMalformed)
	}
	if p.Seq == 0 {
		return Packet{}, fmt.Errorf("%w: sequence 0", ErrMalformed)
	}
	return p, nil
}

func versionError(v byte) error {
	if v < Version {
		return fmt.Errorf("%w: version %d, this lvsctl speaks %d: the partner runs an older lvsctl; upgrade both directors together", ErrMalformed, v, Version)
	}
	return fmt.Errorf("%w: version %d, this lvsctl speaks %d: the partner runs a newer lvsctl; upgrade this director too", ErrMalformed, v, Version)
}

// A Sender numbers the packets of one run.
type Sender struct {
	Role  Role
	Epoch uint64 // this run's, from NewEpoch
	Key   []byte
	// Echo goes into the next packets: set it from the Verifier's Echo
	// before each Next.
	Echo uint64
	// Flags go into the next packets.
	Flags Flags
	seq   uint64
}

// Next returns the next packet announcing state, encoded.
func (s *Sender) Next(state State) []byte {
	s.seq++
	return Encode(Packet{State: state, Role: s.Role, Flags: s.Flags, Epoch: s.Epoch, Seq: s.seq, Echo: s.Echo}, s.Key)
}

// The Verifier's memory, bounded so that a flood cannot grow it.
const (
	// maxRetired is how many of the partner's past epochs are refused as
	// replays: its runs confirmed earlier in this node's run. A partner
	// restarting more often than that during one run of this node lets
	// the oldest be replayed again.
	maxRetired = 16
	// maxLearned is how many of the partner's unconfirmed epochs are
	// echoed in turn before one is confirmed.
	maxLearned = 16
)

// A Verifier accepts the authenticated heartbeats of the partner of one
// role, by a handshake on epochs that needs no clock and keeps no state
// across restarts.
//
// Each node draws a random Epoch at its start and echoes, in each packet
// it sends, the partner's epoch it learned. An authentic packet that does
// not echo this node's Epoch is refused as ErrUnconfirmed, and its epoch is
// learned, to be echoed while no partner epoch is confirmed. A packet that
// echoes Epoch is accepted, and so confirms its epoch, if it is of the
// confirmed epoch with a larger sequence, or of an epoch never confirmed
// in this run: the partner restarted. Its previous epoch is then retired,
// refused for good (ErrReplayed). A packet recorded before this node
// started cannot echo its new Epoch, so it is never accepted however it is
// replayed; one recorded in this run is refused by its sequence or its
// retired epoch.
//
// Once a partner epoch is confirmed this node echoes it until a newer one
// is confirmed, whatever unconfirmed packets arrive, so that replays
// cannot disturb a working pair. Before that it echoes each learned epoch
// in turn (see Echo), so that replays interleaved with a live partner
// delay the handshake by a packet or two at most for each recorded run of
// the partner, and cannot stop it.
//
// A packet that arrives on both heartbeat paths is accepted once: the
// second copy counts as a duplicate, not a replay. The Verifier counts
// what it refuses.
type Verifier struct {
	Key  []byte
	Self Role // this node's role; packets must come from Self.Peer()
	// Epoch is this node's, as its Sender sends it (NewEpoch): the one
	// the partner's packets must echo.
	Epoch uint64

	// peer is the confirmed partner epoch (0: none yet), seq the
	// sequence last accepted in it.
	peer, seq uint64
	retired   [maxRetired]uint64
	nRetired  int
	// learned are the partner's epochs heard unconfirmed, the one heard
	// most recently first; echoes counts Echo's rotations.
	learned []learned
	echoes  uint64
	Counts  Counts
}

type learned struct {
	epoch, seq uint64
	echoed     uint64 // the echoes count when last echoed; 0: never
}

// Counts are the heartbeats received, by outcome.
type Counts struct {
	Accepted, Malformed, Forged, Replayed, Reflected uint64
	// Duplicate counts second copies of accepted heartbeats (both paths).
	Duplicate uint64
	// Unconfirmed counts authentic heartbeats that did not echo this
	// node's epoch: one or two when either node starts, more under
	// replay.
	Unconfirmed uint64
	// RateLimited counts piranha heartbeats over the rate limit (compat
	// mode only).
	RateLimited uint64
}

// Check decodes b and accepts it if it is authentic, from the partner,
// new, and echoes this node's epoch.
func (v *Verifier) Check(b []byte) (Packet, error) {
	p, err := Decode(b, v.Key)
	switch {
	case errors.Is(err, ErrForged):
		v.Counts.Forged++
		return p, err
	case err != nil:
		v.Counts.Malformed++
		return p, err
	case p.Role != v.Self.Peer():
		v.Counts.Reflected++
		return p, ErrReflected
	case v.isRetired(p.Epoch):
		v.Counts.Replayed++
		return p, fmt.Errorf("%w: epoch %016x is of an earlier run of the partner", ErrReplayed, p.Epoch)
	case p.Epoch == v.peer && p.Seq == v.seq:
		v.Counts.Duplicate++
		return p, ErrDuplicate
	case p.Epoch == v.peer && p.Seq < v.seq:
		v.Counts.Replayed++
		return p, fmt.Errorf("%w: sequence %d, last accepted %d", ErrReplayed, p.Seq, v.seq)
	case v.Epoch == 0 || p.Echo != v.Epoch:
		if v.peer == 0 {
			v.learn(p)
		}
		v.Counts.Unconfirmed++
		return p, ErrUnconfirmed
	}
	if p.Epoch != v.peer {
		// The partner's first packet, or its first after a restart.
		if v.peer != 0 {
			v.retired[v.nRetired%maxRetired] = v.peer
			v.nRetired++
		}
		v.peer, v.learned = p.Epoch, nil
	}
	v.seq = p.Seq
	v.Counts.Accepted++
	return p, nil
}

// Echo returns the partner epoch to echo in the next packet this node
// sends: the confirmed one; before one is confirmed, each learned one in
// turn, the least recently echoed first (the most recently heard among
// those never echoed), so that a live partner's epoch is echoed within as
// many packets as there are epochs heard, usually one; 0 before any.
func (v *Verifier) Echo() uint64 {
	if v.peer != 0 {
		return v.peer
	}
	if len(v.learned) == 0 {
		return 0
	}
	v.echoes++
	next := 0
	for i, l := range v.learned {
		if l.echoed < v.learned[next].echoed {
			next = i
		}
	}
	v.learned[next].echoed = v.echoes
	return v.learned[next].epoch
}

// Confirmed returns the partner epoch confirmed in this run, 0 if none.
func (v *Verifier) Confirmed() uint64 { return v.peer }

// learn remembers the epoch of an unconfirmed packet, first in the list,
// when it brings a sequence not heard before in that epoch; so a recorded
// packet replayed over and over counts once.
func (v *Verifier) learn(p Packet) {
	for i, l := range v.learned {
		if l.epoch == p.Epoch {
			if p.Seq <= l.seq {
				return
			}
			l.seq = p.Seq
			copy(v.learned[1:i+1], v.learned[:i])
			v.learned[0] = l
			return
		}
	}
	if len(v.learned) < maxLearned {
		v.learned = append(v.learned, learned{})
	}
	copy(v.learned[1:], v.learned[:len(v.learned)-1])
	v.learned[0] = learned{epoch: p.Epoch, seq: p.Seq}
}

func (v *Verifier) isRetired(e uint64) bool {
	for _, r := range v.retired[:min(v.nRetired, maxRetired)] {
		if r == e {
			return true
		}
	}
	return false
}

func newMAC(key []byte) hash.Hash { return hmac.New(sha256.New, key) }
