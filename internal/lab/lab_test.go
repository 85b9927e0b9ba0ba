package lab

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoadOrder(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		// As depmod writes it: every transitive dependency, to be loaded
		// from the last to the first.
		"modules.dep": `kernel/net/ipvs/ip_vs_rr.ko: kernel/net/ipvs/ip_vs.ko kernel/net/nf_conntrack.ko kernel/lib/libcrc32c.ko
kernel/net/ipvs/ip_vs.ko: kernel/net/nf_conntrack.ko kernel/lib/libcrc32c.ko
kernel/net/nf_conntrack.ko: kernel/lib/libcrc32c.ko
kernel/lib/libcrc32c.ko:
kernel/crypto/crc32c_generic.ko:
kernel/arch/x86/crypto/crc32c-intel.ko:
kernel/net/ipv4/ip_gre.ko: kernel/net/ipv4/gre.ko kernel/net/ipv4/ip_tunnel.ko
kernel/net/ipv4/gre.ko:
kernel/net/ipv4/ip_tunnel.ko:
kernel/net/unused.ko:
`,
		"modules.softdep": "# Soft dependencies\nsoftdep libcrc32c pre: crc32c\nsoftdep ip_vs post: unused\n",
		"modules.alias":   "alias crc32c crc32c_intel\nalias crc32c crc32c_generic\nalias pci:v*d* unused\n",
		"modules.builtin": "kernel/net/ipv6/ipv6.ko\n",
	})
	idx, err := readModuleIndex(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := idx.loadOrder([]string{"ip_vs_rr", "ip_gre", "ipv6", "ip_vs", "gre"}, []string{"ip_vs_twos"})
	if err != nil {
		t.Fatal(err)
	}
	want := []loadStep{
		{"crc32c_intel", "kernel/arch/x86/crypto/crc32c-intel.ko", true},
		{"crc32c_generic", "kernel/crypto/crc32c_generic.ko", true},
		{"libcrc32c", "kernel/lib/libcrc32c.ko", false},
		{"nf_conntrack", "kernel/net/nf_conntrack.ko", false},
		{"ip_vs", "kernel/net/ipvs/ip_vs.ko", false},
		{"ip_vs_rr", "kernel/net/ipvs/ip_vs_rr.ko", false},
		{"ip_tunnel", "kernel/net/ipv4/ip_tunnel.ko", false},
		{"gre", "kernel/net/ipv4/gre.ko", false},
		{"ip_gre", "kernel/net/ipv4/ip_gre.ko", false},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("load order (-want +got):\n%s", diff)
	}

	// A module asked for directly is no longer soft.
	got, err = idx.loadOrder([]string{"ip_vs", "crc32c-generic"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(got, func(s loadStep) bool { return s.Name == "crc32c_generic" }); i < 0 || got[i].Soft {
		t.Errorf("crc32c_generic, required itself: %+v", got)
	}

	_, err = idx.loadOrder([]string{"ip_vs", "ip_vs_nope", "bridge"}, nil)
	if err == nil || !strings.Contains(err.Error(), "no module ip_vs_nope, bridge") {
		t.Errorf("missing required modules: error %v, want one naming ip_vs_nope and bridge", err)
	}
}

func TestReadModuleIndexErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := readModuleIndex(dir); err == nil || !strings.Contains(err.Error(), "depmod") {
		t.Errorf("no modules.dep: error %v, want a hint to run depmod", err)
	}
	writeFiles(t, dir, map[string]string{"modules.dep": "kernel/a.ko: kernel/b.ko\nnot a dep line\n"})
	if _, err := readModuleIndex(dir); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad modules.dep: error %v, want one naming line 2", err)
	}
}

// cpioEntry is one entry read back from a newc archive.
type cpioEntry struct {
	Name         string
	Mode         uint32
	Data         string
	Major, Minor uint32
}

