package e2e

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/internal/ipvstest"
	"github.com/lvsctl/lvsctl/internal/netns"
	"github.com/lvsctl/lvsctl/internal/syncbuf"
)

// TestKernelFaults injects faults into a pulse pair on the real kernel, at
// random moments (the seed is logged), while a witness samples both
// directors every 50ms and a client fetches through the VIP, and fails
// when a count that must be zero is not (see RELIABILITY.md). Rounds per
// kind: -fault-rounds or LVSCTL_FAULT_ROUNDS (default 2).
func TestKernelFaults(t *testing.T) {
	ipvstest.Require(t)
	rounds := *faultRounds
	seed := *faultSeed
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	t.Logf("seed %d (LVSCTL_FAULT_SEED), %d rounds per fault kind (LVSCTL_FAULT_ROUNDS), keepalive %s, deadtime %s", seed, rounds, faultKeepalive, faultDeadtime)
	began := time.Now()
	f := newFaultPair(t, seed)
	var tallies []*tally
	for _, k := range faultKinds {
		t.Run(k.name, func(t *testing.T) {
			tl := f.runKind(t, k, rounds)
			tallies = append(tallies, tl)
			tl.check(t)
		})
	}
	t.Run("stuck-active-cmd", func(t *testing.T) {
		f.t = t
		defer func() { f.t = f.parent }()
		f.useConfig(f.stuckConfig())
		f.repair("configuration with a stuck active_cmd")
		for _, k := range stuckKinds {
			tl := f.runKind(t, k, rounds)
			tallies = append(tallies, tl)
			tl.check(t)
		}
	})
	total := newTally("total")
	for _, tl := range tallies {
		for c, n := range tl.n {
			total.add(c, n)
		}
	}
	t.Logf("sampling: %s", f.s.periods())
	t.Logf("counts (seed %d, %d rounds per kind, %s in all):\n%s", seed, rounds, time.Since(began).Round(time.Second), report(tallies))
	for _, tl := range tallies {
		for _, n := range tl.notes {
			t.Logf("%s: %s", tl.kind, n)
		}
	}
	if t.Failed() {
		f.mu.Lock()
		for _, d := range f.deathLog {
			t.Log(d)
		}
		f.mu.Unlock()
		for _, ns := range f.nodes {
			data, _ := os.ReadFile(filepath.Join(f.dir, ns+".log"))
			t.Logf("tail of lvsctl pulse's log in %s:\n%s", ns, tail(string(data), 60))
		}
	}
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// A faultKind injects one fault into a settled pair; runKind then waits
// for the pair to settle again.
type faultKind struct {
	name   string
	inject func(f *faultPair, tl *tally)
}

var faultKinds = []faultKind{
	{"sighup-storm", sighupStorm},
	{"kill-restart", killRestart},
	{"partition", partition},
	{"truncated-config", truncatedConfig},
	{"apply-prompt", applyPrompt},
	{"replayed-heartbeats", replayedHeartbeats},
	{"clock-skew-restart", clockSkewRestart},
	{"ipvsadm-delete", ipvsadmDelete},
	{"operator-change", operatorChange},
}

var stuckKinds = []faultKind{
	{"stuck: sigterm-restart", func(f *faultPair, tl *tally) { sigtermRestart(f, tl, true) }},
	{"stuck: kill-restart", func(f *faultPair, tl *tally) { killActiveRestart(f, tl) }},
}

func newFaultPair(t *testing.T, seed int64) *faultPair {
	p := newPulsePair(t)
	f := &faultPair{
		pulsePair: p, t: t, parent: t, rng: rand.New(rand.NewSource(seed)),
		nodes: [2]string{p.primary, p.backup}, daemons: map[string]*daemon{},
		seenOrphans: map[int]bool{}, resync: 5 * time.Second,
	}
	for i, ns := range p.reals {
		f.health[i] = &web{t: t, ns: ns, addr: realIPs[i] + ":8081", name: fmt.Sprintf("real%d-health", i+1)}
		f.health[i].start()
	}
	f.detectFlags()
	f.useConfig(f.baseConfig())
	f.s = newSampler(t, f.nodes)
	t.Cleanup(func() {
		for _, ns := range f.nodes {
			f.kill(ns)
		}
		f.killOrphans(false)
	})
	f.start(f.primary)
	f.start(f.backup)
	if h, why := f.waitSettled(30 * time.Second); h != 0 {
		t.Fatalf("the pair did not start with the primary active: %s\n%s", why, f.logs())
	}
	// The witness reads /proc/net/ip_vs; ipvsadm must see the same table.
	sm := f.s.next(time.Now())
	save := run(t, "ip", "netns", "exec", f.primary, "ipvsadm", "-S", "-n")
	if sm.tab[0].web != strings.Count(save, "-a -t "+vip+":80 ") || !strings.Contains(save, "-A -t "+vip+":80 ") {
		t.Fatalf("the witness read %+v from /proc/net/ip_vs, ipvsadm says:\n%s", sm.tab[0], save)
	}
	f.cl = p.startClient(t)
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		ok, fails := f.cl.counts()
		if ok > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the client gets no answer through the VIP: %v", fails)
		}
	}
	return f
}

