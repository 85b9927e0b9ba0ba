package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Piranha's heartbeat: one unsigned int in the sender's host byte order,
// which is little-endian on the x86 directors piranha ran on. It carries no
// authentication, no sequence and no role, so compat mode is only for
// migrating a pair one node at a time.
const (
	PiranhaRunning uint32 = 0xbdaddbda // the sender is active
	PiranhaStopped uint32 = 0xadbddabd // the sender is standby
)

// PiranhaSize is the length of a piranha heartbeat.
const PiranhaSize = 4

// ErrRateLimited is a piranha heartbeat beyond the rate a partner sends:
// since anyone can send one, compat mode accepts only a few per keepalive.
var ErrRateLimited = errors.New("piranha heartbeat over the rate limit (more than a partner sends: a flood, or spoofed)")

// EncodePiranha returns piranha's heartbeat for state.
func EncodePiranha(s State) []byte {
	b := make([]byte, PiranhaSize)
	m := PiranhaStopped
	if s == Active {
		m = PiranhaRunning
	}
	binary.LittleEndian.PutUint32(b, m)
	return b
}

// DecodePiranha returns the state a piranha heartbeat announces. Like
// pulse, it refuses any other size or magic (ErrMalformed).
func DecodePiranha(b []byte) (State, error) {
	if len(b) != PiranhaSize {
		return 0, fmt.Errorf("%w: piranha heartbeat of %d bytes, want 4", ErrMalformed, len(b))
	}
	switch m := binary.LittleEndian.Uint32(b); m {
	case PiranhaRunning:
		return Active, nil
	case PiranhaStopped:
		return Standby, nil
	default:
		return 0, fmt.Errorf("%w: piranha magic %#08x is neither RUNNING nor STOPPED", ErrMalformed, m)
	}
}
