package lvscf

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/lvsctl/lvsctl/internal/golden"
	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/internal/model/modeltest"
	"github.com/lvsctl/lvsctl/internal/source/config"
	"github.com/lvsctl/lvsctl/lvs"
)

// convert converts src and parses the HCL back. ok is false when src is not
// a file lvsctl can run (it fails to parse or to build a table).
func convert(t *testing.T, name string, src []byte) (hcl []byte, direct, back *model.Config, ok bool) {
	t.Helper()
	f, _, err := Parse(bytes.NewReader(src), name)
	if err != nil {
		return nil, nil, nil, false
	}
	cfg, ann, err := f.Convert()
	if err != nil {
		var errs Errors
		if !asErrors(err, &errs) {
			t.Fatalf("%s: Convert returned %T, not Errors: %v", name, err, err)
		}
		for _, e := range errs {
			if e.Line == 0 && e.File != "" {
				t.Errorf("%s: error without a line: %v", name, e)
			}
		}
		return nil, nil, nil, false
	}
	direct, err = f.Config()
	if err != nil {
		t.Fatalf("%s: Config failed where Convert did not: %v", name, err)
	}
	var b bytes.Buffer
	if err := config.Write(&b, cfg, ann); err != nil {
		t.Fatalf("%s: Write: %v", name, err)
	}
	back, _, diags := config.Parse(b.Bytes(), name+".hcl")
	if diags.HasErrors() {
		t.Fatalf("%s: the converted HCL does not parse: %v\n%s", name, diags, b.String())
	}
	return b.Bytes(), direct, back, true
}

func asErrors(err error, target *Errors) bool {
	es, ok := err.(Errors)
	if ok {
		*target = es
	}
	return ok
}

// Converting, then parsing the HCL, gives what parsing lvs.cf gives, on
// every sample that lvsctl can run.
func TestConvertSamplesRoundTrip(t *testing.T) {
	names, _ := filepath.Glob("testdata/*.cf")
	converted := 0
	for _, name := range names {
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		hcl, direct, back, ok := convert(t, filepath.Base(name), src)
		if !ok {
			continue
		}
		converted++
		if d := cmp.Diff(direct, back, modeltest.CmpOptions...); d != "" {
			t.Errorf("%s: the converted HCL means something else (-lvs.cf +hcl):\n%s\n%s", name, d, hcl)
		}
	}
	if converted < 6 {
		t.Errorf("only %d samples converted; the test lost its subjects", converted)
	}
}

// The four real files, Red Hat's HTTP and HTTPS on one fwmark, and nanny's
// probe port in direct routing convert to reviewed HCL.
func TestConvertGolden(t *testing.T) {
	names, _ := filepath.Glob("testdata/0[1-4]*.cf")
	if len(names) != 4 {
		t.Fatalf("found %d real samples, want 4", len(names))
	}
	names = append(names, "testdata/14-shared-fwmark.cf", "testdata/15-dr-probe-port.cf")
	for _, name := range names {
		t.Run(filepath.Base(name), func(t *testing.T) {
			src, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			hcl, _, _, ok := convert(t, filepath.Base(name), src)
			if !ok {
				t.Fatal("the sample does not convert")
			}
			golden.Check(t, strings.TrimSuffix(name, ".cf")+".hcl.golden", hcl)
		})
	}
}

