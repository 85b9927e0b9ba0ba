package lvscf

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/internal/model/modeltest"
	"github.com/lvsctl/lvsctl/internal/source/config"
	"github.com/lvsctl/lvsctl/lvs"
)

func load(t *testing.T, src string) (*Loaded, []Warning, Errors) {
	t.Helper()
	l, w, err := Load(strings.NewReader(src), "lvs.cf")
	if err == nil {
		return l, w, nil
	}
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("Load returned %T: %v", err, err)
	}
	return nil, w, es
}

func warned(ws []Warning, substr string) bool {
	for _, w := range ws {
		if strings.Contains(w.String(), substr) {
			return true
		}
	}
	return false
}

// Load gives what Parse and Config give, on the real files.
func TestLoadRealFiles(t *testing.T) {
	names, _ := filepath.Glob("testdata/0[1-4]*.cf")
	for _, name := range names {
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		l, lw, err := Load(bytes.NewReader(src), name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		f, pw, err := Parse(bytes.NewReader(src), name)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := f.Config()
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(cfg, l.Config, modeltest.CmpOptions...); d != "" {
			t.Errorf("%s: Load and Parse+Config differ:\n%s", name, d)
		}
		if len(lw) != len(pw) {
			t.Errorf("%s: %d warnings from Load, %d from Parse", name, len(lw), len(pw))
		}
	}
}

// Red Hat's HTTP and HTTPS on one fwmark: one service, the first block's
// settings, the servers of both, each checked as its own block's nanny
// checked it.
func TestSharedFWMark(t *testing.T) {
	src, err := os.ReadFile("testdata/14-shared-fwmark.cf")
	if err != nil {
		t.Fatal(err)
	}
	l, warns, errs := load(t, string(src))
	if errs != nil {
		t.Fatal(errs)
	}
	tb := l.Config.Table
	if len(tb.Services) != 1 {
		t.Fatalf("%d services, want 1", len(tb.Services))
	}
	s := tb.Services[0]
	if s.Key != lvs.MarkKey(lvs.IPv4, 80) || s.Name != "http" || s.Opts.Scheduler != "wlc" || s.Opts.Timeout != 300 {
		t.Errorf("service %+v, want http's: fwmark 80, wlc, persistent 300", s)
	}
	var dests []string
	for _, d := range s.Dests {
		dests = append(dests, d.Name+" "+d.Addr.String()+" "+d.Opts.Forward.String())
		if d.Name == "web1" && d.Opts.Weight != 1 {
			t.Errorf("web1 has weight %d, want http's 1", d.Opts.Weight)
		}
	}
	if want := []string{"web1 10.11.12.1:80 dr", "web2 10.11.12.2:80 dr", "web3 10.11.12.3:443 dr"}; !cmp.Equal(dests, want) {
		t.Errorf("real servers %q, want %q", dests, want)
	}
	st := l.Config.Settings("http")
	if st.RealServers["web1"] != st.HealthCheck || st.RealServers["web3"].Type() != model.CheckTCP {
		t.Errorf("checks: web1 %+v, web3 %+v; want http's and https's", st.RealServers["web1"], st.RealServers["web3"])
	}
	for _, w := range []string{
		"lvs.cf:44: virtual https shares fwmark 80 with virtual http (line 17): lvsctl makes one service of them, with the first block's settings. Piranha's lvsd ran `ipvsadm -A -f 80` for each block; for this one it failed (\"Service already exists\"), so lvsd started no nanny for its servers and never added them",
		"lvs.cf:44: virtual https: lvsctl adds its servers web3 (10.11.12.3:443) to the fwmark 80 service, each with this block's health check",
		"lvs.cf:44: virtual https: its servers web1, web2 are real servers web1 (10.11.12.1:80), web2 (10.11.12.2:80) of virtual http already (the same address: direct routing and tunnelling keep each packet's port); each stays one real server, with http's health check",
		"lvs.cf:50: virtual https: persistent 600 is not used: the fwmark 80 service keeps http's persistent 300 (line 23)",
		"lvs.cf:52: virtual https: scheduler rr is not used: the fwmark 80 service keeps http's scheduler wlc (line 28)",
		"lvs.cf:60: server web1 of virtual https has weight 2, but it is real server web1 of virtual http (line 33), whose weight 1 the fwmark 80 service keeps",
	} {
		if !warned(warns, w) {
			t.Errorf("no warning %q in\n%v", w, warns)
		}
	}
}

// In NAT a fwmark service sends each connection to the real server's
// port: the same host on two ports in two blocks stays two real servers,
// with a warning to write port = 0.
func TestSharedFWMarkNAT(t *testing.T) {
	src := "virtual http {\n active = 1\n address = 10.0.0.1 eth0:1\n fwmark = 5\n server a {\n  address = 192.168.0.1\n  active = 1\n }\n}\n" +
		"virtual https {\n active = 1\n address = 10.0.0.1 eth0:1\n fwmark = 5\n port = 443\n server a {\n  address = 192.168.0.1\n  active = 1\n }\n server b {\n  address = 192.168.0.1\n  port = 80\n  active = 1\n }\n}\n"
	l, warns, errs := load(t, src)
	if errs != nil {
		t.Fatal(errs)
	}
	if n := len(l.Config.Table.Services[0].Dests); n != 2 {
		t.Errorf("%d real servers, want 192.168.0.1:80 and :443", n)
	}
	if !warned(warns, "lvs.cf:15: server a (192.168.0.1:443) of virtual https and server a (192.168.0.1:80) of virtual http are one host on two ports in the NAT fwmark 5 service") ||
		!warned(warns, "write port = 0 in both server blocks") {
		t.Errorf("warnings: %v", warns)
	}
	if !warned(warns, "lvs.cf:10: virtual https: its servers b are real servers a (192.168.0.1:80) of virtual http already (the same address and port)") {
		t.Errorf("warnings: %v", warns)
	}
}

// Blocks sharing a fwmark make one service, which holds one VIP.
func TestSharedFWMarkTwoVIPs(t *testing.T) {
	src := "virtual a {\n active = 1\n address = 10.0.0.1 eth0:1\n fwmark = 5\n}\nvirtual b {\n active = 1\n address = 10.0.0.2 eth0:2\n fwmark = 5\n}\n"
	_, _, errs := load(t, src)
	if len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), "lvs.cf:8:12: invalid argument: virtual b shares fwmark 5 with virtual a (line 1), whose address is 10.0.0.1") {
		t.Errorf("got %v", errs)
	}
}

