package pulse

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/internal/pulse/wire"
)

// roles records what a daemon asks of its director.
type roles struct {
	mu     sync.Mutex
	active []bool
}

func (r *roles) SetActive(a bool) {
	r.mu.Lock()
	r.active = append(r.active, a)
	r.mu.Unlock()
}
func (r *roles) Reannounce() {}

func (r *roles) everActive() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range r.active {
		if a {
			return true
		}
	}
	return false
}

// A restarted node learns its partner is alive within a round trip, not
// after the few keepalives the epoch handshake takes at the keepalive's
// pace: with piranha's 2s/5s, three keepalives would outlast the deadtime
// and the restarted backup would take over beside the active primary.
func TestRestartedNodeConfirmsItsPartnerAtOnce(t *testing.T) {
	key := bytes.Repeat([]byte("k"), 32)
	pc, bc := listenLoopback(t), listenLoopback(t)
	bAddr := addr(bc)
	keepalive, deadtime := 2*time.Second, 5*time.Second

	primary := &Daemon{
		Settings: Settings{Role: wire.Primary, Keepalive: keepalive, Deadtime: deadtime, ForceActive: true},
		Paths:    []Path{{Conn: pc, Peer: bAddr}},
		Codec:    NewAuthCodec(wire.Primary, key),
		Director: &roles{},
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pdone := make(chan error, 1)
	go func() { pdone <- primary.Run(ctx) }()

	// The backup runs a first time, confirms the primary, and is killed;
	// then it starts again with a new epoch on the same address.
	for run := 1; run <= 2; run++ {
		if run == 2 {
			time.Sleep(300 * time.Millisecond) // systemd's RestartSec, and a start
			c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(bAddr))
			if err != nil {
				t.Fatal(err)
			}
			bc = c
		}
		dir := &roles{}
		backup := &Daemon{
			Settings: Settings{Role: wire.Backup, Keepalive: keepalive, Deadtime: deadtime},
			Paths:    []Path{{Conn: bc, Peer: addr(pc)}},
			Codec:    NewAuthCodec(wire.Backup, key),
			Director: dir,
		}
		bctx, bcancel := context.WithCancel(ctx)
		bdone := make(chan error, 1)
		start := time.Now()
		go func() { bdone <- backup.Run(bctx) }()
		for backup.counts().Accepted == 0 {
			if time.Since(start) > keepalive {
				bcancel()
				t.Fatalf("run %d: no heartbeat confirmed within a keepalive (%s); counts %+v", run, keepalive, backup.counts())
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Logf("run %d: partner confirmed after %s", run, time.Since(start).Round(time.Millisecond))
		if dir.everActive() {
			t.Errorf("run %d: the backup went active beside the active primary", run)
		}
		bcancel() // as SIGKILL: no release to speak of on a standby node
		<-bdone
	}
	cancel()
	<-pdone
}

// counts reads the daemon's heartbeat counters under its lock, as the
// status file and the metrics do: Run decodes under it.
func (d *Daemon) counts() wire.Counts {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.Codec.Counts()
}

// TestDaemonHealthGate: two daemons over loopback UDP, the backup active
// (forced), a preempting primary starting with health checks that have
// probed nothing yet. The primary's heartbeats carry wire.Unsettled and it
// stays standby; once its health engine has probed every real server it
// preempts, and the backup yields.
func TestDaemonHealthGate(t *testing.T) {
	key := bytes.Repeat([]byte("k"), 32)
	pc, bc := listenLoopback(t), listenLoopback(t)
	keepalive, deadtime := 100*time.Millisecond, time.Second

	var mu sync.Mutex
	probed := time.Time{} // zero: the real server not probed in this run
	health := func() []ServerHealth {
		mu.Lock()
		defer mu.Unlock()
		return []ServerHealth{{Probed: probed}}
	}
	backup := &Daemon{
		Settings: Settings{Role: wire.Backup, Keepalive: keepalive, Deadtime: deadtime, ForceActive: true},
		Paths:    []Path{{Conn: bc, Peer: addr(pc)}},
		Codec:    NewAuthCodec(wire.Backup, key),
		Director: &roles{},
	}
	pdir := &roles{}
	primary := &Daemon{
		Settings: Settings{Role: wire.Primary, Keepalive: keepalive, Deadtime: deadtime, Preempt: true, SettleMax: time.Minute},
		Paths:    []Path{{Conn: pc, Peer: addr(bc)}},
		Codec:    NewAuthCodec(wire.Primary, key),
		Director: pdir,
		Health:   health,
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { _ = backup.Run(ctx) })
	wg.Go(func() { _ = primary.Run(ctx) })
	defer wg.Wait()
	defer cancel()

	waitFor := func(what string, within time.Duration, cond func() bool) {
		t.Helper()
		for end := time.Now().Add(within); !cond(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(end) {
				t.Fatalf("%s: not within %s", what, within)
			}
		}
	}
	waitFor("the pair hears each other", 2*time.Second, func() bool { return primary.counts().Accepted > 3 && backup.counts().Accepted > 3 })
	time.Sleep(5 * keepalive)
	if primary.Active() || !backup.Active() {
		t.Fatalf("checks unprobed: primary active %v, backup active %v; want the backup alone", primary.Active(), backup.Active())
	}
	backup.mu.Lock()
	peer := backup.m.Status().Peer
	backup.mu.Unlock()
	primary.mu.Lock()
	flags := primary.m.Flags()
	primary.mu.Unlock()
	if peer != wire.Standby || !flags.Has(wire.Unsettled) {
		t.Fatalf("the backup hears the primary %v, whose flags are %v; want standby and unsettled", peer, flags)
	}
	mu.Lock()
	probed = time.Now()
	mu.Unlock()
	waitFor("the primary preempts once probed", 2*time.Second, func() bool { return primary.Active() && !backup.Active() })
}

// A daemon without a Health has no health gate, whatever SettleMax says:
// nothing would settle it.
func TestDaemonWithoutHealthHasNoGate(t *testing.T) {
	d := &Daemon{Settings: Settings{Role: wire.Primary, SettleMax: time.Minute}}
	if got := d.machineSettings().SettleMax; got != 0 {
		t.Fatalf("SettleMax %v without Health", got)
	}
	d.Health = func() []ServerHealth { return nil }
	if got := d.machineSettings().SettleMax; got != time.Minute {
		t.Fatalf("SettleMax %v with Health", got)
	}
}

// listenLoopback is a heartbeat socket on a free port of 127.0.0.1.
func listenLoopback(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// addr is c's address.
func addr(c *net.UDPConn) netip.AddrPort { return c.LocalAddr().(*net.UDPAddr).AddrPort() }