// What the conversion of a sample says: the mapping of each nanny and
// pulse setting.
func TestConvertMapping(t *testing.T) {
	src, err := os.ReadFile("testdata/10-every-key.cf")
	if err != nil {
		t.Fatal(err)
	}
	_, cfg, _, ok := convert(t, "10-every-key.cf", src)
	if !ok {
		t.Fatal("10-every-key.cf does not convert")
	}
	st := cfg.Settings("web")
	if st == nil || st.HealthCheck == nil {
		t.Fatalf("web has no health check: %+v", st)
	}
	hc := st.HealthCheck
	sp, _ := hc.Probe.(model.SendExpectProbe)
	if hc.Type() != model.CheckSendExpect || sp.ExpectRegex == "" || hc.OnFailure != model.OnFailureQuiesce {
		t.Errorf("web check = %+v; want send_expect with expect_regex and quiesce", hc)
	}
	if !strings.Contains(sp.Send, "\r\n") {
		t.Errorf("send %q: nanny's \\r\\n escapes were not decoded", sp.Send)
	}
	if hc.Interval.Seconds() != 4 || hc.Rise != 15 || hc.Fall != 1 {
		t.Errorf("interval %s rise %d fall %d; want 4s, reentry/timeout = 15, 1", hc.Interval, hc.Rise, hc.Fall)
	}
	if st.SorryServer.String() != "10.0.2.99:443" || st.VIP == nil || st.VIP.Device != "eth0:1" || st.VIP.Netmask != 24 {
		t.Errorf("sorry %s vip %+v", st.SorryServer, st.VIP)
	}
	p := cfg.Pulse
	if p == nil || p.SyncDaemon == nil || p.SyncDaemon.ID != 7 || p.NATRouter == nil || p.NATRouter.Device != "eth1:0" || !p.MonitorLinks || p.HeartbeatPort != 8 {
		t.Errorf("pulse = %+v", p)
	}
}

func TestNannyUnescape(t *testing.T) {
	for in, want := range map[string]string{
		`GET / HTTP/1.0\r\n\r\n`: "GET / HTTP/1.0\r\n\r\n",
		`a\tb\\n`:                "a\tb\\n",
		`\d+ trailing\`:          `\d+ trailing\`,
		"plain":                  "plain",
	} {
		if got := nannyUnescape(in); got != want {
			t.Errorf("nannyUnescape(%q) = %q, want %q", in, got, want)
		}
	}
}

// Names that HCL cannot take as they are, or twice, are made unique and
// noted; the table carries the new names.
func TestConvertRenames(t *testing.T) {
	src := "primary = 10.0.0.1\nvirtual web {\n active = 1\n address = 10.0.0.10 eth0:1\n server a {\n  address = 10.0.1.1\n  active = 1\n }\n server a {\n  address = 10.0.1.2\n  active = 1\n }\n}\nvirtual web {\n active = 1\n address = 10.0.0.11 eth0:2\n}\n"
	hcl, direct, back, ok := convert(t, "lvs.cf", []byte(src))
	if !ok {
		t.Fatal("does not convert")
	}
	if d := cmp.Diff(direct, back, modeltest.CmpOptions...); d != "" {
		t.Fatalf("round trip (-lvs.cf +hcl):\n%s", d)
	}
	for _, want := range []string{`virtual_server "web_2"`, `real_server "a_2"`, `# NOTE: server "a" (line 9) is named "a_2"`, `# NOTE: virtual "web" (line 14) is named "web_2"`} {
		if !bytes.Contains(hcl, []byte(want)) {
			t.Errorf("the HCL lacks %q:\n%s", want, hcl)
		}
	}
}

// A blank send_program is no program: the virtual gets the check it would
// have without one (it used to crash the conversion).
func TestBlankSendProgram(t *testing.T) {
	f, _, err := Parse(strings.NewReader("virtual v {\n active = 1\n address = 10.0.0.10 eth0:1\n send_program = \"   \"\n server a {\n  address = 10.0.1.1\n  active = 1\n }\n}\n"), "lvs.cf")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := f.Config()
	if err != nil {
		t.Fatal(err)
	}
	if hc := cfg.Settings("v").HealthCheck; hc.Type() == model.CheckExec {
		t.Errorf("check = %+v, want no exec check", hc)
	}
}

