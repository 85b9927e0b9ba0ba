// Package pulse fails a pair of LVS directors over: the active one holds
// the virtual IPs and the IPVS table, the standby one takes over when the
// active one falls silent. Machine is the pure decision logic; Daemon runs
// it against sockets, addresses and the kernel through small interfaces.
package pulse

import (
	"fmt"
	"time"

	"github.com/lvsctl/lvsctl/internal/pulse/wire"
)

// An Action is something the daemon must do after a Step, in order.
type Action int

// Actions.
const (
	// SendHeartbeat sends a heartbeat announcing the machine's state.
	SendHeartbeat Action = iota + 1
	// Activate takes the VIPs, the IPVS table and the master sync daemon,
	// and runs active_cmd.
	Activate
	// Deactivate releases all of that and runs inactive_cmd.
	Deactivate
	// Reannounce re-sends the gratuitous ARPs and re-runs active_cmd: the
	// primary does it when it sees the backup claim to be active too, so
	// that the network's caches point back at it (piranha's "partner
	// active: resending arps").
	Reannounce
)

func (a Action) String() string {
	switch a {
	case SendHeartbeat:
		return "send-heartbeat"
	case Activate:
		return "activate"
	case Deactivate:
		return "deactivate"
	case Reannounce:
		return "reannounce"
	}
	return fmt.Sprintf("action(%d)", int(a))
}

// An EventKind says what happened.
type EventKind int

// Event kinds.
const (
	// Start begins the run.
	Start EventKind = iota + 1
	// Tick is time passing: the daemon delivers it at Machine.Wake.
	Tick
	// Heartbeat is an accepted heartbeat from the peer; Event.Peer is
	// the state it announces.
	Heartbeat
	// LinkDown and LinkUp are a monitored heartbeat link going down or
	// coming back (monitor_links).
	LinkDown
	LinkUp
	// Stop ends the run (SIGTERM): an active node releases everything.
	Stop
)

// An Event is one input to Step.
type Event struct {
	Kind EventKind
	Peer wire.State // for Heartbeat
}

// Settings are the machine's fixed inputs.
type Settings struct {
	Role      wire.Role
	Keepalive time.Duration // between heartbeats
	Deadtime  time.Duration // silence after which the peer is dead
	// Alone is a director without a running partner (no backup, or
	// backup_active off on the primary): it is active from the start and
	// sends no heartbeats.
	Alone bool
	// Preempt lets a standby primary take over from an active backup.
	Preempt bool
	// ForceActive starts active (pulse --forceactive).
	ForceActive bool
}

// Machine is one director's failover state. Its zero value is not
// usable: make one with NewMachine. It does no I/O and reads no clock;
// every decision is a function of the events and times passed to Step.
type Machine struct {
	s      Settings
	active bool
	linkOK bool

	started  bool
	stopped  bool
	nextSend time.Time
	// deadline is when the peer is dead if nothing arrives before.
	deadline time.Time
	// peer is the state of the last heartbeat; zero before any.
	peer wire.State
	// peerWasActive says the peer announced itself active since this
	// node last saw it standby from the start; a backup takes over at once
	// when such a peer turns standby (it released on purpose).
	peerWasActive bool
	// peerStandbySince is when the peer's run of standby heartbeats began.
	peerStandbySince time.Time
	lastHeartbeat    time.Time
	reason           string
}

// NewMachine returns a standby machine with settings s.
func NewMachine(s Settings) *Machine {
	return &Machine{s: s, linkOK: true}
}

// Active reports whether this node holds the VIPs.
func (m *Machine) Active() bool { return m.active }

// Status is what `lvsctl pulse status` shows about the machine.
type Status struct {
	Role          wire.Role
	Active        bool
	Peer          wire.State // zero: never heard
	LastHeartbeat time.Time  // zero: never heard
	LinkOK        bool
	// Reason is why the machine is in its state, e.g. "partner dead".
	Reason string
}

// Status returns the machine's state for display.
func (m *Machine) Status() Status {
	return Status{Role: m.s.Role, Active: m.active, Peer: m.peer, LastHeartbeat: m.lastHeartbeat, LinkOK: m.linkOK, Reason: m.reason}
}

// Wake returns when the machine next needs a Tick; zero when never.
func (m *Machine) Wake() time.Time {
	if !m.started || m.stopped || m.s.Alone {
		return time.Time{}
	}
	w := m.nextSend
	if !m.active && m.deadline.Before(w) {
		w = m.deadline
	}
	if !m.active && !m.peerStandbySince.IsZero() {
		if t := m.peerStandbySince.Add(m.s.Deadtime); t.Before(w) {
			w = t
		}
	}
	return w
}

