package applytest

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/internal/apply"
	"github.com/lvsctl/lvsctl/internal/plan"
	"github.com/lvsctl/lvsctl/kernel"
	"github.com/lvsctl/lvsctl/lvs"
)

// addOps is an AddService of web and an AddDest for each address.
func addOps(dests ...netip.AddrPort) []kernel.Change {
	cs := []kernel.Change{{Kind: kernel.AddService, Service: web, Opts: wlc()}}
	for _, a := range dests {
		cs = append(cs, kernel.Change{Kind: kernel.AddDest, Service: web, Dest: lvs.Dest{Addr: a, Opts: nat(1)}})
	}
	return cs
}

// planOf is the plan whose operations are cs (adds only).
func planOf(cs []kernel.Change) plan.Plan {
	var p plan.Plan
	for _, c := range cs {
		switch c.Kind {
		case kernel.AddService:
			p.Ops = append(p.Ops, plan.Op{Action: plan.AddService, Service: c.Service, To: c.Opts})
		case kernel.AddDest:
			p.Ops = append(p.Ops, plan.Op{Action: plan.AddDest, Service: c.Service, ToDest: c.Dest})
		}
	}
	return p
}

// manyDests returns n distinct real server addresses.
func manyDests(n int) []netip.AddrPort {
	var as []netip.AddrPort
	for i := range n {
		as = append(as, netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 168, byte(20 + i/250), byte(1 + i%250)}), 80))
	}
	return as
}

var multicast = netip.MustParseAddrPort("224.0.0.1:80")

// errsString shows a batch's results compactly: "." done, "N" not run,
// "E" failed.
func errsString(errs []error, n int) string {
	var b strings.Builder
	for i := range n {
		switch {
		case errs == nil || errs[i] == nil:
			b.WriteByte('.')
		case errors.Is(errs[i], apply.ErrNotRun):
			b.WriteByte('N')
		default:
			b.WriteByte('E')
		}
	}
	return b.String()
}

func TestBatchRunsTheFailedChunkToItsEnd(t *testing.T) {
	k := New()
	// The third op fails (a multicast real server); the rest of its chunk
	// runs, the next chunk is never sent.
	dests := manyDests(ChunkSize + 10)
	dests[1] = multicast
	ops := addOps(dests...)
	errs := k.Batching().Batch(ops)
	want := "..E" + strings.Repeat(".", ChunkSize-3) + strings.Repeat("N", len(ops)-ChunkSize)
	if got := errsString(errs, len(ops)); got != want {
		t.Fatalf("results:\n got %s\nwant %s", got, want)
	}
	if !errors.Is(errs[2], syscall.EINVAL) {
		t.Errorf("multicast real server: %v, want EINVAL", errs[2])
	}
	tb, _ := k.Table()
	if n := len(tb.Service(web).Dests); n != ChunkSize-2 {
		t.Errorf("%d real servers in the table, want the %d of the first chunk that did not fail", n, ChunkSize-2)
	}
	if k.Ops() != ChunkSize {
		t.Errorf("%d calls, want %d: one per op sent, the failed one included", k.Ops(), ChunkSize)
	}

	// Without a failure every chunk is sent, and the result is nil.
	k = New()
	ops = addOps(manyDests(2*ChunkSize + 1)...)
	if errs := k.Batching().Batch(ops); errs != nil {
		t.Fatalf("results %s, want nil", errsString(errs, len(ops)))
	}
	tb, _ = k.Table()
	if n := len(tb.Service(web).Dests); n != 2*ChunkSize+1 || k.Ops() != len(ops) {
		t.Errorf("%d real servers, %d calls; want %d and %d", n, k.Ops(), 2*ChunkSize+1, len(ops))
	}
}

// A failure in the last op of a chunk stops the next chunk too.
func TestBatchFailureAtTheChunkEnd(t *testing.T) {
	k := New()
	dests := manyDests(ChunkSize + 5)
	dests[ChunkSize-2] = multicast // op ChunkSize-1, the last of chunk 1
	ops := addOps(dests...)
	errs := k.Batching().Batch(ops)
	want := strings.Repeat(".", ChunkSize-1) + "E" + strings.Repeat("N", len(ops)-ChunkSize)
	if got := errsString(errs, len(ops)); got != want {
		t.Fatalf("results:\n got %s\nwant %s", got, want)
	}
}