// Settings that piranha took but lvsctl cannot run are errors with a line.
func TestConvertErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"primary = 10.0.0.1\nbackup = 10.0.0.2\nbackup_active = 1\nkeepalive = 5\ndeadtime = 5\nvirtual v {\n active = 1\n address = 10.0.0.10 eth0:1\n}\n", "lvs.cf:5:12: invalid argument: deadtime (5) must be longer than keepalive (5): the backup runs (backup_active = 1), and lvsctl's pulse would fail over at a single late heartbeat; set deadtime = 11 or more"},
		{"virtual v {\n active = 1\n address = 10.0.0.10 eth0:1\n timeout = 0\n}\n", "lvs.cf:4:12: invalid argument: virtual v: timeout 0"},
		{"virtual v {\n active = 1\n address = 10.0.0.10 eth0:1\n send_program = \"check.sh %h\"\n}\n", "lvs.cf:4:17: invalid argument: send_program \"check.sh\" is not an absolute path"},
		{"virtual v {\n active = 1\n address = 10.0.0.10 eth0:1\n expect = \"a(\"\n use_regex = 1\n}\n", "lvs.cf:4:11: invalid argument: expect \"a(\" is not a regular expression"},
		{"virtual v {\n active = 1\n address = 10.0.0.10 eth0:1\n sorry_server = 10.0.1.1\n server a {\n  address = 10.0.1.1\n  active = 1\n }\n}\n", "lvs.cf:4:17: invalid argument: sorry_server 10.0.1.1 is also real server"},
		{"virtual v {\n active = 1\n address = 10.0.0.10 eth0:1\n vip_nmask = 255.0.255.0\n}\n", "lvs.cf:4:14: invalid argument: 255.0.255.0 is not a contiguous netmask"},
		{"virtual v {\n active = 1\n address = 10.0.0.10 averyveryverylongdevice:1\n}\n", "lvs.cf:3:12: invalid argument: \"averyveryverylongdevice:1\" is longer than the 15 bytes"},
	} {
		f, _, err := Parse(strings.NewReader(tc.src), "lvs.cf")
		if err != nil {
			t.Fatalf("%q: %v", tc.src, err)
		}
		_, err = f.Config()
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Config of\n%s= %v\nwant %s...", tc.src, err, tc.want)
		}
	}
}