func readCpio(t *testing.T, b []byte) []cpioEntry {
	t.Helper()
	var out []cpioEntry
	off := 0
	field := func(i int) uint32 {
		v, err := strconv.ParseUint(string(b[off+6+8*i:off+14+8*i]), 16, 32)
		if err != nil {
			t.Fatalf("header at %d, field %d: %v", off, i, err)
		}
		return uint32(v)
	}
	align := func(n int) int { return (n + 3) &^ 3 }
	for {
		if string(b[off:off+6]) != "070701" {
			t.Fatalf("no newc magic at offset %d", off)
		}
		mode, size, major, minor, namesize := field(1), field(6), field(9), field(10), field(11)
		name := string(b[off+110 : off+110+int(namesize)-1])
		dataOff := align(off + 110 + int(namesize))
		data := string(b[dataOff : dataOff+int(size)])
		off = align(dataOff + int(size))
		if name == "TRAILER!!!" {
			if off != len(b) {
				t.Errorf("%d bytes after the trailer", len(b)-off)
			}
			return out
		}
		out = append(out, cpioEntry{name, mode, data, major, minor})
	}
}

func TestWriteCpio(t *testing.T) {
	host := filepath.Join(t.TempDir(), "tool")
	if err := os.WriteFile(host, []byte("#!/bin/sh\necho hi\n"), 0o750); err != nil {
		t.Fatal(err)
	}
	tr := fsTree{}
	tr.data("/etc/lab/modules", 0o644, []byte("abc"))
	tr.symlink("/bin/sh", "/bin/busybox")
	tr.charDev("/dev/console", 5, 1)
	tr.hostFile("/usr/local/bin/tool", host, 0o750)
	tr.data("/etc/lab/modules", 0o600, []byte("replaced")) // the later one wins
	var buf bytes.Buffer
	if err := tr.writeCpio(&buf); err != nil {
		t.Fatal(err)
	}
	got := readCpio(t, buf.Bytes())
	want := []cpioEntry{
		{"bin", cpioDir | 0o755, "", 0, 0},
		{"bin/sh", cpioSymlink | 0o777, "/bin/busybox", 0, 0},
		{"dev", cpioDir | 0o755, "", 0, 0},
		{"dev/console", cpioCharDev | 0o600, "", 5, 1},
		{"etc", cpioDir | 0o755, "", 0, 0},
		{"etc/lab", cpioDir | 0o755, "", 0, 0},
		{"etc/lab/modules", cpioRegular | 0o600, "replaced", 0, 0},
		{"usr", cpioDir | 0o755, "", 0, 0},
		{"usr/local", cpioDir | 0o755, "", 0, 0},
		{"usr/local/bin", cpioDir | 0o755, "", 0, 0},
		{"usr/local/bin/tool", cpioRegular | 0o750, "#!/bin/sh\necho hi\n", 0, 0},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("archive (-want +got):\n%s", diff)
	}

	// GNU cpio reads it too.
	if _, err := exec.LookPath("cpio"); err == nil {
		cmd := exec.Command("cpio", "-t", "--quiet")
		cmd.Stdin = bytes.NewReader(buf.Bytes())
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("cpio -t: %v", err)
		}
		if lines := strings.Fields(string(out)); len(lines) != len(want) || lines[len(lines)-1] != "usr/local/bin/tool" {
			t.Errorf("cpio -t lists %q", lines)
		}
	}

	bad := fsTree{}
	bad.data("/a", 0o644, nil)
	bad.data("/a/b", 0o644, nil)
	if err := bad.writeCpio(&bytes.Buffer{}); err == nil {
		t.Error("a file inside a file: no error")
	}
}

func TestShellQuote(t *testing.T) {
	for _, s := range []string{"", "plain", "it's", "'", "''", `a "b" $c \d`, "$(reboot)", "`id`", "new\nline", "tab\there", "*", "-n"} {
		out, err := exec.Command("/bin/sh", "-c", "printf '%s' "+shellQuote(s)).Output()
		if err != nil {
			t.Fatalf("sh with %q: %v", s, err)
		}
		if string(out) != s {
			t.Errorf("shellQuote(%q) came back from sh as %q", s, out)
		}
	}
}

