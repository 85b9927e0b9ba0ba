package lvscf

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/lvs"
)

func parse(t *testing.T, src string) (*File, []Warning) {
	t.Helper()
	f, w, err := Parse(strings.NewReader(src), "lvs.cf")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return f, w
}

func table(t *testing.T, src string) *lvs.Table {
	t.Helper()
	f, _ := parse(t, src)
	tb, err := f.Table()
	if err != nil {
		t.Fatalf("Table: %v", err)
	}
	return tb
}

// One case per piranha message, and per way of reaching it.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      string // the whole first error
	}{
		{"empty", "", "lvs.cf: Empty configuration: the file is empty; piranha refuses an empty lvs.cf"},
		{"quote unclosed", "primary = 10.0.0.1\nvirtual v {\n send = \"GET /\n}\n", "lvs.cf:3:9: quotation mismatch: no closing \" on this line"},
		{"quote single", "debug_level = 'x\n", "lvs.cf:1:15: quotation mismatch: no closing '"},
		{"text after quote", "debug_level = \"x\"y\n", "lvs.cf:1:18: quotation mismatch: text right after the closing \""},
		{"eof virtual", "virtual v {\n active = 1\n", "lvs.cf:2: unexpected end of file: virtual v (line 1) has no closing }"},
		{"eof failover", "failover f {\n", "lvs.cf:1: unexpected end of file: failover f (line 1) has no closing }"},
		{"eof server", "virtual v {\n server s {\n address = 10.0.0.1\n", "lvs.cf:3: unexpected end of file: server s (line 2) in virtual v has no closing }"},
		{"extra args", "keepalive = 1 2\n", "lvs.cf:1:15: unexpected arguments: keepalive takes one value"},
		{"extra args two", "nat_router = 10.0.0.1 eth0:1 x\n", "lvs.cf:1:30: unexpected arguments: nat_router takes two values"},
		{"extra after brace", "virtual v {\n} x\n", "lvs.cf:2:3: unexpected arguments: } must be alone on its line"},
		{"extra header", "virtual my web {\n}\n", "lvs.cf:1:16: unexpected arguments: write `virtual NAME {`"},
		{"equal expected", "deadtime 5\n", "lvs.cf:1:10: equal (=) expected after command: write `deadtime = VALUE`"},
		{"equal expected alone", "deadtime\n", "lvs.cf:1:9: equal (=) expected after command"},
		{"missing args", "deadtime =\n", "lvs.cf:1:11: missing arguments: deadtime takes a value"},
		{"missing args address", "virtual v {\n address = 10.0.0.1\n}\n", "lvs.cf:2:20: missing arguments: address takes two values"},
		{"missing brace", "virtual v\n", "lvs.cf:1:10: missing arguments: write `virtual NAME {` with the { on the same line"},
		{"wrong brace", "virtual v (\n", "lvs.cf:1:11: missing arguments: write `virtual NAME {`: expected { after the name, not \"(\""},
		{"server missing brace", "virtual v {\n server s\n}\n", "lvs.cf:2:10: missing arguments: write `server NAME {`"},
		{"host name", "primary = lb1\n", "lvs.cf:1:11: invalid host name or ip address: \"lb1\" is not an IPv4 address; lvsctl does not resolve host names"},
		{"primary zero", "primary = 0.0.0.0\n", "lvs.cf:1:11: invalid host name or ip address: primary cannot be 0.0.0.0"},
		{"sorry server", "virtual v {\n sorry_server = x\n}\n", "lvs.cf:2:17: invalid host name or ip address: sorry_server takes an IPv4 address"},
		{"server host", "virtual v {\n server s {\n address = 10.0.0.256\n }\n}\n", "lvs.cf:3:12: invalid host name or ip address"},
		{"bad argument network", "network = dr\n", "lvs.cf:1:11: invalid argument: network must be nat, direct or tunnel, not \"dr\""},
		{"bad argument service", "service = ha\n", "lvs.cf:1:11: invalid argument: service must be lvs or fos"},
		{"bad argument rca", "reservation_conflict_action = kill\n", "lvs.cf:1:31: invalid argument: reservation_conflict_action must be nothing or preempt"},
		{"bad scheduler", "virtual v {\n scheduler = mh\n}\n", "lvs.cf:2:14: invalid argument: scheduler must be rr, wrr, lc, wlc, lblc, lblcr, dh or sh, not \"mh\""},
		{"bad protocol", "virtual v {\n protocol = sctp\n}\n", "lvs.cf:2:13: invalid argument: protocol must be tcp or udp"},
		{"bad port name", "virtual v {\n port = gopher2\n}\n", "lvs.cf:2:9: invalid argument: \"gopher2\" is not a port number nor a service name lvsctl knows"},
		{"port range", "heartbeat_port = 65536\n", "lvs.cf:1:18: invalid argument: port 65536 is not between 0 and 65535"},
		{"negative fwmark", "virtual v {\n fwmark = -3\n}\n", "lvs.cf:2:11: invalid argument: fwmark -3 is negative"},
		{"integer", "keepalive = 2s\n", "lvs.cf:1:13: integer expected: \"2s\" is not a number"},
		{"integer octal", "keepalive = 08\n", "lvs.cf:1:13: integer expected: \"08\" is not a number (a leading 0 means octal, digits 0-7)"},
		{"integer empty", "keepalive = \"\"\n", "lvs.cf:1:13: integer expected: an empty value is not a number"},
		{"integer range", "keepalive = 4294967296\n", "lvs.cf:1:13: integer expected: 4294967296 is out of range"},
		{"server port name", "virtual v {\n server s {\n port = http\n }\n}\n", "lvs.cf:3:9: integer expected: \"http\" is not a number"},
		{"boolean", "sync = 2\n", "lvs.cf:1:8: boolean expected: sync must be 0 or 1, not 2"},
		{"boolean word", "virtual v {\n active = yes\n}\n", "lvs.cf:2:11: integer expected: \"yes\" is not a number"},
		{"unknown global", "nmask = 255.0.0.0\n", "lvs.cf:1:1: unknown command: \"nmask\" is not a global key"},
		{"unknown debug", "debug = NONE\n", "lvs.cf:1:1: unknown command: \"debug\" is not a global key"},
		{"unknown virtual", "virtual v {\n weight = 1\n}\n", "lvs.cf:2:2: unknown command: \"weight\" is not a virtual block key"},
		{"unknown failover", "failover f {\n bogus = 1\n}\n", "lvs.cf:2:2: unknown command: \"bogus\" is not a failover block key"},
		{"unknown server", "virtual v {\n server s {\n scheduler = rr\n }\n}\n", "lvs.cf:3:2: unknown command: \"scheduler\" is not a server block key"},
		{"nested virtual", "virtual v {\n virtual w {\n}\n}\n", "lvs.cf:2:2: unknown command: \"virtual\" is not a virtual block key"},
		{"stray brace", "}\n", "lvs.cf:1:1: unknown command: } closes no block"},
		{"glued unknown", "color=blue\n", "lvs.cf:1:1: unknown command: \"color\" is not a global key"},
		{"list", "virtual v {\n dirs = /etc\n}\n", "lvs.cf:2:8: list expected: write `dirs = [ DIR ... ]`"},
		{"list unclosed", "virtual v {\n dirs = [ /etc\n}\n", "lvs.cf:2:15: list expected: the list has no closing ]"},
		{"list equal", "virtual v {\n dirs [ /etc ]\n}\n", "lvs.cf:2:7: equal (=) expected after command"},
		{"netmask", "nat_nmask = 255.255.255.0/24\n", "lvs.cf:1:13: Bad subnet mask specified: \"255.255.255.0/24\" is not a dotted netmask"},
		{"vip netmask", "virtual v {\n vip_nmask = full\n}\n", "lvs.cf:2:14: Bad subnet mask specified"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, _, err := Parse(strings.NewReader(tc.src), "lvs.cf")
			if err == nil {
				t.Fatalf("no error; want %q", tc.want)
			}
			if f != nil {
				t.Errorf("a File came back with an error")
			}
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error is %T, want Errors", err)
			}
			if got := es[0].Error(); !strings.HasPrefix(got, tc.want) {
				t.Errorf("got  %s\nwant %s...", got, tc.want)
			}
			for _, e := range es {
				if e.Line == 0 && e.Msg != MsgEmpty {
					t.Errorf("error without a line: %v", e)
				}
			}
		})
	}
}

