package applytest

import (
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lvsctl/lvsctl/lvs"
)

var (
	web   = lvs.AddrKey(lvs.TCP, netip.MustParseAddrPort("10.0.0.2:80"))
	real1 = netip.MustParseAddrPort("192.168.10.100:80")
	real2 = netip.MustParseAddrPort("192.168.10.101:80")
)

// netipComparers lets go-cmp compare the netip types, whose fields are
// unexported.
var netipComparers = cmp.Options{
	cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
	cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b }),
	cmp.Comparer(func(a, b netip.Prefix) bool { return a == b }),
}

func wlc() lvs.ServiceOpts { return lvs.ServiceOpts{Scheduler: "wlc", Netmask: 32} }

func nat(w int) lvs.DestOpts { return lvs.DestOpts{Forward: lvs.Masq, Weight: w} }

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErrno(t *testing.T, what string, err error, want syscall.Errno) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: got %v, want errno %v (%q)", what, err, int(want), want.Error())
	}
}

func TestKernelRefusesLikeIPVS(t *testing.T) {
	k := New()
	mustOK(t, k.AddService(lvs.Service{Key: web, Opts: wlc()}))
	mustOK(t, k.AddDest(web, lvs.Dest{Addr: real1, Opts: nat(1)}))

	other := lvs.AddrKey(lvs.UDP, netip.MustParseAddrPort("10.0.0.2:53"))
	v6 := lvs.AddrKey(lvs.TCP, netip.MustParseAddrPort("[2001:db8::2]:80"))
	bad := func(o lvs.ServiceOpts, f func(*lvs.ServiceOpts)) lvs.ServiceOpts { f(&o); return o }
	for _, c := range []struct {
		what string
		err  error
		want syscall.Errno
	}{
		{"add existing service", k.AddService(lvs.Service{Key: web, Opts: wlc()}), syscall.EEXIST},
		{"edit missing service", k.EditService(lvs.Service{Key: other, Opts: wlc()}), syscall.ESRCH},
		{"delete missing service", k.DeleteService(other), syscall.ESRCH},
		{"add dest to missing service", k.AddDest(other, lvs.Dest{Addr: real1, Opts: nat(1)}), syscall.ESRCH},
		{"add existing dest", k.AddDest(web, lvs.Dest{Addr: real1, Opts: nat(1)}), syscall.EEXIST},
		{"edit missing dest", k.EditDest(web, lvs.Dest{Addr: real2, Opts: nat(1)}), syscall.ENOENT},
		{"delete missing dest", k.DeleteDest(web, real2), syscall.ENOENT},
		{"unknown scheduler", k.AddService(lvs.Service{Key: other, Opts: bad(wlc(), func(o *lvs.ServiceOpts) { o.Scheduler = "foo" })}), syscall.ENOENT},
		{"edit to unknown scheduler", k.EditService(lvs.Service{Key: web, Opts: bad(wlc(), func(o *lvs.ServiceOpts) { o.Scheduler = "foo" })}), syscall.ENOENT},
		{"unknown pe", k.AddService(lvs.Service{Key: other, Opts: bad(wlc(), func(o *lvs.ServiceOpts) { o.Persistent, o.Timeout, o.PE = true, 60, "http" })}), syscall.ENOENT},
		{"ipv6 netmask 0", k.AddService(lvs.Service{Key: v6, Opts: lvs.ServiceOpts{Scheduler: "rr", Persistent: true, Timeout: 60, Netmask: 0}}), syscall.EINVAL},
		{"negative weight", k.AddDest(web, lvs.Dest{Addr: real2, Opts: nat(-1)}), syscall.ERANGE},
		{"lower above upper", k.AddDest(web, lvs.Dest{Addr: real2, Opts: lvs.DestOpts{Weight: 1, LowerThreshold: 5, UpperThreshold: 4}}), syscall.ERANGE},
		{"lower without upper", k.EditDest(web, lvs.Dest{Addr: real1, Opts: lvs.DestOpts{Weight: 1, LowerThreshold: 5}}), syscall.ERANGE},
		{"gue without port", k.AddDest(web, lvs.Dest{Addr: real2, Opts: lvs.DestOpts{Forward: lvs.Tunnel, TunnelType: lvs.GUE, Weight: 1}}), syscall.EINVAL},
		{"ipv6 dest by nat", k.AddDest(web, lvs.Dest{Addr: netip.MustParseAddrPort("[2001:db8::10]:80"), Opts: nat(1)}), syscall.EINVAL},
	} {
		wantErrno(t, c.what, c.err, c.want)
	}
	// A tunnelled destination may be of the other family.
	mustOK(t, k.AddDest(web, lvs.Dest{Addr: netip.MustParseAddrPort("[2001:db8::10]:80"), Opts: lvs.DestOpts{Forward: lvs.Tunnel, Weight: 1}}))

	k.SetMissingSchedulers("mh")
	wantErrno(t, "missing module", k.AddService(lvs.Service{Key: other, Opts: lvs.ServiceOpts{Scheduler: "mh", Netmask: 32}}), syscall.ENOENT)
	mustOK(t, k.AddService(lvs.Service{Key: other, Opts: lvs.ServiceOpts{Scheduler: "sh", Netmask: 32}}))

	// Refused calls changed nothing.
	got, _ := k.Table()
	if len(got.Services) != 2 || len(got.Service(web).Dests) != 2 || got.Service(web).Opts.Scheduler != "wlc" {
		t.Errorf("refused calls changed the table: %+v", got.Services)
	}
}

