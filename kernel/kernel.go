// Package kernel is the production [apply.Kernel]: it reads and changes the
// IPVS table of one network namespace over generic netlink, the interface
// ipvsadm uses.
//
// It speaks the IPVS netlink protocol itself rather than through
// github.com/moby/ipvs, which lacks tunnel types, destination families,
// 64-bit counters and the sync daemon, cannot tell a kernel without IPVS
// from a working one, and sends one request per round trip. One socket is
// opened per [IPVS] handle and kept; [IPVS.Batch] pipelines many changes
// per system call.
package kernel

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/lvsctl/lvsctl/apply"
	"github.com/lvsctl/lvsctl/lvs"
	"github.com/lvsctl/lvsctl/plan"
	"github.com/lvsctl/lvsctl/rundir"
)

// ErrNoIPVS is returned by [Open] when the running kernel has no IPVS.
var ErrNoIPVS = errors.New("this kernel has no IPVS (module ip_vs): run modprobe ip_vs, or use --live to plan against a saved table")

// ErrNotRun marks the operations of a [IPVS.Batch] that were not sent
// because an earlier one failed. It is [apply.ErrNotRun], so that
// apply.Run, which uses Batch through [apply.Batcher], recognises it.
var ErrNotRun = apply.ErrNotRun

// Netlink request flags (include/uapi/linux/netlink.h).
const (
	nlmFRequest = 0x1
	nlmFAck     = 0x4
	nlmFDump    = 0x300
)

// batchChunk is how many commands [IPVS.Batch] sends per write. The
// answers to a chunk wait in the socket's receive buffer until it is read;
// 256 acknowledgements take well under the 4 MiB asked for.
const batchChunk = 256

// IPVS is a handle on the IPVS table of one network namespace. It is safe
// for use by several goroutines; their requests are serialised.
type IPVS struct {
	mu sync.Mutex
	c  *conn
	m  msgBuf
}

var _ apply.Kernel = (*IPVS)(nil)

// Open returns a handle on the IPVS table of a network namespace: "" is the
// caller's own, a bare name is /run/netns/NAME (as "ip netns add" makes
// them), and anything with a slash is a path to a namespace file.
func Open(netns string) (*IPVS, error) {
	path, err := NetnsPath(netns)
	if err != nil {
		return nil, err
	}
	if path != "" {
		if _, err := os.Stat(path); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("network namespace %q does not exist (no %s): create it with \"ip netns add\" or name an existing one", netns, path)
			}
			return nil, fmt.Errorf("network namespace %q: %w", netns, err)
		}
	}
	c, err := newConn(path)
	if err != nil {
		return nil, err
	}
	return &IPVS{c: c}, nil
}

// NetnsPath returns the namespace file that [Open] uses for netns (the
// rule is [rundir.NetnsPath]'s, which keys lvsctl's state by namespace).
func NetnsPath(netns string) (string, error) { return rundir.NetnsPath(netns) }

// Close releases the handle's socket.
func (h *IPVS) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.c == nil {
		return nil
	}
	err := h.c.close()
	h.c = nil
	return err
}

var errClosed = errors.New("the IPVS handle is closed")

// Table implements [apply.Kernel]: one dump of the services, one of the real
// servers of each, and the timeouts; normalized, with counters.
func (h *IPVS) Table() (*lvs.Table, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.c == nil {
		return nil, errClosed
	}
	t := &lvs.Table{}
	err := h.dump(cmdGetService, func(m *msgBuf) {}, func(body []byte) error {
		s, err := decodeServiceMsg(body)
		if err != nil {
			return err
		}
		t.Services = append(t.Services, s)
		return nil
	})
	if err != nil {
		return nil, wrap("read the services", err, "")
	}
	for i := range t.Services {
		s := &t.Services[i]
		err := h.dump(cmdGetDest, func(m *msgBuf) { putService(m, s.Key, nil) }, func(body []byte) error {
			d, err := decodeDestMsg(body, s.Key.Family)
			if err != nil {
				return err
			}
			s.Dests = append(s.Dests, d)
			return nil
		})
		if err != nil {
			return nil, wrap("read the real servers of "+s.Key.String(), err, "")
		}
	}
	seq := h.begin(cmdGetConfig, nlmFRequest|nlmFAck)
	h.m.end()
	err = h.c.request(h.m.b, seq, func(body []byte) error {
		var err error
		t.Timeouts, err = decodeTimeouts(body)
		return err
	})
	if err != nil {
		return nil, wrap("read the connection timeouts", err, "")
	}
	t.Normalize()
	return t, nil
}