// The parser goes on after a bad line and reports every one.
func TestParseAllErrors(t *testing.T) {
	src := "keepalive = x\nbogus = 1\nvirtual v {\n active = 2\n server s {\n weight = w\n }\n}\ndeadtime = y\n"
	_, _, err := Parse(strings.NewReader(src), "f.cf")
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("got %v", err)
	}
	var lines []int
	for _, e := range es {
		lines = append(lines, e.Line)
	}
	if got, want := lines, []int{1, 2, 4, 6, 9}; !equalInts(got, want) {
		t.Errorf("error lines %v, want %v:\n%v", got, want, err)
	}
	if !errors.Is(err, es[2]) {
		t.Errorf("errors.Is does not reach the third error")
	}
}

// only returns the warnings whose message contains s.
func only(ws []Warning, s string) []Warning {
	var r []Warning
	for _, w := range ws {
		if strings.Contains(w.Msg, s) {
			r = append(r, w)
		}
	}
	return r
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDefaults(t *testing.T) {
	f, _ := parse(t, "# only a comment\n")
	g := f.Globals
	if g.Service != "lvs" || g.HeartbeatPort != 539 || g.Keepalive != 2 || g.Deadtime != 5 ||
		g.Network != "nat" || g.DebugLevel != "NONE" || g.RshCommand != "rsh" || g.Ipvsadm != "/sbin/ipvsadm" ||
		!g.HardShutdown || g.SyncdIface != "eth0" || g.BackupActive || g.TCPTimeout != 0 {
		t.Errorf("global defaults: %+v", g)
	}
	if len(f.TrailingComments) != 1 || f.TrailingComments[0].Text != "# only a comment" {
		t.Errorf("trailing comments: %+v", f.TrailingComments)
	}
	f, _ = parse(t, "virtual v {\n server s {\n }\n}\n")
	v := f.Virtuals[0]
	if v.Active || v.Protocol != "tcp" || v.Port != 80 || v.Scheduler != "wlc" || v.Timeout != 10 ||
		v.Reentry != 180 || v.ClientMonitor != "/usr/sbin/nanny" || v.Persistent != 0 || v.PMask.IsValid() {
		t.Errorf("virtual defaults: %+v", v)
	}
	s := v.Servers[0]
	if s.Active || s.Weight != 1 || s.Port != 80 || !s.PortInherited || s.Address.IsValid() {
		t.Errorf("server defaults: %+v", s)
	}
}

func TestPortInheritanceOrder(t *testing.T) {
	f, w := parse(t, `virtual v {
	port = 443
	server a {
	}
	port = 8443
	server b {
	}
	server c {
		port = 9000
	}
	port = 10443
}
`)
	v := f.Virtuals[0]
	got := []int{v.Servers[0].Port, v.Servers[1].Port, v.Servers[2].Port, v.Port}
	if !equalInts(got, []int{443, 8443, 9000, 10443}) {
		t.Errorf("ports a, b, c, virtual = %v", got)
	}
	// a and b inherited a port that is no longer the virtual's; c set its own.
	w = only(w, "takes port")
	if len(w) != 2 || w[0].Line != 3 || w[1].Line != 6 || !strings.Contains(w[0].Msg, "line 11") {
		t.Errorf("warnings: %v", w)
	}
}

func TestDuplicateKeyLastWins(t *testing.T) {
	f, w := parse(t, "keepalive = 3\nkeepalive = 7\nvirtual v {\n port = 1\n port = 2\n server s {\n weight = 4\n weight = 5\n }\n}\n")
	if f.Keepalive != 7 || f.Virtuals[0].Port != 2 || f.Virtuals[0].Servers[0].Weight != 5 {
		t.Errorf("keepalive %d port %d weight %d", f.Keepalive, f.Virtuals[0].Port, f.Virtuals[0].Servers[0].Weight)
	}
	if w = only(w, "repeats"); len(w) != 3 || !strings.Contains(w[0].Msg, "repeats line 1") {
		t.Errorf("warnings: %v", w)
	}
	if s := f.Setting("keepalive"); s == nil || s.Line != 2 {
		t.Errorf("Setting(keepalive) = %+v, want line 2", s)
	}
	if n := len(f.Settings); n != 2 {
		t.Errorf("settings keep both lines, got %d", n)
	}
}

func TestPMask(t *testing.T) {
	for _, tc := range []struct {
		pmask string
		bits  uint8
	}{
		{"255.255.255.255", 32}, // piranha: unset, so ipvsadm's default
		{"255.255.255.0", 24},
		{"0xffff0000", 16},
		{"0.0.0.0", 32}, // zero is "unset" to lvsd, which passes no -M
	} {
		tb := table(t, "virtual v {\n active = 1\n address = 10.0.0.1 eth0:1\n persistent = 60\n pmask = "+tc.pmask+"\n}\n")
		if o := tb.Services[0].Opts; !o.Persistent || o.Timeout != 60 || o.Netmask != tc.bits {
			t.Errorf("pmask %s: %+v, want /%d", tc.pmask, o, tc.bits)
		}
	}
	f, w := parse(t, "virtual v {\n pmask = 255.255.255.255\n}\n")
	if f.Virtuals[0].PMask.IsValid() {
		t.Errorf("pmask 255.255.255.255 kept as %v", f.Virtuals[0].PMask)
	}
	if len(w) != 1 { // no active virtual
		t.Errorf("warnings %v", w)
	}
	// A pmask that inet_aton refuses is ignored, as lvsconfig.c did.
	f, w = parse(t, "virtual v {\n pmask = 255.255.255.0\n pmask = wide\n}\n")
	if f.Virtuals[0].PMask != netip.MustParseAddr("255.255.255.0") || !strings.Contains(w[0].Msg, "ignored") {
		t.Errorf("pmask %v, warnings %v", f.Virtuals[0].PMask, w)
	}
	// Persistence off: pmask does not matter.
	tb := table(t, "virtual v {\n active = 1\n address = 10.0.0.1 eth0:1\n pmask = 255.0.0.0\n}\n")
	if o := tb.Services[0].Opts; o.Persistent || o.Netmask != 32 {
		t.Errorf("non-persistent: %+v", o)
	}
}

func TestPrivateAddressQuirk(t *testing.T) {
	f, w := parse(t, "primary = 10.0.0.1\nbackup = 10.0.0.2\nbackup_private = 192.168.0.2\n")
	if f.PrimaryPrivate != netip.MustParseAddr("10.0.0.1") || f.BackupPrivate != netip.MustParseAddr("10.0.0.2") {
		t.Errorf("private addresses %v %v", f.PrimaryPrivate, f.BackupPrivate)
	}
	if len(w) < 1 || w[0].Line != 3 || !strings.Contains(w[0].Msg, "replaced by backup") {
		t.Errorf("warnings %v", w)
	}
	// No backup: backup_private becomes unset.
	f, _ = parse(t, "primary = 10.0.0.1\nbackup_private = 192.168.0.2\n")
	if f.BackupPrivate.IsValid() {
		t.Errorf("backup_private %v, want unset", f.BackupPrivate)
	}
	// With primary_private, both stay as written.
	f, _ = parse(t, "primary = 10.0.0.1\nprimary_private = 192.168.0.1\nbackup = 10.0.0.2\nbackup_private = 192.168.0.2\n")
	if f.PrimaryPrivate != netip.MustParseAddr("192.168.0.1") || f.BackupPrivate != netip.MustParseAddr("192.168.0.2") {
		t.Errorf("private addresses %v %v", f.PrimaryPrivate, f.BackupPrivate)
	}
	// Without primary, nothing is copied.
	f, _ = parse(t, "backup = 10.0.0.2\n")
	if f.PrimaryPrivate.IsValid() || f.BackupPrivate.IsValid() {
		t.Errorf("private addresses %v %v", f.PrimaryPrivate, f.BackupPrivate)
	}
}

func TestInactiveNotInTable(t *testing.T) {
	tb := table(t, `virtual on {
	active = 1
	address = 10.0.0.1 eth0:1
	server up {
		address = 10.0.1.1
		active = 1
	}
	server down {
		address = 10.0.1.2
		active = 0
	}
	server unset {
		address = 10.0.1.3
	}
}
virtual off {
	active = 0
	address = 10.0.0.2 eth0:2
	server s {
		address = 10.0.1.4
		active = 1
	}
}
virtual unsaid {
	address = 10.0.0.3 eth0:3
}
`)
	if len(tb.Services) != 1 || tb.Services[0].Name != "on" || len(tb.Services[0].Dests) != 1 || tb.Services[0].Dests[0].Name != "up" {
		t.Errorf("table %+v", tb.Services)
	}
}

func TestFWMarkService(t *testing.T) {
	tb := table(t, "virtual m {\n active = 1\n fwmark = 0x10\n protocol = udp\n port = 53\n server s {\n address = 10.0.1.1\n active = 1\n }\n}\n")
	s := tb.Services[0]
	if s.Key != lvs.MarkKey(lvs.IPv4, 16) {
		t.Errorf("key %v, want fwmark 16 ipv4", s.Key)
	}
	// The real server keeps its (inherited) port: ipvsadm does not force it for -f.
	if s.Dests[0].Addr != netip.MustParseAddrPort("10.0.1.1:53") || s.Dests[0].Opts.Forward != lvs.Masq {
		t.Errorf("dest %+v", s.Dests[0])
	}
}

func TestForwarding(t *testing.T) {
	for network, want := range map[string]lvs.Forward{"nat": lvs.Masq, "direct": lvs.Route, "tunnel": lvs.Tunnel} {
		tb := table(t, "network = "+network+"\nvirtual v {\n active = 1\n address = 10.0.0.1 eth0:1\n port = 80\n server s {\n address = 10.0.1.1\n active = 1\n port = 8080\n weight = 3\n }\n}\n")
		d := tb.Services[0].Dests[0]
		wantPort := uint16(80) // ipvsadm forces the virtual port for -g and -i
		if want == lvs.Masq {
			wantPort = 8080
		}
		if d.Opts.Forward != want || d.Addr.Port() != wantPort || d.Opts.Weight != 3 {
			t.Errorf("network %s: %+v", network, d)
		}
	}
}

func TestTimeouts(t *testing.T) {
	tb := table(t, "tcp_timeout = 900\ntcpfin_timeout = 0\nudp_timeout = 0x3c\n")
	if tb.Timeouts != (lvs.Timeouts{TCP: 900 * time.Second, UDP: time.Minute}) {
		t.Errorf("timeouts %+v", tb.Timeouts)
	}
}

func TestTableProblemLines(t *testing.T) {
	f, _ := parse(t, "udp_timeout = -1\nvirtual v {\n active = 1\n address = 10.0.0.1 eth0:1\n persistent = 99999999\n server s {\n address = 10.0.1.1\n active = 1\n weight = -1\n }\n}\n")
	_, err := f.Table()
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("got %v", err)
	}
	var lines []int
	for _, e := range es {
		lines = append(lines, e.Line)
	}
	if !equalInts(lines, []int{1, 5, 9}) {
		t.Errorf("lines %v:\n%v", lines, err)
	}
	if !strings.Contains(es[2].Error(), "virtual v, server s: weight") {
		t.Errorf("got %v", es[2])
	}
}

