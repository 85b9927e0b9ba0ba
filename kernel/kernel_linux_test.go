//go:build linux

package kernel

// Real-kernel tests. Each runs in a network namespace of its own, skips
// where the kernel has no IPVS, and fails there instead when
// LVSCTL_REQUIRE_IPVS=1 (see package ipvstest).

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/lvsctl/lvsctl/internal/ipvsadm"
	"github.com/lvsctl/lvsctl/internal/ipvstest"
	"github.com/lvsctl/lvsctl/internal/netns"
	"github.com/lvsctl/lvsctl/lvs"
	"github.com/mdlayher/netlink"
)

// openNetns returns a handle on a fresh namespace and its name.
func openNetns(t testing.TB) (*IPVS, string) {
	t.Helper()
	ipvstest.Require(t)
	ns := ipvstest.NewNetns(t)
	h, err := Open(ns)
	if err != nil {
		t.Fatalf("Open(%q): %v", ns, err)
	}
	t.Cleanup(func() {
		if err := h.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return h, ns
}

var cmpAddrs = cmp.Options{
	cmpopts.EquateEmpty(),
	cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
	cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b }),
	cmp.Comparer(func(a, b netip.Prefix) bool { return a == b }),
}

// settings returns t without what only the kernel knows (counters), so
// that it can be compared with what was written.
func settings(t *lvs.Table) *lvs.Table {
	c := t.Clone()
	for i := range c.Services {
		c.Services[i].Stats = lvs.Stats{}
		for j := range c.Services[i].Dests {
			c.Services[i].Dests[j].Live = lvs.DestLive{}
		}
	}
	return c
}

func svcKey(s string) lvs.ServiceKey {
	proto, ap, _ := strings.Cut(s, " ")
	p, err := lvs.ParseProtocol(proto)
	if err != nil {
		panic(err)
	}
	return lvs.AddrKey(p, netip.MustParseAddrPort(ap))
}

func dest(ap string, fwd lvs.Forward, weight int) lvs.Dest {
	return lvs.Dest{Addr: netip.MustParseAddrPort(ap), Opts: lvs.DestOpts{Forward: fwd, Weight: weight}}
}

