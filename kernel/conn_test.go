package kernel

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mdlayher/netlink"

	"github.com/lvsctl/lvsctl/lvs"
)

func TestOpenLooksUpIPVS(t *testing.T) {
	h, f := dialFake(t, nil)
	if h.c.family != fakeFamily || len(f.reqs) != 0 {
		t.Errorf("family %#x after the lookup, %d IPVS requests; want %#x and none", h.c.family, len(f.reqs), fakeFamily)
	}
	f = &fakeKernel{noIPVS: true}
	if _, err := newConn(f.dial()); !errors.Is(err, ErrNoIPVS) {
		t.Errorf("a kernel without the IPVS family: %v, want ErrNoIPVS", err)
	}
}

// svcBody and destBody are what the kernel dumps for a service and a real
// server.
func svcBody(k lvs.ServiceKey, sched string) []byte {
	var m msgBuf
	Change{Kind: AddService, Service: k, Opts: lvs.ServiceOpts{Scheduler: sched}}.encode(&m)
	return m.b
}

func destBody(k lvs.ServiceKey, d lvs.Dest) []byte {
	var m msgBuf
	Change{Kind: AddDest, Service: k, Dest: d}.encode(&m)
	return m.b
}

func TestTableOverNetlink(t *testing.T) {
	// 5 services are read on one socket, 300 on two.
	for _, n := range []int{5, 300} {
		t.Run(fmt.Sprint(n), func(t *testing.T) { testTable(t, n) })
	}
}

func testTable(t *testing.T, n int) {
	var keys []lvs.ServiceKey
	var want lvs.Table
	for i := range n {
		k := lvs.AddrKey(lvs.TCP, netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i + 1)}), 80))
		keys = append(keys, k)
		s := lvs.Service{Key: k, Opts: lvs.ServiceOpts{Scheduler: "rr", Netmask: 32}}
		for j := range i % 3 {
			s.Dests = append(s.Dests, lvs.Dest{Addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 168, byte(i), byte(j)}), 80), Opts: lvs.DestOpts{Forward: lvs.Route, Weight: j + 1}})
		}
		want.Services = append(want.Services, s)
	}
	want.Timeouts = lvs.Timeouts{TCP: 900 * time.Second, TCPFin: 120 * time.Second, UDP: 300 * time.Second}
	want.Normalize()

	h, f := dialFake(t, func(req netlink.Message) [][]netlink.Message {
		switch cmdOf(req) {
		case cmdGetService:
			if req.Header.Flags != netlink.Request|netlink.Dump {
				t.Errorf("service dump flags %s", req.Header.Flags)
			}
			var bodies [][]byte
			for _, k := range keys {
				bodies = append(bodies, svcBody(k, "rr"))
			}
			// A late answer to an abandoned request comes first: it
			// is skipped.
			stale := ack(req)
			stale.Header.Sequence--
			return append([][]netlink.Message{{stale}}, dumpOf(req, 2, bodies...)...)
		case cmdGetDest:
			s, err := decodeServiceMsg(req.Data)
			if err != nil {
				t.Fatal(err)
			}
			var bodies [][]byte
			for _, d := range want.Service(s.Key).Dests {
				bodies = append(bodies, destBody(s.Key, d))
			}
			return dumpOf(req, 1, bodies...)
		case cmdGetConfig:
			if req.Header.Flags != netlink.Request|netlink.Acknowledge {
				t.Errorf("timeouts request flags %s", req.Header.Flags)
			}
			// The answer, then the acknowledgement: two datagrams.
			return [][]netlink.Message{{reply(req, 0, genlMsg(cmdSetConfig, nla(cmdAttrTimeoutTCP, u32(900)), nla(cmdAttrTimeoutFin, u32(120)), nla(cmdAttrTimeoutUDP, u32(300))))}, {ack(req)}}
		}
		t.Errorf("unexpected request %d", cmdOf(req))
		return nil
	})
	got, err := h.Table()
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(&want, got, addrCmp); d != "" {
		t.Errorf("table (-want +got):\n%s", d)
	}
	if got := len(f.reqs); got != 1+len(keys)+1 {
		t.Errorf("%d requests, want a service dump, one real-server dump per service and the timeouts", got)
	}
	if wantConns := 1 + min(1, n/parallelRead); f.conns != wantConns {
		t.Errorf("%d sockets for %d services, want %d", f.conns, n, wantConns)
	}
}

