package realserver

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lvsctl/lvsctl/internal/sysctl"
)

// fakeSystem is a host in memory: sysctls, links with their state and
// addresses, and the modules that create links when loaded.
type fakeSystem struct {
	sysctl  map[string]string
	links   map[string]bool // name -> up
	addrs   map[string][]netip.Prefix
	modules map[string]string // module -> link it creates
	failOn  string            // an operation that fails, e.g. "AddAddr"
	escapes map[string]bool   // sysctls whose file resolves outside /proc/sys/net
	calls   []string
}

func newFake() *fakeSystem {
	f := &fakeSystem{
		sysctl:  map[string]string{},
		links:   map[string]bool{"lo": true, "eth0": true},
		addrs:   map[string][]netip.Prefix{"lo": {netip.MustParsePrefix("127.0.0.1/8")}},
		modules: map[string]string{"ipip": "tunl0", "ip6_tunnel": "ip6tnl0"},
	}
	for _, dev := range []string{"all", "default", "lo", "eth0", "tunl0"} {
		for k, v := range map[string]string{"arp_ignore": "0", "arp_announce": "0", "rp_filter": "1"} {
			f.sysctl["net/ipv4/conf/"+dev+"/"+k] = v
		}
	}
	return f
}

func (f *fakeSystem) call(op string, args ...any) error {
	f.calls = append(f.calls, strings.TrimSpace(op+" "+fmt.Sprint(args...)))
	if f.failOn == op {
		return errors.New("operation not permitted")
	}
	return nil
}

func (f *fakeSystem) Sysctl(n string) (string, error) {
	v, ok := f.sysctl[n]
	if !ok {
		return "", fmt.Errorf("no sysctl %s", n)
	}
	return v, nil
}

func (f *fakeSystem) SetSysctl(n, v string) error {
	if err := f.call("SetSysctl", n, "=", v); err != nil {
		return err
	}
	f.sysctl[n] = v
	return nil
}

func (f *fakeSystem) CheckSysctl(n string) error {
	if err := sysctl.CheckPath(n); err != nil {
		return err
	}
	if f.escapes[n] {
		return fmt.Errorf("/proc/sys/%s resolves to /etc/passwd, outside /proc/sys/net", n)
	}
	return nil
}

func (f *fakeSystem) LinkExists(l string) (bool, error) { _, ok := f.links[l]; return ok, nil }

func (f *fakeSystem) LinkUp(l string) (bool, error) {
	up, ok := f.links[l]
	if !ok {
		return false, fmt.Errorf("no link %s", l)
	}
	return up, nil
}

func (f *fakeSystem) SetLinkUp(l string, up bool) error {
	if err := f.call("SetLinkUp", l, up); err != nil {
		return err
	}
	f.links[l] = up
	return nil
}

func (f *fakeSystem) HasAddr(l string, p netip.Prefix) (bool, error) {
	return slices.Contains(f.addrs[l], p), nil
}

func (f *fakeSystem) AddAddr(l string, p netip.Prefix) error {
	if err := f.call("AddAddr", l, p); err != nil {
		return err
	}
	f.addrs[l] = append(f.addrs[l], p)
	return nil
}

func (f *fakeSystem) DelAddr(l string, p netip.Prefix) error {
	if err := f.call("DelAddr", l, p); err != nil {
		return err
	}
	f.addrs[l] = slices.DeleteFunc(f.addrs[l], func(q netip.Prefix) bool { return q == p })
	return nil
}

func (f *fakeSystem) LoadModule(m string) error {
	if err := f.call("LoadModule", m); err != nil {
		return err
	}
	if l, ok := f.modules[m]; ok {
		if _, ok := f.links[l]; !ok {
			f.links[l] = false
		}
	}
	return nil
}

func (f *fakeSystem) snapshot() string {
	var b strings.Builder
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range f.sysctl {
			if !yield(k) {
				return
			}
		}
	}) {
		fmt.Fprintf(&b, "%s=%s\n", k, f.sysctl[k])
	}
	for _, l := range []string{"lo", "eth0", "tunl0", "ip6tnl0"} {
		if up, ok := f.links[l]; ok {
			fmt.Fprintf(&b, "%s up=%v %v\n", l, up, f.addrs[l])
		}
	}
	return b.String()
}

var vip = netip.MustParseAddr("10.0.0.2")

