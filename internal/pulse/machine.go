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
	// PeerFlags are the heartbeat's flags (wire.Unsettled, wire.Defers);
	// 0 from a partner that predates them or speaks piranha's format.
	PeerFlags wire.Flags
	// Health, when set, returns the health engine's view of this node's
	// probed real servers at the event's time. The machine calls it only
	// while it waits for its checks to settle (see Settings.SettleMax);
	// the daemon sets it on every event.
	Health func() []ServerHealth
}

// A ServerHealth is what this node's health engine knows of one probed
// real server.
type ServerHealth struct {
	// Down: out of the table (or quiesced).
	Down bool
	// Since is when it last went up or down; zero when it never changed
	// in this run.
	Since time.Time
	// Probed is when its last probe began; zero when none did in this run
	// (a state read back from the previous run's file proves nothing).
	Probed time.Time
	// Pending: its last result disagrees with Down, a rise or fall under
	// way.
	Pending bool
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
	// SettleMax is the longest this node waits for its health checks to
	// settle before a primary takes the VIPs from an active backup
	// (preempt, or a split brain the primary would win): SettleBound of
	// the checks, so derived from their interval, timeout, rise and fall.
	// 0 (no health checks) waits for nothing. A lone or forced-active
	// node never waits.
	SettleMax time.Duration
}

// SettleBound is how long probes with interval, timeout, rise and fall
// take at most to give a settled view from a moment on: a probe under way
// at that moment ends within the timeout, the next starts an interval
// later, and max(rise, fall) results in a row decide; one more round is
// slack for the probes' queue.
func SettleBound(interval, timeout time.Duration, rise, fall int) time.Duration {
	n := max(rise, fall, 1)
	return time.Duration(n+1) * (interval + timeout)
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

	// The health gate (Settings.SettleMax): a primary takes the VIPs
	// from an active backup only once its own checks have settled since
	// settleFrom, the start or the end of a silence. After a silence
	// (the partner unheard for a deadtime, or the monitored link down)
	// the real servers that matter are those that went down after
	// quietFrom, during it: an isolated node's checks fail because it
	// is cut off, not because the real servers are. At the start
	// (settleAll) every one matters, since nothing probed them yet.
	// While silent, settled says whether every real server that went
	// down during the silence is back; SettleMax counts from the heal.
	settleFrom, quietFrom time.Time
	settleAll             bool
	settled               bool
	silent                bool
	// settledLate: the checks counted as settled because SettleMax
	// passed, not because the probes said so.
	settledLate bool
	// keepSince is when this active backup began keeping the VIPs
	// against an active primary announcing wire.Unsettled.
	keepSince time.Time
}

// NewMachine returns a standby machine with settings s.
func NewMachine(s Settings) *Machine {
	return &Machine{s: s, linkOK: true}
}

// gated reports whether this node waits for its checks to settle before
// taking the VIPs from an active backup: a primary with health checks, not
// alone and not forced active.
func (m *Machine) gated() bool {
	return m.s.SettleMax > 0 && m.s.Role == wire.Primary && !m.s.Alone && !m.s.ForceActive
}

// Flags are the flags of the heartbeats this machine sends: every node
// knows wire.Unsettled (wire.Defers), and a gated primary says its checks
// are unsettled until they settle.
func (m *Machine) Flags() wire.Flags {
	f := wire.Defers
	if m.gated() && !m.settled {
		f |= wire.Unsettled
	}
	return f
}

// quiet starts a silence that began at since: the partner unheard for a
// deadtime, or the monitored link down. A gate still waiting for the
// start's probes keeps that stricter wait.
func (m *Machine) quiet(since time.Time) {
	if !m.gated() || m.silent || (m.settleAll && !m.settled) {
		return
	}
	m.silent, m.quietFrom, m.settleAll = true, since, false
}

// heard ends a silence at now: the checks must settle from now on.
func (m *Machine) heard(now time.Time) {
	if m.silent {
		m.silent, m.settleFrom, m.settled, m.settledLate = false, now, false, false
	}
}