func TestFOSHasNoTable(t *testing.T) {
	f, _ := parse(t, "service = fos\nfailover f {\n active = 1\n}\n")
	if _, err := f.Table(); err == nil || !strings.Contains(err.Error(), "lvs.cf:1:11: ") {
		t.Errorf("got %v", err)
	}
}

func TestPortNames(t *testing.T) {
	f, _ := parse(t, "heartbeat_port = ssh\nvirtual v {\n port = http\n}\nvirtual w {\n port = 0x1bb\n}\nvirtual x {\n port = sip\n}\n")
	if f.HeartbeatPort != 22 || f.Virtuals[0].Port != 80 || f.Virtuals[1].Port != 443 || f.Virtuals[2].Port != 5060 {
		t.Errorf("ports %d %d %d %d", f.HeartbeatPort, f.Virtuals[0].Port, f.Virtuals[1].Port, f.Virtuals[2].Port)
	}
}

func TestLenient(t *testing.T) {
	f, w := parse(t, "keepalive=3\ndeadtime =9\nnetwork= direct\nsyncd_id = 4 # ha\nvirtual v { # web\n expect = \"HTTP\"  \n send = #\n}  # end\n")
	if f.Keepalive != 3 || f.Deadtime != 9 || f.Network != "direct" || f.SyncdID != 4 {
		t.Errorf("globals %+v", f.Globals)
	}
	v := f.Virtuals[0]
	// "send = #" is a value to piranha, not a comment.
	if v.Expect.Text != "HTTP" || v.Send.Text != "#" {
		t.Errorf("expect %q send %q", v.Expect.Text, v.Send.Text)
	}
	lines := map[int]bool{}
	for _, x := range w {
		lines[x.Line] = true
	}
	for _, l := range []int{1, 2, 3, 4, 5, 6, 8} {
		if !lines[l] {
			t.Errorf("no warning for line %d: %v", l, w)
		}
	}
	if lines[7] {
		t.Errorf("warning for line 7: %v", w)
	}
}