// genFile writes a random lvs.cf that piranha would take, with comments,
// repeated keys, inactive blocks and duplicate names.
func genFile(r *rand.Rand) string {
	var b strings.Builder
	comment := func(indent string) {
		if r.IntN(4) == 0 {
			fmt.Fprintf(&b, "%s# comment %d\n", indent, r.IntN(1000))
		}
	}
	kv := func(indent, k, v string) {
		comment(indent)
		fmt.Fprintf(&b, "%s%s = %s\n", indent, k, v)
	}
	pick := func(vs ...string) string { return vs[r.IntN(len(vs))] }
	if r.IntN(2) == 0 {
		kv("", "serial_no", fmt.Sprint(r.IntN(100)))
	}
	network := pick("nat", "direct", "tunnel")
	kv("", "network", network)
	if r.IntN(3) > 0 {
		kv("", "primary", "10.9.0.1")
		if r.IntN(2) == 0 {
			kv("", "backup", "10.9.0.2")
			kv("", "backup_active", pick("0", "1"))
		}
		if r.IntN(3) == 0 {
			kv("", "primary_private", "192.168.9.1")
			kv("", "backup_private", "192.168.9.2")
		}
		ka := 1 + r.IntN(5)
		kv("", "keepalive", fmt.Sprint(ka))
		kv("", "deadtime", fmt.Sprint(ka+1+r.IntN(10)))
		if r.IntN(2) == 0 {
			kv("", "heartbeat_port", pick("539", "1050", "0x21b"))
		}
		if r.IntN(3) == 0 {
			kv("", "monitor_links", pick("0", "1"))
		}
		if r.IntN(3) == 0 {
			kv("", "active_cmd", "/etc/ha/up.sh")
		}
		if network == "nat" && r.IntN(2) == 0 {
			kv("", "nat_router", "192.168.10.254 eth1:"+fmt.Sprint(r.IntN(3)))
			if r.IntN(2) == 0 {
				kv("", "nat_nmask", pick("255.255.255.0", "255.255.255.255", "255.255.0.0"))
			}
		}
		if r.IntN(3) == 0 {
			kv("", "syncdaemon", "1")
			if r.IntN(2) == 0 {
				kv("", "syncd_iface", pick("eth1", "bond0"))
			}
			if r.IntN(2) == 0 {
				kv("", "syncd_id", fmt.Sprint(r.IntN(256)))
			}
		}
	}
	for _, k := range []string{"tcp_timeout", "tcpfin_timeout", "udp_timeout"} {
		if r.IntN(4) == 0 {
			kv("", k, fmt.Sprint(r.IntN(1000)))
		}
	}
	if r.IntN(4) == 0 {
		kv("", "debug_level", "NONE")
	}
	names := []string{"web", "mail", "dns", "web"}
	for i := range r.IntN(5) {
		comment("")
		fmt.Fprintf(&b, "virtual %s {\n", pick(names...))
		kv("\t", "active", pick("1", "1", "1", "0"))
		kv("\t", "address", fmt.Sprintf("10.0.0.%d eth0:%d", 10+i, i))
		if r.IntN(3) == 0 {
			kv("\t", "vip_nmask", pick("255.255.255.0", "0.0.0.0", "255.255.255.255"))
		}
		port := pick("80", "443", "http", "21", "5060")
		kv("\t", "port", port)
		proto := pick("tcp", "tcp", "udp")
		kv("\t", "protocol", proto)
		if r.IntN(4) == 0 {
			kv("\t", "fwmark", fmt.Sprint(1+i))
		}
		kv("\t", "scheduler", pick("rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh"))
		if r.IntN(3) == 0 {
			kv("\t", "persistent", fmt.Sprint(1+r.IntN(1000)))
			if r.IntN(2) == 0 {
				kv("\t", "pmask", pick("255.255.255.0", "255.255.255.255", "255.255.0.0"))
			}
		}
		switch r.IntN(4) {
		case 0:
			kv("\t", "send", pick(`"GET / HTTP/1.0\r\n\r\n"`, `"\n"`, `"PING\r\n"`, `"GET /${x}%{if} \\q"`))
			kv("\t", "expect", pick(`"HTTP"`, `"*"`, `"+OK"`))
			if r.IntN(3) == 0 {
				kv("\t", "use_regex", pick("0", "1"))
			}
		case 1:
			kv("\t", "send_program", pick(`"/usr/local/bin/check %h %p"`, `"/bin/true"`))
			if r.IntN(2) == 0 {
				kv("\t", "expect", `"OK"`)
			}
		case 2:
			kv("\t", "expect", `"220"`)
		}
		if r.IntN(2) == 0 {
			kv("\t", "timeout", fmt.Sprint(1+r.IntN(30)))
		}
		if r.IntN(2) == 0 {
			kv("\t", "reentry", fmt.Sprint(r.IntN(300)))
		}
		if r.IntN(3) == 0 {
			kv("\t", "quiesce_server", pick("0", "1"))
		}
		if r.IntN(4) == 0 {
			kv("\t", "sorry_server", "10.0.9.99")
		}
		if r.IntN(4) == 0 {
			kv("\t", "load_monitor", pick("uptime", "none", "rup"))
		}
		for j := range r.IntN(4) {
			comment("\t")
			fmt.Fprintf(&b, "\tserver %s {\n", pick("a", "b", "real1", "a"))
			kv("\t\t", "address", fmt.Sprintf("192.168.%d.%d", i, 1+j))
			kv("\t\t", "active", pick("1", "1", "0"))
			if r.IntN(2) == 0 {
				kv("\t\t", "weight", fmt.Sprint(r.IntN(100)))
			}
			if r.IntN(3) == 0 {
				kv("\t\t", "port", pick("8080", "80", "443"))
			}
			b.WriteString("\t}\n")
		}
		comment("\t")
		b.WriteString("}\n")
	}
	comment("")
	return b.String()
}