// settle re-evaluates the health gate at now with ev's view of the real
// servers; it reports whether the checks are settled. Past SettleMax they
// count as settled whatever the probes say, so that a check that never
// settles (a flapping real server, a stuck probe) cannot keep a primary
// out for ever.
func (m *Machine) settle(now time.Time, ev Event) bool {
	if !m.gated() {
		return true
	}
	if m.silent {
		// No bound while the silence lasts: it starts at the heal.
		if ev.Health != nil {
			m.settled = settledSince(ev.Health(), m.settleFrom, m.quietFrom, false)
		}
		return m.settled
	}
	if m.settled {
		return true
	}
	switch {
	case !now.Before(m.settleFrom.Add(m.s.SettleMax)):
		m.settled, m.settledLate = true, true
	case ev.Health != nil:
		m.settled = settledSince(ev.Health(), m.settleFrom, m.quietFrom, m.settleAll)
	}
	return m.settled
}

// settledSince reports whether servers give a settled view. At the start
// (all), each real server must have been probed since from, with its last
// result agreeing with its state: whatever the previous run knew proves
// nothing now. After a silence that began at quiet, each real server that
// went down since quiet must be back up: a node cut off from its partner
// is cut off from the real servers too, most likely, and what its checks
// took out meanwhile comes back once probed again; the real servers that
// stayed up, or were down before, say nothing about the silence.
func settledSince(servers []ServerHealth, from, quiet time.Time, all bool) bool {
	for _, s := range servers {
		if all && (s.Probed.Before(from) || s.Pending) {
			return false
		}
		if !all && s.Down && s.Since.After(quiet) {
			return false
		}
	}
	return true
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
	// Gate is the health gate (Settings.SettleMax): "" for a node that
	// has none, else GateSettled, GateSettledLate, GateWaiting or
	// GateSilent.
	Gate string
	// GateOpens is when a waiting gate opens by itself, SettleMax after
	// the start or the heal; zero otherwise.
	GateOpens time.Time
}

// The health gate's states, as pulse status shows them.
const (
	GateSettled     = "settled"
	GateSettledLate = "settled (its bound passed before the checks did)"
	GateWaiting     = "waiting for its health checks to settle"
	GateSilent      = "partner silent: real servers its checks took out since must come back"
)