func TestLineEndings(t *testing.T) {
	for _, src := range []string{
		"keepalive = 3\r\n\r\ndeadtime = 9\r\nbogus\r\n",
		"keepalive = 3\r\rdeadtime = 9\rbogus",
		"keepalive = 3\n\ndeadtime = 9\nbogus",
	} {
		_, _, err := Parse(strings.NewReader(src), "x")
		if err == nil || !strings.HasPrefix(err.Error(), "x:4:1: unknown command") {
			t.Errorf("%q: got %v", src, err)
		}
	}
}

func TestQuoted(t *testing.T) {
	f, _ := parse(t, "virtual v {\n send = \"GET / HTTP/1.0\\r\\n\"\n expect = 'OK'\n send_program = /bin/check\n start_cmd = \"\"\n}\n")
	v := f.Virtuals[0]
	for _, tc := range []struct {
		q        Quoted
		raw, arg string
	}{
		{v.Send, `"GET / HTTP/1.0\r\n"`, `GET / HTTP/1.0\r\n`},
		{v.Expect, `'OK'`, `'OK'`}, // lvsd strips only double quotes
		{v.SendProgram, `/bin/check`, `/bin/check`},
		{v.StartCmd, `""`, ``},
	} {
		if tc.q.Raw() != tc.raw || tc.q.Arg() != tc.arg {
			t.Errorf("%+v: raw %q arg %q, want %q %q", tc.q, tc.q.Raw(), tc.q.Arg(), tc.raw, tc.arg)
		}
	}
	if !v.StartCmd.IsSet() || v.StopCmd.IsSet() {
		t.Errorf("IsSet: start %v stop %v", v.StartCmd.IsSet(), v.StopCmd.IsSet())
	}
}

