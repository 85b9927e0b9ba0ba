package realserver

import (
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/lvsctl/lvsctl/internal/sysctl"
)

// goodState is what Prepare records for a DR VIP, a TUN VIP and an IPv6
// TUN VIP, as the file holds it.
const goodState = `{
  "sysctls": [
    {"name": "net/ipv4/conf/all/arp_ignore", "old": "0", "new": "1"},
    {"name": "net/ipv4/conf/tunl0/rp_filter", "old": "1", "new": "0"}
  ],
  "addresses": [
    {"link": "lo", "prefix": "10.0.0.2/32", "mode": "dr"},
    {"link": "tunl0", "prefix": "10.0.0.3/32", "mode": "tun"},
    {"link": "ip6tnl0", "prefix": "2001:db8::3/128", "mode": "tun"}
  ],
  "links_up": ["tunl0"]
}`

func writeState(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "realserver-ns.json")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadStateAcceptsWhatPrepareWrites(t *testing.T) {
	st, err := LoadState(writeState(t, goodState))
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Sysctls) != 2 || len(st.Addrs) != 3 || len(st.LinksUp) != 1 {
		t.Errorf("loaded %+v", st)
	}
	for _, mode := range []Mode{DR, TUN} {
		st := &State{}
		if _, err := Prepare(newFake(), st, mode, []netip.Addr{vip, netip.MustParseAddr("2001:db8::2")}); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), "s.json")
		if err := SaveState(p, st); err != nil {
			t.Fatal(err)
		}
		back, err := LoadState(p)
		if err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		if d := cmp.Diff(st, back, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); d != "" {
			t.Errorf("%s round trip (-saved +loaded):\n%s", mode, d)
		}
	}
}

func TestLoadStateRefuses(t *testing.T) {
	sysctl := func(name, old, new string) string {
		b, _ := json.Marshal(State{Sysctls: []SysctlChange{{"net/ipv4/conf/all/arp_ignore", "0", "1"}, {name, old, new}}})
		return string(b)
	}
	addr := func(link, prefix, mode string) string {
		return `{"addresses": [{"link": "lo", "prefix": "10.0.0.9/32", "mode": "dr"}, {"link": ` + q(link) + `, "prefix": ` + q(prefix) + `, "mode": ` + q(mode) + `}]}`
	}
	tests := []struct {
		name, content, want string
	}{
		{"parent directories", sysctl("../../etc/shadow", "0", "1"), `entry sysctls[1] (name "../../etc/shadow"): /etc/shadow is not under /proc/sys/net`},
		{"parent inside the name", sysctl("net/ipv4/../../../etc/shadow", "0", "1"), "not a clean relative sysctl name"},
		{"absolute", sysctl("/proc/sys/net/ipv4/conf/all/arp_ignore", "0", "1"), "not a clean relative sysctl name"},
		{"double slash", sysctl("net//ipv4/conf/all/arp_ignore", "0", "1"), "not a clean relative sysctl name"},
		{"outside net", sysctl("kernel/core_pattern", "0", "1"), "/proc/sys/kernel/core_pattern is not under /proc/sys/net"},
		{"a sysctl lvsctl does not set", sysctl("net/ipv4/ip_forward", "0", "1"), "not one of the sysctls lvsctl sets"},
		{"device dot-dot", sysctl("net/ipv4/conf/../arp_ignore", "0", "1"), "not a clean relative sysctl name"},
		{"device too long", sysctl("net/ipv4/conf/abcdefghijklmnop/arp_ignore", "0", "1"), "device: device name longer than 15 bytes"},
		{"device with a space", sysctl("net/ipv4/conf/a b/arp_ignore", "0", "1"), "device: device name with white space"},
		{"control character", sysctl("net/ipv4/conf/a\nb/arp_ignore", "0", "1"), "control characters"},
		{"value not a number", sysctl("net/ipv4/conf/all/arp_announce", "0", "1; reboot"), `new value "1; reboot": not a decimal integer`},
		{"old value with a newline", sysctl("net/ipv4/conf/all/arp_announce", "0\n2", "2"), "old value"},
		{"link not lo for dr", addr("eth0", "10.0.0.2/32", "dr"), `entry addresses[1] ("10.0.0.2/32" on "eth0"): a dr VIP goes on lo, not on eth0`},
		{"link with a slash", addr("../lo", "10.0.0.2/32", "dr"), "link: device name with '/'"},
		{"link too long", addr("lolololololololol", "10.0.0.2/32", "dr"), "device name longer than 15 bytes"},
		{"link dot", addr(".", "10.0.0.2/32", "dr"), `"." is not a device name`},
		{"empty link", addr("", "10.0.0.2/32", "dr"), "empty device name"},
		{"no prefix", addr("lo", "", "dr"), "no valid address prefix"},
		{"prefix not an address", addr("lo", "lo/32", "dr"), "ParseAddr"},
		{"a subnet", addr("lo", "10.0.0.0/24", "dr"), "not a single-host prefix"},
		{"mapped", addr("lo", "::ffff:10.0.0.2/128", "dr"), "not a single-host prefix"},
		{"mode nat", addr("lo", "10.0.0.2/32", "nat"), `mode "nat" is neither dr nor tun`},
		{"link up not a tunnel", `{"links_up": ["tunl0", "eth0"]}`, `entry links_up[1] ("eth0"): lvsctl brings up only tunl0 and ip6tnl0`},
		{"link up colon", `{"links_up": ["tunl0:1"]}`, `device name with ':'`},
		{"unknown field", `{"sysctls": [], "commands": ["rm -rf /"]}`, `unknown field "commands"`},
		{"a field in another case", `{"SYSCTLS": []}`, `unknown field "SYSCTLS"`},
		{"a field twice", `{"links_up": ["tunl0"], "links_up": ["eth0"]}`, `field "links_up" twice in one object`},
		{"a field twice in an entry", `{"addresses": [{"link": "lo", "link": "eth0", "prefix": "10.0.0.2/32", "mode": "dr"}]}`, `field "link" twice`},
		{"unknown field in an entry", `{"sysctls": [{"name": "net/ipv4/conf/all/arp_ignore", "old": "0", "new": "1", "path": "/etc/shadow"}]}`, `unknown field "path"`},
		{"data after", goodState + `{}`, "data after the state's JSON object"},
		{"not an object", `["net/ipv4/conf/all/arp_ignore"]`, "not valid JSON for a state"},
		{"cut short", goodState[:40], "not valid JSON for a state"},
		{"too large", `{"links_up": [` + strings.Repeat(`"tunl0",`, maxStateSize/8) + `"tunl0"]}`, "larger than 1048576 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeState(t, tt.content)
			st, err := LoadState(p)
			if err == nil {
				t.Fatalf("accepted: %+v", st)
			}
			for _, want := range []string{tt.want, "state file " + p + ": ", "nothing was changed", "delete it (rm " + p + ")"} {
				if !errors.Is(err, ErrBadState) {
					t.Error("not ErrBadState")
				}
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q\nwant it to contain %q", err, want)
				}
			}
		})
	}
}