func TestKernelEditsInPlaceAndKeepsCounters(t *testing.T) {
	k := New()
	mustOK(t, k.AddService(lvs.Service{Key: web, Opts: wlc()}))
	mustOK(t, k.AddDest(web, lvs.Dest{Addr: real1, Opts: nat(1)}))
	mustOK(t, k.SetConns(web, real1, 7, 3))
	mustOK(t, k.EditDest(web, lvs.Dest{Addr: real1, Opts: nat(0)}))
	mustOK(t, k.EditService(lvs.Service{Key: web, Opts: lvs.ServiceOpts{Scheduler: "rr", Persistent: true, Timeout: 300, Netmask: 24}}))
	got, _ := k.Table()
	d := got.Service(web).Dest(real1)
	if d.Opts.Weight != 0 || d.Live.ActiveConns != 7 || d.Live.InactConns != 3 {
		t.Errorf("dest after edit = %+v, want weight 0 and counters 7/3", d)
	}
	if o := got.Service(web).Opts; o.Scheduler != "rr" || !o.Persistent || o.Netmask != 24 {
		t.Errorf("service opts after edit = %+v", o)
	}
	if k.Ops() != 4 {
		t.Errorf("Ops() = %d, want 4", k.Ops())
	}
}

func TestKernelDeleteServiceDropsDests(t *testing.T) {
	k := New()
	mustOK(t, k.AddService(lvs.Service{Key: web, Opts: wlc()}))
	mustOK(t, k.AddDest(web, lvs.Dest{Addr: real1, Opts: nat(1)}))
	mustOK(t, k.DeleteService(web))
	mustOK(t, k.AddService(lvs.Service{Key: web, Opts: wlc()}))
	got, _ := k.Table()
	if n := len(got.Service(web).Dests); n != 0 {
		t.Errorf("re-added service has %d destinations, want 0", n)
	}
}

func TestKernelTableIsACopy(t *testing.T) {
	k := New()
	mustOK(t, k.AddService(lvs.Service{Key: web, Opts: wlc()}))
	mustOK(t, k.AddDest(web, lvs.Dest{Addr: real1, Opts: nat(1)}))
	a, _ := k.Table()
	a.Services[0].Dests[0].Opts.Weight = 99
	a.Services[0].Opts.Scheduler = "rr"
	b, _ := k.Table()
	if b.Services[0].Dests[0].Opts.Weight != 1 || b.Services[0].Opts.Scheduler != "wlc" {
		t.Errorf("changing a returned table changed the kernel: %+v", b.Services[0])
	}
	if b.Timeouts != DefaultTimeouts {
		t.Errorf("fresh timeouts = %+v, want %+v", b.Timeouts, DefaultTimeouts)
	}
}

func TestKernelTimeouts(t *testing.T) {
	k := New()
	mustOK(t, k.SetTimeouts(lvs.Timeouts{UDP: 60 * time.Second}))
	got, _ := k.Table()
	want := DefaultTimeouts
	want.UDP = 60 * time.Second
	if got.Timeouts != want {
		t.Errorf("timeouts = %+v, want %+v (zero fields unchanged)", got.Timeouts, want)
	}
	wantErrno(t, "negative timeout", k.SetTimeouts(lvs.Timeouts{TCP: -time.Second}), syscall.EINVAL)
}

