package e2e

// The fault suite's harness: a witness that samples both directors every
// 50ms without going through lvsctl (netlink for the addresses, the
// kernel's own /proc/net/ip_vs for the IPVS table), a client fetching
// through the VIP all along, the pulse daemons as helper processes that
// can be signalled, killed and restarted, and the counters that
// faults_test.go reports and fails on.

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/lvsctl/lvsctl/internal/apply"
	"github.com/lvsctl/lvsctl/internal/cmd"
	"github.com/lvsctl/lvsctl/kernel"
)

var (
	faultRounds = flag.Int("fault-rounds", 2, "rounds of each fault kind in TestKernelFaults (or LVSCTL_FAULT_ROUNDS)")
	faultSeed   = flag.Int64("fault-seed", 0, "seed of TestKernelFaults' random choices; 0: from the clock (or LVSCTL_FAULT_SEED)")
)

func init() {
	helpers["lvsctl"] = lvsctlHelper
	// The lab forwards the package's flags into the VM, not the
	// environment: the variables become flags here, on the host.
	for env, name := range map[string]string{"LVSCTL_FAULT_ROUNDS": "fault-rounds", "LVSCTL_FAULT_SEED": "fault-seed"} {
		if v := os.Getenv(env); v != "" {
			if err := flag.Set(name, v); err != nil {
				fmt.Fprintf(os.Stderr, "e2e: %s=%q: %v\n", env, v, err)
				os.Exit(2)
			}
		}
	}
}

// lvsctlHelper is any lvsctl command run in a namespace (ip netns exec),
// with the real standard input, so that apply can sit at its prompt, and
// the lock directory of that namespace's pulse.
func lvsctlHelper() int {
	args := append([]string{"lvsctl"}, strings.Split(os.Getenv("LVSCTL_E2E_ARGS"), "\n")...)
	return cmd.Main(context.Background(), args, cmd.Env{
		Stdin:  os.Stdin,
		Stdout: os.Stdout,
		Stderr: os.Stderr,
		OpenKernel: func(ns string) (apply.Kernel, error) {
			k, err := kernel.Open(ns)
			if err != nil {
				return nil, err
			}
			return k, nil
		},
		StateDir: os.Getenv("LVSCTL_E2E_LOCKDIR"),
		Getenv:   func(string) string { return "" },
	})
}

const (
	faultKeepalive = 300 * time.Millisecond
	faultDeadtime  = 1500 * time.Millisecond
	// faultSlack is what a takeover may take beyond the deadtime in the
	// emulated VM (a plan and apply, the addresses, this harness's
	// sampling); client failures up to deadtime + slack after a fault
	// that really moved the VIP are that takeover's.
	faultSlack = 2 * time.Second
	// settleAfterHeal: after a partition heals, the backup hears the
	// primary within a keepalive and yields, and the health checks pass
	// again (rise 1, interval 1s); two holders, or a VIP without its
	// real servers, after this are counted as real.
	settleAfterHeal = faultDeadtime + time.Second
	samplePeriod    = 50 * time.Millisecond
	natAddr         = "192.168.10.254"
	// marker is in the argv of every process the suite's active_cmd and
	// inactive_cmd scripts start, so that orphans can be found.
	marker = "lvsctl-fault-marker"
)

// The counters, in the order of the report. mustBeZero says which fail
// the test.
const (
	cFaults          = "faults injected"
	cSamples         = "samples taken"
	cDouble          = "two VIP holders (outside partitions)"
	cDoublePartition = "two VIP holders (during a partition)"
	cDoubleHeal      = "two VIP holders (after the heal, up to deadtime + 1s)"
	cDoubleDead      = "two VIP holders (a killed pulse's node, until its restart)"
	cNoTable         = "VIP without its table"
	cNoTableAllowed  = "VIP without its table (within resync after ipvsadm -D)"
	cNoTablePart     = "VIP without its table (during a partition)"
	cNoTableHeal     = "VIP without its table (after the heal, up to deadtime + 1s)"
	cReverted        = "operator changes reverted"
	cOrphans         = "orphan processes"
	cRequests        = "client requests"
	cFailTakeover    = "failed requests, attributed to a takeover"
	cFailOther       = "failed requests, not attributed"
	cFailNoTable     = "failed requests, while the service was deleted by hand"
	cFailHealth      = "failed requests, to a real server its health check took out"
	cFailShort       = "failed requests, while the active was cut off for less than the deadtime"
	cDeaths          = "pulse exited by itself"
	cLate            = "takeovers later than deadtime + 2s"
	cNotRecovered    = "not back to one holder with its table"
	cRepair          = "partners not re-paired after a restart"
	cStopHung        = "SIGTERM not done within 3s"
	cConfigLost      = "running configuration lost"
	cReplays         = "replayed heartbeats accepted"
)

