// Package kernel reads and changes the IPVS table of one network namespace
// over generic netlink, the interface ipvsadm uses. It is what apply runs
// plans through in production.
//
// It keeps its own IPVS attribute codec rather than use
// github.com/moby/ipvs, which lacks tunnel types, destination families,
// 64-bit counters and the sync daemon, cannot tell a kernel without IPVS
// from a working one, and sends one request per round trip. The codec is
// carried on github.com/mdlayher/netlink and genetlink: one socket per
// [IPVS] handle, kept open; [IPVS.Batch] pipelines many [Change]s per
// system call.
//
// The package knows only the model (package lvs): its unit of work is a
// [Change], and [Explain] is the one dictionary of what the kernel's errnos
// mean.
package kernel

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"sync"

	"github.com/mdlayher/netlink"

	"github.com/lvsctl/lvsctl/internal/netns"
	"github.com/lvsctl/lvsctl/lvs"
)

// ErrNoIPVS is returned by [Open] when the running kernel has no IPVS.
var ErrNoIPVS = errors.New("this kernel has no IPVS (module ip_vs): load it with modprobe ip_vs")

// ErrNotRun marks the changes of an [IPVS.Batch] that were not sent
// because an earlier one failed.
var ErrNotRun = errors.New("not run: an earlier operation failed")

// batchChunk is how many commands [IPVS.Batch] sends per write. The
// answers to a chunk (its failures and the last command's acknowledgement)
// wait in the socket's receive buffer until they are read; 256 of them
// take well under the 4 MiB asked for.
const batchChunk = 256

// IPVS is a handle on the IPVS table of one network namespace. It is safe
// for use by several goroutines; their requests are serialised.
type IPVS struct {
	mu sync.Mutex
	c  *conn
	m  msgBuf
	// reader is a second socket, opened by dialReader when a table is
	// large enough, that reads the real servers of half the services
	// while c reads the other half (see readDests).
	reader     *conn
	dialReader func() (*conn, error)
	// netns is the namespace file the handle works on, "" for the
	// caller's own: its kernel settings are read and written there.
	netns string
}

// parallelRead is the number of services from which [IPVS.Table] reads
// real servers on two sockets at once.
const parallelRead = 128

// Open returns a handle on the IPVS table of a network namespace, spelled
// as [NetnsPath] reads it.
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
	c, err := dial(path)
	if err != nil {
		return nil, err
	}
	return &IPVS{c: c, dialReader: func() (*conn, error) { return dial(path) }, netns: path}, nil
}

// NetnsPath returns the namespace file that [Open] uses for netns: "" for
// the caller's own namespace, a value with a slash as the path it is, and
// any other value as a name under /run/netns, as "ip netns add" makes them.
// lvsctl keys its state by namespace with the same rule (package rundir):
// both are [netns.Path].
func NetnsPath(name string) (string, error) { return netns.Path(name) }

// Close releases the handle's socket.
func (h *IPVS) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.c == nil {
		return nil
	}
	err := h.c.close()
	h.c = nil
	if h.reader != nil {
		h.reader.close()
		h.reader = nil
	}
	return err
}

var errClosed = errors.New("the IPVS handle is closed")

// Table returns the whole table: one dump of the services, one of the real
// servers of each, and the timeouts; normalized, with counters.
func (h *IPVS) Table() (*lvs.Table, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.c == nil {
		return nil, errClosed
	}
	t := &lvs.Table{}
	err := h.dump(cmdGetService, func(*msgBuf) {}, func(body []byte) error {
		s, err := decodeServiceMsg(body)
		if err != nil {
			return err
		}
		t.Services = append(t.Services, s)
		return nil
	})
	if err != nil {
		return nil, &readError{"read the services", err}
	}
	if err := h.readDests(t.Services); err != nil {
		return nil, err
	}
	h.m.reset()
	h.m.begin(cmdGetConfig)
	err = h.c.request(h.c.message(netlink.Acknowledge, 0, h.m.b), func(body []byte) error {
		var err error
		t.Timeouts, err = decodeTimeouts(body)
		return err
	})
	if err != nil {
		return nil, &readError{"read the connection timeouts", err}
	}
	t.Normalize()
	return t, nil
}