// Step feeds one event at time now and returns the actions to take, in
// order. A heartbeat announcing the new state always goes out before the
// (possibly slow) activation or release, so that the peer learns of the
// change at once.
func (m *Machine) Step(now time.Time, ev Event) []Action {
	if m.stopped {
		return nil
	}
	var acts []Action
	switch ev.Kind {
	case Start:
		m.started = true
		m.deadline = now.Add(m.s.Deadtime)
		switch {
		case m.s.ForceActive:
			acts = m.activate(now, acts, "forced active")
		case m.s.Alone:
			acts = m.activate(now, acts, "no partner configured")
		default:
			m.reason = "waiting for the partner"
			acts = m.send(now, acts)
		}
	case Tick:
		acts = m.tick(now, acts)
	case Heartbeat:
		acts = m.heartbeat(now, ev.Peer, acts)
	case LinkDown:
		m.linkOK = false
		if m.active {
			acts = m.deactivate(now, acts, "heartbeat link down")
		} else {
			m.reason = "heartbeat link down"
		}
	case LinkUp:
		m.linkOK = true
		if !m.active {
			// The silence while the link was down says nothing about
			// the partner: give it a full deadtime to be heard again.
			m.deadline = now.Add(m.s.Deadtime)
			if !m.peerStandbySince.IsZero() {
				m.peerStandbySince = now
			}
			m.reason = "link up, waiting for the partner"
			acts = m.tick(now, acts)
		}
	case Stop:
		if m.active {
			acts = m.deactivate(now, acts, "stopping")
		}
		m.stopped = true
	}
	return acts
}

func (m *Machine) tick(now time.Time, acts []Action) []Action {
	if !m.started || m.s.Alone {
		return acts
	}
	if !m.active && m.linkOK {
		switch {
		case !now.Before(m.deadline):
			acts = m.activate(now, acts, "partner dead: no heartbeat for "+m.s.Deadtime.String())
		case !m.peerStandbySince.IsZero() && !now.Before(m.peerStandbySince.Add(m.s.Deadtime)):
			acts = m.activate(now, acts, "partner standby for "+m.s.Deadtime.String()+" without taking over")
		}
	}
	if !now.Before(m.nextSend) {
		acts = m.send(now, acts)
	}
	return acts
}

func (m *Machine) heartbeat(now time.Time, peer wire.State, acts []Action) []Action {
	if !m.started {
		return acts
	}
	// A partner heard again after a deadtime of silence may have taken
	// over meanwhile (a cut heartbeat link), and its gratuitous ARPs
	// moved the LAN's caches to it.
	lost := now.After(m.deadline)
	m.lastHeartbeat = now
	m.deadline = now.Add(m.s.Deadtime)
	prev := m.peer
	m.peer = peer
	switch peer {
	case wire.Active:
		m.peerStandbySince = time.Time{}
		m.peerWasActive = true
		switch {
		case m.active && m.s.Role == wire.Backup:
			// Split brain, or a preempting primary: the primary wins.
			acts = m.deactivate(now, acts, "partner active: the primary wins")
		case m.active:
			m.reason = "partner active too: resending arps"
			acts = append(acts, Reannounce)
		case m.s.Preempt && m.s.Role == wire.Primary && m.linkOK:
			acts = m.activate(now, acts, "preempting the backup")
		default:
			m.reason = "partner active"
		}
	case wire.Standby:
		if prev != wire.Standby || m.peerStandbySince.IsZero() {
			m.peerStandbySince = now
		}
		released := m.peerWasActive && prev == wire.Active
		m.peerWasActive = false
		switch {
		case m.active && (lost || prev == wire.Active):
			// The partner held the VIPs, or may have: win the caches back.
			m.peerStandbySince = time.Time{}
			m.reason = "partner back to standby: resending arps"
			acts = append(acts, Reannounce)
		case m.active:
			m.peerStandbySince = time.Time{}
			m.reason = "partner standby"
		case !m.linkOK:
		case m.s.Role == wire.Primary:
			acts = m.activate(now, acts, "partner standby: the primary takes over")
		case released:
			acts = m.activate(now, acts, "partner released the VIPs")
		default:
			// A backup that hears a standby primary at a cold start
			// waits: the primary takes over within one heartbeat, and
			// the backup only if it does not (see tick).
			acts = m.tick(now, acts)
		}
	}
	return acts
}

func (m *Machine) send(now time.Time, acts []Action) []Action {
	if m.s.Alone {
		return acts
	}
	m.nextSend = now.Add(m.s.Keepalive)
	return append(acts, SendHeartbeat)
}

func (m *Machine) activate(now time.Time, acts []Action, why string) []Action {
	m.active = true
	m.reason = why
	m.peerStandbySince = time.Time{}
	acts = m.send(now, acts)
	return append(acts, Activate)
}

func (m *Machine) deactivate(now time.Time, acts []Action, why string) []Action {
	m.active = false
	m.reason = why
	m.deadline = now.Add(m.s.Deadtime)
	acts = m.send(now, acts)
	return append(acts, Deactivate)
}