func TestPrepareDR(t *testing.T) {
	f := newFake()
	st := &State{}
	done, err := Prepare(f, st, DR, []netip.Addr{vip})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"+ address 10.0.0.2/32 on lo",
		"~ net.ipv4.conf.all.arp_ignore: 0 -> 1",
		"~ net.ipv4.conf.all.arp_announce: 0 -> 2",
		"~ net.ipv4.conf.lo.arp_ignore: 0 -> 1",
		"~ net.ipv4.conf.lo.arp_announce: 0 -> 2",
	}
	if d := cmp.Diff(want, done); d != "" {
		t.Errorf("changes (-want +got):\n%s", d)
	}
	if f.sysctl["net/ipv4/conf/all/rp_filter"] != "1" {
		t.Error("DR touched rp_filter")
	}
	// Idempotent: nothing the second time, and the state keeps the
	// original values.
	before := fmt.Sprint(*st)
	f.calls = nil
	done, err = Prepare(f, st, DR, []netip.Addr{vip})
	if err != nil || len(done) != 0 || len(f.calls) != 0 {
		t.Fatalf("second run: changes %q, calls %q, err %v", done, f.calls, err)
	}
	if fmt.Sprint(*st) != before {
		t.Errorf("second run changed the state:\n%v\n%v", before, *st)
	}
}

func TestPrepareTUNLoadsModuleAndRelaxesRPFilter(t *testing.T) {
	f := newFake()
	delete(f.links, "tunl0")
	st := &State{}
	done, err := Prepare(f, st, TUN, []netip.Addr{vip})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"+ module ipip loaded (creates tunl0)",
		"~ link tunl0: down -> up",
		"+ address 10.0.0.2/32 on tunl0",
		"~ net.ipv4.conf.all.arp_ignore: 0 -> 1",
		"~ net.ipv4.conf.all.arp_announce: 0 -> 2",
		"~ net.ipv4.conf.tunl0.arp_ignore: 0 -> 1",
		"~ net.ipv4.conf.tunl0.arp_announce: 0 -> 2",
		"~ net.ipv4.conf.tunl0.rp_filter: 1 -> 0",
		"~ net.ipv4.conf.all.rp_filter: 1 -> 2",
	}
	if d := cmp.Diff(want, done); d != "" {
		t.Errorf("changes (-want +got):\n%s", d)
	}
	if got := st.LinksUp; !slices.Equal(got, []string{"tunl0"}) {
		t.Errorf("links up recorded: %q", got)
	}
}

func TestPrepareKeepsAcceptableValues(t *testing.T) {
	f := newFake()
	f.sysctl["net/ipv4/conf/all/arp_ignore"] = "2"  // stricter than needed
	f.sysctl["net/ipv4/conf/all/rp_filter"] = "0"   // already off
	f.sysctl["net/ipv4/conf/tunl0/rp_filter"] = "0" // already off
	f.links["tunl0"] = true
	st := &State{}
	done, err := Prepare(f, st, TUN, []netip.Addr{vip})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range done {
		if strings.Contains(d, "rp_filter") || strings.Contains(d, "all.arp_ignore") || strings.Contains(d, "module") || strings.Contains(d, "link") {
			t.Errorf("changed what was already fine: %s", d)
		}
	}
}

func TestPrepareIPv6(t *testing.T) {
	f := newFake()
	v6 := netip.MustParseAddr("2001:db8::2")
	done, err := Prepare(f, &State{}, DR, []netip.Addr{v6, vip})
	if err != nil {
		t.Fatal(err)
	}
	if done[0] != "+ address 2001:db8::2/128 on lo" || done[1] != "+ address 10.0.0.2/32 on lo" {
		t.Errorf("addresses: %q", done)
	}
	f = newFake()
	done, err = Prepare(f, &State{}, TUN, []netip.Addr{v6})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"+ module ip6_tunnel loaded (creates ip6tnl0)", "~ link ip6tnl0: down -> up", "+ address 2001:db8::2/128 on ip6tnl0"}
	if d := cmp.Diff(want, done); d != "" {
		t.Errorf("IPv6 over TUN needs no IPv4 sysctls (-want +got):\n%s", d)
	}
}

