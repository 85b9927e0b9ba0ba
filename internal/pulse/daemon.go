package pulse

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/lvsctl/lvsctl/internal/pulse/wire"
)

// A Director is what the role changes on this node: the reconciler, which
// converges the table and the addresses in the background. Its methods
// must not block, so that heartbeats, role changes and shutdown never wait
// for a slow kernel, a held lock or a stuck command.
type Director interface {
	// SetActive says whether this node should hold the VIPs and the table.
	SetActive(active bool)
	// Reannounce re-sends the gratuitous ARPs and re-runs active_cmd.
	Reannounce()
}

// A Path is one heartbeat route to the peer: a socket bound to one of this
// node's addresses, and the peer's address on that network.
type Path struct {
	Conn net.PacketConn
	Peer netip.AddrPort
}

// Daemon runs a Machine against the network.
type Daemon struct {
	Settings Settings
	Paths    []Path
	Codec    Codec
	Director Director
	// Links are the devices monitored (monitor_links); LinkUp reports
	// whether one is usable (default: up and running).
	Links  []string
	LinkUp func(dev string) (bool, error)
	// Health, if set, returns this node's health engine's view of its
	// probed real servers, for the machine's health gate
	// (Settings.SettleMax); it must not block. Without it there is no
	// gate.
	Health func() []ServerHealth
	// Release, if set, is called when Run's context ends, before the last
	// heartbeat tells the peer this node is standby: it returns once this
	// node holds no floating address, so that the peer, which takes over
	// at once on that heartbeat, never shares the VIPs with it.
	Release func()
	// StatusFile, if set, receives the state as JSON on every change and
	// once a second (see ReadStatus).
	StatusFile string
	Log        io.Writer
	// Now is the clock (time.Now by default).
	Now func() time.Time

	mu      sync.Mutex
	m       *Machine
	foreign uint64   // packets from addresses other than the peer's
	sendErr []string // per path, the last send error; "" when sending works
	// toActive and toStandby count the changes of state.
	toActive, toStandby uint64
	// lastIgnored and quiet rate-limit the log of refused heartbeats, so
	// that a flood of forgeries cannot flood the log too.
	lastIgnored time.Time
	quiet       int
	// nudges and lastNudge are nudge's token bucket; confirmed says the
	// last heartbeat from the partner was accepted.
	nudges    float64
	lastNudge time.Time
	confirmed bool
}

type received struct {
	b    []byte
	from netip.Addr
	path int
}

// Run runs until ctx ends; then an active node releases everything before
// Run returns. It returns an error only when it cannot run at all.
func (d *Daemon) Run(ctx context.Context) error {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.LinkUp == nil {
		d.LinkUp = deviceUp
	}
	if d.Log == nil {
		d.Log = io.Discard
	}
	// Under the lock: a metrics scrape may read the machine at any time.
	d.mu.Lock()
	d.m = NewMachine(d.machineSettings())
	d.mu.Unlock()

	recv := make(chan received, 64)
	stopReading := d.read(ctx, recv)
	defer stopReading()

	links := make(map[string]bool)
	d.step(d.Now(), Event{Kind: Start})
	// The role is known from the start (standby, or active when alone or
	// forced): the director can release what a crashed run left behind,
	// or keep it, at once.
	d.Director.SetActive(d.Active())
	lastStatus := time.Time{}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		now := d.Now()
		if len(d.Links) > 0 {
			d.pollLinks(now, links)
		}
		if now.Sub(lastStatus) >= time.Second {
			d.writeStatus()
			lastStatus = now
		}
		timer.Reset(d.wait(now))
		select {
		case <-ctx.Done():
			if d.Release != nil {
				d.Release()
			}
			d.step(d.Now(), Event{Kind: Stop})
			d.writeStatus()
			return nil
		case r := <-recv:
			d.receive(r)
		case <-timer.C:
			d.step(d.Now(), Event{Kind: Tick})
		}
	}
}