// detectFlags passes the daemon a short resync period when it has a flag
// for one.
func (f *faultPair) detectFlags() {
	out, _ := f.lvsctl(f.t, "pulse", "--help")
	if m := regexp.MustCompile(`--(resync[a-z-]*)`).FindStringSubmatch(out); m != nil {
		f.pulseArgs = append(f.pulseArgs, "--"+m[1], "2s")
		f.resync = 2 * time.Second
		f.parent.Logf("pulse has --%s: passing 2s", m[1])
	} else {
		f.parent.Logf("pulse has no resync flag: a table deleted behind its back must be back within %s", f.resync)
	}
}

// baseConfig is examples/pulse-nat.hcl with the suite's key and timers, a
// TCP health check on port 8081 of each real server, and marker scripts
// as active_cmd and inactive_cmd.
func (f *faultPair) baseConfig() string {
	cmdScript := f.script("lvsctl-fault-marker-cmd.sh", "#!/bin/sh\necho \"$1\" >> "+filepath.Join(f.dir, "cmds.log")+"\n")
	return f.pairConfig(cmdScript+" active", cmdScript+" inactive")
}

// stuckConfig has an active_cmd that never returns and leaves a child
// holding its standard output.
func (f *faultPair) stuckConfig() string {
	stuck := f.script("lvsctl-fault-marker-stuck.sh", "#!/bin/sh\n"+
		"# never returns; its background child keeps standard output open\n"+
		"{ sleep 1000000; true; } &\n"+
		"echo stuck active_cmd started\n"+
		"sleep 1000000\n"+
		"true\n")
	return f.pairConfig(stuck, "")
}

func (f *faultPair) script(name, text string) string {
	path := filepath.Join(f.dir, name)
	if err := os.WriteFile(path, []byte(text), 0o755); err != nil {
		f.t.Fatal(err)
	}
	return path
}

func (f *faultPair) pairConfig(activeCmd, inactiveCmd string) string {
	t := f.t
	f.config(t, faultKeepalive.String(), faultDeadtime.String()) // writes the key
	key := filepath.Join(f.dir, "pulse.key")
	cmds := fmt.Sprintf("  active_cmd = %q\n", activeCmd)
	if inactiveCmd != "" {
		cmds += fmt.Sprintf("  inactive_cmd = %q\n", inactiveCmd)
	}
	text := example(t, "pulse-nat.hcl",
		replaceRE(`keepalive( *)= "2s"`, fmt.Sprintf("keepalive${1}= %q", faultKeepalive.String())),
		replaceRE(`deadtime( *)= "5s"`, fmt.Sprintf("deadtime${1}= %q", faultDeadtime.String())),
		replace(`# key_file = "/etc/lvsctl/pulse.key"`, fmt.Sprintf("key_file = %q\n%s", key, cmds)),
		replace(`  forwarding = "nat"
`, `  forwarding = "nat"

  health_check {
    type     = "tcp"
    port     = 8081
    interval = "1s"
    timeout  = "1s"
    fall     = 2
    rise     = 1
  }
`),
	)
	// Without the example's comment header, half of the file is half of
	// the blocks: a truncated file that does not parse.
	var kept []string
	for _, l := range strings.Split(text, "\n") {
		if !strings.HasPrefix(l, "#") {
			kept = append(kept, l)
		}
	}
	return strings.TrimLeft(strings.Join(kept, "\n"), "\n")
}

