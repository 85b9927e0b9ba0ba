// Package wire is the heartbeat packet format of lvsctl pulse: versioned,
// sequenced packets authenticated with HMAC-SHA256 over a shared key, and,
// only when asked for, piranha's unauthenticated 4-byte heartbeats.
//
// A packet (all integers big-endian):
//
//	offset size
//	0      4    magic "LVSP"
//	4      1    version (1)
//	5      1    state: 1 active, 2 standby
//	6      1    sender's role: 1 primary, 2 backup
//	7      1    flags (0; a receiver ignores bits it does not know)
//	8      8    epoch: the sender's start time in Unix nanoseconds
//	16     8    sequence number, from 1, per epoch
//	24     32   HMAC-SHA256 of bytes 0-23 under the shared key
//
// The sender's role is authenticated so that a packet reflected back at its
// sender is refused; the epoch and sequence let the receiver refuse replays.
package wire

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
)

// Version is the packet version this package writes and reads.
const Version = 1

// Size is the length of an authenticated packet.
const Size = 24 + sha256.Size

var magic = [4]byte{'L', 'V', 'S', 'P'}

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

// A Packet is one heartbeat.
type Packet struct {
	State State
	Role  Role
	// Epoch identifies the sender's run: its start time in Unix
	// nanoseconds, so that a restarted sender's epoch is larger.
	Epoch uint64
	// Seq counts the sender's packets within Epoch, from 1.
	Seq uint64
}

// Errors of Decode and Verifier.Check, for counting.
var (
	ErrMalformed = errors.New("malformed heartbeat")
	ErrForged    = errors.New("heartbeat with a bad HMAC (wrong key, or forged)")
	ErrReplayed  = errors.New("replayed heartbeat (epoch and sequence not newer than the last accepted)")
	ErrReflected = errors.New("heartbeat claiming this node's own role (reflected, or both nodes have the same role)")
	// ErrDuplicate is the last accepted heartbeat again: the copy that
	// came over the second heartbeat path. It is counted, not logged.
	ErrDuplicate = errors.New("duplicate heartbeat (the last accepted one, over the other path)")
)

// Encode returns p authenticated with key.
func Encode(p Packet, key []byte) []byte {
	b := make([]byte, Size)
	copy(b, magic[:])
	b[4] = Version
	b[5] = byte(p.State)
	b[6] = byte(p.Role)
	binary.BigEndian.PutUint64(b[8:], p.Epoch)
	binary.BigEndian.PutUint64(b[16:], p.Seq)
	m := newMAC(key)
	m.Write(b[:24])
	m.Sum(b[:24])
	return b
}

// Decode checks b's format and HMAC under key and returns its packet. It
// does not check for replays: see Verifier. The error wraps ErrMalformed
// or ErrForged.
func Decode(b, key []byte) (Packet, error) {
	if len(b) != Size {
		return Packet{}, fmt.Errorf("%w: %d bytes, want %d", ErrMalformed, len(b), Size)
	}
	if [4]byte(b[:4]) != magic {
		return Packet{}, fmt.Errorf("%w: magic %x is not %q", ErrMalformed, b[:4], magic[:])
	}
	// The HMAC is checked before the other fields so that nothing an
	// attacker writes is interpreted.
	m := newMAC(key)
	m.Write(b[:24])
	if !hmac.Equal(m.Sum(nil), b[24:]) {
		return Packet{}, ErrForged
	}
	if b[4] != Version {
		return Packet{}, fmt.Errorf("%w: version %d, this lvsctl speaks %d", ErrMalformed, b[4], Version)
	}
	p := Packet{
		State: State(b[5]),
		Role:  Role(b[6]),
		Epoch: binary.BigEndian.Uint64(b[8:]),
		Seq:   binary.BigEndian.Uint64(b[16:]),
	}
	if p.State != Active && p.State != Standby {
		return Packet{}, fmt.Errorf("%w: unknown state %d", ErrMalformed, b[5])
	}
	if p.Role != Primary && p.Role != Backup {
		return Packet{}, fmt.Errorf("%w: unknown role %d", ErrMalformed, b[6])
	}
	if p.Seq == 0 {
		return Packet{}, fmt.Errorf("%w: sequence 0", ErrMalformed)
	}
	return p, nil
}

// A Sender numbers the packets of one run.
type Sender struct {
	Role  Role
	Epoch uint64
	Key   []byte
	seq   uint64
}

// Next returns the next packet announcing state, encoded.
func (s *Sender) Next(state State) []byte {
	s.seq++
	return Encode(Packet{State: state, Role: s.Role, Epoch: s.Epoch, Seq: s.seq}, s.Key)
}

// A Verifier accepts the authenticated packets of the peer of one role,
// each newer than the last accepted: a larger epoch (the peer restarted),
// or the same epoch and a larger sequence. Packets that arrive on both
// heartbeat paths are therefore accepted once (the second copy counts as
// a duplicate, not a replay). It also counts what it refuses.
type Verifier struct {
	Key  []byte
	Self Role // this node's role; packets must come from Self.Peer()

	epoch, seq uint64
	Counts     Counts
}

// Counts are the heartbeats received, by outcome.
type Counts struct {
	Accepted, Malformed, Forged, Replayed, Reflected uint64
	// Duplicate counts second copies of accepted heartbeats (both paths).
	Duplicate uint64
}

// Check decodes b and accepts it if it is authentic, from the peer and new.
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
	case p.Epoch == v.epoch && p.Seq == v.seq:
		v.Counts.Duplicate++
		return p, ErrDuplicate
	case p.Epoch < v.epoch || p.Epoch == v.epoch && p.Seq <= v.seq:
		v.Counts.Replayed++
		return p, fmt.Errorf("%w: epoch %d sequence %d, last %d/%d", ErrReplayed, p.Epoch, p.Seq, v.epoch, v.seq)
	}
	v.epoch, v.seq = p.Epoch, p.Seq
	v.Counts.Accepted++
	return p, nil
}

func newMAC(key []byte) hash.Hash { return hmac.New(sha256.New, key) }