var counterOrder = []string{cFaults, cSamples, cDouble, cDoublePartition, cDoubleHeal, cDoubleDead, cNoTable, cNoTableAllowed,
	cNoTablePart, cNoTableHeal, cReverted, cOrphans, cRequests, cFailTakeover, cFailNoTable, cFailHealth, cFailShort, cFailOther, cDeaths, cLate, cNotRecovered, cRepair,
	cStopHung, cConfigLost, cReplays}

var mustBeZero = map[string]bool{cDouble: true, cNoTable: true, cReverted: true, cOrphans: true,
	cFailOther: true, cDeaths: true, cLate: true, cNotRecovered: true, cRepair: true, cStopHung: true,
	cConfigLost: true}

// tally is one fault kind's counts.
type tally struct {
	kind  string
	n     map[string]int
	notes []string
}

func newTally(kind string) *tally { return &tally{kind: kind, n: map[string]int{}} }

func (tl *tally) add(c string, n int) { tl.n[c] += n }

func (tl *tally) note(format string, args ...any) {
	tl.notes = append(tl.notes, fmt.Sprintf(format, args...))
}

// check fails t for each counter that must be zero and is not.
func (tl *tally) check(t *testing.T) {
	t.Helper()
	for _, c := range counterOrder {
		if mustBeZero[c] && tl.n[c] != 0 {
			t.Errorf("%s: %s: %d, want 0", tl.kind, c, tl.n[c])
		}
	}
}

// report renders tallies as a Markdown table, a column per kind and one
// for the total.
func report(tallies []*tally) string {
	var b strings.Builder
	b.WriteString("| counter |")
	for _, tl := range tallies {
		b.WriteString(" " + tl.kind + " |")
	}
	b.WriteString(" total |\n|---|")
	for range tallies {
		b.WriteString("---:|")
	}
	b.WriteString("---:|\n")
	for _, c := range counterOrder {
		name := c
		if mustBeZero[c] {
			name += " (must be 0)"
		}
		fmt.Fprintf(&b, "| %s |", name)
		total := 0
		for _, tl := range tallies {
			fmt.Fprintf(&b, " %d |", tl.n[c])
			total += tl.n[c]
		}
		fmt.Fprintf(&b, " %d |\n", total)
	}
	return b.String()
}

// tableState is what one director's IPVS table holds of the suite's
// configuration.
type tableState struct {
	web      int  // real servers of the VIP's service 10.0.0.2:80; -1: no such service
	extra    bool // the operator's service 10.0.0.2:8080
	services int
}

func (ts tableState) hasWeb() bool { return ts.web >= 1 }
func (ts tableState) full() bool   { return ts.web == 2 }

// sample is one look at both directors: hold[node][0] is the VIP,
// hold[node][1] the NAT gateway address, each true only when seen both
// before and after the tables were read (so that a move in between is
// not a double holder or a VIP without its table).
type sample struct {
	at   time.Time
	took time.Duration
	hold [2][2]bool
	tab  [2]tableState
	err  string
}

func (s sample) holder(addr int) int {
	switch {
	case s.hold[0][addr] && s.hold[1][addr]:
		return 2
	case s.hold[0][addr]:
		return 0
	case s.hold[1][addr]:
		return 1
	}
	return -1
}

// sampler is the witness.
type sampler struct {
	handles [2]*netlink.Handle
	pids    [2]int // a sleeper in each namespace: /proc/PID/net/ip_vs is its table

	mu      sync.Mutex
	samples []sample
	stop    chan struct{}
	done    chan struct{}
}

func newSampler(t *testing.T, nodes [2]string) *sampler {
	t.Helper()
	s := &sampler{stop: make(chan struct{}), done: make(chan struct{})}
	for i, ns := range nodes {
		h, err := netns.GetFromName(ns)
		if err != nil {
			t.Fatal(err)
		}
		nh, err := netlink.NewHandleAt(h, syscall.NETLINK_ROUTE)
		h.Close()
		if err != nil {
			t.Fatal(err)
		}
		s.handles[i] = nh
		c := exec.Command("ip", "netns", "exec", ns, "sleep", "1000000")
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		s.pids[i] = c.Process.Pid
		t.Cleanup(func() { c.Process.Kill(); c.Wait(); nh.Close() })
	}
	go s.run()
	t.Cleanup(s.halt)
	return s
}