func TestDumpError(t *testing.T) {
	h, _ := dialFake(t, func(req netlink.Message) [][]netlink.Message {
		ds := dumpOf(req, 1, svcBody(lvs.MarkKey(lvs.IPv4, 1), "rr"))
		last := ds[len(ds)-1]
		last[len(last)-1].Data = u32(negErrno(syscall.EPERM)) // the dump ends in an error
		return ds
	})
	_, err := h.Table()
	if !errors.Is(err, syscall.EPERM) || !strings.HasPrefix(err.Error(), "read the services: permission denied (operation not permitted): reading IPVS needs root") {
		t.Errorf("a dump ending in EPERM: %v", err)
	}
}

func TestDoOverNetlink(t *testing.T) {
	k := lvs.AddrKey(lvs.TCP, netip.MustParseAddrPort("10.0.0.2:80"))
	want := lvs.ServiceOpts{Scheduler: "sh", Persistent: true, Timeout: 300, Netmask: 24}
	h, f := dialFake(t, func(req netlink.Message) [][]netlink.Message {
		return [][]netlink.Message{{nack(req, syscall.EEXIST, "Service already exists")}}
	})
	err := h.AddService(lvs.Service{Key: k, Opts: want})
	var e *Error
	if !errors.Is(err, syscall.EEXIST) || !errors.As(err, &e) || e.Change.Kind != AddService ||
		err.Error() != "add service tcp 10.0.0.2:80: the virtual server already exists in the kernel (file exists: Service already exists): it was added outside lvsctl since the plan was made" {
		t.Errorf("a refused add: %v", err)
	}
	if len(f.reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(f.reqs))
	}
	req := f.reqs[0]
	if req.Header.Type != fakeFamily || req.Header.Flags != netlink.Request|netlink.Acknowledge || cmdOf(req) != cmdNewService {
		t.Errorf("request header %+v, command %d", req.Header, cmdOf(req))
	}
	if s, err := decodeServiceMsg(req.Data); err != nil || s.Key != k || s.Opts != want {
		t.Errorf("request decodes as %+v, %v", s, err)
	}

	// No answer at all: an error, not a hang.
	h, _ = dialFake(t, nil)
	if err := h.DeleteService(k); err == nil || errors.Is(err, syscall.ENOENT) {
		t.Errorf("a request without an answer: %v", err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Table(); !errors.Is(err, errClosed) {
		t.Errorf("Table after Close: %v", err)
	}
}

// addServices returns n changes that add services.
func addServices(n int) []Change {
	cs := make([]Change, n)
	for i := range cs {
		k := lvs.AddrKey(lvs.TCP, netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), 80))
		cs[i] = Change{Kind: AddService, Service: k, Opts: lvs.ServiceOpts{Scheduler: "rr"}}
	}
	return cs
}

func TestBatchPipelines(t *testing.T) {
	h, f := dialFake(t, func(req netlink.Message) [][]netlink.Message { return [][]netlink.Message{{ack(req)}} })
	cs := addServices(600)
	cs[300] = Change{Kind: SetTimeouts} // a no-op: not sent
	if errs := h.Batch(cs); errs != nil {
		t.Fatalf("Batch: %v", errors.Join(errs...))
	}
	if len(f.reqs) != 599 || f.sends != 1+3 {
		t.Errorf("%d requests in %d writes after the family lookup, want 599 in 3 (256 per write)", len(f.reqs), f.sends-1)
	}
	// Only the last command of a write asks for an acknowledgement.
	for i, req := range f.reqs {
		flags := netlink.Request
		if i == 255 || i == 511 || i == 598 {
			flags |= netlink.Acknowledge
		}
		if req.Header.Flags != flags || (i > 0 && req.Header.Sequence != f.reqs[i-1].Header.Sequence+1) {
			t.Fatalf("request %d: header %+v", i, req.Header)
		}
	}
	s, err := decodeServiceMsg(f.reqs[400].Data)
	if err != nil || s.Key != cs[401].Service {
		t.Errorf("request 400 is %+v, %v; want the 401st change, the no-op skipped", s.Key, err)
	}
}