func TestComments(t *testing.T) {
	f, _ := parse(t, "# head\n\n# about primary\nprimary = 10.0.0.1\n# about v\nvirtual v {\n  # about s\n  server s {\n    # about weight\n    weight = 2\n    # end of s\n  }\n  # end of v\n}\n# tail\n")
	check := func(what string, cs []Comment, want ...string) {
		t.Helper()
		var got []string
		for _, c := range cs {
			got = append(got, c.Text)
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("%s: %q, want %q", what, got, want)
		}
	}
	v := f.Virtuals[0]
	s := v.Servers[0]
	check("primary", f.Setting("primary").Comments, "# head", "# about primary")
	check("virtual", v.Comments, "# about v")
	check("server", s.Comments, "# about s")
	check("weight", s.Setting("weight").Comments, "# about weight")
	check("end of s", s.EndComments, "# end of s")
	check("end of v", v.EndComments, "# end of v")
	check("tail", f.TrailingComments, "# tail")
	if f.Setting("primary").Comments[1].Line != 3 {
		t.Errorf("comment line %d", f.Setting("primary").Comments[1].Line)
	}
}

func TestStrtol(t *testing.T) {
	for in, want := range map[string]int{"0": 0, "10": 10, "010": 8, "0x10": 16, "0X1f": 31, "-5": -5, "+7": 7, "-0x10": -16, "2147483647": 2147483647} {
		if got, why := strtol(in); why != "" || got != want {
			t.Errorf("strtol(%q) = %d, %q; want %d", in, got, why, want)
		}
	}
	for _, in := range []string{"", "0x", "08", "1e3", " 1", "1 ", "--1", "2147483648", "99999999999999999999", "abc", "0b1"} {
		if _, why := strtol(in); why == "" {
			t.Errorf("strtol(%q) accepted", in)
		}
	}
}