func TestInitScript(t *testing.T) {
	script, err := initScript("n0nce", "/work dir", []string{"A=1", "B=x y'z"}, []string{"/usr/sbin/ipvsadm", "-L", "-n"})
	if err != nil {
		t.Fatal(err)
	}
	s := string(script)
	for _, want := range []string{
		"echo LVSCTL-LAB-BEGIN-n0nce\n",
		"export 'A=1'\n",
		`export 'B=x y'\''z'` + "\n",
		"if cd '/work dir'; then\n\t'/usr/sbin/ipvsadm' '-L' '-n'\n",
		"echo LVSCTL-LAB-EXIT-n0nce=$code\n",
		"LVSCTL_IN_VM=1 LVSCTL_REQUIRE_IPVS=1",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("the init script lacks %q:\n%s", want, s)
		}
	}
	if _, err := initScript("n", "/", []string{"NO VALUE"}, []string{"true"}); err == nil || !strings.Contains(err.Error(), `"NO VALUE"`) {
		t.Errorf("bad environment entry: error %v", err)
	}
	if _, err := initScript("n", "/", []string{"$(x)=1"}, []string{"true"}); err == nil {
		t.Error("environment name with shell syntax: no error")
	}
	if _, err := initScript("n", "/", nil, nil); err == nil {
		t.Error("no command: no error")
	}
}