// begin resets the message buffer and starts a request.
func (h *IPVS) begin(cmd uint8, flags uint16) uint32 {
	h.m.reset()
	seq := h.c.nextSeq()
	h.m.begin(h.c.family, flags, seq, cmd)
	return seq
}

// dump runs a dump request whose attributes fill adds.
func (h *IPVS) dump(cmd uint8, fill func(*msgBuf), onData func([]byte) error) error {
	seq := h.begin(cmd, nlmFRequest|nlmFDump)
	fill(&h.m)
	h.m.end()
	return h.c.request(h.m.b, seq, onData)
}

// AddService implements [apply.Kernel].
func (h *IPVS) AddService(s lvs.Service) error {
	return h.run(command{cmd: cmdNewService, key: s.Key, opts: &s.Opts})
}

// EditService implements [apply.Kernel].
func (h *IPVS) EditService(s lvs.Service) error {
	return h.run(command{cmd: cmdSetService, key: s.Key, opts: &s.Opts})
}

// DeleteService implements [apply.Kernel].
func (h *IPVS) DeleteService(k lvs.ServiceKey) error {
	return h.run(command{cmd: cmdDelService, key: k})
}

// AddDest implements [apply.Kernel].
func (h *IPVS) AddDest(k lvs.ServiceKey, d lvs.Dest) error {
	return h.run(command{cmd: cmdNewDest, key: k, addr: d.Addr, dest: &d.Opts})
}

// EditDest implements [apply.Kernel].
func (h *IPVS) EditDest(k lvs.ServiceKey, d lvs.Dest) error {
	return h.run(command{cmd: cmdSetDest, key: k, addr: d.Addr, dest: &d.Opts})
}

// DeleteDest implements [apply.Kernel].
func (h *IPVS) DeleteDest(k lvs.ServiceKey, addr netip.AddrPort) error {
	return h.run(command{cmd: cmdDelDest, key: k, addr: addr})
}

// SetTimeouts implements [apply.Kernel]. With every field zero it does
// nothing.
func (h *IPVS) SetTimeouts(t lvs.Timeouts) error {
	return h.run(command{cmd: cmdSetConfig, timeouts: t})
}

// StartDaemon starts a connection-synchronisation daemon (ipvsadm
// --start-daemon). The kernel refuses a second daemon of the same state.
func (h *IPVS) StartDaemon(c DaemonConfig) error {
	return h.run(command{cmd: cmdNewDaemon, daemon: c})
}

// StopDaemon stops the sync daemon of the given state (ipvsadm
// --stop-daemon).
func (h *IPVS) StopDaemon(state DaemonState) error {
	return h.run(command{cmd: cmdDelDaemon, daemon: DaemonConfig{State: state}})
}

// Daemons returns the running sync daemons, master first, with the settings
// in effect (the kernel fills in its defaults).
func (h *IPVS) Daemons() ([]DaemonConfig, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.c == nil {
		return nil, errClosed
	}
	var ds []DaemonConfig
	err := h.dump(cmdGetDaemon, func(*msgBuf) {}, func(body []byte) error {
		d, err := decodeDaemonMsg(body)
		if err != nil {
			return err
		}
		ds = append(ds, d)
		return nil
	})
	if err != nil {
		return nil, wrap("read the sync daemons", err, "")
	}
	return ds, nil
}