// readDests reads the real servers of svcs into them. Each service's are
// a dump of their own: a request and two reads (the real servers, then the
// end of the dump). From parallelRead services on, a second socket reads
// the second half of them at the same time, which keeps a table read as
// fast as it was on the blocking socket lvsctl had before the netlink
// library: each answer that reaches a socket in the Go runtime's poller
// also wakes a thread there. When the second socket cannot be opened, one
// reads them all.
func (h *IPVS) readDests(svcs []lvs.Service) error {
	if len(svcs) >= parallelRead && h.reader == nil && h.dialReader != nil {
		h.reader, _ = h.dialReader()
	}
	if len(svcs) < parallelRead || h.reader == nil {
		return readDests(h.c, &h.m, svcs)
	}
	half := len(svcs) / 2
	var err2 error
	done := make(chan struct{})
	go func() {
		defer close(done)
		var m msgBuf
		err2 = readDests(h.reader, &m, svcs[half:])
	}()
	err := readDests(h.c, &h.m, svcs[:half])
	<-done
	if err2 != nil {
		// Its answers may be out of step: open another next time.
		h.reader.close()
		h.reader = nil
	}
	if err != nil {
		return err
	}
	return err2
}

// readDests reads the real servers of svcs on c, with m for the requests.
func readDests(c *conn, m *msgBuf, svcs []lvs.Service) error {
	for i := range svcs {
		s := &svcs[i]
		m.reset()
		m.begin(cmdGetDest)
		putService(m, s.Key, nil)
		err := c.request(c.message(netlink.Dump, 0, m.b), func(body []byte) error {
			d, err := decodeDestMsg(body, s.Key.Family)
			if err != nil {
				return err
			}
			s.Dests = append(s.Dests, d)
			return nil
		})
		if err != nil {
			return &readError{"read the real servers of " + s.Key.String(), err}
		}
	}
	return nil
}

// dump runs a dump request of cmd whose attributes fill adds.
func (h *IPVS) dump(cmd uint8, fill func(*msgBuf), onData func([]byte) error) error {
	h.m.reset()
	h.m.begin(cmd)
	fill(&h.m)
	return h.c.request(h.c.message(netlink.Dump, 0, h.m.b), onData)
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
		return nil, &readError{"read the sync daemons", err}
	}
	return ds, nil
}

// AddService adds s.Key with s.Opts; s.Dests are ignored.
func (h *IPVS) AddService(s lvs.Service) error {
	return h.Do(Change{Kind: AddService, Service: s.Key, Opts: s.Opts})
}

// EditService changes the options of the existing service s.Key.
func (h *IPVS) EditService(s lvs.Service) error {
	return h.Do(Change{Kind: EditService, Service: s.Key, Opts: s.Opts})
}

// DeleteService deletes a service and its real servers.
func (h *IPVS) DeleteService(k lvs.ServiceKey) error {
	return h.Do(Change{Kind: DeleteService, Service: k})
}

// AddDest adds real server d to service k.
func (h *IPVS) AddDest(k lvs.ServiceKey, d lvs.Dest) error {
	return h.Do(Change{Kind: AddDest, Service: k, Dest: d})
}

// EditDest changes the options of real server d.Addr of service k.
func (h *IPVS) EditDest(k lvs.ServiceKey, d lvs.Dest) error {
	return h.Do(Change{Kind: EditDest, Service: k, Dest: d})
}

// DeleteDest deletes real server addr of service k.
func (h *IPVS) DeleteDest(k lvs.ServiceKey, addr netip.AddrPort) error {
	return h.Do(Change{Kind: DeleteDest, Service: k, Dest: lvs.Dest{Addr: addr}})
}