// TestBatchFailure: a failure stops the batch after its chunk, and every
// change of that chunk is reported with its own outcome.
func TestBatchFailure(t *testing.T) {
	cs := addServices(600)
	fail := map[netip.Addr]bool{cs[5].Service.Addr: true, cs[200].Service.Addr: true}
	h, f := dialFake(t, func(req netlink.Message) [][]netlink.Message {
		s, _ := decodeServiceMsg(req.Data)
		if fail[s.Key.Addr] {
			return [][]netlink.Message{{nack(req, syscall.EEXIST, "")}}
		}
		return [][]netlink.Message{{ack(req)}}
	})
	errs := h.Batch(cs)
	if len(errs) != len(cs) {
		t.Fatalf("%d errors for %d changes", len(errs), len(cs))
	}
	for i, err := range errs {
		switch {
		case i == 5 || i == 200:
			var e *Error
			if !errors.Is(err, syscall.EEXIST) || !errors.As(err, &e) || e.Change != cs[i] {
				t.Errorf("change %d: %v, want its EEXIST", i, err)
			}
		case i < batchChunk:
			if err != nil {
				t.Errorf("change %d, in the failed chunk: %v, want done", i, err)
			}
		case !errors.Is(err, ErrNotRun):
			t.Errorf("change %d, after the failed chunk: %v, want ErrNotRun", i, err)
		}
	}
	if len(f.reqs) != batchChunk {
		t.Errorf("%d changes sent, want the first chunk's %d", len(f.reqs), batchChunk)
	}
}

// TestBatchLostAnswers: when answers stop coming, what ran is unknown:
// every change of the chunk gets the error, and nothing more is sent.
func TestBatchLostAnswers(t *testing.T) {
	n := 0
	h, f := dialFake(t, func(req netlink.Message) [][]netlink.Message {
		if n++; n > 10 {
			return nil
		}
		return [][]netlink.Message{{ack(req)}}
	})
	cs := addServices(300)
	errs := h.Batch(cs)
	for i, err := range errs {
		var e *Error
		switch {
		case i < batchChunk && (!errors.As(err, &e) || !strings.Contains(err.Error(), "fake kernel: no answer")):
			t.Errorf("change %d: %v, want the lost answers", i, err)
		case i >= batchChunk && !errors.Is(err, ErrNotRun):
			t.Errorf("change %d: %v, want ErrNotRun", i, err)
		}
	}
	if len(f.reqs) != batchChunk {
		t.Errorf("%d changes sent, want %d", len(f.reqs), batchChunk)
	}
}

func TestBatchMalformed(t *testing.T) {
	h, f := dialFake(t, func(req netlink.Message) [][]netlink.Message { return [][]netlink.Message{{ack(req)}} })
	cs := addServices(3)
	cs[1].Opts.Scheduler = "a-very-long-scheduler"
	errs := h.Batch(cs)
	if len(errs) != 3 || !errors.Is(errs[0], ErrNotRun) || !errors.Is(errs[2], ErrNotRun) ||
		errs[1] == nil || !strings.HasPrefix(errs[1].Error(), "add service tcp 10.1.0.1:80: scheduler name") {
		t.Errorf("a malformed change: %v", errs)
	}
	if len(f.reqs) != 0 {
		t.Errorf("%d changes sent with a malformed one among them", len(f.reqs))
	}
}