func TestInetAton(t *testing.T) {
	for in, want := range map[string]string{
		"10.0.0.1": "10.0.0.1", "10.1": "10.0.0.1", "10.1.2": "10.1.0.2", "167772161": "10.0.0.1",
		"010.0.0.1": "8.0.0.1", "0x0a.0.0.1": "10.0.0.1", "0xffffffff": "255.255.255.255", "1.2.65535": "1.2.255.255",
	} {
		if a, ok := inetAton(in); !ok || a.String() != want {
			t.Errorf("inetAton(%q) = %v, %v; want %s", in, a, ok, want)
		}
	}
	for _, in := range []string{"", "a.b.c.d", "1.2.3.4.5", "1.2.3.256", "256.1.1.1", "1.2.3.", ".1.2.3", "08.0.0.1", "0x.1.1.1", "1..2", "4294967296", "1.16777216", "lb1", "::1", "-1.2.3.4"} {
		if a, ok := inetAton(in); ok {
			t.Errorf("inetAton(%q) = %v, accepted", in, a)
		}
	}
}

func TestMaskBits(t *testing.T) {
	for in, want := range map[string]int{"0.0.0.0": 0, "255.0.0.0": 8, "255.255.128.0": 17, "255.255.255.255": 32} {
		if n, ok := maskBits(netip.MustParseAddr(in)); !ok || n != want {
			t.Errorf("maskBits(%s) = %d, %v", in, n, ok)
		}
	}
	for _, in := range []string{"0.255.0.0", "255.0.255.0", "255.255.255.253", "0.0.0.1"} {
		if _, ok := maskBits(netip.MustParseAddr(in)); ok {
			t.Errorf("maskBits(%s) accepted", in)
		}
	}
}

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      bool
	}{
		{"/etc/sysconfig/ha/lvs.cf", "", true},
		{"old.cf", "virtual_server \"x\" {}", true},
		{"conf", "# header\n\nserial_no = 70\n", true},
		{"conf", "service = lvs\n", true},
		{"conf", "primary=10.0.0.1\n", true},
		{"conf", "  virtual web {\n", true},
		{"conf", "failover f {\n", true},
		{"lvs.hcl", "virtual_server \"web\" {\n}\n", false},
		{"lvs.hcl", "virtual \"web\" {\n}\n", false},
		{"lvs.hcl", "# comment\ntimeouts {\n}\n", false},
		{"lvs.hcl", "drain_timeout = \"10s\"\n", false},
		{"lvs.hcl", "", false},
		{"lvs.hcl", "# only comments\n", false},
		{"lvs.hcl", "\"service\" = 1\n", false},
	} {
		if got := Detect(tc.name, []byte(tc.src)); got != tc.want {
			t.Errorf("Detect(%q, %q) = %v", tc.name, tc.src, got)
		}
	}
}