// everything is a table that uses every attribute the kernel keeps.
func everything() *lvs.Table {
	t := &lvs.Table{
		Timeouts: lvs.Timeouts{TCP: 901 * time.Second, TCPFin: 121 * time.Second, UDP: 301 * time.Second},
		Services: []lvs.Service{
			{Key: svcKey("tcp 10.0.0.2:80"), Opts: lvs.ServiceOpts{Scheduler: "wlc"}, Dests: []lvs.Dest{
				dest("192.168.1.5:8080", lvs.Masq, 1),
				dest("192.168.1.6:8080", lvs.Masq, 0),
				{Addr: netip.MustParseAddrPort("192.168.1.7:8080"), Opts: lvs.DestOpts{Forward: lvs.Masq, Weight: 65535, UpperThreshold: 1000, LowerThreshold: 750}},
			}},
			{Key: svcKey("tcp 10.0.0.2:443"), Opts: lvs.ServiceOpts{Scheduler: "sh", Persistent: true, Timeout: 360, Netmask: 24, SchedFlags: lvs.SchedFlag1 | lvs.SchedFlag2}, Dests: []lvs.Dest{
				dest("192.168.1.5:443", lvs.Route, 3),
				{Addr: netip.MustParseAddrPort("192.168.1.8:443"), Opts: lvs.DestOpts{Forward: lvs.Route, Weight: 2, UpperThreshold: 50}},
			}},
			{Key: svcKey("udp 10.0.0.3:53"), Opts: lvs.ServiceOpts{Scheduler: "rr", OnePacket: true}, Dests: []lvs.Dest{
				dest("192.168.1.5:53", lvs.Tunnel, 1),
				{Addr: netip.MustParseAddrPort("192.168.1.9:53"), Opts: lvs.DestOpts{Forward: lvs.Tunnel, Weight: 1, TunnelType: lvs.GUE, TunnelPort: 6080, TunnelFlags: lvs.TunnelRemCsum}},
				{Addr: netip.MustParseAddrPort("192.168.1.10:53"), Opts: lvs.DestOpts{Forward: lvs.Tunnel, Weight: 1, TunnelType: lvs.GRE, TunnelFlags: lvs.TunnelCsum}},
				{Addr: netip.MustParseAddrPort("[2001:db8::53]:53"), Opts: lvs.DestOpts{Forward: lvs.Tunnel, Weight: 4, TunnelType: lvs.GUE, TunnelPort: 5555, TunnelFlags: lvs.TunnelCsum}},
			}},
			{Key: svcKey("udp 10.0.0.4:5060"), Opts: lvs.ServiceOpts{Scheduler: "rr", Persistent: true, Timeout: 60, Netmask: 32, PE: "sip"}, Dests: []lvs.Dest{
				dest("192.168.1.5:5060", lvs.Route, 1),
			}},
			{Key: svcKey("sctp 10.0.0.5:3868"), Opts: lvs.ServiceOpts{Scheduler: "mh", SchedFlags: lvs.SchedFlag1}, Dests: []lvs.Dest{
				dest("192.168.1.5:3868", lvs.Masq, 1),
			}},
			{Key: svcKey("tcp 10.0.0.6:0"), Opts: lvs.ServiceOpts{Scheduler: "lc", Persistent: true, Timeout: 2678400, Netmask: 0}, Dests: []lvs.Dest{
				dest("192.168.1.5:0", lvs.Route, 1),
			}},
			{Key: svcKey("tcp [2001:db8::2]:80"), Opts: lvs.ServiceOpts{Scheduler: "wrr", Persistent: true, Timeout: 300, Netmask: 64}, Dests: []lvs.Dest{
				dest("[2001:db8:1::5]:8080", lvs.Masq, 2),
				dest("[2001:db8:1::6]:80", lvs.Route, 1),
			}},
			{Key: svcKey("udp [2001:db8::3]:53"), Opts: lvs.ServiceOpts{Scheduler: "sed"}},
			{Key: lvs.MarkKey(lvs.IPv4, 100), Opts: lvs.ServiceOpts{Scheduler: "nq", Persistent: true, Timeout: 400, Netmask: 32, OnePacket: true}, Dests: []lvs.Dest{
				dest("192.168.1.5:0", lvs.Route, 1),
				dest("192.168.1.6:80", lvs.Masq, 1),
			}},
			{Key: lvs.MarkKey(lvs.IPv6, 101), Opts: lvs.ServiceOpts{Scheduler: "fo"}, Dests: []lvs.Dest{
				dest("[2001:db8:1::5]:0", lvs.Route, 1),
			}},
		},
	}
	t.Normalize()
	return t
}