// Inactive blocks are not run, so they share nothing.
func TestSharedFWMarkInactive(t *testing.T) {
	src := "virtual a {\n active = 1\n address = 10.0.0.1 eth0:1\n fwmark = 5\n}\nvirtual b {\n active = 0\n address = 10.0.0.2 eth0:2\n fwmark = 5\n}\n"
	_, warns, errs := load(t, src)
	if errs != nil || warned(warns, "shares fwmark") {
		t.Errorf("errors %v, warnings %v", errs, warns)
	}
}

// deadtime not above keepalive is an error only where lvsctl's pulse
// fails over on it; otherwise a warning.
func TestDeadtimeKeepalive(t *testing.T) {
	base := "keepalive = 6\ndeadtime = 6\nvirtual v {\n active = 1\n address = 10.0.0.10 eth0:1\n}\n"
	for _, c := range []struct{ globals, why string }{
		{"", "no primary is set"},
		{"primary = 10.0.0.1\n", "no backup is set"},
		{"primary = 10.0.0.1\nbackup = 10.0.0.2\n", "backup_active = 0"},
		{"primary = 10.0.0.1\nbackup = 10.0.0.2\nbackup_active = 0\n", "backup_active = 0"},
	} {
		l, warns, errs := load(t, c.globals+base)
		if errs != nil {
			t.Errorf("%q: %v", c.globals, errs)
			continue
		}
		if !warned(warns, "deadtime (6) is not longer than keepalive (6)") || !warned(warns, c.why) {
			t.Errorf("%q: warnings %v", c.globals, warns)
		}
		if p := l.Config.Pulse; p != nil && (p.Deadtime != p.Keepalive || p.BackupActive) {
			t.Errorf("%q: pulse %+v", c.globals, p)
		}
	}
	_, _, errs := load(t, "primary = 10.0.0.1\nbackup = 10.0.0.2\nbackup_active = 1\n"+base)
	if len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), "lvs.cf:5:12: invalid argument: deadtime (6) must be longer than keepalive (6): the backup runs (backup_active = 1), and lvsctl's pulse would fail over at a single late heartbeat; set deadtime = 13 or more") {
		t.Errorf("got %v", errs)
	}
}