func TestFailAfterFailsOnceAndChangesNothing(t *testing.T) {
	k := New()
	k.FailAfter(1, syscall.EIO)
	mustOK(t, k.AddService(lvs.Service{Key: web, Opts: wlc()}))
	wantErrno(t, "second call", k.AddDest(web, lvs.Dest{Addr: real1, Opts: nat(1)}), syscall.EIO)
	got, _ := k.Table()
	if len(got.Service(web).Dests) != 0 {
		t.Error("a failed call added a destination")
	}
	mustOK(t, k.AddDest(web, lvs.Dest{Addr: real1, Opts: nat(1)}))

	k.SetFault(func(c Call) error {
		if c.Method == "DeleteDest" {
			return syscall.EBUSY
		}
		return nil
	})
	wantErrno(t, "hooked call", k.DeleteDest(web, real1), syscall.EBUSY)
	mustOK(t, k.EditDest(web, lvs.Dest{Addr: real1, Opts: nat(2)}))
	if got, want := k.Ops(), 5; got != want {
		t.Errorf("Ops() = %d, want %d (refused calls count)", got, want)
	}
	if c := k.Calls()[3]; c.Method != "DeleteDest" || c.Dest != real1 {
		t.Errorf("Calls()[3] = %v", c)
	}
}

func sampleTable() *lvs.Table {
	t := &lvs.Table{Services: []lvs.Service{
		{Key: web, Opts: lvs.ServiceOpts{Scheduler: "wlc", Persistent: true, Timeout: 360, Netmask: 24, PE: "sip"}, Dests: []lvs.Dest{
			{Addr: real2, Opts: lvs.DestOpts{Forward: lvs.Route, Weight: 2, UpperThreshold: 100, LowerThreshold: 10}, Live: lvs.DestLive{ActiveConns: 4, InactConns: 2, PersistConns: 1}},
			{Addr: real1, Opts: lvs.DestOpts{Forward: lvs.Tunnel, TunnelType: lvs.GUE, TunnelPort: 6080, TunnelFlags: lvs.TunnelCsum, Weight: 1}},
		}},
		{Key: lvs.MarkKey(lvs.IPv6, 100), Opts: lvs.ServiceOpts{Scheduler: "sh", SchedFlags: lvs.SchedFlag1 | lvs.SchedFlag2, OnePacket: true}},
		{Key: lvs.AddrKey(lvs.UDP, netip.MustParseAddrPort("[2001:db8::2]:53")), Opts: lvs.ServiceOpts{Scheduler: "rr"}, Dests: []lvs.Dest{
			{Addr: netip.MustParseAddrPort("[2001:db8::53]:5353"), Opts: nat(0)},
		}},
	}, Timeouts: lvs.Timeouts{TCP: 600 * time.Second}}
	t.Normalize()
	return t
}

func TestSaveLoadRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kernel.json")
	k := New()
	k.Seed(sampleTable())
	k.SetMissingSchedulers("mh", "twos")
	k.FailAfter(2, syscall.EIO)
	mustOK(t, k.SetTimeouts(lvs.Timeouts{UDP: 30 * time.Second}))
	mustOK(t, k.Save(path))
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("saved file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}

	k2 := New()
	mustOK(t, k2.Load(path))
	a, _ := k.Table()
	b, _ := k2.Table()
	if d := cmp.Diff(a, b, netipComparers); d != "" {
		t.Errorf("table after Save/Load differs (-saved +loaded):\n%s", d)
	}
	if k2.Ops() != 1 {
		t.Errorf("loaded call count = %d, want 1", k2.Ops())
	}
	wantErrno(t, "missing scheduler after load", k2.AddService(lvs.Service{Key: lvs.MarkKey(lvs.IPv4, 1), Opts: lvs.ServiceOpts{Scheduler: "twos", Netmask: 32}}), syscall.ENOENT)
	// SetTimeouts used one of the two calls the fault lets through; the
	// refused call above used the other.
	wantErrno(t, "fault after load", k2.AddService(lvs.Service{Key: lvs.MarkKey(lvs.IPv4, 2), Opts: lvs.ServiceOpts{Scheduler: "rr", Netmask: 32}}), syscall.EIO)
	mustOK(t, k2.AddService(lvs.Service{Key: lvs.MarkKey(lvs.IPv4, 2), Opts: lvs.ServiceOpts{Scheduler: "rr", Netmask: 32}}))
}