func (s *sampler) run() {
	defer close(s.done)
	tick := time.NewTicker(samplePeriod)
	defer tick.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-tick.C:
		}
		sm := s.take()
		s.mu.Lock()
		s.samples = append(s.samples, sm)
		s.mu.Unlock()
	}
}

func (s *sampler) halt() {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	<-s.done
}

func (s *sampler) take() sample {
	sm := sample{at: time.Now()}
	var errs []string
	var before, after [2][2]bool
	for i := range 2 {
		h, err := s.addrs(i)
		if err != nil {
			errs = append(errs, err.Error())
		}
		before[i] = h
	}
	for i := range 2 {
		ts, err := s.table(i)
		if err != nil {
			errs = append(errs, err.Error())
		}
		sm.tab[i] = ts
	}
	for i := range 2 {
		h, err := s.addrs(i)
		if err != nil {
			errs = append(errs, err.Error())
		}
		after[i] = h
	}
	for i := range 2 {
		for a := range 2 {
			sm.hold[i][a] = before[i][a] && after[i][a]
		}
	}
	sm.err = strings.Join(errs, "; ")
	sm.took = time.Since(sm.at)
	return sm
}

func (s *sampler) addrs(i int) ([2]bool, error) {
	var h [2]bool
	list, err := s.handles[i].AddrList(nil, netlink.FAMILY_V4)
	if err != nil {
		return h, err
	}
	for _, a := range list {
		switch a.IP.String() {
		case vip:
			h[0] = true
		case natAddr:
			h[1] = true
		}
	}
	return h, nil
}

func (s *sampler) table(i int) (tableState, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/ip_vs", s.pids[i]))
	if err != nil {
		return tableState{web: -1}, err
	}
	return parseProcIPVS(string(b)), nil
}

// parseProcIPVS reads the kernel's /proc/net/ip_vs:
//
//	TCP  0A000002:0050 rr
//	  -> C0A80A64:0050      Masq    1      0          0
func parseProcIPVS(text string) tableState {
	ts := tableState{web: -1}
	cur := ""
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch {
		case f[0] == "TCP" || f[0] == "UDP" || f[0] == "SCTP" || f[0] == "FWM":
			ts.services++
			cur = f[0] + " " + hexAddr(f[1])
			switch cur {
			case "TCP " + vip + ":80":
				ts.web = 0
			case "TCP " + vip + ":8080":
				ts.extra = true
			}
		case f[0] == "->" && strings.Contains(f[1], ":") && !strings.HasPrefix(f[1], "Remote"):
			if cur == "TCP "+vip+":80" {
				ts.web++
			}
		}
	}
	return ts
}

// hexAddr turns the kernel's 0A000002:0050 into 10.0.0.2:80.
func hexAddr(s string) string {
	a, p, ok := strings.Cut(s, ":")
	if !ok || len(a) != 8 {
		return s
	}
	ip, err1 := strconv.ParseUint(a, 16, 32)
	port, err2 := strconv.ParseUint(p, 16, 16)
	if err1 != nil || err2 != nil {
		return s
	}
	return fmt.Sprintf("%d.%d.%d.%d:%d", ip>>24, ip>>16&0xff, ip>>8&0xff, ip&0xff, port)
}

// next returns the first sample that starts after t0, waiting for it.
func (s *sampler) next(t0 time.Time) sample {
	for {
		s.mu.Lock()
		for i := len(s.samples) - 1; i >= 0 && s.samples[i].at.After(t0); i-- {
			if i == 0 || !s.samples[i-1].at.After(t0) {
				sm := s.samples[i]
				s.mu.Unlock()
				return sm
			}
		}
		s.mu.Unlock()
		time.Sleep(samplePeriod / 2)
	}
}

// waitFor waits for a sample taken after now for which cond holds, until
// deadline; it returns that sample's time.
func (s *sampler) waitFor(deadline time.Time, cond func(sample) bool) (time.Time, bool) {
	t0 := time.Now()
	for {
		sm := s.next(t0)
		if cond(sm) {
			return sm.at, true
		}
		if sm.at.After(deadline) {
			return time.Time{}, false
		}
		t0 = sm.at
	}
}

