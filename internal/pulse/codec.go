package pulse

import (
	"time"

	"github.com/lvsctl/lvsctl/internal/pulse/wire"
)

// A Codec turns states into heartbeats and back, counting what it refuses.
type Codec interface {
	// Encode returns a heartbeat announcing the state with the flags; a
	// format without flags (piranha's) drops them.
	Encode(wire.State, wire.Flags) []byte
	// Decode returns the state and flags a heartbeat announces, or an
	// error for a packet to ignore.
	Decode([]byte) (wire.State, wire.Flags, error)
	Counts() wire.Counts
}

// NewAuthCodec speaks lvsctl's authenticated heartbeats as role, in a new
// run: its epoch is random (wire.NewEpoch), and each heartbeat it sends
// echoes the partner's epoch as its Verifier learned it, which is how the
// partner tells this run's heartbeats from replays. No clock is read.
func NewAuthCodec(role wire.Role, key []byte) Codec {
	epoch := wire.NewEpoch()
	return &authCodec{
		s: wire.Sender{Role: role, Epoch: epoch, Key: key},
		v: wire.Verifier{Key: key, Self: role, Epoch: epoch},
	}
}

type authCodec struct {
	s wire.Sender
	v wire.Verifier
}

func (c *authCodec) Encode(s wire.State, f wire.Flags) []byte {
	c.s.Echo, c.s.Flags = c.v.Echo(), f
	return c.s.Next(s)
}

func (c *authCodec) Decode(b []byte) (wire.State, wire.Flags, error) {
	p, err := c.v.Check(b)
	return p.State, p.Flags, err
}

func (c *authCodec) Counts() wire.Counts { return c.v.Counts }

// SetKey changes the key of the heartbeats sent and received (Daemon.SetKey).
func (c *authCodec) SetKey(key []byte) { c.s.Key, c.v.Key = key, key }

// Piranha compat mode's limits. Its heartbeats carry no authentication, so
// anyone on the network can send them; these bound what a flood of spoofed
// ones can do. A partner sends one heartbeat per keepalive and path, and
// one more at each change of its state.
const (
	// piranhaRate heartbeats per keepalive and path are accepted, in
	// bursts of up to piranhaBurst per path.
	piranhaRate  = 2
	piranhaBurst = 4
	// piranhaConfirm consecutive accepted heartbeats must announce a
	// new state before it is reported.
	piranhaConfirm = 2
)

// NewPiranhaCodec speaks piranha's unauthenticated 4-byte heartbeats,
// received over paths paths from a partner that sends every keepalive.
// It accepts at most piranhaRate heartbeats per keepalive and path (a
// token bucket on the clock now), refusing the rest as wire.ErrRateLimited,
// and reports a change of the partner's state only once two heartbeats in
// a row announce it, so that spoofed heartbeats cannot flap the roles.
func NewPiranhaCodec(keepalive time.Duration, paths int, now func() time.Time) Codec {
	paths = max(paths, 1)
	return &piranhaCodec{
		every:  keepalive / piranhaRate / time.Duration(paths),
		burst:  float64(piranhaBurst * paths),
		tokens: float64(piranhaBurst * paths),
		now:    now,
	}
}

type piranhaCodec struct {
	// The token bucket: one token every every, up to burst.
	every  time.Duration
	burst  float64
	tokens float64
	last   time.Time
	now    func() time.Time

	// state is the partner's state as reported; changing counts the
	// accepted heartbeats in a row announcing the other one.
	state    wire.State
	changing int
	counts   wire.Counts
}

// Encode drops the flags: piranha's heartbeats have none, so a piranha
// partner (or lvsctl in compat mode) never defers, and neither does this
// node to it.
func (c *piranhaCodec) Encode(s wire.State, _ wire.Flags) []byte { return wire.EncodePiranha(s) }

func (c *piranhaCodec) Decode(b []byte) (wire.State, wire.Flags, error) {
	s, err := wire.DecodePiranha(b)
	if err != nil {
		c.counts.Malformed++
		return 0, 0, err
	}
	if !c.take() {
		c.counts.RateLimited++
		return 0, 0, wire.ErrRateLimited
	}
	c.counts.Accepted++
	switch {
	case c.state == 0 || s == c.state:
		c.state, c.changing = s, 0
	default:
		c.changing++
		if c.changing >= piranhaConfirm {
			c.state, c.changing = s, 0
		}
	}
	return c.state, 0, nil
}

// take takes a token from the bucket if there is one.
func (c *piranhaCodec) take() bool {
	now := c.now()
	if !c.last.IsZero() && c.every > 0 {
		if d := now.Sub(c.last); d > 0 {
			c.tokens = min(c.burst, c.tokens+float64(d)/float64(c.every))
		}
	}
	// A clock stepped back refills nothing until it passes c.last again.
	if c.last.IsZero() || now.After(c.last) {
		c.last = now
	}
	if c.tokens < 1 {
		return false
	}
	c.tokens--
	return true
}

func (c *piranhaCodec) Counts() wire.Counts { return c.counts }