// In direct routing and tunnelling the table has the service's port, but
// nanny probed the server's configured port; the check keeps that port.
func TestProbePortDR(t *testing.T) {
	src := "network = %s\nvirtual web {\n active = 1\n address = 10.0.0.2 eth0:1\n port = 80\n" +
		" server a {\n  address = 10.0.1.1\n  active = 1\n  port = 8080\n }\n server b {\n  address = 10.0.1.2\n  active = 1\n  port = 8080\n }\n}\n" +
		"virtual dns {\n active = 1\n address = 10.0.0.3 eth0:2\n port = 53\n" +
		" server c {\n  address = 10.0.1.3\n  active = 1\n  port = 5353\n }\n server d {\n  address = 10.0.1.4\n  active = 1\n }\n}\n"
	for _, network := range []string{"direct", "tunnel", "nat"} {
		l, _, errs := load(t, strings.Replace(src, "%s", network, 1))
		if errs != nil {
			t.Fatal(errs)
		}
		web, dns := l.Config.Settings("web"), l.Config.Settings("dns")
		var want [4]uint16 // web's check, c's, d's, and c's real server port
		if network == "nat" {
			// NAT sends to the server's port: the check's default.
			want = [4]uint16{0, 0, 0, 5353}
		} else {
			want = [4]uint16{8080, 5353, 0, 53}
		}
		got := [4]uint16{web.HealthCheck.Port, dns.RealServers["c"].Port, dns.RealServers["d"].Port, l.Config.Table.Service(lvs.AddrKey(lvs.TCP, netip.MustParseAddrPort("10.0.0.3:53"))).Dests[0].Addr.Port()}
		if got != want {
			t.Errorf("%s: ports %v, want %v", network, got, want)
		}
		if web.RealServers["a"] != web.HealthCheck || dns.RealServers["d"] != dns.HealthCheck {
			t.Errorf("%s: a real server with the service's check has a copy of its own", network)
		}
		var b bytes.Buffer
		if err := config.Write(&b, l.Config, l.Annotations); err != nil {
			t.Fatal(err)
		}
		hasNote := strings.Contains(b.String(), "# NOTE: nanny probed c on its port 5353 (line 24), not the service's port 53")
		if hasNote != (network != "nat") {
			t.Errorf("%s: NOTE present %v:\n%s", network, hasNote, b.String())
		}
	}
}

// Trailing comments go where the lines before a setting go.
func TestTrailingComments(t *testing.T) {
	src := "network = direct # DR everywhere\nvirtual web { # the shop\n active = 1\n address = 10.0.0.2 eth0:1 # the VIP\n scheduler = rr\t# fair\n" +
		" server a { # rack A\n  address = 10.0.1.1\n  active = 1\n  weight = 3 # bigger\n } # end a\n} # end web\n" +
		"virtual old {\n active = 0 # retired\n}\n"
	l, _, errs := load(t, src)
	if errs != nil {
		t.Fatal(errs)
	}
	var b bytes.Buffer
	if err := config.Write(&b, l.Config, l.Annotations); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"# DR everywhere\n",
		// A closing brace's comment goes where the comments before
		// the brace go: above the block.
		"# the shop\n# end web\nvirtual_server \"web\" {",
		"  # fair\n  scheduler  = \"rr\"",
		"  # the VIP\n  address = \"10.0.0.2:80\"",
		"  # rack A\n  # end a\n  real_server \"a\" {",
		"    # bigger\n    weight = 3",
		"# retired\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
}