// write adds every service and real server of want through the single-op
// methods.
func write(t *testing.T, h *IPVS, want *lvs.Table) {
	t.Helper()
	if err := h.SetTimeouts(want.Timeouts); err != nil {
		t.Fatal(err)
	}
	for _, s := range want.Services {
		if err := h.AddService(s); err != nil {
			t.Fatal(err)
		}
		for _, d := range s.Dests {
			if err := h.AddDest(s.Key, d); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// expectTable reads the table and compares its settings with want, then
// asks ipvsadm (when installed) to confirm them.
func expectTable(t *testing.T, h *IPVS, ns string, want *lvs.Table) *lvs.Table {
	t.Helper()
	got, err := h.Table()
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(settings(want), settings(got), cmpAddrs); d != "" {
		t.Errorf("Table() after writing (-written +read):\n%s", d)
	}
	witness(t, ns, got)
	return got
}

// witness compares got with what ipvsadm, through its own netlink code,
// reads from the kernel: "ipvsadm -S -n" for the table (it does not save
// thresholds) and "ipvsadm -L --timeout" for the timeouts.
func witness(t *testing.T, ns string, got *lvs.Table) {
	t.Helper()
	if !ipvstest.HasWitness(t, "ipvsadm") {
		return
	}
	save := ipvstest.InNetns(t, ns, "ipvsadm", "-S", "-n")
	saved, err := ipvsadm.ParseSave(strings.NewReader(save), "ipvsadm -S -n")
	if err != nil {
		t.Fatalf("parsing ipvsadm -S -n: %v\n%s", err, save)
	}
	want := settings(got)
	want.Timeouts = lvs.Timeouts{}
	for i := range want.Services {
		for j := range want.Services[i].Dests {
			o := &want.Services[i].Dests[j].Opts
			o.UpperThreshold, o.LowerThreshold = 0, 0
			// ipvsadm prints the local forwarding method as -g.
			if o.Forward == lvs.Local {
				o.Forward = lvs.Route
			}
		}
	}
	if d := cmp.Diff(want, settings(saved), cmpAddrs); d != "" {
		t.Errorf("ipvsadm -S -n disagrees with Table() (-Table +ipvsadm):\n%s\n%s", d, save)
	}
	timeouts := ipvstest.InNetns(t, ns, "ipvsadm", "-L", "--timeout")
	wantLine := fmt.Sprintf("Timeout (tcp tcpfin udp): %d %d %d", int(got.Timeouts.TCP.Seconds()), int(got.Timeouts.TCPFin.Seconds()), int(got.Timeouts.UDP.Seconds()))
	if !strings.Contains(timeouts, wantLine) {
		t.Errorf("ipvsadm -L --timeout says %q, want %q", strings.TrimSpace(timeouts), wantLine)
	}
}

func TestKernelEveryAttribute(t *testing.T) {
	h, ns := openNetns(t)
	want := everything()
	write(t, h, want)
	expectTable(t, h, ns, want)

	// Edit every service and real server in place.
	edited := want.Clone()
	for i := range edited.Services {
		s := &edited.Services[i]
		o := &s.Opts
		switch {
		case !s.Key.IsFWMark() && s.Key.Port == 0:
			o.Timeout = 30 // port 0 needs persistence
		case o.Persistent:
			o.Persistent, o.PE = false, ""
		default:
			o.Persistent, o.Timeout = true, 120
			o.Netmask = lvs.FullMask(s.Key.Family) - 8
		}
		o.Scheduler = "rr"
		o.SchedFlags ^= lvs.SchedFlag3
		for j := range s.Dests {
			d := &s.Dests[j]
			d.Opts.Weight = (d.Opts.Weight + 7) % 65536
			d.Opts.UpperThreshold, d.Opts.LowerThreshold = 20, 10
			// Forwarding methods change in place too, where the
			// ports allow it (direct routing keeps the port).
			if d.Opts.Forward == lvs.Masq && (s.Key.IsFWMark() || d.Addr.Port() == s.Key.Port) {
				if s.Key.IsFWMark() {
					d.Opts.Forward = lvs.Tunnel
				} else {
					d.Opts.Forward = lvs.Route
				}
			} else if d.Opts.Forward == lvs.Tunnel {
				// Cycle the tunnel types: ipip -> gue -> gre -> ipip.
				switch d.Opts.TunnelType {
				case lvs.IPIP:
					d.Opts.TunnelType, d.Opts.TunnelPort, d.Opts.TunnelFlags = lvs.GUE, 7000, lvs.TunnelCsum
				case lvs.GUE:
					d.Opts.TunnelType, d.Opts.TunnelPort, d.Opts.TunnelFlags = lvs.GRE, 0, 0
				case lvs.GRE:
					d.Opts.TunnelType, d.Opts.TunnelPort, d.Opts.TunnelFlags = lvs.IPIP, 0, 0
				}
			}
		}
		if err := h.EditService(*s); err != nil {
			t.Fatal(err)
		}
		for _, d := range s.Dests {
			if err := h.EditDest(s.Key, d); err != nil {
				t.Fatal(err)
			}
		}
	}
	edited.Normalize()
	expectTable(t, h, ns, edited)

	// Timeouts: zero leaves a field as it is.
	if err := h.SetTimeouts(lvs.Timeouts{TCP: 1000 * time.Second}); err != nil {
		t.Fatal(err)
	}
	edited.Timeouts.TCP = 1000 * time.Second
	expectTable(t, h, ns, edited)

	// Deletes.
	for i := range edited.Services {
		s := &edited.Services[i]
		if len(s.Dests) > 0 {
			if err := h.DeleteDest(s.Key, s.Dests[0].Addr); err != nil {
				t.Fatal(err)
			}
			s.Dests = s.Dests[1:]
		}
	}
	expectTable(t, h, ns, edited)
	for _, s := range edited.Services[:3] {
		if err := h.DeleteService(s.Key); err != nil {
			t.Fatal(err)
		}
	}
	edited.Services = edited.Services[3:]
	expectTable(t, h, ns, edited)
}

func TestKernelEveryScheduler(t *testing.T) {
	h, ns := openNetns(t)
	want := &lvs.Table{}
	for i, sched := range lvs.Schedulers {
		s := lvs.Service{Key: svcKey(fmt.Sprintf("tcp 10.1.0.%d:80", i+1)), Opts: lvs.ServiceOpts{Scheduler: sched}}
		err := h.AddService(s)
		if sched == "twos" && errors.Is(err, syscall.ENOENT) {
			t.Logf("this kernel has no twos scheduler (Linux 6.2 added it): %v", err)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		want.Services = append(want.Services, s)
	}
	got, err := h.Table()
	if err != nil {
		t.Fatal(err)
	}
	want.Timeouts = got.Timeouts
	want.Normalize()
	if d := cmp.Diff(settings(want), settings(got), cmpAddrs); d != "" {
		t.Errorf("(-written +read):\n%s", d)
	}
	witness(t, ns, got)
}

func TestKernelErrors(t *testing.T) {
	h, _ := openNetns(t)
	k := svcKey("tcp 10.0.0.2:80")
	s := lvs.Service{Key: k, Opts: lvs.ServiceOpts{Scheduler: "wlc", Netmask: 32}}
	if err := h.AddService(s); err != nil {
		t.Fatal(err)
	}
	check := func(err error, errno syscall.Errno, prefix string) {
		t.Helper()
		if !errors.Is(err, errno) || !strings.HasPrefix(err.Error(), prefix) {
			t.Errorf("got %v, want errno %v and a message starting %q", err, errno, prefix)
		}
	}
	check(h.AddService(s), syscall.EEXIST, "add service tcp 10.0.0.2:80: the virtual server already exists in the kernel (file exists")
	check(h.AddService(lvs.Service{Key: svcKey("tcp 10.0.0.3:80"), Opts: lvs.ServiceOpts{Scheduler: "nosuch"}}), syscall.ENOENT, `add service tcp 10.0.0.3:80: scheduler "nosuch" is not available in this kernel (no module ip_vs_nosuch)`)
	missing := svcKey("udp 10.9.9.9:53")
	check(h.EditService(lvs.Service{Key: missing, Opts: s.Opts}), syscall.ESRCH, "edit service udp 10.9.9.9:53: the virtual server is not in the kernel (no such process")
	check(h.DeleteService(missing), syscall.ESRCH, "delete service udp 10.9.9.9:53: the virtual server is not in the kernel")
	d := dest("192.168.1.5:80", lvs.Route, 1)
	check(h.AddDest(missing, d), syscall.ESRCH, "add real server 192.168.1.5:80 to udp 10.9.9.9:53: the virtual server is not in the kernel")
	check(h.DeleteDest(k, d.Addr), syscall.ENOENT, "delete real server 192.168.1.5:80 from tcp 10.0.0.2:80: the real server is not in the kernel (no such file or directory")
	if err := h.AddDest(k, d); err != nil {
		t.Fatal(err)
	}
	check(h.AddDest(k, d), syscall.EEXIST, "add real server 192.168.1.5:80 to tcp 10.0.0.2:80: the real server already exists in the kernel (file exists")
	bad := d
	bad.Opts.UpperThreshold, bad.Opts.LowerThreshold = 5, 10
	check(h.EditDest(k, bad), syscall.ERANGE, "edit real server 192.168.1.5:80 of tcp 10.0.0.2:80: the kernel refused the real server's settings")
	// Mixing families is for tunnels only.
	check(h.AddDest(k, dest("[2001:db8::1]:80", lvs.Route, 1)), syscall.EINVAL, "add real server [2001:db8::1]:80 to tcp 10.0.0.2:80: the kernel refused the real server's settings")
	var e *Error
	if err := h.AddService(s); !errors.As(err, &e) || e.Change.Kind != AddService || e.Change.Service != k {
		t.Errorf("the error %v does not name its change", err)
	}
}

// TestKernelExtendedAck: where the kernel explains an error (a top-level
// attribute that fails its policy), the explanation reaches the error.
func TestKernelExtendedAck(t *testing.T) {
	h, _ := openNetns(t)
	var m msgBuf
	m.begin(cmdSetConfig)
	m.u16(cmdAttrTimeoutTCP, 900) // a u32 attribute, two bytes short
	h.mu.Lock()
	err := h.c.request(h.c.message(netlink.Acknowledge, 0, m.b), nil)
	h.mu.Unlock()
	var ke *kernelErr
	if !errors.As(err, &ke) || ke.errno != syscall.ERANGE || !strings.Contains(ke.msg, "policy") {
		t.Fatalf("a short attribute: %v, want ERANGE with the kernel's message", err)
	}
	t.Logf("the kernel says: %v", err)
	if e := (&Error{Change{Kind: SetTimeouts}, err}).Error(); !strings.Contains(e, ke.msg) {
		t.Errorf("the kernel's message is lost in %q", e)
	}
}

func TestKernelBatch(t *testing.T) {
	h, ns := openNetns(t)
	want := &lvs.Table{Timeouts: lvs.Timeouts{TCP: 600 * time.Second, TCPFin: 60 * time.Second, UDP: 200 * time.Second}}
	cs := []Change{{Kind: SetTimeouts, Timeouts: want.Timeouts}}
	// 300 services of 2 real servers: several chunks.
	for i := range 300 {
		s := lvs.Service{
			Key:  lvs.AddrKey(lvs.TCP, netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 2, byte(i >> 8), byte(i)}), 80)),
			Opts: lvs.ServiceOpts{Scheduler: "rr", Netmask: 32},
		}
		cs = append(cs, Change{Kind: AddService, Service: s.Key, Opts: s.Opts})
		for j := range 2 {
			d := lvs.Dest{Addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 168, byte(j), byte(i)}), 80), Opts: lvs.DestOpts{Forward: lvs.Route, Weight: j + 1}}
			cs = append(cs, Change{Kind: AddDest, Service: s.Key, Dest: d})
			s.Dests = append(s.Dests, d)
		}
		want.Services = append(want.Services, s)
	}
	cs = append(cs, Change{Kind: SetTimeouts}) // a no-op
	if errs := h.Batch(cs); errs != nil {
		t.Fatalf("Batch: %v", errors.Join(errs...))
	}
	want.Normalize()
	expectTable(t, h, ns, want)

	// Edits, drains (weight 0) and deletes in one batch.
	var cs2 []Change
	for i := range want.Services {
		s := &want.Services[i]
		switch i % 3 {
		case 0:
			s.Dests[0].Opts.Weight = 0
			cs2 = append(cs2, Change{Kind: EditDest, Service: s.Key, Dest: s.Dests[0]})
		case 1:
			cs2 = append(cs2, Change{Kind: DeleteDest, Service: s.Key, Dest: s.Dests[1]})
			s.Dests = s.Dests[:1]
			was := s.Opts
			s.Opts.Scheduler = "wlc"
			cs2 = append(cs2, Change{Kind: EditService, Service: s.Key, Opts: s.Opts, Was: was})
		case 2:
			cs2 = append(cs2, Change{Kind: DeleteService, Service: s.Key})
		}
	}
	want.Services = slices.DeleteFunc(want.Services, func(s lvs.Service) bool {
		return slices.ContainsFunc(cs2, func(c Change) bool { return c.Kind == DeleteService && c.Service == s.Key })
	})
	if errs := h.Batch(cs2); errs != nil {
		t.Fatalf("Batch: %v", errors.Join(errs...))
	}
	expectTable(t, h, ns, want)
}