// read reads every path's socket in a goroutine of its own, sending what
// arrives to recv until ctx ends. The returned stop closes the sockets and
// waits for the readers.
func (d *Daemon) read(ctx context.Context, recv chan<- received) (stop func()) {
	var readers sync.WaitGroup
	for i, p := range d.Paths {
		readers.Add(1)
		go func() {
			defer readers.Done()
			buf := make([]byte, 1500)
			for {
				n, from, err := p.Conn.ReadFrom(buf)
				if err != nil {
					if errors.Is(err, net.ErrClosed) {
						return
					}
					continue
				}
				ua, ok := from.(*net.UDPAddr)
				if !ok {
					continue
				}
				a, _ := netip.AddrFromSlice(ua.IP)
				select {
				case recv <- received{b: append([]byte(nil), buf[:n]...), from: a.Unmap(), path: i}:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	return func() {
		for _, p := range d.Paths {
			p.Conn.Close()
		}
		readers.Wait()
	}
}

// wait is how long the loop may sleep at now: until the machine's next
// deadline, a second at most (the status file), a keepalive at most when
// links are monitored.
func (d *Daemon) wait(now time.Time) time.Duration {
	wait := time.Second
	d.mu.Lock()
	wake := d.m.Wake()
	d.mu.Unlock()
	if !wake.IsZero() {
		wait = min(wait, max(wake.Sub(now), 0))
	}
	if len(d.Links) > 0 {
		wait = min(wait, d.Settings.Keepalive)
	}
	return wait
}

// receive feeds the machine a packet from the partner's address, once it
// is decoded and authenticated; it counts, answers or logs the rest.
func (d *Daemon) receive(r received) {
	if r.from != d.Paths[r.path].Peer.Addr() {
		d.mu.Lock()
		d.foreign++
		d.mu.Unlock()
		return
	}
	d.mu.Lock()
	st, flags, err := d.Codec.Decode(r.b)
	d.mu.Unlock()
	if errors.Is(err, wire.ErrDuplicate) {
		return
	}
	if errors.Is(err, wire.ErrUnconfirmed) {
		// The partner has just started (or this is a replay): a
		// heartbeat now tells it this node's epoch, so that the
		// handshake ends within a round trip rather than a few
		// keepalives — which could outlast the deadtime and let a
		// restarted node take over beside an active one.
		d.nudge()
	}
	if err != nil {
		d.confirmed = false
		d.logIgnored(r.from, err)
		return
	}
	if !d.confirmed {
		// The first heartbeat of a new handshake: answering at
		// once lets the partner confirm this node in turn.
		d.confirmed = true
		d.nudge()
	}
	d.step(d.Now(), Event{Kind: Heartbeat, Peer: st, PeerFlags: flags})
}

// SetSettleMax changes the health gate's bound (a reload changed the
// health checks: SettleMaxOf).
func (d *Daemon) SetSettleMax(t time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.Settings.SettleMax = t
	if d.m != nil {
		d.m.s = d.machineSettings()
	}
}

// machineSettings are the machine's: without a Health to read, there is
// no health gate (nothing would ever settle it but SettleMax).
func (d *Daemon) machineSettings() Settings {
	s := d.Settings
	if d.Health == nil {
		s.SettleMax = 0
	}
	return s
}

// SetKey changes the heartbeat key (SIGHUP re-reads the key file); a
// codec without a key ignores it.
func (d *Daemon) SetKey(key []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if k, ok := d.Codec.(interface{ SetKey([]byte) }); ok {
		k.SetKey(key)
	}
}

// Active reports whether the machine is active.
func (d *Daemon) Active() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.m != nil && d.m.Active()
}

// step feeds the machine and carries out its actions: heartbeats at once,
// the rest handed to the Director, which does not block.
func (d *Daemon) step(now time.Time, ev Event) {
	if ev.Health == nil {
		ev.Health = d.Health
	}
	d.mu.Lock()
	wasActive := d.m.Active()
	acts := d.m.Step(now, ev)
	active, reason := d.m.Active(), d.m.reason
	switch {
	case active && !wasActive:
		d.toActive++
	case !active && wasActive:
		d.toStandby++
	}
	d.mu.Unlock()
	if active != wasActive {
		fmt.Fprintf(d.Log, "pulse: %s: %s\n", map[bool]string{true: "active", false: "standby"}[active], reason)
	}
	for _, a := range acts {
		switch a {
		case SendHeartbeat:
			d.send(active)
		case Activate:
			d.Director.SetActive(true)
		case Deactivate:
			d.Director.SetActive(false)
		case Reannounce:
			d.Director.Reannounce()
		}
	}
	if active != wasActive {
		d.writeStatus()
	}
}

// nudge sends a heartbeat out of turn. A token bucket (a burst of
// nudgeBurst, then one every 100ms or quarter keepalive) lets a handshake's few
// answers go at once while a flood of unconfirmed packets costs at most
// ten heartbeats a second.
func (d *Daemon) nudge() {
	now := d.Now()
	every := min(d.Settings.Keepalive/4, 100*time.Millisecond)
	if every <= 0 {
		return
	}
	d.nudges = min(d.nudges+float64(now.Sub(d.lastNudge))/float64(every), nudgeBurst)
	d.lastNudge = now
	if d.nudges < 1 {
		return
	}
	d.nudges--
	d.send(d.Active())
}

// nudgeBurst is how many heartbeats nudge may send at once.
const nudgeBurst = 3

func (d *Daemon) send(active bool) {
	st := wire.Standby
	if active {
		st = wire.Active
	}
	d.mu.Lock()
	b := d.Codec.Encode(st, d.m.Flags())
	d.mu.Unlock()
	if d.sendErr == nil {
		d.sendErr = make([]string, len(d.Paths))
	}
	for i, p := range d.Paths {
		// Say once when a path starts failing, and once when it works
		// again, not every keepalive.
		_, err := p.Conn.WriteTo(b, net.UDPAddrFromAddrPort(p.Peer))
		switch {
		case err != nil && d.sendErr[i] != err.Error():
			fmt.Fprintf(d.Log, "pulse: cannot send heartbeats to %s: %s\n", p.Peer, err)
			d.sendErr[i] = err.Error()
		case err == nil && d.sendErr[i] != "":
			fmt.Fprintf(d.Log, "pulse: heartbeats to %s flow again\n", p.Peer)
			d.sendErr[i] = ""
		}
	}
}

// pollLinks turns changes of the monitored links into events. A link that
// cannot be read counts as down.
func (d *Daemon) pollLinks(now time.Time, seen map[string]bool) {
	allUp := true
	for _, dev := range d.Links {
		up, err := d.LinkUp(dev)
		if err != nil {
			up = false
		}
		if prev, ok := seen[dev]; ok && prev != up {
			fmt.Fprintf(d.Log, "pulse: link %s %s\n", dev, map[bool]string{true: "up", false: "down"}[up])
		}
		seen[dev] = up
		allUp = allUp && up
	}
	d.mu.Lock()
	was := d.m.linkOK
	d.mu.Unlock()
	switch {
	case was && !allUp:
		d.step(now, Event{Kind: LinkDown})
	case !was && allUp:
		d.step(now, Event{Kind: LinkUp})
	}
}

func deviceUp(dev string) (bool, error) {
	ifi, err := net.InterfaceByName(dev)
	if err != nil {
		return false, err
	}
	return ifi.Flags&net.FlagUp != 0 && ifi.Flags&net.FlagRunning != 0, nil
}

// logIgnored logs a refused heartbeat, at most one a second; the status
// file counts them all.
func (d *Daemon) logIgnored(from netip.Addr, err error) {
	now := d.Now()
	if now.Sub(d.lastIgnored) < time.Second {
		d.quiet++
		return
	}
	more := ""
	if d.quiet > 0 {
		more = fmt.Sprintf(" (and %d more since the last one logged)", d.quiet)
	}
	fmt.Fprintf(d.Log, "pulse: ignored a heartbeat from %s: %s%s\n", from, err, more)
	d.lastIgnored, d.quiet = now, 0
}