func (s *sampler) between(from, to time.Time) []sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []sample
	for _, sm := range s.samples {
		if !sm.at.Before(from) && sm.at.Before(to) {
			out = append(out, sm)
		}
	}
	return out
}

// periods describes the sampling period achieved.
func (s *sampler) periods() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.samples) < 2 {
		return "no samples"
	}
	var d []time.Duration
	var took []time.Duration
	for i := 1; i < len(s.samples); i++ {
		d = append(d, s.samples[i].at.Sub(s.samples[i-1].at))
		took = append(took, s.samples[i].took)
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	var sum time.Duration
	for _, x := range d {
		sum += x
	}
	q := func(v []time.Duration, p float64) time.Duration {
		return v[int(float64(len(v)-1)*p)].Round(time.Millisecond)
	}
	return fmt.Sprintf("%d samples, period mean %s, median %s, p99 %s, max %s (asked %s); one sample takes median %s, p99 %s",
		len(s.samples), (sum / time.Duration(len(d))).Round(time.Millisecond), q(d, .5), q(d, .99), q(d, 1), samplePeriod, q(took, .5), q(took, .99))
}

// span is one failed client request.
type span struct {
	from, to time.Time
	err      string
}

// client fetches http://VIP/ from the client namespace without pause,
// each request on a new connection with short timeouts.
type client struct {
	mu       sync.Mutex
	ok       int
	fails    []span
	stop     chan struct{}
	finished chan struct{}
}

func (p *pulsePair) startClient(t *testing.T) *client {
	c := &client{stop: make(chan struct{}), finished: make(chan struct{})}
	go func() {
		defer close(c.finished)
		for {
			select {
			case <-c.stop:
				return
			default:
			}
			start := time.Now()
			err := p.fetchOnce()
			c.mu.Lock()
			if err == nil {
				c.ok++
			} else {
				c.fails = append(c.fails, span{start, time.Now(), err.Error()})
			}
			c.mu.Unlock()
			time.Sleep(20 * time.Millisecond)
		}
	}()
	t.Cleanup(c.halt)
	return c
}

func (c *client) halt() {
	select {
	case <-c.stop:
	default:
		close(c.stop)
	}
	<-c.finished
}

func (c *client) counts() (ok int, fails []span) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ok, append([]span(nil), c.fails...)
}

// A window is a stretch of time the evaluation treats apart: a fault that
// may move the VIP (cause), a partition, a table deleted by hand, a
// repair by the harness (not counted at all).
type window struct {
	what     string
	from, to time.Time
}

const (
	wCause     = "cause"
	wPartition = "partition"
	// wHeal is the end of a partition window: from the heal (the links
	// coming up) to deadtime + 1s after it, counted apart from the
	// partition itself so that what the pair does once its directors hear
	// each other again shows.
	wHeal    = "heal"
	wNoTable = "no-table"
	wRepair  = "repair"
	// wDead: a SIGKILLed pulse's node, from the kill until its next run
	// has started (and released what the killed one held): nothing on
	// that node can remove its addresses meanwhile.
	wDead = "dead"
	// wHealth: a real server failing its health check on purpose (its
	// port 8081 closed) until it is back; a request on its way to it when
	// it is taken out is lost.
	wHealth = "health"
	// wShort: the active director cut off for less than the deadtime:
	// nobody takes over, and the client waits for the links to come back.
	wShort = "short"
)

// daemon is one run of lvsctl pulse.
type daemon struct {
	ns       string
	cmd      *exec.Cmd
	started  time.Time
	done     chan struct{}
	err      error
	expected atomic.Bool // stopped or killed by the harness on purpose
}

func (d *daemon) running() bool {
	select {
	case <-d.done:
		return false
	default:
		return true
	}
}

// faultPair is a pulse pair under faults.
type faultPair struct {
	*pulsePair
	t       *testing.T // the running (sub)test's
	parent  *testing.T
	cfg     string // the daemons' configuration file
	cfgText string
	rng     *rand.Rand
	nodes   [2]string // primary, backup
	s       *sampler
	cl      *client
	// resync is how long the daemon may take to put back a table changed
	// behind its back; pulseArgs are extra flags for it.
	resync    time.Duration
	pulseArgs []string
	health    [2]*web // the real servers' health check listeners (port 8081)

	mu          sync.Mutex
	daemons     map[string]*daemon
	windows     []window
	deaths      []time.Time
	deathLog    []string
	seenOrphans map[int]bool
}