func TestKernelBatchFailure(t *testing.T) {
	h, _ := openNetns(t)
	svc := func(i int) Change {
		k := lvs.AddrKey(lvs.UDP, netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 3, byte(i >> 8), byte(i)}), 53))
		return Change{Kind: AddService, Service: k, Opts: lvs.ServiceOpts{Scheduler: "rr", Netmask: 32}}
	}
	cs := []Change{svc(0), svc(0), svc(1)}
	for i := 2; i < 2*batchChunk; i++ {
		cs = append(cs, svc(i))
	}
	errs := h.Batch(cs)
	if len(errs) != len(cs) {
		t.Fatalf("Batch returned %d errors for %d changes", len(errs), len(cs))
	}
	if errs[0] != nil || errs[2] != nil {
		t.Errorf("ops before and after the failure in its chunk: %v, %v", errs[0], errs[2])
	}
	if !errors.Is(errs[1], syscall.EEXIST) || !strings.HasPrefix(errs[1].Error(), "add service udp 10.3.0.0:53: the virtual server already exists in the kernel (file exists") {
		t.Errorf("failed op: %v", errs[1])
	}
	if !errors.Is(errs[len(errs)-1], ErrNotRun) {
		t.Errorf("op in a later chunk: %v, want ErrNotRun", errs[len(errs)-1])
	}
	tab, err := h.Table()
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Services) != batchChunk-1 {
		t.Errorf("%d services in the kernel after a failed first chunk, want %d", len(tab.Services), batchChunk-1)
	}
}