// On generated files, converting and parsing the HCL gives what parsing
// the lvs.cf gives.
func TestConvertGeneratedRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 2026))
	converted := 0
	const n = 500
	for i := range n {
		src := genFile(r)
		name := fmt.Sprintf("gen%d.cf", i)
		hcl, direct, back, ok := convert(t, name, []byte(src))
		if !ok {
			continue
		}
		converted++
		if d := cmp.Diff(direct, back, modeltest.CmpOptions...); d != "" {
			t.Fatalf("%s: the converted HCL means something else (-lvs.cf +hcl):\n%s\n--- lvs.cf:\n%s\n--- hcl:\n%s", name, d, src, hcl)
		}
		// The table is the one lvsd would have built.
		f, _, _ := Parse(strings.NewReader(src), name)
		tab, err := f.Table()
		if err != nil {
			t.Fatal(err)
		}
		// Table() is the IPVS table alone; the kernel settings its NAT
		// needs come beside it (see TestConfigPlansForwarding).
		if d := cmp.Diff(tab, back.Table, cmpopts.EquateComparable(netip.Addr{}, netip.AddrPort{}, netip.Prefix{}), cmpopts.IgnoreFields(lvs.Service{}, "Name"), cmpopts.IgnoreFields(lvs.Dest{}, "Name"), cmpopts.IgnoreFields(lvs.Table{}, "Sysctls")); d != "" {
			t.Fatalf("%s: table differs from Table():\n%s", name, d)
		}
	}
	if converted < n/2 {
		t.Errorf("only %d of %d generated files converted; the generator makes too many files lvsctl refuses", converted, n)
	}
	t.Logf("%d of %d generated files converted", converted, n)
}

// examples/piranha-nat.hcl is the conversion of examples/piranha-nat.cf.
func TestConvertExample(t *testing.T) {
	src, err := os.ReadFile("../../../examples/piranha-nat.cf")
	if err != nil {
		t.Fatal(err)
	}
	hcl, direct, back, ok := convert(t, "piranha-nat.cf", src)
	if !ok {
		t.Fatal("examples/piranha-nat.cf does not convert")
	}
	if d := cmp.Diff(direct, back, modeltest.CmpOptions...); d != "" {
		t.Errorf("round trip (-lvs.cf +hcl):\n%s", d)
	}
	want, err := os.ReadFile("../../../examples/piranha-nat.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(string(want), string(hcl)); d != "" {
		t.Errorf("examples/piranha-nat.hcl is not the conversion of piranha-nat.cf; regenerate it with lvsctl convert (-want +got):\n%s", d)
	}
}

// FuzzConvert checks that whatever Parse accepts either converts to HCL
// that parses back to the same configuration, or is refused with errors
// that carry a line.
func FuzzConvert(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.cf")
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		f.Add([]byte(genFile(r)))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		hcl, direct, back, ok := convert(t, "fuzz.cf", src)
		if !ok {
			return
		}
		if d := cmp.Diff(direct, back, modeltest.CmpOptions...); d != "" {
			t.Fatalf("the converted HCL means something else (-lvs.cf +hcl):\n%s\n%s", d, hcl)
		}
	})
}

// piranha never set net.ipv4.ip_forward (admins did, in /etc/sysctl.conf):
// an lvs.cf with network = nat gets it planned as every configuration does,
// and its conversion says so once; a direct routing one gets nothing.
func TestConfigPlansForwarding(t *testing.T) {
	src, err := os.ReadFile("../../../examples/piranha-nat.cf")
	if err != nil {
		t.Fatal(err)
	}
	hcl, direct, _, ok := convert(t, "piranha-nat.cf", src)
	if !ok {
		t.Fatal("examples/piranha-nat.cf does not convert")
	}
	want := []lvs.Sysctl{{Name: lvs.SysctlIPv4Forward, Value: "1", Reason: "IPv4 NAT"}}
	if !slices.Equal(direct.Table.Sysctls, want) {
		t.Errorf("sysctls %+v, want %+v", direct.Table.Sysctls, want)
	}
	if n := strings.Count(string(hcl), "net.ipv4.ip_forward"); n != 1 || strings.Contains(string(hcl), "sysctl {\n") {
		t.Errorf("the conversion mentions ip_forward %d times, or writes a sysctl block:\n%s", n, hcl)
	}
	dr := strings.ReplaceAll(string(src), "network = nat", "network = direct")
	dr = strings.ReplaceAll(dr, "nat_router = 192.168.10.254 eth1:1\n", "")
	dr = strings.ReplaceAll(dr, "nat_nmask = 255.255.255.0\n", "")
	hcl, direct, _, ok = convert(t, "piranha-dr.cf", []byte(dr))
	if !ok {
		t.Fatal("the direct routing variant does not convert")
	}
	if len(direct.Table.Sysctls) != 0 || strings.Contains(string(hcl), "ip_forward") {
		t.Errorf("direct routing: sysctls %+v\n%s", direct.Table.Sysctls, hcl)
	}
}