// Status returns the machine's state for display.
func (m *Machine) Status() Status {
	st := Status{Role: m.s.Role, Active: m.active, Peer: m.peer, LastHeartbeat: m.lastHeartbeat, LinkOK: m.linkOK, Reason: m.reason}
	if m.gated() {
		switch {
		case m.silent:
			st.Gate = GateSilent
		case m.settledLate:
			st.Gate = GateSettledLate
		case m.settled:
			st.Gate = GateSettled
		default:
			st.Gate, st.GateOpens = GateWaiting, m.settleFrom.Add(m.s.SettleMax)
		}
	}
	return st
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
	if m.gated() && !m.settled && !m.silent {
		// SettleMax may end the wait.
		if t := m.settleFrom.Add(m.s.SettleMax); t.Before(w) {
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
	if m.started {
		if !m.lastHeartbeat.IsZero() && now.After(m.deadline) {
			m.quiet(m.lastHeartbeat)
		}
		m.settle(now, ev)
	}
	switch ev.Kind {
	case Start:
		m.started = true
		m.deadline = now.Add(m.s.Deadtime)
		m.settleFrom, m.settleAll = now, true
		m.settle(now, ev)
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
		acts = m.tick(now, ev, acts)
	case Heartbeat:
		acts = m.heartbeat(now, ev, acts)
	case LinkDown:
		m.quiet(now)
		m.linkOK = false
		if m.active {
			acts = m.deactivate(now, acts, "heartbeat link down")
		} else {
			m.reason = "heartbeat link down"
		}
	case LinkUp:
		// What this node's checks said while its link was down may
		// be that link's loss, not the real servers'.
		m.heard(now)
		m.settle(now, ev)
		m.linkOK = true
		if !m.active {
			// The silence while the link was down says nothing about
			// the partner: give it a full deadtime to be heard again.
			m.deadline = now.Add(m.s.Deadtime)
			if !m.peerStandbySince.IsZero() {
				m.peerStandbySince = now
			}
			m.reason = "link up, waiting for the partner"
			acts = m.tick(now, ev, acts)
		}
	case Stop:
		if m.active {
			acts = m.deactivate(now, acts, "stopping")
		}
		m.stopped = true
	}
	return acts
}

func (m *Machine) tick(now time.Time, ev Event, acts []Action) []Action {
	if !m.started || m.s.Alone {
		return acts
	}
	if !m.active && m.linkOK {
		switch {
		case !now.Before(m.deadline):
			// The partner is dead: whatever this node's checks say,
			// its table is the only one left.
			acts = m.activate(now, acts, "partner dead: no heartbeat for "+m.s.Deadtime.String())
		case !m.peerStandbySince.IsZero() && !now.Before(m.peerStandbySince.Add(m.s.Deadtime)):
			acts = m.activate(now, acts, "partner standby for "+m.s.Deadtime.String()+" without taking over")
		case m.peer == wire.Active && m.wantsVIPs() && m.settle(now, ev):
			acts = m.activate(now, acts, m.takeBackReason())
		}
	}
	if !now.Before(m.nextSend) {
		acts = m.send(now, acts)
	}
	return acts
}

// wantsVIPs reports whether this standby primary takes the VIPs from an
// active backup (once its checks settle): it preempts.
func (m *Machine) wantsVIPs() bool {
	return m.s.Role == wire.Primary && m.s.Preempt
}

func (m *Machine) takeBackReason() string {
	const why = "preempting the backup"
	switch {
	case !m.gated():
		return why
	case m.settledLate:
		return why + " (health checks not settled within " + m.s.SettleMax.String() + "; going ahead)"
	}
	return why + " (health checks settled)"
}

func (m *Machine) heartbeat(now time.Time, ev Event, acts []Action) []Action {
	if !m.started {
		return acts
	}
	peer := ev.Peer
	// A partner heard again after a deadtime of silence may have taken
	// over meanwhile (a cut heartbeat link), and its gratuitous ARPs
	// moved the LAN's caches to it.
	lost := now.After(m.deadline)
	// A partition may be healing: if this node was the one cut off, its
	// checks failed meanwhile, and the real servers they took out are
	// back only once probed again.
	m.heard(now)
	m.settle(now, ev)
	m.lastHeartbeat = now
	m.deadline = now.Add(m.s.Deadtime)
	prev := m.peer
	m.peer = peer
	unsettledPrimary := peer == wire.Active && ev.PeerFlags.Has(wire.Unsettled)
	if !unsettledPrimary || !m.active {
		m.keepSince = time.Time{}
	}
	switch peer {
	case wire.Active:
		m.peerStandbySince = time.Time{}
		m.peerWasActive = true
		switch {
		case m.active && m.s.Role == wire.Backup && unsettledPrimary:
			// Split brain healing, and the primary's checks have
			// not settled: it yields to this node on hearing it
			// active. It has a deadtime to do so, after which it
			// wins as it always did.
			if m.keepSince.IsZero() {
				m.keepSince = now
			}
			if now.Sub(m.keepSince) < m.s.Deadtime {
				m.reason = "partner active with its health checks unsettled: keeping the VIPs until it yields"
				break
			}
			m.keepSince = time.Time{}
			acts = m.deactivate(now, acts, "partner active, unsettled for "+m.s.Deadtime.String()+" without yielding: the primary wins")
		case m.active && m.s.Role == wire.Backup:
			// Split brain, or a preempting primary: the primary wins.
			acts = m.deactivate(now, acts, "partner active: the primary wins")
		case m.active && ev.PeerFlags.Has(wire.Defers) && !m.settle(now, ev):
			// Split brain, and this primary's checks took real
			// servers out while it was cut off and have not put
			// them back: its table may lack what the backup's has.
			// The backup keeps the VIPs (it knows the flag), and
			// this node is a primary that came back while the
			// backup is active: standby, unless it preempts once
			// its checks settle.
			acts = m.deactivate(now, acts, "partner active and this node's health checks not settled since the silence: the backup keeps the VIPs")
		case m.active:
			m.reason = "partner active too: resending arps"
			acts = append(acts, Reannounce)
		case m.wantsVIPs() && m.linkOK && m.settle(now, ev):
			acts = m.activate(now, acts, m.takeBackReason())
		case m.wantsVIPs() && m.linkOK:
			m.reason = "partner active; waiting for this node's health checks to settle before taking over"
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
			acts = m.tick(now, ev, acts)
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