func TestFileKernelAcrossHandles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kernel.json")
	fk, err := OpenFile(path)
	mustOK(t, err)
	empty, err := fk.Table()
	mustOK(t, err)
	if len(empty.Services) != 0 || empty.Timeouts != DefaultTimeouts {
		t.Errorf("missing file is not an empty kernel: %+v", empty)
	}
	// Concurrent writers through separate handles all land.
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			h, err := OpenFile(path)
			if err == nil {
				err = h.AddService(lvs.Service{Key: lvs.MarkKey(lvs.IPv4, uint32(i+1)), Opts: lvs.ServiceOpts{Scheduler: "rr", Netmask: 32}})
			}
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got, err := fk.Table()
	mustOK(t, err)
	if len(got.Services) != 20 {
		t.Errorf("%d services after 20 concurrent adds", len(got.Services))
	}
	k, err := fk.Kernel()
	mustOK(t, err)
	if k.Ops() != 20 {
		t.Errorf("file call count = %d, want 20", k.Ops())
	}
}

func TestFileKernelStagedFault(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kernel.json")
	mustOK(t, os.WriteFile(path, []byte(`{
  "services": [{"protocol": "tcp", "address": "10.0.0.2:80", "scheduler": "wlc",
                "dests": [{"address": "192.168.10.100:80", "forwarding": "nat", "weight": 1, "active_conns": 5}]}],
  "missing_schedulers": ["foo", "mh"],
  "fail": {"after": 1, "errno": "EIO"}
}`), 0o600))
	fk, err := OpenFile(path)
	mustOK(t, err)
	tb, err := fk.Table()
	mustOK(t, err)
	if d := tb.Service(web).Dest(real1); d == nil || d.Live.ActiveConns != 5 || d.Opts.Weight != 1 {
		t.Fatalf("staged table not read: %+v", tb.Services)
	}
	wantErrno(t, "missing scheduler", fk.EditService(lvs.Service{Key: web, Opts: lvs.ServiceOpts{Scheduler: "mh", Netmask: 32}}), syscall.ENOENT)
	wantErrno(t, "staged fault", fk.AddDest(web, lvs.Dest{Addr: real2, Opts: nat(1)}), syscall.EIO)
	mustOK(t, fk.AddDest(web, lvs.Dest{Addr: real2, Opts: nat(1)}))
	data, _ := os.ReadFile(path)
	if strings.Contains(string(data), `"fail"`) {
		t.Errorf("the fault fired but stays in the file:\n%s", data)
	}
}

func TestOpenFileRejectsBadFiles(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"typo":   `{"servces": []}`,
		"errno":  `{"fail": {"after": 0, "errno": "EWHAT"}}`,
		"proto":  `{"services": [{"protocol": "icmp", "address": "10.0.0.1:1", "scheduler": "rr"}]}`,
		"addr":   `{"services": [{"protocol": "tcp", "address": "10.0.0.1", "scheduler": "rr"}]}`,
		"fwd":    `{"services": [{"protocol": "tcp", "address": "10.0.0.1:1", "scheduler": "rr", "dests": [{"address": "10.1.1.1:1", "forwarding": "carrier-pigeon"}]}]}`,
		"delay":  `{"delay": "soon"}`,
		"syntax": `{`,
	} {
		p := filepath.Join(dir, name+".json")
		mustOK(t, os.WriteFile(p, []byte(content), 0o600))
		if _, err := OpenFile(p); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: OpenFile error = %v, want an error naming the file", name, err)
		}
	}
	if _, err := OpenFile(""); err == nil {
		t.Error("OpenFile(\"\") succeeded")
	}
}

// The kernel settings survive the file form: changed values, and settings
// the kernel lacks.
func TestKernelSysctlsInFile(t *testing.T) {
	k := New()
	k.SeedSysctl(lvs.SysctlIPv4Forward, "1")
	k.SeedSysctl("net.ipv4.vs.sloppy_sctp", "")
	if err := k.SetSysctl("net.ipv4.vs.conntrack", "1"); err != nil {
		t.Fatal(err)
	}
	if err := k.SetSysctl("net.ipv4.vs.sloppy_sctp", "1"); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("writing an absent setting: %v, want ENOENT", err)
	}
	if err := k.SetSysctl("net.ipv4.vs.conntrack", "yes"); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("writing a word: %v, want EINVAL", err)
	}
	path := filepath.Join(t.TempDir(), "kernel.json")
	if err := k.Save(path); err != nil {
		t.Fatal(err)
	}
	back := New()
	if err := back.Load(path); err != nil {
		t.Fatal(err)
	}
	for name := range DefaultSysctls {
		v1, err1 := k.Sysctl(name)
		v2, err2 := back.Sysctl(name)
		if v1 != v2 || (err1 == nil) != (err2 == nil) {
			t.Errorf("%s: %q, %v before; %q, %v after the file", name, v1, err1, v2, err2)
		}
	}
	if _, err := back.Sysctl("net.ipv4.vs.sloppy_sctp"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("an absent setting reads %v, want fs.ErrNotExist", err)
	}
}