// SetTimeouts sets the connection timeouts; a zero field is left as it is,
// and with every field zero it does nothing.
func (h *IPVS) SetTimeouts(t lvs.Timeouts) error {
	return h.Do(Change{Kind: SetTimeouts, Timeouts: t})
}

// StartDaemon starts a connection-synchronisation daemon (ipvsadm
// --start-daemon). The kernel refuses a second daemon of the same state.
func (h *IPVS) StartDaemon(c DaemonConfig) error {
	return h.Do(Change{Kind: StartDaemon, Daemon: c})
}

// StopDaemon stops the sync daemon of the given state (ipvsadm
// --stop-daemon).
func (h *IPVS) StopDaemon(state DaemonState) error {
	return h.Do(Change{Kind: StopDaemon, Daemon: DaemonConfig{State: state}})
}

// Do makes one change and waits for the kernel's answer. Its error is an
// [*Error].
func (h *IPVS) Do(c Change) error {
	if err := c.Check(); err != nil {
		return &Error{c, err}
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
	c.encode(&h.m)
	if err := h.c.request(h.c.message(netlink.Acknowledge, 0, h.m.b), nil); err != nil {
		return &Error{c, err}
	}
	return nil
}

// Batch makes the changes cs in order, as many calls of [IPVS.Do] would,
// but sends many per system call and reads their answers afterwards, which
// makes a large apply several times faster.
//
// It returns nil when every change was made. Otherwise it returns one
// error per change: nil for those made, the failure for those that failed,
// and [ErrNotRun] for those never sent. Changes are sent in chunks, and no
// chunk is sent after one with a failure; the changes that follow a
// failure in its own chunk have run, and their own results are reported.
// When a change is malformed (see [Change.Check]), none is sent.
func (h *IPVS) Batch(cs []Change) []error {
	errs := make([]error, len(cs))
	failed := false
	for i, c := range cs {
		if err := c.Check(); err != nil {
			errs[i], failed = &Error{c, err}, true
		}
	}
	if failed {
		// Nothing runs when a change is malformed: the caller's plan is
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
	var (
		idx  []int // indexes in cs of the chunk's commands
		offs []int // where each command's body starts in h.m.b
		msgs []netlink.Message
	)
	for start := 0; start < len(cs); {
		var first uint32
		end := start
		// Build the chunk: a run of commands with consecutive sequence
		// numbers, skipping no-ops (they succeed without the kernel).
		h.m.reset()
		idx, offs, msgs = idx[:0], offs[:0], msgs[:0]
		for ; end < len(cs) && len(idx) < batchChunk; end++ {
			if cs[end].noop() {
				continue
			}
			seq := h.c.nextSeq()
			if len(idx) == 0 {
				first = seq
			} else if seq != first+uint32(len(idx)) {
				break // the sequence number wrapped: end the chunk here
			}
			offs = append(offs, len(h.m.b))
			cs[end].encode(&h.m)
			idx = append(idx, end)
		}
		if len(idx) == 0 {
			start = end
			continue
		}
		// The bodies share one buffer; slice it once it has stopped growing.
		offs = append(offs, len(h.m.b))
		for j := range idx {
			msgs = append(msgs, h.c.message(0, first+uint32(j), h.m.b[offs[j]:offs[j+1]]))
		}
		res := make([]error, len(idx))
		if err := h.c.batch(msgs, first, res); err != nil {
			// The answers are lost: what ran is unknown, so report the
			// transport error on every change of the chunk.
			for _, i := range idx {
				errs[i] = &Error{cs[i], err}
			}
			for i := end; i < len(cs); i++ {
				errs[i] = ErrNotRun
			}
			return errs
		}
		chunkFailed := false
		for j, i := range idx {
			if res[j] != nil {
				errs[i] = &Error{cs[i], res[j]}
				chunkFailed = true
			}
		}
		if chunkFailed {
			for i := end; i < len(cs); i++ {
				errs[i] = ErrNotRun
			}
			return errs
		}
		start = end
	}
	return nil
}