// useConfig writes text as the daemons' configuration file (they read it
// at their next start, or SIGHUP); it must be valid and half of it not.
func (f *faultPair) useConfig(text string) {
	t := f.t
	n := seq.Add(1)
	f.cfg = filepath.Join(f.dir, fmt.Sprintf("lvsctl-%d.hcl", n))
	f.cfgText = text
	if err := os.WriteFile(f.cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, code := f.lvsctl(t, "validate", "-f", f.cfg); code != 0 {
		t.Fatalf("the suite's configuration is not valid: %s\n%s", out, text)
	}
	half := filepath.Join(f.dir, "half.hcl")
	os.WriteFile(half, []byte(text[:len(text)/2]), 0o600)
	if _, code := f.lvsctl(t, "validate", "-f", half); code == 0 {
		t.Fatalf("the first half of the configuration is valid: the truncation fault would not be one")
	}
}

// runKind runs rounds of kind k on the pair and returns its counts.
func (f *faultPair) runKind(t *testing.T, k faultKind, rounds int) *tally {
	prevT := f.t
	f.t = t
	defer func() { f.t = prevT }()
	tl := newTally(k.name)
	if h, why := f.waitSettled(5 * time.Second); h < 0 {
		f.repair("before " + k.name + ": " + why)
	}
	from := time.Now()
	ok0, _ := f.cl.counts()
	for i := range rounds {
		time.Sleep(time.Duration(f.rng.Int63n(int64(5 * faultKeepalive))))
		f.logf("%s: round %d", k.name, i+1)
		tl.add(cFaults, 1)
		k.inject(f, tl)
		h, why := f.waitSettled(faultDeadtime + faultSlack + 2*time.Second)
		tl.add(cOrphans, f.killOrphans(true))
		if h < 0 {
			tl.add(cNotRecovered, 1)
			tl.note("round %d: %s", i+1, why)
			f.repair(k.name + ": " + why)
		}
	}
	to := time.Now()
	ok1, _ := f.cl.counts()
	tl.addOKRequests(ok1 - ok0)
	f.evaluate(tl, from, to)
	f.logf("%s: %v", k.name, tl.n)
	return tl
}

// pick is a random director.
func (f *faultPair) pick() string { return f.nodes[f.rng.Intn(2)] }

// active is the node holding the VIP now (the primary if unclear).
func (f *faultPair) active() (act, other string) {
	h := f.holder()
	if h == 1 {
		return f.backup, f.primary
	}
	return f.primary, f.backup
}

func (f *faultPair) other(ns string) string {
	if ns == f.primary {
		return f.backup
	}
	return f.primary
}

func (f *faultPair) sleep(min, max time.Duration) {
	time.Sleep(min + time.Duration(f.rng.Int63n(int64(max-min)+1)))
}

// checkRepaired: after ns's pulse (re)started, each side accepts the
// other's heartbeats within deadtime + slack.
func (f *faultPair) checkRepaired(tl *tally, ns string, since pulseStatus) {
	if !f.waitUp(ns, 10*time.Second) {
		tl.add(cRepair, 1)
		tl.note("pulse in %s did not publish its status", ns)
		return
	}
	o := f.other(ns)
	// The status files are rewritten once a second: since may lag the
	// other node's count by a second's heartbeats (about 4 accepted at a
	// 300ms keepalive, the second path's copies being duplicates), so the
	// other node must accept more than that.
	const fresh = 8
	deadline := time.Now().Add(faultDeadtime + faultSlack + time.Second)
	for time.Now().Before(deadline) {
		a, ok1 := f.status(ns)
		b, ok2 := f.status(o)
		if ok1 && ok2 && a.Heartbeats.Accepted > 0 && b.Heartbeats.Accepted >= since.Heartbeats.Accepted+fresh {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	a, _ := f.status(ns)
	b, _ := f.status(o)
	tl.add(cRepair, 1)
	tl.note("after %s restarted: it accepted %d heartbeats, %s %d more (%d refused as replays)", ns, a.Heartbeats.Accepted, o, b.Heartbeats.Accepted-since.Heartbeats.Accepted, b.Heartbeats.Replayed-since.Heartbeats.Replayed)
}

// sighupStorm: 10 SIGHUPs within a second to either pulse. Nothing may
// change: no exit, no move of the VIP.
func sighupStorm(f *faultPair, tl *tally) {
	ns := f.pick()
	f.logf("10 SIGHUPs to pulse in %s", ns)
	for range 10 {
		f.signal(ns, syscall.SIGHUP)
		f.sleep(0, 100*time.Millisecond)
	}
	time.Sleep(faultDeadtime + time.Second)
}

// killRestart: SIGKILL either pulse, restart it after a random while
// (the other may have taken over meanwhile).
func killRestart(f *faultPair, tl *tally) {
	ns := f.pick()
	act, _ := f.active()
	wasActive := ns == act
	o := f.other(ns)
	before, _ := f.status(o)
	t0 := time.Now()
	f.logf("SIGKILL pulse in %s (active: %v)", ns, wasActive)
	f.kill(ns)
	if wasActive {
		f.cause(t0)
	}
	wait := time.Duration(f.rng.Int63n(int64(2 * faultDeadtime)))
	if wasActive && wait > faultDeadtime+faultSlack {
		if _, ok := f.waitTakeover(f.index(o), t0.Add(faultDeadtime+faultSlack)); !ok {
			tl.add(cLate, 1)
			tl.note("%s did not take over within deadtime + slack of the active being killed", o)
		}
	}
	time.Sleep(time.Until(t0.Add(wait)))
	f.logf("restart pulse in %s after %s", ns, wait.Round(time.Millisecond))
	f.cause(time.Now())
	f.restartDead(ns, t0)
	f.checkRepaired(tl, ns, before)
}

// killActiveRestart: SIGKILL the active pulse; the other takes over; the
// killed one restarts.
func killActiveRestart(f *faultPair, tl *tally) {
	act, o := f.active()
	before, _ := f.status(o)
	t0 := time.Now()
	f.logf("SIGKILL the active pulse in %s", act)
	f.kill(act)
	f.cause(t0)
	if _, ok := f.waitTakeover(f.index(o), t0.Add(faultDeadtime+faultSlack)); !ok {
		tl.add(cLate, 1)
		tl.note("%s did not take over within deadtime + slack of the active being killed", o)
	}
	f.cause(time.Now())
	f.restartDead(act, t0)
	f.checkRepaired(tl, act, before)
}

// restartDead starts ns's pulse again after it was SIGKILLed at killed:
// until the new run is up and a second has passed, a second holder of
// the VIP is the dead run's leftover (wDead).
func (f *faultPair) restartDead(ns string, killed time.Time) {
	f.start(ns)
	f.waitUp(ns, 10*time.Second)
	f.window(wDead, killed, time.Now().Add(time.Second))
}

// sigtermRestart: SIGTERM the active pulse (or either), which must
// release and exit within 3s; the other takes over; it restarts.
func sigtermRestart(f *faultPair, tl *tally, activeOnly bool) {
	ns, o := f.active()
	if !activeOnly {
		ns = f.pick()
		o = f.other(ns)
	}
	before, _ := f.status(o)
	t0 := time.Now()
	f.cause(t0)
	f.logf("SIGTERM pulse in %s", ns)
	hung := !f.stop(ns, 3*time.Second)
	if hung {
		tl.add(cStopHung, 1)
		tl.note("pulse in %s did not exit within 3s of SIGTERM (then SIGKILLed)", ns)
	}
	if _, ok := f.waitTakeover(f.index(o), t0.Add(faultDeadtime+faultSlack)); !ok {
		tl.add(cLate, 1)
		tl.note("%s did not take over within deadtime + slack of the active's SIGTERM", o)
	}
	f.cause(time.Now())
	if hung {
		f.restartDead(ns, t0.Add(3*time.Second))
	} else {
		f.start(ns)
	}
	f.checkRepaired(tl, ns, before)
}

// partition: a director's three links down for a random while, then up.
func partition(f *faultPair, tl *tally) {
	ns := f.pick()
	act, _ := f.active()
	hold := faultDeadtime/2 + time.Duration(f.rng.Int63n(int64(5*faultDeadtime/2)))
	t0 := time.Now()
	f.logf("links of %s down for %s", ns, hold.Round(time.Millisecond))
	f.links(ns, false)
	f.cause(t0)
	time.Sleep(hold)
	t1 := time.Now() // the heal starts now: a request may be refused before the last link is up
	f.links(ns, true)
	f.cause(t1)
	if ns == act && hold < faultDeadtime {
		f.window(wShort, t0, t1.Add(faultSlack))
	}
	f.window(wPartition, t0, t1.Add(settleAfterHeal))
	f.window(wHeal, t1, t1.Add(settleAfterHeal))
	f.logf("links of %s up", ns)
	time.Sleep(settleAfterHeal)
}

// truncatedConfig: the configuration file cut in half mid-write, SIGHUP,
// then the whole file back (and SIGHUP): the daemon keeps its running
// configuration.
func truncatedConfig(f *faultPair, tl *tally) {
	ns := f.pick()
	act, _ := f.active()
	text := f.cfgText
	if err := os.WriteFile(f.cfg, []byte(text[:len(text)/2]), 0o600); err != nil {
		f.t.Fatal(err)
	}
	f.logf("configuration cut in half, SIGHUP to %s", ns)
	f.signal(ns, syscall.SIGHUP)
	f.sleep(500*time.Millisecond, 1500*time.Millisecond)
	sm := f.s.next(time.Now())
	if !holds(sm, f.index(act)) {
		tl.add(cConfigLost, 1)
		tl.note("with the configuration cut in half, %s no longer holds the addresses and the full table: %+v", act, sm)
	}
	if err := os.WriteFile(f.cfg, []byte(text), 0o600); err != nil {
		f.t.Fatal(err)
	}
	f.signal(ns, syscall.SIGHUP)
	time.Sleep(faultDeadtime)
}

// applyPrompt: `lvsctl apply -f` of the daemons' configuration waits at
// its prompt on the standby node while the active one crashes (links
// down, SIGKILL): the standby must take over with its full table within
// deadtime + slack. The prompt is then answered "no", the crashed node
// reboots (no leftovers) and its pulse starts again.
func applyPrompt(f *faultPair, tl *tally) {
	act, standby := f.active()
	pr, pw := io.Pipe()
	var out syncbuf.Buffer
	c := f.lvsctlIn(standby, pr, &out, "apply", "-f", f.cfg)
	if err := c.Start(); err != nil {
		f.t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { c.Wait(); close(exited) }()
	defer func() {
		pw.Close()
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			c.Process.Kill()
			<-exited
		}
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "Enter a value") {
		if time.Now().After(deadline) {
			tl.note("lvsctl apply on %s did not prompt: %s", standby, out.String())
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	f.sleep(0, faultKeepalive)
	t0 := time.Now()
	f.logf("apply waiting at its prompt on %s; crash %s", standby, act)
	f.links(act, false)
	f.kill(act)
	f.cause(t0)
	took, ok := f.waitTakeover(f.index(standby), t0.Add(faultDeadtime+faultSlack))
	if !ok {
		tl.add(cLate, 1)
		pw.Close() // "no": the lock, if apply holds it, goes
		took, ok = f.waitTakeover(f.index(standby), time.Now().Add(40*time.Second))
		if ok {
			tl.note("%s took over %s after the crash, only once the prompt was answered", standby, took.Sub(t0).Round(time.Millisecond))
		} else {
			tl.note("%s did not take over even after the prompt was answered", standby)
		}
	} else {
		f.logf("%s took over %s after the crash, apply still at its prompt", standby, took.Sub(t0).Round(time.Millisecond))
	}
	pw.Close()
	// The crashed director reboots: its addresses and table are gone.
	f.wipe(act)
	f.links(act, true)
	t1 := time.Now()
	f.window(wPartition, t0, t1.Add(settleAfterHeal))
	f.window(wHeal, t1, t1.Add(settleAfterHeal))
	f.cause(t1)
	f.start(act)
}

// replayedHeartbeats: the active's heartbeats to the standby are recorded
// off the wire; the active dies (pulse SIGKILLed, its addresses and table
// gone with it), the standby's pulse restarts, and the recorded packets
// are sent to it again from the dead node's addresses: it must take over
// within deadtime + slack all the same.
func replayedHeartbeats(f *faultPair, tl *tally) {
	act, standby := f.active()
	rec, err := startCapture(nsPath(standby), f.addrsOf(act))
	if err != nil {
		f.t.Fatalf("recording heartbeats in %s: %v", standby, err)
	}
	f.sleep(3*time.Second, 4*time.Second)
	pkts := rec.stop()
	if len(pkts) == 0 {
		f.t.Fatalf("recorded no heartbeat from %s", act)
	}
	t0 := time.Now()
	f.logf("recorded %d heartbeats from %s over %s; kill it and restart %s", len(pkts), act, pkts[len(pkts)-1].at.Round(time.Millisecond), standby)
	f.kill(act)
	f.wipe(act)
	f.cause(t0)
	f.stop(standby, 3*time.Second)
	f.start(standby)
	if !f.waitUp(standby, 10*time.Second) {
		tl.note("pulse in %s did not publish its status", standby)
	}
	t1 := time.Now()
	f.cause(t1)
	done := make(chan error, 1)
	go func() { done <- replay(nsPath(act), pkts) }()
	if _, ok := f.waitTakeover(f.index(standby), t1.Add(faultDeadtime+faultSlack)); !ok {
		tl.add(cLate, 1)
		if took, ok := f.waitTakeover(f.index(standby), time.Now().Add(pkts[len(pkts)-1].at+faultDeadtime+faultSlack)); ok {
			tl.note("the restarted %s took over only %s after its start, while replayed heartbeats went on", standby, took.Sub(t1).Round(time.Millisecond))
		}
	}
	if err := <-done; err != nil {
		tl.note("replaying: %v", err)
	}
	if st, ok := f.status(standby); ok {
		tl.add(cReplays, int(st.Heartbeats.Accepted))
	}
	f.cause(time.Now())
	f.start(act)
}

// clockSkewRestart: either pulse restarts (SIGTERM) while the wall clock
// is an hour early, then the clock is put right: the two must hear each
// other again.
func clockSkewRestart(f *faultPair, tl *tally) {
	ns := f.pick()
	o := f.other(ns)
	before, _ := f.status(o)
	f.cause(time.Now())
	if !f.stop(ns, 3*time.Second) {
		tl.add(cStopHung, 1)
	}
	const skew = time.Hour
	if err := setClock(time.Now().Add(-skew)); err != nil {
		f.t.Fatalf("setting the clock back: %v", err)
	}
	f.logf("clock set back %s; restart pulse in %s", skew, ns)
	f.start(ns)
	f.waitUp(ns, 10*time.Second)
	if err := setClock(time.Now().Add(skew)); err != nil {
		f.t.Fatalf("setting the clock right: %v", err)
	}
	f.logf("clock put right")
	f.checkRepaired(tl, ns, before)
}

func setClock(t time.Time) error {
	tv := syscall.NsecToTimeval(t.UnixNano())
	return syscall.Settimeofday(&tv)
}

// ipvsadmDelete: the VIP's virtual service deleted with ipvsadm behind
// the active daemon's back; it must be back within the resync period.
func ipvsadmDelete(f *faultPair, tl *tally) {
	act, _ := f.active()
	t0 := time.Now()
	run(f.t, "ip", "netns", "exec", act, "ipvsadm", "-D", "-t", vip+":80")
	f.logf("ipvsadm -D -t %s:80 on %s", vip, act)
	allowed := f.resync + faultSlack
	f.window(wNoTable, t0, t0.Add(allowed))
	if took, ok := f.waitTakeover(f.index(act), t0.Add(allowed)); ok {
		f.logf("%s put the service back after %s", act, took.Sub(t0).Round(time.Millisecond))
	} else {
		tl.note("%s did not put the service back within %s", act, allowed)
	}
}

// operatorService is what the operator adds to the daemons' file.
const operatorService = `
virtual_server "operator" {
  address    = "10.0.0.2:8080"
  protocol   = "tcp"
  scheduler  = "rr"
  forwarding = "nat"

  real_server "real1" {
    address = "192.168.10.100:80"
  }
}
`

// operatorChange: the operator adds a service to the daemons' file and
// applies it on the active node; it must survive a health event, a
// resync period and a takeover.
func operatorChange(f *faultPair, tl *tally) {
	act, o := f.active()
	text := f.cfgText
	if err := os.WriteFile(f.cfg, []byte(text+operatorService), 0o600); err != nil {
		f.t.Fatal(err)
	}
	defer f.restoreConfig(text)
	var out syncbuf.Buffer
	if err := f.lvsctlIn(act, nil, &out, "apply", "--auto-approve", "-f", f.cfg).Run(); err != nil {
		f.t.Fatalf("the operator's apply on %s: %v\n%s", act, err, out.String())
	}
	f.logf("the operator added %s:8080 on %s", vip, act)
	extra := func(i int) func(sample) bool {
		return func(sm sample) bool { return sm.tab[i].extra }
	}
	if _, ok := f.s.waitFor(time.Now().Add(2*time.Second), extra(f.index(act))); !ok {
		f.t.Fatalf("the operator's service is not in %s's table after apply:\n%s", act, out.String())
	}
	checkKept := func(i int, event string) {
		if !f.s.next(time.Now()).tab[i].extra {
			tl.add(cReverted, 1)
			tl.note("the operator's service was gone from %s after %s", f.nodes[i], event)
		}
	}
	// A health event: real2's check fails, then passes again.
	h0 := time.Now()
	f.health[1].stop()
	_, down := f.s.waitFor(time.Now().Add(5*time.Second), func(sm sample) bool { return sm.tab[f.index(act)].web == 1 })
	checkKept(f.index(act), "a real server went down")
	f.health[1].start()
	f.s.waitFor(time.Now().Add(5*time.Second), func(sm sample) bool { return sm.tab[f.index(act)].web == 2 })
	f.window(wHealth, h0, time.Now().Add(time.Second))
	if !down {
		tl.note("real2's failing health check did not take it out of %s's table", act)
	}
	checkKept(f.index(act), "a real server came back")
	// A resync period.
	time.Sleep(f.resync + time.Second)
	checkKept(f.index(act), "a resync period")
	// A role event: the active stops, the other takes over.
	before, _ := f.status(o)
	t0 := time.Now()
	f.cause(t0)
	if !f.stop(act, 3*time.Second) {
		tl.add(cStopHung, 1)
	}
	if _, ok := f.waitTakeover(f.index(o), t0.Add(faultDeadtime+faultSlack)); !ok {
		tl.add(cLate, 1)
		tl.note("%s did not take over within deadtime + slack of the active's SIGTERM", o)
	}
	time.Sleep(500 * time.Millisecond)
	checkKept(f.index(o), "taking over")
	f.cause(time.Now())
	f.start(act)
	f.checkRepaired(tl, act, before)
}

// restoreConfig puts the file back and takes the operator's service away
// again on the active node, as the operator would.
func (f *faultPair) restoreConfig(text string) {
	if err := os.WriteFile(f.cfg, []byte(text), 0o600); err != nil {
		f.t.Fatal(err)
	}
	act, _ := f.active()
	var out syncbuf.Buffer
	if err := f.lvsctlIn(act, nil, &out, "apply", "--auto-approve", "-f", f.cfg).Run(); err != nil {
		f.logf("the operator's second apply on %s: %v\n%s", act, err, out.String())
	}
}

// addrsOf is a director's own addresses on the two heartbeat paths.
func (f *faultPair) addrsOf(ns string) []net.IP {
	if ns == f.primary {
		return []net.IP{net.ParseIP("10.0.0.3").To4(), net.ParseIP("172.31.0.1").To4()}
	}
	return []net.IP{net.ParseIP("10.0.0.4").To4(), net.ParseIP("172.31.0.2").To4()}
}

// capture records the UDP packets to port 539 from given sources that
// arrive in a namespace, off an AF_PACKET socket.
type capture struct {
	fd    int
	from  []net.IP
	mu    sync.Mutex
	pkts  []udpPacket
	first time.Time
	quit  chan struct{}
	done  chan struct{}
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func startCapture(ns string, from []net.IP) (*capture, error) {
	c := &capture{from: from, quit: make(chan struct{}), done: make(chan struct{})}
	err := netns.Do(ns, func() (err error) {
		c.fd, err = syscall.Socket(syscall.AF_PACKET, syscall.SOCK_DGRAM, int(htons(syscall.ETH_P_IP)))
		return err
	})
	if err != nil {
		return nil, err
	}
	tv := syscall.NsecToTimeval(int64(100 * time.Millisecond))
	if err := syscall.SetsockoptTimeval(c.fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv); err != nil {
		syscall.Close(c.fd)
		return nil, err
	}
	go c.run()
	return c, nil
}

func (c *capture) run() {
	defer close(c.done)
	buf := make([]byte, 2048)
	for {
		select {
		case <-c.quit:
			return
		default:
		}
		n, from, err := syscall.Recvfrom(c.fd, buf, 0)
		if err != nil {
			continue
		}
		if ll, ok := from.(*syscall.SockaddrLinklayer); ok && ll.Pkttype == syscall.PACKET_OUTGOING {
			continue
		}
		b := buf[:n]
		if len(b) < 28 || b[0]>>4 != 4 || b[9] != syscall.IPPROTO_UDP {
			continue
		}
		ihl := int(b[0]&0xf) * 4
		if len(b) < ihl+8 {
			continue
		}
		src, dst := net.IP(append([]byte(nil), b[12:16]...)), net.IP(append([]byte(nil), b[16:20]...))
		sport, dport := binary.BigEndian.Uint16(b[ihl:]), binary.BigEndian.Uint16(b[ihl+2:])
		ulen := int(binary.BigEndian.Uint16(b[ihl+4:]))
		if dport != 539 || ulen < 8 || ihl+ulen > len(b) {
			continue
		}
		wanted := false
		for _, ip := range c.from {
			wanted = wanted || ip.Equal(src)
		}
		if !wanted {
			continue
		}
		now := time.Now()
		c.mu.Lock()
		if c.first.IsZero() {
			c.first = now
		}
		c.pkts = append(c.pkts, udpPacket{
			at:      now.Sub(c.first),
			src:     &net.UDPAddr{IP: src, Port: int(sport)},
			dst:     &net.UDPAddr{IP: dst, Port: int(dport)},
			payload: bytes.Clone(b[ihl+8 : ihl+ulen]),
		})
		c.mu.Unlock()
	}
}

func (c *capture) stop() []udpPacket {
	close(c.quit)
	<-c.done
	syscall.Close(c.fd)
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pkts
}

// replay sends the packets again from their source addresses and ports
// in namespace ns, with their original spacing.
func replay(ns string, pkts []udpPacket) error {
	conns := map[string]*net.UDPConn{}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for _, p := range pkts {
		if conns[p.src.String()] != nil {
			continue
		}
		var c *net.UDPConn
		err := netns.Do(ns, func() (err error) {
			c, err = net.ListenUDP("udp4", p.src)
			return err
		})
		if err != nil {
			return err
		}
		conns[p.src.String()] = c
	}
	start := time.Now()
	for _, p := range pkts {
		time.Sleep(time.Until(start.Add(p.at)))
		if _, err := conns[p.src.String()].WriteToUDP(p.payload, p.dst); err != nil {
			return err
		}
	}
	return nil
}