func (f *faultPair) index(ns string) int {
	if ns == f.nodes[0] {
		return 0
	}
	return 1
}

func (f *faultPair) logf(format string, args ...any) {
	f.t.Helper()
	f.t.Logf("%s "+format, append([]any{time.Now().Format("15:04:05.000")}, args...)...)
}

func (f *faultPair) window(what string, from, to time.Time) {
	f.mu.Lock()
	f.windows = append(f.windows, window{what, from, to})
	f.mu.Unlock()
}

// cause marks a fault that may move the VIP: client failures up to
// deadtime + slack after it are the takeover's, if the VIP did move.
func (f *faultPair) cause(at time.Time) {
	f.window(wCause, at, at.Add(faultDeadtime+faultSlack))
}

func (f *faultPair) lockDir(ns string) string { return filepath.Join(f.dir, ns+"-run") }

// start runs lvsctl pulse in namespace ns, with the current configuration
// file.
func (f *faultPair) start(ns string) *daemon {
	t := f.t
	t.Helper()
	role := "primary"
	if ns == f.backup {
		role = "backup"
	}
	log, err := os.OpenFile(filepath.Join(f.dir, ns+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(log, "%s ==== harness: starting lvsctl pulse\n", time.Now().Format("15:04:05.000"))
	if err := os.MkdirAll(f.lockDir(ns), 0o700); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"pulse", "-f", f.cfg, "--role", role, "--status-file", f.statusFile(ns),
		"--arp-count", "3", "--arp-interval", "300ms"}, f.pulseArgs...)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	c := exec.Command("ip", "netns", "exec", ns, exe)
	c.Env = append(os.Environ(), "LVSCTL_E2E_HELPER=pulse", "LVSCTL_E2E_ARGS="+strings.Join(args, "\n"), "LVSCTL_E2E_LOCKDIR="+f.lockDir(ns))
	c.Stdout, c.Stderr = log, log
	os.Remove(f.statusFile(ns))
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	d := &daemon{ns: ns, cmd: c, started: time.Now(), done: make(chan struct{})}
	go func() {
		d.err = c.Wait()
		log.Close()
		close(d.done)
		if !d.expected.Load() {
			f.mu.Lock()
			f.deaths = append(f.deaths, time.Now())
			f.deathLog = append(f.deathLog, fmt.Sprintf("%s: pulse in %s exited by itself: %v", time.Now().Format("15:04:05.000"), ns, d.err))
			f.mu.Unlock()
		}
	}()
	f.mu.Lock()
	f.daemons[ns] = d
	f.mu.Unlock()
	return d
}

func (f *faultPair) daemon(ns string) *daemon {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.daemons[ns]
}

// signal sends sig to ns's pulse without expecting it to exit.
func (f *faultPair) signal(ns string, sig syscall.Signal) {
	if d := f.daemon(ns); d != nil && d.running() {
		d.cmd.Process.Signal(sig)
	}
}

// kill SIGKILLs ns's pulse and waits for it to be gone.
func (f *faultPair) kill(ns string) {
	d := f.daemon(ns)
	if d == nil || !d.running() {
		return
	}
	d.expected.Store(true)
	d.cmd.Process.Signal(syscall.SIGKILL)
	<-d.done
}

// stop sends SIGTERM and waits up to limit for pulse to exit; then it
// SIGKILLs it and reports false.
func (f *faultPair) stop(ns string, limit time.Duration) bool {
	d := f.daemon(ns)
	if d == nil || !d.running() {
		return true
	}
	d.expected.Store(true)
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
		return true
	case <-time.After(limit):
		d.cmd.Process.Signal(syscall.SIGKILL)
		<-d.done
		return false
	}
}

type pulseStatus struct {
	PID        int    `json:"pid"`
	State      string `json:"state"`
	Heartbeats struct {
		Accepted, Replayed uint64
	} `json:"heartbeats"`
}

// status reads ns's status file; ok is false when it is missing or not
// the running daemon's.
func (f *faultPair) status(ns string) (pulseStatus, bool) {
	var st pulseStatus
	b, err := os.ReadFile(f.statusFile(ns))
	if err != nil || json.Unmarshal(b, &st) != nil {
		return st, false
	}
	d := f.daemon(ns)
	return st, d != nil && d.running() && st.PID == d.cmd.Process.Pid
}