func q(s string) string { b, _ := json.Marshal(s); return string(b) }

func TestLoadStateRefusesSymlinkAndSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target.json")
	if err := os.WriteFile(target, []byte(goodState), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "realserver-ns.json")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadState(link); err == nil || !strings.Contains(err.Error(), "a symbolic link") {
		t.Errorf("symlink: %v", err)
	}
	fifo := filepath.Join(dir, "fifo.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip(err)
	}
	if _, err := LoadState(fifo); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("fifo: %v", err)
	}
}

func TestUndoRefusesABadStateChangingNothing(t *testing.T) {
	prepared := func() (*fakeSystem, *State) {
		f := newFake()
		st := &State{}
		if _, err := Prepare(f, st, TUN, []netip.Addr{vip}); err != nil {
			t.Fatal(err)
		}
		f.calls = nil
		return f, st
	}
	t.Run("a bad entry", func(t *testing.T) {
		f, st := prepared()
		st.Sysctls = append(st.Sysctls, SysctlChange{Name: "net/../../etc/shadow", Old: "0", New: "1"})
		before := f.snapshot()
		done, notes, err := Undo(f, st, nil)
		if !errors.Is(err, ErrBadState) || !strings.Contains(err.Error(), "sysctls[") || done != nil || notes != nil {
			t.Errorf("undo: %q %q %v", done, notes, err)
		}
		if len(f.calls) != 0 || f.snapshot() != before || len(st.Addrs) != 1 {
			t.Errorf("undo of a bad state changed %q", f.calls)
		}
	})
	t.Run("a sysctl that resolves outside /proc/sys/net", func(t *testing.T) {
		f, st := prepared()
		last := st.Sysctls[len(st.Sysctls)-1].Name
		f.escapes = map[string]bool{last: true}
		_, _, err := Undo(f, st, nil)
		if !errors.Is(err, ErrBadState) || !strings.Contains(err.Error(), "resolves to /etc/passwd") || len(f.calls) != 0 {
			t.Errorf("undo: %v, calls %q", err, f.calls)
		}
		if _, err := Prepare(f, st, TUN, []netip.Addr{vip}); !errors.Is(err, ErrBadState) || len(f.calls) != 0 {
			t.Errorf("prepare: %v, calls %q", err, f.calls)
		}
	})
}