func TestResolveCommand(t *testing.T) {
	tr := fsTree{}
	tr.symlink("/sbin/ip", GuestIP)
	tr.data(GuestIP, 0o755, nil)
	tr.symlink("/usr/bin/nc", GuestBusybox)
	tr.data("/bin/lvsctl", 0o755, nil)
	for name, want := range map[string]string{
		"ip":           GuestIP, // not busybox's applet
		"nc":           "nc",    // busybox's applet
		"lvsctl":       "/bin/lvsctl",
		"missing":      "missing",
		"./rel/prog":   "./rel/prog",
		"/abs/program": "/abs/program",
	} {
		if got := tr.resolveCommand(name); got != want {
			t.Errorf("resolveCommand(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestConsole(t *testing.T) {
	var stream bytes.Buffer
	c := &console{nonce: "abc", stream: &stream, start: time.Now(), exited: make(chan struct{})}
	input := "\x1bc\x1b[?7lSeaBIOS (version 1.16)\r\n" +
		"[    0.5] early kernel line\r\n" +
		"LVSCTL-LAB-EXIT-abc=9\r\n" + // before /init: not ours
		"LVSCTL-LAB-BEGIN-abc\r\n" +
		"lab: module foo did not load: bad\r\n" +
		"LVSCTL-LAB-EXIT-xyz=3\r\n" + // another nonce: command output
		"last line without newlineLVSCTL-LAB-EXIT-abc=17\r\n" +
		"[    9.9] reboot: Power down\r\n"
	c.read(strings.NewReader(input))
	wantOut := "lab: module foo did not load: bad\nLVSCTL-LAB-EXIT-xyz=3\nlast line without newline"
	if got := c.output.String(); got != wantOut {
		t.Errorf("output %q, want %q", got, wantOut)
	}
	if stream.String() != wantOut {
		t.Errorf("streamed %q, want %q", stream.String(), wantOut)
	}
	if c.code == nil || *c.code != 17 {
		t.Errorf("exit code %v, want 17", c.code)
	}
	if !strings.Contains(c.all.String(), "Power down\n") || strings.Contains(c.all.String(), "\r") {
		t.Errorf("console log %q: want everything, without carriage returns", c.all.String())
	}
	select {
	case <-c.exited:
	default:
		t.Error("exit not signalled")
	}
}

func TestSplitRegexp(t *testing.T) {
	for in, want := range map[string][]string{
		"":               {""},
		"TestA":          {"TestA"},
		"TestA/sub/x":    {"TestA", "sub", "x"},
		"Test[/]x/y":     {"Test[/]x", "y"},
		"Test(a/b|c)/y":  {"Test(a/b|c)", "y"},
		`Test\/x/y`:      {`Test\/x`, "y"},
		"TestKernel.*/$": {"TestKernel.*", "$"},
	} {
		if got := splitRegexp(in); !slices.Equal(got, want) {
			t.Errorf("splitRegexp(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSelectAndPattern(t *testing.T) {
	names := []string{"TestKernelApply", "TestKernelScheduler", "TestKernelSync"}
	for _, c := range []struct {
		run     string
		want    []string
		pattern string
	}{
		{"", names, "^(TestKernelApply|TestKernelScheduler|TestKernelSync)$"},
		{"Sched", []string{"TestKernelScheduler"}, "^(TestKernelScheduler)$"},
		{"Sched|Sync/wlc", []string{"TestKernelScheduler", "TestKernelSync"}, "^(TestKernelScheduler|TestKernelSync)$/wlc"},
		{"TestPlan", nil, ""},
		{"[", nil, ""},
	} {
		got := selectTests(names, c.run)
		if !slices.Equal(got, c.want) {
			t.Errorf("selectTests(-run %q) = %q, want %q", c.run, got, c.want)
		}
		if len(got) > 0 {
			if p := vmPattern(got, c.run); p != c.pattern {
				t.Errorf("vmPattern(-run %q) = %q, want %q", c.run, p, c.pattern)
			}
		}
	}
}

func TestHostSkip(t *testing.T) {
	for _, c := range []struct {
		skip, want string
		ok         bool
	}{
		{"", "^TestKernel", true},
		{"TestSlow|TestFlaky", "^TestKernel|(?:TestSlow|TestFlaky)", true},
		{"TestA/sub", "TestA/sub", false},
	} {
		got, ok := hostSkip(c.skip)
		if got != c.want || ok != c.ok {
			t.Errorf("hostSkip(%q) = %q, %v; want %q, %v", c.skip, got, ok, c.want, c.ok)
		}
	}
}

func TestVMFlags(t *testing.T) {
	// The flags package testing registered are this binary's; set some the
	// way go test would and restore them.
	set := func(name, value string) {
		f := flag.Lookup(name)
		if f == nil {
			t.Fatalf("no flag %s", name)
		}
		old := f.Value.String()
		if err := flag.Set(name, value); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Value.Set(old) })
	}
	set("test.run", "Kern/sub")
	set("test.coverprofile", "/tmp/c.out")
	set("test.short", "true")
	got := vmFlags([]string{"TestKernelA"})
	if !slices.Contains(got, "-test.short=true") {
		t.Errorf("vmFlags = %q: -short is lost", got)
	}
	if got[len(got)-1] != "-test.run=^(TestKernelA)$/sub" {
		t.Errorf("vmFlags = %q: want the VM's -test.run last", got)
	}
	for _, a := range got {
		if strings.HasPrefix(a, "-test.coverprofile") || strings.HasPrefix(a, "-test.run=Kern") {
			t.Errorf("vmFlags = %q: passes on %s", got, a)
		}
	}
}

func TestSourceTree(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"go.mod":                  "module example\n",
		"pkg/a.go":                "package pkg\n",
		"pkg/testdata/x.txt":      "x",
		"pkg/pkg.test":            "binary",
		".git/config":             "",
		"pkg/.cache/y":            "",
		"examples/nat-4-host.hcl": "",
	})
	files, err := sourceTree(filepath.Join(root, "pkg"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for g, h := range files {
		if g != filepath.ToSlash(h) {
			t.Errorf("%s is copied to %s, not to the same path", h, g)
		}
		rel, _ := filepath.Rel(root, h)
		got = append(got, filepath.ToSlash(rel))
	}
	slices.Sort(got)
	want := []string{"examples/nat-4-host.hcl", "go.mod", "pkg/a.go", "pkg/testdata/x.txt"}
	if !slices.Equal(got, want) {
		t.Errorf("source tree %q, want %q", got, want)
	}
}

func TestSharedLibraries(t *testing.T) {
	script := filepath.Join(t.TempDir(), "script")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if libs, err := sharedLibraries(script); err != nil || libs != nil {
		t.Errorf("a script: %q, %v; want nothing", libs, err)
	}
	ipvsadm, err := hostProgram("ipvsadm", "/usr/sbin/ipvsadm", "/sbin/ipvsadm")
	if err != nil {
		t.Skip(err)
	}
	libs, err := sharedLibraries(ipvsadm)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range libs {
		names = append(names, filepath.Base(l))
	}
	for _, want := range []string{"libnl-genl-3.so.200", "libnl-3.so.200", "libc.so.6", "ld-linux-x86-64.so.2"} {
		if !slices.Contains(names, want) {
			t.Errorf("ipvsadm's libraries %q lack %s", names, want)
		}
	}
}

func TestParseDepends(t *testing.T) {
	out := "linux-image-amd64\n  Depends: linux-image-6.1.0-56-amd64\n  Recommends: firmware\n"
	if got := parseDepends([]byte(out)); got != "6.1.0-56-amd64" {
		t.Errorf("parseDepends = %q", got)
	}
	if got := parseDepends([]byte("linux-image-amd64\n  Depends: linux-image-6.1.0-56-cloud-amd64\n")); got != "" {
		t.Errorf("parseDepends picked %q, not an -amd64 image", got)
	}
	vs := []string{"6.1.0-56-amd64", "6.1.0-9-amd64", "6.12.0-1-amd64", "6.1.0-10-amd64"}
	slices.SortFunc(vs, compareVersions)
	if want := []string{"6.1.0-9-amd64", "6.1.0-10-amd64", "6.1.0-56-amd64", "6.12.0-1-amd64"}; !slices.Equal(vs, want) {
		t.Errorf("sorted versions %q, want %q", vs, want)
	}
}

func TestCachedKernel(t *testing.T) {
	cache := t.TempDir()
	for _, v := range []string{"6.1.0-9-amd64", "6.1.0-56-amd64", "6.1.0-99-amd64"} {
		writeFiles(t, cache, map[string]string{"kernels/" + v + "/boot/vmlinuz-" + v: ""})
		if v != "6.1.0-99-amd64" { // an interrupted download
			writeFiles(t, cache, map[string]string{"kernels/" + v + "/" + completeMark: ""})
		}
	}
	if k := cachedKernel(cache, ""); k == nil || k.Version != "6.1.0-56-amd64" {
		t.Errorf("newest complete kernel: %+v", k)
	}
	if k := cachedKernel(cache, "6.1.0-9-amd64"); k == nil || k.Image != filepath.Join(cache, "kernels/6.1.0-9-amd64/boot/vmlinuz-6.1.0-9-amd64") {
		t.Errorf("asked-for kernel: %+v", k)
	}
	if k := cachedKernel(cache, "6.1.0-99-amd64"); k != nil {
		t.Errorf("incomplete kernel used: %+v", k)
	}
}

func TestVMSlots(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("LVSCTL_LAB_PARALLEL", "2")
	free1, err := takeVMSlot(t.Context(), cache, nil)
	if err != nil {
		t.Fatal(err)
	}
	free2, err := takeVMSlot(t.Context(), cache, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Both slots are taken (flock locks are per open file, so this process
	// competes with itself): a third waits, and gives up with its context.
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	waited := false
	if _, err := takeVMSlot(ctx, cache, func() { waited = true }); err == nil || !waited {
		t.Errorf("third slot of two: err %v, waited %v", err, waited)
	}
	free1()
	free3, err := takeVMSlot(t.Context(), cache, nil)
	if err != nil {
		t.Fatalf("a freed slot is not reusable: %v", err)
	}
	free2()
	free3()

	t.Setenv("LVSCTL_LAB_PARALLEL", "zero")
	if _, err := takeVMSlot(t.Context(), cache, nil); err == nil || !strings.Contains(err.Error(), "LVSCTL_LAB_PARALLEL") {
		t.Errorf("bad LVSCTL_LAB_PARALLEL: error %v", err)
	}
}

func TestBuildInitramfs(t *testing.T) {
	if _, err := findHostPrograms(); err != nil {
		t.Skip(err)
	}
	// A kernel whose modules are empty files: enough to check what goes
	// where, without booting.
	dir := t.TempDir()
	k := kernelAt(dir, "9.9.9-1-amd64")
	var dep strings.Builder
	for _, m := range requiredModules {
		fmt.Fprintf(&dep, "kernel/%s.ko:", m)
		if strings.HasPrefix(m, "ip_vs_") {
			dep.WriteString(" kernel/ip_vs.ko")
		}
		dep.WriteString("\n")
	}
	files := map[string]string{"modules.dep": dep.String()}
	for _, m := range requiredModules {
		files["kernel/"+m+".ko"] = "module " + m
	}
	writeFiles(t, k.Modules, files)
	host := filepath.Join(t.TempDir(), "data.txt")
	if err := os.WriteFile(host, []byte("payload"), 0o644); err != nil {
		t.Fatal(err)
	}

	initrd, err := buildInitramfs(k, Options{
		Files:   map[string]string{"/srv/data.txt": host},
		Command: []string{"ip", "netns", "list"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(filepath.Dir(initrd.path))
	if st, err := os.Stat(initrd.path); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("initramfs file: %v, %v; want mode 0600", st, err)
	}
	b, err := os.ReadFile(initrd.path)
	if err != nil {
		t.Fatal(err)
	}
	entries := map[string]cpioEntry{}
	for _, e := range readCpio(t, b) {
		entries["/"+e.Name] = e
	}
	check := func(name string, ok func(cpioEntry) bool, what string) {
		t.Helper()
		e, found := entries[name]
		if !found || !ok(e) {
			t.Errorf("%s: %+v (found %v), want %s", name, e.Mode, found, what)
		}
	}
	isFile := func(e cpioEntry) bool { return e.Mode&0o170000 == cpioRegular }
	linksTo := func(target string) func(cpioEntry) bool {
		return func(e cpioEntry) bool { return e.Mode&0o170000 == cpioSymlink && e.Data == target }
	}
	check(GuestBusybox, isFile, "the busybox binary")
	check("/bin/sh", linksTo(GuestBusybox), "a link to busybox")
	check("/usr/bin/nc", linksTo(GuestBusybox), "a link to busybox")
	check(GuestIP, isFile, "iproute2's ip")
	check("/sbin/ip", linksTo(GuestIP), "a link to iproute2's ip")
	check(GuestIPVSAdm, isFile, "ipvsadm")
	check("/lib64/ld-linux-x86-64.so.2", isFile, "the dynamic loader")
	check("/dev/console", func(e cpioEntry) bool { return e.Major == 5 && e.Minor == 1 }, "the console device")
	check("/srv/data.txt", func(e cpioEntry) bool { return e.Data == "payload" }, "the caller's file")
	check("/lib/modules/9.9.9-1-amd64/kernel/ip_vs.ko", func(e cpioEntry) bool { return e.Data == "module ip_vs" }, "the module")
	check("/init", func(e cpioEntry) bool {
		return e.Mode&0o111 != 0 && strings.Contains(e.Data, "'"+GuestIP+"' 'netns' 'list'") &&
			strings.Contains(e.Data, beginMarker+initrd.nonce)
	}, "the init script running iproute2's ip")
	mods := entries["/etc/lab/modules"].Data
	if i, j := strings.Index(mods, " ip_vs "), strings.Index(mods, " ip_vs_rr "); i < 0 || j < i {
		t.Errorf("/etc/lab/modules does not load ip_vs before ip_vs_rr:\n%s", mods)
	}
	if _, ok := entries["/bin/busybox"]; !ok || entries["/bin/busybox"].Mode&0o170000 == cpioSymlink {
		t.Error("/bin/busybox is a link: every applet would fail with ELOOP")
	}
}

func TestSkipTests(t *testing.T) {
	names := []string{"TestKernelApply", "TestKernelScheduler", "TestKernelSync"}
	for _, c := range []struct {
		skip string
		want []string
	}{
		{"", names},
		{"^TestKernel", nil},
		{"Sched", []string{"TestKernelApply", "TestKernelSync"}},
		{"Sched/wlc", names}, // skips subtests only: the test runs
		{"[", names},
	} {
		if got := skipTests(names, c.skip); !slices.Equal(got, c.want) {
			t.Errorf("skipTests(-skip %q) = %q, want %q", c.skip, got, c.want)
		}
	}
}