// waitUp waits for ns's new pulse to publish its status.
func (f *faultPair) waitUp(ns string, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if _, ok := f.status(ns); ok {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// holder is the node holding the VIP now: 0, 1, -1 for none, 2 for both.
func (f *faultPair) holder() int { return f.s.next(time.Now()).holder(0) }

// holds says node i holds both floating addresses and the full table.
func holds(sm sample, i int) bool {
	return sm.hold[i][0] && sm.hold[i][1] && sm.tab[i].full()
}

// settled says whether the pair is as it should be between faults: both
// daemons running, one node active with both floating addresses and the
// full table, the other standby with neither and no virtual service.
func (f *faultPair) settled() (int, string) {
	sm := f.s.next(time.Now())
	for i, ns := range f.nodes {
		if d := f.daemon(ns); d == nil || !d.running() {
			return -1, fmt.Sprintf("pulse is not running in %s", ns)
		}
		_ = i
	}
	h := -1
	for i := range 2 {
		if holds(sm, i) {
			h = i
		}
	}
	if h < 0 {
		return -1, fmt.Sprintf("no node holds both addresses with the full table: %+v", sm)
	}
	o := 1 - h
	if sm.hold[o][0] || sm.hold[o][1] || sm.tab[o].hasWeb() {
		return -1, fmt.Sprintf("the other node holds something: %+v", sm)
	}
	sa, ok1 := f.status(f.nodes[h])
	sb, ok2 := f.status(f.nodes[o])
	if !ok1 || !ok2 || sa.State != "active" || sb.State != "standby" {
		return -1, fmt.Sprintf("status: %s %q, %s %q", f.nodes[h], sa.State, f.nodes[o], sb.State)
	}
	return h, ""
}

func (f *faultPair) waitSettled(limit time.Duration) (int, string) {
	deadline := time.Now().Add(limit)
	for {
		h, why := f.settled()
		if h >= 0 || time.Now().After(deadline) {
			return h, why
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitTakeover waits until node i holds both addresses and the full
// table, at the latest at deadline.
func (f *faultPair) waitTakeover(i int, deadline time.Time) (time.Time, bool) {
	return f.s.waitFor(deadline, func(sm sample) bool { return holds(sm, i) })
}

func (f *faultPair) handle(ns string) *netlink.Handle {
	return f.s.handles[f.index(ns)]
}

// links sets the director's three interfaces up or down.
func (f *faultPair) links(ns string, up bool) {
	h := f.handle(ns)
	for _, dev := range []string{"eth0", "eth1", "hb0"} {
		l, err := h.LinkByName(dev)
		if err != nil {
			f.t.Fatal(err)
		}
		if up {
			err = h.LinkSetUp(l)
		} else {
			err = h.LinkSetDown(l)
		}
		if err != nil {
			f.t.Fatalf("%s %s up=%v: %v", ns, dev, up, err)
		}
	}
}

// wipe is a rebooted director: no floating address, an empty IPVS table.
func (f *faultPair) wipe(ns string) {
	h := f.handle(ns)
	list, err := h.AddrList(nil, netlink.FAMILY_V4)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, a := range list {
		if s := a.IP.String(); s == vip || s == natAddr {
			l, err := h.LinkByIndex(a.LinkIndex)
			if err == nil {
				err = h.AddrDel(l, &a)
			}
			if err != nil {
				f.t.Fatalf("removing %s in %s: %v", s, ns, err)
			}
		}
	}
	run(f.t, "ip", "netns", "exec", ns, "ipvsadm", "-C")
}

// repair puts the pair back by hand after a fault it did not recover
// from: both daemons stopped, leftovers removed, both started again.
// Nothing in it is counted.
func (f *faultPair) repair(why string) {
	f.t.Helper()
	from := time.Now()
	f.logf("repair: %s", why)
	for _, ns := range f.nodes {
		f.stop(ns, 3*time.Second)
	}
	for _, ns := range f.nodes {
		f.links(ns, true)
		f.wipe(ns)
	}
	f.killOrphans(false)
	for _, ns := range f.nodes {
		f.start(ns)
		f.waitUp(ns, 10*time.Second)
	}
	for _, w := range f.health {
		if w != nil {
			w.stop()
			w.start()
		}
	}
	if h, why := f.waitSettled(20 * time.Second); h < 0 {
		f.t.Fatalf("the pair did not settle after a repair: %s\n%s", why, f.logs())
	}
	f.window(wRepair, from, time.Now())
	f.logf("repaired in %s", time.Since(from).Round(time.Millisecond))
}

// markerProcs lists the live processes whose argv carries the marker, by
// pid, with their parent.
func markerProcs() map[int]int {
	out := map[int]int{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cl, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil || !bytes.Contains(cl, []byte(marker)) {
			continue
		}
		out[pid] = ppid(pid)
	}
	return out
}

func ppid(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	// pid (comm) state ppid ...: comm may hold blanks.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return -1
	}
	n, _ := strconv.Atoi(f[1])
	return n
}

// killOrphans counts the marker processes whose parent is 1 (new ones
// only), then kills every marker process with its descendants when
// count is false or they are orphans.
func (f *faultPair) killOrphans(count bool) int {
	procs := markerProcs()
	n := 0
	var victims []int
	for pid, pp := range procs {
		if pp == 1 {
			if !f.seenOrphans[pid] {
				f.seenOrphans[pid] = true
				n++
			}
			victims = append(victims, pid)
		} else if !count {
			victims = append(victims, pid)
		}
	}
	if len(victims) > 0 {
		killTrees(victims)
	}
	return n
}

// killTrees SIGKILLs the processes and all their descendants.
func killTrees(roots []int) {
	parent := map[int]int{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			parent[pid] = ppid(pid)
		}
	}
	doomed := map[int]bool{}
	for _, r := range roots {
		doomed[r] = true
	}
	for changed := true; changed; {
		changed = false
		for pid, pp := range parent {
			if doomed[pp] && !doomed[pid] {
				doomed[pid] = true
				changed = true
			}
		}
	}
	for pid := range doomed {
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

// lvsctlIn runs an lvsctl command in namespace ns as the director's
// operator would, with ns's lock directory; stdin may be nil.
func (f *faultPair) lvsctlIn(ns string, stdin io.Reader, stdout io.Writer, args ...string) *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		f.t.Fatal(err)
	}
	c := exec.Command("ip", "netns", "exec", ns, exe)
	c.Env = append(os.Environ(), "LVSCTL_E2E_HELPER=lvsctl", "LVSCTL_E2E_ARGS="+strings.Join(args, "\n"), "LVSCTL_E2E_LOCKDIR="+f.lockDir(ns))
	c.Stdin, c.Stdout, c.Stderr = stdin, stdout, stdout
	return c
}

// roleChanges returns the lines of ns's pulse log, between from and to,
// in which it went active or standby, and why.
func (f *faultPair) roleChanges(ns string, from, to time.Time) []string {
	b, err := os.ReadFile(filepath.Join(f.dir, ns+".log"))
	if err != nil {
		return nil
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		// Each line is stamped by the helper, then slog's text.
		_, l, _ = strings.Cut(l, "time=")
		ts, rest, ok := strings.Cut(l, " ")
		if !ok || !strings.Contains(rest, `msg="active: `) && !strings.Contains(rest, `msg="standby: `) {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil || at.Before(from) || at.After(to) {
			continue
		}
		_, msg, _ := strings.Cut(rest, "msg=")
		out = append(out, fmt.Sprintf("%s %s %s", at.Local().Format("15:04:05.000"), ns, msg))
	}
	return out
}

// evaluate counts what the samples, the client and the deaths say
// between from and to, outside the harness's repairs.
func (f *faultPair) evaluate(tl *tally, from, to time.Time) {
	f.mu.Lock()
	windows := append([]window(nil), f.windows...)
	deaths := append([]time.Time(nil), f.deaths...)
	f.mu.Unlock()
	in := func(what string, at time.Time) bool {
		for _, w := range windows {
			if w.what == what && !at.Before(w.from) && !at.After(w.to) {
				return true
			}
		}
		return false
	}
	samples := f.s.between(from, to)
	// After each heal, who held the VIP without its table, and when
	// (from the heal): logged, so that a round's share shows.
	type healKey struct {
		heal time.Time
		node int
	}
	healOf := func(at time.Time) time.Time {
		for _, w := range windows {
			if w.what == wHeal && !at.Before(w.from) && !at.After(w.to) {
				return w.from
			}
		}
		return time.Time{}
	}
	var healKeys []healKey
	healSeen := map[healKey][]time.Duration{}
	var changes []time.Time // when the VIP's holders changed
	prev := -3
	for _, sm := range samples {
		if h := sm.holder(0); h != prev {
			if prev != -3 {
				changes = append(changes, sm.at)
			}
			prev = h
		}
		if in(wRepair, sm.at) {
			continue
		}
		tl.add(cSamples, 1)
		if sm.hold[0][0] && sm.hold[1][0] || sm.hold[0][1] && sm.hold[1][1] {
			switch {
			case in(wHeal, sm.at):
				tl.add(cDoubleHeal, 1)
			case in(wPartition, sm.at):
				tl.add(cDoublePartition, 1)
			case in(wDead, sm.at):
				tl.add(cDoubleDead, 1)
			default:
				tl.add(cDouble, 1)
			}
		}
		for i := range 2 {
			if sm.hold[i][0] && !sm.tab[i].hasWeb() {
				switch {
				case in(wNoTable, sm.at):
					tl.add(cNoTableAllowed, 1)
				case in(wHeal, sm.at):
					// The partition is over: the pair settles who
					// holds the VIP, and the isolated director's
					// health checks pass again.
					tl.add(cNoTableHeal, 1)
					k := healKey{healOf(sm.at), i}
					if healSeen[k] == nil {
						healKeys = append(healKeys, k)
					}
					healSeen[k] = append(healSeen[k], sm.at.Sub(k.heal))
				case in(wPartition, sm.at):
					// An isolated director's health checks fail:
					// its service loses its real servers.
					tl.add(cNoTablePart, 1)
				default:
					tl.add(cNoTable, 1)
				}
			}
		}
	}
	for _, k := range healKeys {
		ds := healSeen[k]
		f.logf("after the heal at %s: %s held the VIP without its table in %d samples, from +%s to +%s",
			k.heal.Format("15:04:05.000"), f.nodes[k.node], len(ds), ds[0].Round(time.Millisecond), ds[len(ds)-1].Round(time.Millisecond))
	}
	// What each pulse said about its role around each heal.
	for _, w := range windows {
		if w.what != wHeal || w.to.Before(from) || w.from.After(to) {
			continue
		}
		for _, ns := range f.nodes {
			for _, l := range f.roleChanges(ns, w.from.Add(-faultDeadtime-time.Second), w.to) {
				f.logf("heal at %s: %s", w.from.Format("15:04:05.000"), l)
			}
		}
	}
	for _, d := range deaths {
		if !d.Before(from) && d.Before(to) {
			tl.add(cDeaths, 1)
		}
	}
	// A failed request is a takeover's when it overlaps a fault that may
	// move the VIP, and the VIP did move within that fault's window.
	ok, fails := f.cl.counts()
	_ = ok
	moved := func(w window) bool {
		for _, c := range changes {
			if !c.Before(w.from) && !c.After(w.to) {
				return true
			}
		}
		return false
	}
	var other []string
	for _, sp := range fails {
		if sp.to.Before(from) || !sp.from.Before(to) || in(wRepair, sp.from) || in(wRepair, sp.to) {
			continue
		}
		tl.add(cRequests, 1)
		attributed := false
		for _, w := range windows {
			if w.what == wCause && !sp.to.Before(w.from) && !sp.from.After(w.to) && moved(w) {
				attributed = true
				break
			}
		}
		overlaps := func(what string) bool {
			for _, w := range windows {
				if w.what == what && !sp.to.Before(w.from) && !sp.from.After(w.to) {
					return true
				}
			}
			return false
		}
		switch {
		case attributed:
			tl.add(cFailTakeover, 1)
		case overlaps(wNoTable):
			tl.add(cFailNoTable, 1)
		case overlaps(wHealth):
			tl.add(cFailHealth, 1)
		case overlaps(wShort):
			tl.add(cFailShort, 1)
		default:
			tl.add(cFailOther, 1)
			if len(other) < 5 {
				other = append(other, fmt.Sprintf("%s (%s)", sp.from.Format("15:04:05.000"), sp.err))
			}
		}
	}
	if len(other) > 0 {
		tl.note("unattributed failures, first ones: %s", strings.Join(other, "; "))
	}
}

// addOKRequests adds the successful requests between two counts.
func (tl *tally) addOKRequests(n int) { tl.add(cRequests, n) }

// udpPacket is one recorded heartbeat.
type udpPacket struct {
	at       time.Duration // since the first one
	src, dst *net.UDPAddr
	payload  []byte
}