// inNetns runs fn on a thread inside the named namespace: sockets it
// creates stay there.
func inNetns(t *testing.T, ns string, fn func()) {
	t.Helper()
	if err := netns.Do("/run/netns/"+ns, func() error { fn(); return nil }); err != nil {
		t.Fatal(err)
	}
}

func TestKernelLiveCounters(t *testing.T) {
	h, dir := openNetns(t)
	client := ipvstest.NewNetns(t)
	ip := ipvstest.IPCommand(t)
	// client (10.9.0.2) --veth-- director (10.9.0.1, VIP 10.0.0.2); the
	// real server is the director itself, listening on the VIP.
	for _, args := range [][]string{
		{"-n", client, "link", "add", "c0", "type", "veth", "peer", "name", "d0", "netns", dir},
		{"-n", client, "addr", "add", "10.9.0.2/24", "dev", "c0"},
		{"-n", client, "link", "set", "c0", "up"},
		{"-n", client, "route", "add", "10.0.0.0/24", "via", "10.9.0.1"},
		{"-n", dir, "addr", "add", "10.9.0.1/24", "dev", "d0"},
		{"-n", dir, "link", "set", "d0", "up"},
		{"-n", dir, "addr", "add", "10.0.0.2/32", "dev", "lo"},
	} {
		if out, err := exec.Command(ip, args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	var ln net.Listener
	inNetns(t, dir, func() {
		var err error
		ln, err = net.Listen("tcp4", "10.0.0.2:80")
		if err != nil {
			t.Error(err)
		}
	})
	if ln == nil {
		t.FailNow()
	}
	defer ln.Close()
	k := svcKey("tcp 10.0.0.2:80")
	if err := h.AddService(lvs.Service{Key: k, Opts: lvs.ServiceOpts{Scheduler: "rr"}}); err != nil {
		t.Fatal(err)
	}
	if err := h.AddDest(k, dest("10.0.0.2:80", lvs.Route, 1)); err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	for range 3 {
		inNetns(t, client, func() {
			c, err := net.DialTimeout("tcp4", "10.0.0.2:80", 5*time.Second)
			if err != nil {
				t.Error(err)
				return
			}
			conns = append(conns, c)
		})
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	if len(conns) != 3 {
		t.FailNow()
	}
	// The kernel folds its per-CPU counters into what it reports every
	// two seconds (the rate estimator's timer), so wait for them.
	var tab *lvs.Table
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		var err error
		if tab, err = h.Table(); err != nil {
			t.Fatal(err)
		}
		if s := tab.Service(k); s == nil || s.Stats.Conns >= 3 || time.Now().After(deadline) {
			break
		}
	}
	s := tab.Service(k)
	if s == nil || len(s.Dests) != 1 {
		t.Fatalf("table: %+v", tab)
	}
	d := s.Dests[0]
	if s.Stats.Conns != 3 || d.Live.Stats.Conns != 3 || s.Stats.InPkts == 0 || s.Stats.InBytes == 0 {
		t.Errorf("counters: service %+v, real server %+v; want 3 connections and some packets", s.Stats, d.Live.Stats)
	}
	if d.Live.ActiveConns+d.Live.InactConns != 3 {
		t.Errorf("connections on the real server: %d active, %d inactive; want 3 in all", d.Live.ActiveConns, d.Live.InactConns)
	}
}

func TestKernelSyncDaemon(t *testing.T) {
	h, ns := openNetns(t)
	ip := ipvstest.IPCommand(t)
	ifname := "sync0"
	if out, err := exec.Command(ip, "-n", ns, "link", "add", ifname, "type", "veth", "peer", "name", "sync1").CombinedOutput(); err != nil {
		t.Logf("no veth (%v: %s); using lo", err, out)
		ifname = "lo"
	}
	for _, dev := range []string{ifname, "sync1", "lo"} {
		exec.Command(ip, "-n", ns, "link", "set", dev, "up").Run()
	}
	master := DaemonConfig{State: DaemonMaster, Interface: ifname, SyncID: 7}
	if err := h.StartDaemon(master); err != nil {
		t.Fatal(err)
	}
	backup := DaemonConfig{State: DaemonBackup, Interface: ifname, SyncID: 9, MaxLen: 1400, Group: netip.MustParseAddr("239.1.1.1"), Port: 9000, TTL: 2}
	if err := h.StartDaemon(backup); err != nil {
		t.Fatal(err)
	}
	got, err := h.Daemons()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].State != DaemonMaster || got[1] != backup {
		t.Errorf("Daemons() = %+v, want the master and %+v", got, backup)
	} else {
		m := got[0]
		// The kernel fills in its defaults for what was not given.
		if m.Interface != ifname || m.SyncID != 7 || m.Port != 8848 || m.TTL != 1 || m.Group != netip.MustParseAddr("224.0.0.81") || m.MaxLen == 0 {
			t.Errorf("master daemon %+v, want %s syncid 7 with the kernel defaults 224.0.0.81:8848 ttl 1", m, ifname)
		}
	}
	if ipvstest.HasWitness(t, "ipvsadm") {
		out := ipvstest.InNetns(t, ns, "ipvsadm", "-L", "--daemon")
		for _, want := range []string{"master sync daemon (mcast=" + ifname + ", syncid=7", "backup sync daemon (mcast=" + ifname + ", syncid=9"} {
			if !strings.Contains(out, want) {
				t.Errorf("ipvsadm -L --daemon says %q, want %q in it", out, want)
			}
		}
	}
	if err := h.StartDaemon(master); !errors.Is(err, syscall.EEXIST) {
		t.Errorf("starting a second master: %v, want EEXIST", err)
	}
	for _, s := range []DaemonState{DaemonMaster, DaemonBackup} {
		if err := h.StopDaemon(s); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := h.Daemons(); err != nil || len(got) != 0 {
		t.Errorf("after stopping both: %+v, %v", got, err)
	}
	if err := h.StopDaemon(DaemonMaster); err == nil {
		t.Errorf("stopping a stopped daemon succeeded")
	}
}

func TestKernelOpenPathAndClose(t *testing.T) {
	ipvstest.Require(t)
	ns := ipvstest.NewNetns(t)
	h, err := Open("/run/netns/" + ns) // a path works as well as a name
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Table(); err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Table(); err == nil {
		t.Errorf("Table after Close succeeded")
	}
	if _, err := Open("/proc/self/status"); err == nil || !strings.Contains(err.Error(), "is not a network namespace") {
		t.Errorf("Open of a file that is not a namespace: %v", err)
	}
}

// BenchmarkApply10k adds 10,000 services of 4 real servers in batches, the
// project's cold-apply benchmark, and reads the table back once.
func BenchmarkApply10k(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		h, _ := openNetns(b)
		var cs []Change
		for i := range 10000 {
			k := lvs.AddrKey(lvs.TCP, netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 4, byte(i >> 8), byte(i)}), 80))
			cs = append(cs, Change{Kind: AddService, Service: k, Opts: lvs.ServiceOpts{Scheduler: "wlc", Netmask: 32}})
			for j := range 4 {
				d := lvs.Dest{Addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 168, byte(j), byte(i)}), 80), Opts: lvs.DestOpts{Forward: lvs.Route, Weight: 1}}
				cs = append(cs, Change{Kind: AddDest, Service: k, Dest: d})
			}
		}
		b.StartTimer()
		if errs := h.Batch(cs); errs != nil {
			b.Fatal(errors.Join(errs...))
		}
		start := time.Now()
		t, err := h.Table()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(time.Since(start).Milliseconds()), "table-ms")
		if len(t.Services) != 10000 {
			b.Fatalf("%d services", len(t.Services))
		}
	}
}