// The production handle checks every op before it sends any: one it
// refuses stops the whole batch.
func TestBatchRefusesMalformedOpsBeforeSending(t *testing.T) {
	for _, c := range []struct {
		name string
		op   kernel.Change
		msg  string
	}{
		{"weight", kernel.Change{Kind: kernel.AddDest, Service: web, Dest: lvs.Dest{Addr: real2, Opts: nat(70000)}}, "weight must be between 0 and 65535"},
		{"scheduler", kernel.Change{Kind: kernel.EditService, Service: web, Opts: lvs.ServiceOpts{Scheduler: "a-very-long-scheduler"}}, "longer than 15 bytes"},
		{"address", kernel.Change{Kind: kernel.DeleteDest, Service: web}, "a real server needs an address"},
		{"timeout", kernel.Change{Kind: kernel.SetTimeouts, Timeouts: lvs.Timeouts{TCP: 1500 * time.Millisecond}}, "whole number of seconds"},
		{"kind", kernel.Change{Kind: kernel.ChangeKind(200)}, "unknown IPVS change kind"},
	} {
		t.Run(c.name, func(t *testing.T) {
			k := New()
			ops := append(addOps(real1), c.op)
			errs := k.Batching().Batch(ops)
			if got := errsString(errs, len(ops)); got != "NNE" {
				t.Errorf("results %s, want NNE", got)
			}
			if errs != nil && !strings.Contains(fmt.Sprint(errs[2]), c.msg) {
				t.Errorf("error %v, want %q", errs[2], c.msg)
			}
			if k.Ops() != 0 {
				t.Errorf("%d kernel calls, want none", k.Ops())
			}
		})
	}
}

func TestBatchEmptyTimeoutsAreNoCall(t *testing.T) {
	k := New()
	ops := []kernel.Change{{Kind: kernel.SetTimeouts}, {Kind: kernel.SetTimeouts, Timeouts: lvs.Timeouts{UDP: time.Minute}}}
	if errs := k.Batching().Batch(ops); errs != nil {
		t.Fatal(errs)
	}
	if k.Ops() != 1 {
		t.Errorf("%d calls, want 1: setting no timeout needs no kernel call", k.Ops())
	}
}

// apply.Run through a batching kernel: the op after the failed one in the
// same batch is reported done, as it is on the real kernel.
func TestBatchThroughApplyRun(t *testing.T) {
	k := New().Batching()
	p := planOf(addOps(real1, multicast, real2))
	rep, err := apply.Run(t.Context(), k, p, apply.RunOptions{})
	var oe *apply.OpError
	if !errors.As(err, &oe) || !errors.Is(err, syscall.EINVAL) || oe.Done != 3 {
		t.Fatalf("err = %v, want an *OpError with EINVAL, 3 of 4 done", err)
	}
	var got []apply.Status
	for _, r := range rep.Ops {
		got = append(got, r.Status)
	}
	if want := []apply.Status{apply.Done, apply.Done, apply.Failed, apply.Done}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
}

func TestFileKernelBatchesInOneLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kernel.json")
	mustOK(t, os.WriteFile(path, []byte(`{"fail": {"after": 1, "errno": "EIO"}}`), 0o600))
	fk, err := OpenFile(path)
	mustOK(t, err)
	ops := addOps(real1, real2, netip.MustParseAddrPort("192.168.10.102:80"))
	errs := fk.Batching().Batch(ops)
	if got := errsString(errs, len(ops)); got != ".E.." {
		t.Fatalf("results %s, want .E..: the staged fault fails op 2, the rest of the chunk runs", got)
	}
	if !errors.Is(errs[1], syscall.EIO) {
		t.Errorf("op 2: %v, want EIO", errs[1])
	}
	kk, err := fk.Kernel()
	mustOK(t, err)
	tb, _ := kk.Table()
	if kk.Ops() != 4 || len(tb.Service(web).Dests) != 2 {
		t.Errorf("file after the batch: %d calls, %+v; want 4 calls and 2 real servers", kk.Ops(), tb.Services)
	}

	// A file that cannot be read fails every op, and none is made.
	mustOK(t, os.WriteFile(path, []byte(`{`), 0o600))
	errs = fk.Batching().Batch(ops[:1])
	if len(errs) != 1 || errs[0] == nil || errors.Is(errs[0], apply.ErrNotRun) {
		t.Errorf("unreadable file: %v, want the read error", errs)
	}
}

func TestKernelRefusesNonUnicastRealServers(t *testing.T) {
	k := New()
	mustOK(t, k.AddService(lvs.Service{Key: web, Opts: wlc()}))
	v6 := lvs.AddrKey(lvs.TCP, netip.MustParseAddrPort("[2001:db8::2]:80"))
	mustOK(t, k.AddService(lvs.Service{Key: v6, Opts: wlc()}))
	for _, c := range []struct {
		key  lvs.ServiceKey
		addr string
		ok   bool
	}{
		{web, "224.0.0.1:80", false},
		{web, "239.255.255.250:80", false},
		{web, "255.255.255.255:80", false},
		{web, "0.1.2.3:80", false},
		{web, "127.0.0.1:80", true},
		{web, "192.168.10.100:80", true},
		{v6, "[ff02::1]:80", false},
		{v6, "[fe80::1]:80", false},
		{v6, "[2001:db8::10]:80", true},
		{v6, "[::1]:80", true},
	} {
		err := k.AddDest(c.key, lvs.Dest{Addr: netip.MustParseAddrPort(c.addr), Opts: nat(1)})
		switch {
		case c.ok && err != nil:
			t.Errorf("%s: %v", c.addr, err)
		case !c.ok:
			wantErrno(t, c.addr, err, syscall.EINVAL)
		}
	}
}