func TestUndoRestoresExactly(t *testing.T) {
	for _, mode := range []Mode{DR, TUN} {
		t.Run(string(mode), func(t *testing.T) {
			f := newFake()
			f.sysctl["net/ipv4/conf/all/arp_announce"] = "1" // a non-default original
			// The module stays loaded after undo (other tunnels may use
			// it), so start from a loaded one with tunl0 down.
			f.links["tunl0"] = false
			before := f.snapshot()
			st := &State{}
			if _, err := Prepare(f, st, mode, []netip.Addr{vip}); err != nil {
				t.Fatal(err)
			}
			done, notes, err := Undo(f, st, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(done) == 0 || len(notes) != 0 {
				t.Errorf("undo: done %q notes %q", done, notes)
			}
			if d := cmp.Diff(before, f.snapshot()); d != "" {
				t.Errorf("undo did not restore the host (-before +after):\n%s", d)
			}
			if !st.Empty() {
				t.Errorf("state left after a full undo: %+v", st)
			}
			// Idempotent.
			done, _, err = Undo(f, st, nil)
			if err != nil || len(done) != 0 {
				t.Errorf("second undo: %q %v", done, err)
			}
		})
	}
}

func TestUndoOneVIPKeepsSysctlsForTheOthers(t *testing.T) {
	f := newFake()
	st := &State{}
	other := netip.MustParseAddr("10.0.0.3")
	if _, err := Prepare(f, st, DR, []netip.Addr{vip}); err != nil {
		t.Fatal(err)
	}
	if _, err := Prepare(f, st, DR, []netip.Addr{other}); err != nil {
		t.Fatal(err)
	}
	done, _, err := Undo(f, st, []netip.Addr{vip})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"- address 10.0.0.2/32 on lo"}, done); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if f.sysctl["net/ipv4/conf/all/arp_ignore"] != "1" {
		t.Error("arp_ignore restored while 10.0.0.3 still needs it")
	}
	done, _, err = Undo(f, st, []netip.Addr{other})
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != 5 || f.sysctl["net/ipv4/conf/all/arp_ignore"] != "0" {
		t.Errorf("last VIP: %q, arp_ignore %s", done, f.sysctl["net/ipv4/conf/all/arp_ignore"])
	}
}

func TestUndoLeavesOthersChanges(t *testing.T) {
	f := newFake()
	f.addrs["lo"] = append(f.addrs["lo"], HostPrefix(vip)) // put there by hand
	st := &State{}
	if _, err := Prepare(f, st, DR, []netip.Addr{vip}); err != nil {
		t.Fatal(err)
	}
	f.sysctl["net/ipv4/conf/all/arp_announce"] = "1" // changed by someone since
	done, notes, err := Undo(f, st, []netip.Addr{vip})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(f.addrs["lo"], HostPrefix(vip)) {
		t.Error("undo removed an address lvsctl did not add")
	}
	if slices.ContainsFunc(done, func(s string) bool { return strings.Contains(s, "all.arp_announce") }) {
		t.Errorf("undo overwrote a value set since: %q", done)
	}
	if len(notes) != 2 || !strings.Contains(notes[0], "is 1, set by someone else") && !strings.Contains(notes[1], "is 1, set by someone else") {
		t.Errorf("notes: %q", notes)
	}
}

func TestPrepareFailureKeepsWhatWasDone(t *testing.T) {
	f := newFake()
	f.failOn = "SetSysctl"
	st := &State{}
	done, err := Prepare(f, st, DR, []netip.Addr{vip})
	if err == nil || !strings.Contains(err.Error(), "cannot set net.ipv4.conf.all.arp_ignore to 1") {
		t.Fatalf("error: %v", err)
	}
	if len(done) != 1 || len(st.Addrs) != 1 {
		t.Fatalf("done %q, state %+v", done, st)
	}
	f.failOn = ""
	if _, _, err := Undo(f, st, nil); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(f.addrs["lo"], HostPrefix(vip)) {
		t.Error("the VIP added before the failure was not undone")
	}
}

func TestPrepareErrors(t *testing.T) {
	f := newFake()
	if _, err := Prepare(f, &State{}, DR, nil); err == nil || !strings.Contains(err.Error(), "--vip") {
		t.Errorf("no VIPs: %v", err)
	}
	delete(f.modules, "ipip")
	delete(f.links, "tunl0")
	if _, err := Prepare(f, &State{}, TUN, []netip.Addr{vip}); err == nil || !strings.Contains(err.Error(), "no tunl0 device") {
		t.Errorf("module without tunl0: %v", err)
	}
	for _, s := range []string{"nat", "bogus"} {
		if _, err := ParseMode(s); err == nil {
			t.Errorf("ParseMode(%q) accepted", s)
		}
	}
	if m, err := ParseMode("IPIP"); m != TUN || err != nil {
		t.Errorf("ParseMode(IPIP) = %q, %v", m, err)
	}
}

func TestStateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "ns.realserver.json")
	st, err := LoadState(path)
	if err != nil || !st.Empty() {
		t.Fatalf("missing file: %+v %v", st, err)
	}
	if _, err := Prepare(newFake(), st, TUN, []netip.Addr{vip}); err != nil {
		t.Fatal(err)
	}
	if err := SaveState(path, st); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file mode: %v %v", fi.Mode(), err)
	}
	back, err := LoadState(path)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(st, back, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); d != "" {
		t.Errorf("round trip (-saved +loaded):\n%s", d)
	}
	if err := SaveState(path, &State{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("empty state left its file: %v", err)
	}
	os.WriteFile(path, []byte("{not json"), 0o600)
	if _, err := LoadState(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("bad file: %v", err)
	}
}