func TestOpenReportsMissingIPVS(t *testing.T) {
	h, err := Open("")
	if err == nil {
		h.Close()
		t.Skip("this kernel has IPVS")
	}
	if !errors.Is(err, ErrNoIPVS) || err.Error() != "this kernel has no IPVS (module ip_vs): load it with modprobe ip_vs" {
		t.Errorf("Open on a kernel without IPVS: %v", err)
	}
}

func TestProbeReportsMissingIPVS(t *testing.T) {
	if _, err := os.Stat("/sys/module/ip_vs"); err == nil {
		t.Skip("this kernel has IPVS")
	}
	info, err := Probe("")
	if !errors.Is(err, ErrNoIPVS) {
		t.Errorf("Probe on a kernel without IPVS: %+v, %v", info, err)
	}
	// Probing must not load the module, as looking the family up by
	// name can.
	if _, err := os.Stat("/sys/module/ip_vs"); err == nil {
		t.Errorf("Probe loaded ip_vs")
	}
}

// TestKernelProbe checks Probe's answer against /proc/net/ip_vs, whose
// first line is "IP Virtual Server version 1.2.1 (size=4096)".
func TestKernelProbe(t *testing.T) {
	ipvstest.Require(t)
	info, err := Probe("")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("/proc/net/ip_vs")
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(data), "\n")
	want := fmt.Sprintf("IP Virtual Server version %s (size=%d)", info.Version, info.ConnTabSize)
	if info.Version == "" || first != want {
		t.Errorf("Probe: %+v; /proc/net/ip_vs: %q", info, first)
	}
}