// Every error in one pass: lines, table and conversion together, in line
// order, each with its column and line; a problem that follows from a bad
// line is not reported again.
func TestLoadOnePass(t *testing.T) {
	src := "keepalive = two\nvirtual web {\n active = 1\n address = 10.0.0.300 eth0:1\n schedular = rr\n timeout = 0\n" +
		" server a {\n  address = 10.0.1.1\n  active = 1\n  weight = 70000\n }\n server b {\n  adress = 10.0.1.2\n  active = 1\n }\n}\n"
	_, _, errs := load(t, src)
	var got []string
	for _, e := range errs {
		got = append(got, e.Error())
	}
	want := []string{
		`lvs.cf:1:13: integer expected: "two" is not a number`,
		`lvs.cf:4:12: invalid host name or ip address: "10.0.0.300" is not an IPv4 address; lvsctl does not resolve host names, write the address`,
		`lvs.cf:5:2: unknown command: "schedular" is not a virtual block key; did you mean scheduler?`,
		`lvs.cf:6:12: invalid argument: virtual web: timeout 0 is not a number of seconds of at least 1`,
		`lvs.cf:10:12: invalid argument: virtual web, server a: weight must be between 0 and 65535, not 70000`,
		`lvs.cf:12:9: invalid argument: virtual web, server b: 0.0.0.0 is not a usable real server address`,
		`lvs.cf:13:3: unknown command: "adress" is not a server block key; did you mean address?`,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("errors (-want +got):\n%s", d)
	}
	if e := errs[4]; e.Source != "  weight = 70000" || e.Excerpt() != "    |   weight = 70000\n    |            ^" {
		t.Errorf("excerpt of %v:\n%s", e, e.Excerpt())
	}
}

// Keys in the wrong block say where they belong.
func TestUnknownKeyHints(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"scheduler = rr\n", `"scheduler" is not a global key; it belongs in a virtual block`},
		{"weight = 1\n", `"weight" is not a global key; it belongs in a server block`},
		{"virtual v {\n keepalive = 2\n}\n", `"keepalive" is not a virtual block key; it is a global key, outside any block`},
		{"virtual v {\n weight = 2\n}\n", `"weight" is not a virtual block key; it belongs in a server block`},
		{"virtual v {\n server s {\n  scheduler = rr\n }\n}\n", `"scheduler" is not a server block key`},
		{"deadtme = 5\n", `"deadtme" is not a global key; did you mean deadtime?`},
		{"virtaul v {\n}\n", `"virtaul" is not a global key; did you mean virtual?`},
		{"color = red\n", `"color" is not a global key: `},
		{"network = drect\n", `network must be nat, direct or tunnel, not "drect"; did you mean direct?`},
		{"virtual v {\n scheduler = wrrr\n}\n", `scheduler must be rr, wrr, lc, wlc, lblc, lblcr, dh or sh, not "wrrr"; did you mean wrr?`},
	} {
		_, _, errs := load(t, c.src)
		if len(errs) == 0 || !strings.Contains(errs[0].Error()+": ", c.want) {
			t.Errorf("%q: got %v, want %s", c.src, errs, c.want)
		}
	}
}

// Past MaxErrors errors, one more counts the rest, lines and table
// together.
func TestLoadTooManyErrors(t *testing.T) {
	var b strings.Builder
	for range 40 {
		b.WriteString("nonsense = 1\n")
	}
	b.WriteString("virtual v {\n active = 1\n")
	for i := range 30 {
		b.WriteString(" server s" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + " {\n  active = 1\n  weight = -1\n  address = 10.0.0.1\n }\n")
	}
	b.WriteString("}\n")
	_, _, errs := load(t, b.String())
	if len(errs) != MaxErrors+1 {
		t.Fatalf("%d errors, want %d", len(errs), MaxErrors+1)
	}
	// 40 unknown keys, 30 bad weights, 29 repeated addresses, the VIP.
	if last := errs[MaxErrors]; last.Msg != MsgTooMany || !strings.Contains(last.Detail, "50 more errors not shown") {
		t.Errorf("last: %v", last)
	}
}