// run sends one command and waits for its acknowledgement.
func (h *IPVS) run(c command) error {
	if err := c.check(); err != nil {
		return fmt.Errorf("%s: %w", c, err)
	}
	if c.noop() {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.c == nil {
		return errClosed
	}
	h.m.reset()
	seq := h.c.nextSeq()
	c.encode(&h.m, h.c.family, seq)
	return c.wrap(h.c.request(h.m.b, seq, nil))
}

// Batch runs ops as if each were passed in turn to the [apply.Kernel]
// method of its action, but sends many per system call and reads their
// answers afterwards, which makes a large apply several times faster.
//
// It returns nil when every op succeeded. Otherwise it returns one error per
// op: nil for those that succeeded, the failure for those that failed, and
// [ErrNotRun] for those never sent. Ops are sent in chunks, and no chunk
// is sent after one with a failure; the ops that follow a failure in its own
// chunk have run, and their own results are reported.
func (h *IPVS) Batch(ops []plan.Op) []error {
	cmds := make([]command, len(ops))
	errs := make([]error, len(ops))
	failed := false
	for i, op := range ops {
		c, err := commandFor(op)
		if err == nil {
			err = c.check()
			if err != nil {
				err = fmt.Errorf("%s: %w", c, err)
			}
		}
		cmds[i], errs[i] = c, err
		failed = failed || err != nil
	}
	if failed {
		// Nothing runs when an op is malformed: the caller's plan is
		// wrong, and running part of it would not help.
		for i := range errs {
			if errs[i] == nil {
				errs[i] = ErrNotRun
			}
		}
		return errs
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.c == nil {
		for i := range errs {
			errs[i] = errClosed
		}
		return errs
	}
	var idx []int // indexes in cmds of the chunk's commands
	for start := 0; start < len(cmds); {
		var first uint32
		end := start
		// Build the chunk: a run of commands with consecutive sequence
		// numbers, skipping no-ops (they succeed without the kernel).
		h.m.reset()
		idx = idx[:0]
		for ; end < len(cmds) && len(idx) < batchChunk; end++ {
			if cmds[end].noop() {
				continue
			}
			seq := h.c.nextSeq()
			if len(idx) == 0 {
				first = seq
			} else if seq != first+uint32(len(idx)) {
				break // the sequence number wrapped: end the chunk here
			}
			cmds[end].encode(&h.m, h.c.family, seq)
			idx = append(idx, end)
		}
		if len(idx) == 0 {
			start = end
			continue
		}
		res := make([]error, len(idx))
		if err := h.c.batch(h.m.b, first, res); err != nil {
			// The answers are lost: what ran is unknown, so report the
			// transport error on every op of the chunk.
			for _, i := range idx {
				errs[i] = cmds[i].wrap(err)
			}
			for i := end; i < len(cmds); i++ {
				errs[i] = ErrNotRun
			}
			return errs
		}
		chunkFailed := false
		for j, i := range idx {
			if res[j] != nil {
				errs[i] = cmds[i].wrap(res[j])
				chunkFailed = true
			}
		}
		if chunkFailed {
			for i := end; i < len(cmds); i++ {
				errs[i] = ErrNotRun
			}
			return errs
		}
		start = end
	}
	return nil
}

// command is one IPVS change, the unit that [IPVS.run] and [IPVS.Batch]
// send.
type command struct {
	cmd      uint8
	key      lvs.ServiceKey
	opts     *lvs.ServiceOpts // add and edit service
	addr     netip.AddrPort   // destination commands
	dest     *lvs.DestOpts    // add and edit destination
	timeouts lvs.Timeouts
	daemon   DaemonConfig
}

// commandFor translates a plan operation.
func commandFor(op plan.Op) (command, error) {
	switch op.Action {
	case plan.SetTimeouts:
		return command{cmd: cmdSetConfig, timeouts: op.ToTimeouts}, nil
	case plan.AddService:
		return command{cmd: cmdNewService, key: op.Service, opts: &op.To}, nil
	case plan.EditService:
		return command{cmd: cmdSetService, key: op.Service, opts: &op.To}, nil
	case plan.DeleteService:
		return command{cmd: cmdDelService, key: op.Service}, nil
	case plan.AddDest:
		return command{cmd: cmdNewDest, key: op.Service, addr: op.ToDest.Addr, dest: &op.ToDest.Opts}, nil
	case plan.EditDest, plan.DrainDest:
		return command{cmd: cmdSetDest, key: op.Service, addr: op.ToDest.Addr, dest: &op.ToDest.Opts}, nil
	case plan.DeleteDest:
		return command{cmd: cmdDelDest, key: op.Service, addr: op.FromDest.Addr}, nil
	}
	return command{}, fmt.Errorf("unknown plan action %d", op.Action)
}

// noop reports a command that needs no kernel call.
func (c command) noop() bool {
	return c.cmd == cmdSetConfig && c.timeouts == (lvs.Timeouts{})
}

// check catches what the kernel would refuse with a bare EINVAL, so that
// the error can say what is wrong.
func (c command) check() error {
	if c.opts != nil {
		if len(c.opts.Scheduler) > schedNameMax {
			return fmt.Errorf("scheduler name %q is longer than %d bytes", c.opts.Scheduler, schedNameMax)
		}
		if len(c.opts.PE) > schedNameMax {
			return fmt.Errorf("persistence engine name %q is longer than %d bytes", c.opts.PE, schedNameMax)
		}
	}
	if c.cmd >= cmdNewDest && c.cmd <= cmdDelDest && !c.addr.Addr().IsValid() {
		return fmt.Errorf("a real server needs an address")
	}
	if c.dest != nil && (c.dest.Weight < 0 || c.dest.Weight > 65535) {
		return fmt.Errorf("weight must be between 0 and 65535, not %d", c.dest.Weight)
	}
	if c.cmd == cmdSetConfig {
		for _, d := range []time.Duration{c.timeouts.TCP, c.timeouts.TCPFin, c.timeouts.UDP} {
			if d < 0 || d%time.Second != 0 || d/time.Second > 1<<31-1 {
				return fmt.Errorf("timeout %s is not a whole number of seconds the kernel can hold", d)
			}
		}
	}
	if c.cmd == cmdNewDaemon {
		return c.daemon.check()
	}
	if c.cmd == cmdDelDaemon && c.daemon.State != DaemonMaster && c.daemon.State != DaemonBackup {
		return fmt.Errorf("sync daemon state must be master or backup, not %d", uint32(c.daemon.State))
	}
	return nil
}

// encode appends the command's request to m.
func (c command) encode(m *msgBuf, family uint16, seq uint32) {
	m.begin(family, nlmFRequest|nlmFAck, seq, c.cmd)
	switch c.cmd {
	case cmdNewService, cmdSetService, cmdDelService:
		putService(m, c.key, c.opts)
	case cmdNewDest, cmdSetDest, cmdDelDest:
		putService(m, c.key, nil)
		putDest(m, c.addr, c.dest)
	case cmdSetConfig:
		putTimeouts(m, c.timeouts)
	case cmdNewDaemon:
		putDaemon(m, c.daemon, true)
	case cmdDelDaemon:
		putDaemon(m, c.daemon, false)
	}
	m.end()
}

// String describes the command for error messages, as ipvsadm's options
// would: "add service tcp 10.0.0.2:80".
func (c command) String() string {
	switch c.cmd {
	case cmdNewService:
		return "add service " + c.key.String()
	case cmdSetService:
		return "edit service " + c.key.String()
	case cmdDelService:
		return "delete service " + c.key.String()
	case cmdNewDest:
		return fmt.Sprintf("add real server %s to %s", c.addr, c.key)
	case cmdSetDest:
		return fmt.Sprintf("edit real server %s of %s", c.addr, c.key)
	case cmdDelDest:
		return fmt.Sprintf("delete real server %s from %s", c.addr, c.key)
	case cmdSetConfig:
		return "set timeouts"
	case cmdNewDaemon:
		return "start " + c.daemon.State.String() + " sync daemon"
	case cmdDelDaemon:
		return "stop " + c.daemon.State.String() + " sync daemon"
	}
	return fmt.Sprintf("ipvs command %d", c.cmd)
}

// wrap adds what was being done to a kernel error, and a hint where the
// errno alone misleads ("no such process" for a missing service).
func (c command) wrap(err error) error {
	if err == nil {
		return nil
	}
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return wrap(c.String(), err, "")
	}
	hint := ""
	switch errno {
	case syscall.ESRCH:
		if c.cmd != cmdNewService {
			hint = "the virtual service does not exist"
		}
	case syscall.ENOENT:
		switch c.cmd {
		case cmdNewService, cmdSetService:
			hint = fmt.Sprintf("the kernel has no scheduler %q", c.opts.Scheduler)
			if c.opts.PE != "" {
				hint = fmt.Sprintf("the kernel has no scheduler %q or no persistence engine %q (modules ip_vs_%s, ip_vs_pe_%s)", c.opts.Scheduler, c.opts.PE, c.opts.Scheduler, c.opts.PE)
			} else {
				hint += fmt.Sprintf(" (module ip_vs_%s)", c.opts.Scheduler)
			}
		case cmdSetDest, cmdDelDest:
			hint = "the real server does not exist"
		}
	case syscall.EINVAL:
		if c.cmd == cmdNewDest || c.cmd == cmdSetDest {
			hint = "the kernel takes a real server of another family only with forwarding = tun, and an IPv4 one only if it is a unicast address in this network namespace (whose loopback must be up)"
		}
	case syscall.ERANGE:
		if c.dest != nil {
			hint = "the lower threshold is above the upper threshold"
		}
	case syscall.ENODEV:
		if c.cmd == cmdNewDaemon {
			hint = fmt.Sprintf("no interface %q in this network namespace", c.daemon.Interface)
		}
	case syscall.EEXIST:
		if c.cmd == cmdNewDaemon {
			hint = "a " + c.daemon.State.String() + " sync daemon is already running"
		}
	}
	return wrap(c.String(), err, hint)
}

// wrap returns "op: err", with a hint for errnos that need one; the errno
// stays reachable through errors.Is.
func wrap(op string, err error, hint string) error {
	if hint == "" && errors.Is(err, syscall.EPERM) {
		hint = "changing or reading IPVS needs CAP_NET_ADMIN: run as root"
	}
	return &opError{op: op, err: err, hint: hint}
}

type opError struct {
	op, hint string
	err      error
}

func (e *opError) Error() string {
	if e.hint != "" {
		return e.op + ": " + e.err.Error() + " (" + e.hint + ")"
	}
	return e.op + ": " + e.err.Error()
}

func (e *opError) Unwrap() error { return e.err }