func TestResolveSysctl(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	conf := filepath.Join(root, "net", "ipv4", "conf")
	for _, d := range []string{filepath.Join(conf, "all"), filepath.Join(root, "kernel")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{filepath.Join(conf, "all", "arp_ignore"), filepath.Join(outside, "arp_ignore")} {
		if err := os.WriteFile(f, []byte("0\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Symlink(outside, filepath.Join(conf, "evil")))
	must(os.Symlink("../../../kernel", filepath.Join(conf, "up")))
	must(os.Symlink("all", filepath.Join(conf, "alias")))
	must(os.Symlink("loop", filepath.Join(conf, "loop")))
	tests := []struct{ name, want string }{
		{"net/ipv4/conf/all/arp_ignore", "all/arp_ignore"},
		{"net/ipv4/conf/alias/arp_ignore", "all/arp_ignore"}, // a link that stays inside
		{"net/ipv4/conf/gone0/arp_ignore", ""},               // a device gone since
		{"net/ipv4/conf/evil/arp_ignore", "error: outside"},
		{"net/ipv4/conf/evil/missing", "error: outside"},
		{"net/ipv4/conf/up/hostname", "error: outside"},
		{"net/ipv4/conf/loop/arp_ignore", "error: "},
		{"net/../kernel/hostname", "error: not a clean relative sysctl name"},
		{"kernel/hostname", "error: is not under"},
	}
	for _, tt := range tests {
		got, err := sysctl.Resolve(root, tt.name)
		switch {
		case strings.HasPrefix(tt.want, "error: "):
			if err == nil || !strings.Contains(err.Error(), strings.TrimPrefix(tt.want, "error: ")) {
				t.Errorf("%s: %q, %v; want an error with %q", tt.name, got, err, strings.TrimPrefix(tt.want, "error: "))
			}
		case err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want == "" && got != "", tt.want != "" && !strings.HasSuffix(got, "/net/ipv4/conf/"+tt.want):
			t.Errorf("%s resolves to %q; want .../%s", tt.name, got, tt.want)
		}
	}
}

func TestCheckLinkName(t *testing.T) {
	for _, s := range []string{"lo", "tunl0", "ip6tnl0", "eth0.100", "a-b_c@d", "x23456789012345"} {
		if err := checkLinkName(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	for _, s := range []string{"", ".", "..", "x234567890123456", "a/b", "a:b", "a b", "a\tb", "a\x00b", "a\xa0b", "\n"} {
		if err := checkLinkName(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

// FuzzDecodeState feeds the state decoder arbitrary files. It must not
// panic; what it accepts must validate, name only sysctl files under
// /proc/sys/net and devices the kernel could have, and survive a round trip
// through SaveState's encoding unchanged.
func FuzzDecodeState(f *testing.F) {
	f.Add([]byte(goodState))
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"sysctls": [{"name": "../../etc/shadow", "old": "0", "new": "1"}]}`))
	f.Add([]byte(`{"addresses": [{"link": "lo", "prefix": "10.0.0.2/32", "mode": "dr"}], "x": 1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := decodeState(data)
		if err != nil {
			if !strings.Contains(err.Error(), "entry ") && !strings.Contains(err.Error(), "JSON") {
				t.Errorf("an error that names neither an entry nor the JSON: %v", err)
			}
			return
		}
		if err := st.Validate(); err != nil {
			t.Fatalf("accepted an invalid state: %v", err)
		}
		for _, c := range st.Sysctls {
			if p := path.Join("/proc/sys", c.Name); !strings.HasPrefix(p, "/proc/sys/net/") || p != "/proc/sys/"+c.Name {
				t.Fatalf("accepted sysctl %q", c.Name)
			}
		}
		for _, l := range append(st.LinksUp, func() (ls []string) {
			for _, a := range st.Addrs {
				ls = append(ls, a.Link)
			}
			return ls
		}()...) {
			if l == "" || len(l) > 15 || strings.ContainsAny(l, "/: \t\n\v\f\r\x00") || l == "." || l == ".." {
				t.Fatalf("accepted link %q", l)
			}
		}
		b, err := json.MarshalIndent(st, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		back, err := decodeState(b)
		if err != nil {
			t.Fatalf("re-reading %s: %v", b, err)
		}
		if d := cmp.Diff(st, back, cmpopts.EquateEmpty(), cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); d != "" {
			t.Fatalf("round trip (-first +second):\n%s", d)
		}
	})
}

// TestDecodeStateBounded feeds the decoder a mebibyte of the shapes that
// make a JSON reader allocate most per byte: what it allocates stays
// within a small multiple of the input.
func TestDecodeStateBounded(t *testing.T) {
	const n = 1 << 20
	for name, in := range map[string]string{
		"empty objects": "[" + strings.Repeat("{},", n/3) + "{}]",
		"links":         `{"links_up": [` + strings.Repeat(`"tunl0",`, n/8) + `"tunl0"]}`,
		"sysctls":       `{"sysctls": [` + strings.Repeat(`{"name":"net/ipv4/conf/all/arp_ignore","old":"0","new":"1"},`, n/60) + `{}]}`,
		"nesting":       strings.Repeat("[", n/2) + strings.Repeat("]", n/2),
		"keys":          `{"sysctls": [{` + strings.Repeat(`"name":"x",`, n/11) + `"old":"0"}]}`,
	} {
		var st *State
		alloc := allocated(func() { st, _ = decodeState([]byte(in)) })
		if limit := uint64(64 * len(in)); alloc > limit {
			t.Errorf("%s: decoding %d bytes allocated %d, more than %d", name, len(in), alloc, limit)
		}
		t.Logf("%s: %d bytes in, %d allocated, %v", name, len(in), alloc, st != nil)
	}
}

// allocated returns how many bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
