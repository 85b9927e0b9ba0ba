package keepalived

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/internal/diag"
	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/lvs"
)

// parse converts src, failing the test on an error.
func parse(t *testing.T, src string) (*model.Config, []Note) {
	t.Helper()
	f, err := Parse([]byte(src), "k.conf", t.TempDir(), testOptions)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	cfg, notes, err := f.Config()
	if err != nil {
		t.Fatalf("Config: %v", err)
	}
	return cfg, notes
}

// parseErrors converts src, which must fail, and returns the errors.
func parseErrors(t *testing.T, src string) Errors {
	t.Helper()
	f, err := Parse([]byte(src), "k.conf", t.TempDir(), testOptions)
	if err == nil {
		_, _, err = f.Config()
	}
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("got %v, want Errors", err)
	}
	return es
}

func service(t *testing.T, cfg *model.Config, k lvs.ServiceKey) *lvs.Service {
	t.Helper()
	s := cfg.Table.Service(k)
	if s == nil {
		t.Fatalf("no service %s in %v", k, cfg.Table.Services)
	}
	return s
}

func tcp(s string) lvs.ServiceKey { return lvs.AddrKey(lvs.TCP, netip.MustParseAddrPort(s)) }

func hasNote(notes []Note, line int, text string) bool {
	return slices.ContainsFunc(notes, func(n Note) bool { return n.Line == line && strings.Contains(n.Msg, text) })
}

// The mapping of each virtual_server and real_server key, and of the
// checkers, on testdata/every-key.conf.
func TestMapping(t *testing.T) {
	f, err := Load("testdata/every-key.conf", testOptions)
	if err != nil {
		t.Fatal(err)
	}
	cfg, notes, err := f.Config()
	if err != nil {
		t.Fatal(err)
	}
	if to := cfg.Table.Timeouts; to.TCP != 900*time.Second || to.TCPFin != 30*time.Second || to.UDP != time.Minute {
		t.Errorf("lvs_timeouts: %+v", to)
	}
	// The group: 3 + 4 services, DR, real server port the entry's, the
	// group's persistence without its granularity.
	for _, a := range []string{"10.0.0.10:80", "10.0.0.11:80", "10.0.0.12:80", "10.0.1.0:8080", "10.0.1.3:8080"} {
		s := service(t, cfg, tcp(a))
		d := s.Dests[0]
		if s.Opts.Scheduler != "wrr" || !s.Opts.Persistent || s.Opts.Timeout != 600 || s.Opts.Netmask != 32 ||
			d.Opts.Forward != lvs.Route || d.Opts.Weight != 3 || d.Addr.Port() != s.Key.Port {
			t.Errorf("group service %s: %+v", a, s)
		}
	}
	if hc := cfg.Settings("tcp_10_0_1_0_8080").RealServers["r192_168_1_1_8080"]; hc == nil || hc.Port != 80 {
		t.Errorf("the check of a real server whose port differs from the group entry's probes the port written: %+v", hc)
	}
	s := service(t, cfg, tcp("10.0.0.1:443"))
	o := s.Opts
	if o.Scheduler != "sh" || o.SchedFlags != lvs.SchedFlag1|lvs.SchedFlag2 || !o.Persistent || o.Timeout != 360 || o.Netmask != 16 || o.PE != "sip" {
		t.Errorf("10.0.0.1:443 opts %+v", o)
	}
	st := cfg.Settings(s.Name)
	if st.SorryServer != netip.MustParseAddrPort("192.168.9.9:8443") || st.Quorum != 2 || st.Hysteresis != 1 {
		t.Errorf("settings %+v", st)
	}
	d := s.Dest(netip.MustParseAddrPort("192.168.1.10:8443"))
	if d == nil || d.Opts.Weight != 2 || d.Opts.UpperThreshold != 1000 || d.Opts.LowerThreshold != 100 || d.Opts.Forward != lvs.Masq {
		t.Errorf("real server %+v", d)
	}
	hc := st.RealServers[d.Name]
	p, ok := hc.Probe.(model.HTTPSProbe)
	if !ok || p.TLSVerify || p.Host != "www.example.com" || len(p.URLs) != 2 || hc.Port != 8444 ||
		hc.Interval != 5*time.Second || hc.Timeout != 4*time.Second || hc.Fall != 3 || hc.OnFailure != model.OnFailureQuiesce || !hc.Alpha {
		t.Fatalf("SSL_GET check %+v", hc)
	}
	if u := p.URLs[0]; u.Path != "/health" || !slices.Equal(u.Status, []int{200, 204}) || u.Digest != "9b3a0c85a887a256d6939da88aabd8cd" {
		t.Errorf("url 1 %+v", u)
	}
	if u := p.URLs[1]; u.Host != "ready.example.com" || u.BodyRegex != "^OK" || len(u.Status) != 0 {
		t.Errorf("url 2 %+v", u)
	}
	// Its second checker runs too, with the real server's timing: both
	// must pass, as in keepalived.
	if len(hc.More) != 1 {
		t.Fatalf("the real server has %d checks, want its SSL_GET and its TCP_CHECK", 1+len(hc.More))
	}
	if tc := hc.More[0]; tc.Type() != model.CheckTCP || tc.Port != 0 || tc.Interval != 5*time.Second || tc.Timeout != 4*time.Second ||
		tc.Fall != 3 || tc.OnFailure != model.OnFailureQuiesce || !tc.Alpha {
		t.Errorf("TCP_CHECK %+v", tc)
	}
	hc2 := st.RealServers["r192_168_1_11_8443"]
	if hc2.OnFailure != model.OnFailureRemove || hc2.Probe.(model.HTTPProbe).Host != "other.example.com" {
		t.Errorf("inhibit_on_failure false and the checker's virtualhost: %+v", hc2)
	}
	// fwmark 7: tunnels from lb_kind and lvs_method, ports cleared.
	fm := service(t, cfg, lvs.MarkKey(lvs.IPv4, 7))
	want := map[string]lvs.DestOpts{
		"192.168.2.1:0": {Forward: lvs.Tunnel, Weight: 1, TunnelType: lvs.GUE, TunnelPort: 6080, TunnelFlags: lvs.TunnelCsum},
		"192.168.2.2:0": {Forward: lvs.Tunnel, Weight: 1, TunnelType: lvs.GRE},
		"192.168.2.3:0": {Forward: lvs.Route, Weight: 1},
	}
	for a, o := range want {
		if d := fm.Dest(netip.MustParseAddrPort(a)); d == nil || d.Opts != o {
			t.Errorf("fwmark 7 real server %s: %+v, want %+v", a, d, o)
		}
	}
	fst := cfg.Settings(fm.Name)
	if e := fst.RealServers["r192_168_2_1"]; e == nil || e.Probe.(model.ExecProbe).Program != "/usr/local/bin/check.sh --fast" || !e.Probe.(model.ExecProbe).Dynamic || e.Timeout != 2*time.Second || e.Fall != 1 {
		t.Errorf("MISC_CHECK %+v", e)
	}
	if dn := fst.RealServers["r192_168_2_2"]; dn == nil || dn.Probe != (model.DNSProbe{Protocol: lvs.UDP, QueryName: "www.example.com", QueryType: "A"}) || dn.Fall != 4 || dn.Port != 53 {
		t.Errorf("DNS_CHECK %+v", dn)
	}
	if sm := fst.RealServers["r192_168_2_3"]; sm == nil || sm.Probe != (model.SMTPProbe{HeloName: "director.example.com"}) || sm.Port != 25 {
		t.Errorf("SMTP_CHECK %+v", sm)
	}
	u := service(t, cfg, lvs.AddrKey(lvs.UDP, netip.MustParseAddrPort("10.0.0.53:53")))
	if !u.Opts.OnePacket {
		t.Errorf("ops on a UDP service: %+v", u.Opts)
	}
	if dn := cfg.Settings(u.Name).HealthCheck; dn == nil || dn.Probe != (model.DNSProbe{Protocol: lvs.UDP, QueryName: "example.com", QueryType: "SOA"}) || dn.Interval != time.Minute || dn.Timeout != 5*time.Second {
		t.Errorf("DNS_CHECK defaults %+v", dn)
	}
	// No protocol: keepalived's UDP, noted; no lb_kind: NAT, noted.
	n := service(t, cfg, lvs.AddrKey(lvs.UDP, netip.MustParseAddrPort("10.0.0.2:80")))
	if n.Dests[0].Addr.Port() != 8080 || n.Dests[0].Opts.Forward != lvs.Masq {
		t.Errorf("defaults %+v", n)
	}
	for _, w := range []struct {
		line int
		text string
	}{
		{3, "identifies this keepalived"}, {5, "empty the IPVS table"}, {41, "suspends the checks"}, {43, "quorum_down"},
		{49, "sorry_server_inhibit"}, {55, "goes up or down"}, {65, "RE2"},
		{68, "HTTP version"}, {56, "does not verify"}, {81, "delay_loop"}, {97, "as that user"},
		{117, "another target"}, {121, "ICMP"}, {137, "defaulting to UDP"}, {137, "setting default NAT"},
		{21, "has no effect on the services of a virtual_server_group"}, {102, "longer than its delay_loop"},
	} {
		if !hasNote(notes, w.line, w.text) {
			t.Errorf("no note at line %d saying %q", w.line, w.text)
		}
	}
}

// A unicast vrrp_instance of two directors is the pulse pair; its VIPs go
// to the services at those addresses.
func TestVRRPPair(t *testing.T) {
	f, err := Load("testdata/pair.conf", testOptions)
	if err != nil {
		t.Fatal(err)
	}
	cfg, notes, err := f.Config()
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Pulse
	want := model.DefaultPulse()
	want.Primary, want.Backup = netip.MustParseAddr("10.0.0.11"), netip.MustParseAddr("10.0.0.12")
	want.BackupActive = true
	want.Keepalive = time.Second
	want.Deadtime = 3*time.Second + time.Second*106/256
	want.ActiveCmd, want.InactiveCmd = "/usr/local/bin/notify master", "/usr/local/bin/notify backup"
	want.SyncDaemon = &model.SyncDaemon{Interface: "eth1", ID: 7}
	if p == nil || p.Primary != want.Primary || p.Backup != want.Backup || p.Keepalive != want.Keepalive || p.Deadtime != want.Deadtime ||
		p.Preempt || p.ActiveCmd != want.ActiveCmd || p.InactiveCmd != want.InactiveCmd || *p.SyncDaemon != *want.SyncDaemon || !p.BackupActive {
		t.Fatalf("pulse %+v\nwant %+v", p, want)
	}
	if v := cfg.Settings("tcp_10_0_0_100_80").VIP; v == nil || *v != (model.VIP{Address: netip.MustParseAddr("10.0.0.100"), Device: "eth0:1", Netmask: 24}) {
		t.Errorf("VIP with a label: %+v", v)
	}
	if v := cfg.Settings("tcp_10_0_0_101_80").VIP; v == nil || *v != (model.VIP{Address: netip.MustParseAddr("10.0.0.101"), Device: "eth0"}) {
		t.Errorf("VIP on the interface: %+v", v)
	}
	for _, w := range []struct {
		line int
		text string
	}{{23, "not the address of a virtual server"}, {16, "HMAC key"}, {28, "tracks an object"}, {9, "identifies the VRRP router"}, {6, "primary is the MASTER's address"}} {
		if !hasNote(notes, w.line, w.text) {
			t.Errorf("no note at line %d saying %q: %v", w.line, w.text, notes)
		}
	}

	// The BACKUP's file gives the same pair.
	src, _ := os.ReadFile("testdata/pair.conf")
	backup := strings.NewReplacer("state MASTER", "state BACKUP", "unicast_src_ip 10.0.0.11", "unicast_src_ip 10.0.0.12", "      10.0.0.12\n", "      10.0.0.11\n").Replace(string(src))
	cfg2, _ := parse(t, backup)
	if cfg2.Pulse.Primary != want.Primary || cfg2.Pulse.Backup != want.Backup {
		t.Errorf("the backup's file: %+v", cfg2.Pulse)
	}
	// More than two directors, or multicast, make no pulse; the VIPs are
	// then noted, not dropped.
	three := strings.Replace(string(src), "      10.0.0.12\n", "      10.0.0.12\n      10.0.0.13\n", 1)
	cfg3, notes3 := parse(t, three)
	if cfg3.Pulse != nil || cfg3.Settings("tcp_10_0_0_100_80") != nil && cfg3.Settings("tcp_10_0_0_100_80").VIP != nil {
		t.Errorf("three directors: %+v", cfg3.Pulse)
	}
	if !hasNote(notes3, 6, "has 2 unicast peers") || !hasNote(notes3, 22, "no director pair to move it") {
		t.Errorf("notes %v", notes3)
	}
	// preempt_delay: lvsctl's primary waits for its own health checks.
	delayed := strings.Replace(string(src), "state MASTER\n", "state MASTER\n    preempt_delay 300\n", 1)
	if _, notes4 := parse(t, delayed); !slices.ContainsFunc(notes4, func(n Note) bool { return strings.Contains(n.Msg, "waits until its own health checks have settled") }) {
		t.Errorf("preempt_delay: notes %v", notes4)
	}
}

// Errors point at the word that is wrong.
func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want string
	}{
		{"virtual_server 10.0.0.1 80 {\n lb_algo fast\n}\n", "k.conf:2:10: lb_algo fast is not a scheduler"},
		{"virtual_server 10.0.0.1 80 {\n protocol TCP\n real_server 10.1.1.1 80 {\n  weight 70000\n }\n}\n", "k.conf:4:10: weight 70000 is not a whole number from 0 to 65535"},
		{"virtual_server 10.0.0.1 80 {\n persistence_timeout 1x\n}\n", "k.conf:2:22: persistence_timeout 1x is not a whole number"},
		{"virtual_server 10.0.0.1.5 80 {\n}\n", "k.conf:1:16: virtual_server address 10.0.0.1.5 is not an IP address"},
		{"virtual_server www.example.com 80 {\n}\n", "(lvsctl does not resolve host names)"},
		{"virtual_server 10.0.0.1 80 {\n lb_kind TUN type vxlan\n}\n", "k.conf:2:19: tunnel type vxlan is not ipip, gue or gre"},
		{"virtual_server 10.0.0.1 80 {\n lb_kind TUN type gue\n}\n", "k.conf:2:2: gue tunnels need port"},
		{"virtual_server 10.0.0.1 80 {\n delay_loop soon\n}\n", "k.conf:2:13: delay_loop soon is not a number of seconds"},
		{"virtual_server group NONE {\n}\n", "k.conf:1:22: virtual_server_group NONE is not declared"},
		{"virtual_server_group G {\n 10.0.0.5-3 80\n}\nvirtual_server group G {\n real_server 1.1.1.1 80\n}\n", "k.conf:2:2: virtual_server_group entry 10.0.0.5-3: the end of the range is not greater than its start"},
		{"virtual_server_group G {\n 10.0.0.1/24 80\n}\nvirtual_server group G {\n real_server 1.1.1.1 80\n}\n", "the address has bits set past the prefix length"},
		{"virtual_server_group G {\n 10.0.0.0/8 80\n}\nvirtual_server group G {\n real_server 1.1.1.1 80\n}\n", "lvsctl expands at most 65536"},
		{"vrrp_instance V {\n state LEADER\n}\n", "k.conf:2:8: state is MASTER or BACKUP, not LEADER"},
		{"global_defs {\n router_idd x\n}\n", "k.conf:2:2: router_idd is not a global_defs keyword keepalived has; did you mean \"router_id\"?"},
		{"virtual_servers 10.0.0.1 80 {\n}\n", "k.conf:1:1: virtual_servers is not a keepalived keyword lvsctl knows"},
		{"virtual_server 10.0.0.1 80 {\n lb_algro rr\n}\n", "k.conf:2:2: lb_algro is not a virtual_server keyword keepalived has; did you mean \"lb_algo\"?"},
		{"virtual_server 10.0.0.1 80 {\n real_server 1.1.1.1 80 {\n  wieght 2\n }\n}\n", "k.conf:3:3: wieght is not a real_server keyword keepalived has; did you mean \"weight\"?"},
		{"vrrp_instance V {\n xyzzy 1\n}\n", "k.conf:2:2: xyzzy is not a vrrp_instance keyword keepalived has; check its spelling (keepalived.conf(5))"},
		{"virtual_server 10.0.0.1 80 {\n real_server 10.1.1.1 80 {\n  TCP_CHECK {\n   conect_port 80\n  }\n }\n}\n", "k.conf:4:4: conect_port is not a TCP_CHECK keyword keepalived has; did you mean \"connect_port\"?"},
		{"virtual_server 10.0.0.1 80 {\n protocol TCP\n real_server 10.1.1.1 80 {\n  HTTP_GET {\n   url {\n    status_code 200\n   }\n  }\n }\n}\n", "k.conf:5:4: this url has no path"},
		{"virtual_server 10.0.0.1 80 {\n protocol TCP\n real_server 10.1.1.1 80 {\n  MISC_CHECK {\n   misc_path check.sh\n  }\n }\n}\n", "k.conf:4:3: MISC_CHECK: \"check.sh\" is not an absolute path"},
		{"virtual_server fwmark 1 {\n lb_kind DR\n real_server 10.1.1.1 {\n  TCP_CHECK {\n  }\n }\n}\n", "k.conf:4:3: the real server 10.1.1.1 has no port (a fwmark service), so the TCP_CHECK has none to probe; give it connect_port"},
		{"virtual_server 10.0.0.1 80 {\n protocol TCP\n real_server 2001:db8::1 80\n}\n", "k.conf:3:14: real server 2001:db8::1 is ipv6 but the virtual server tcp 10.0.0.1:80 is ipv4"},
		{"virtual_server 10.0.0.1 80 {\n protocol TCP\n real_server 10.1.1.1 80\n}\nvirtual_server 10.0.0.1 80 {\n protocol TCP\n real_server 10.1.1.2 80\n}\n", "k.conf:5:1: tcp 10.0.0.1:80 is declared twice (first at k.conf:1:1)"},
		{"virtual_server 10.0.0.1 80 {\n lb_algo rr\n", "k.conf:1:28: this block is not closed"},
		{"}\n", "k.conf:1:1: this \"}\" closes no block"},
		{"virtual_server fwmark {\n}\n", "k.conf:1:22: virtual_server needs at least 2 values"},
		{"virtual_server 10.0.0.1 80 {\n protocol TCP\n sorry_server 2001:db8::9 80\n real_server 10.1.1.1 80\n}\n", "k.conf:3:15: sorry_server 2001:db8::9 is ipv6 but the virtual server tcp 10.0.0.1:80 is ipv4"},
		{"virtual_server 10.0.0.1 80 {\n virtualhost \"www.example\n}\n", "k.conf:2:14: this quote is not closed"},
		// Definitions and ~SEQ, at the place that is wrong.
		{"~LST{a, b} x\n", "k.conf:1:1: keepalived's ~LST lines are not read by lvsctl"},
		{"~SEQ(i, 1, -1, 3) x\n", "k.conf:1:9: this ~SEQ never reaches 3 from 1 by -1"},
		{"~SEQ(i, 1, 0, 3) x\n", "k.conf:1:9: this ~SEQ never reaches 3 from 1 by 0"},
		{"~SEQx(i, -2, 3) x\n", "k.conf:1:10: ~SEQx writes hex numbers, which are never negative"},
		{"~SEQ(i, 1, two) x\n", "k.conf:1:12: two is not a number"},
		{"~SEQ(i, 1, 2 x\n", "k.conf:1:14: this ~SEQ has no \")\""},
		{"~SEQ i, 1, 2) x\n", "k.conf:1:6: a ~SEQ needs its numbers in parentheses"},
		{"~SEQ(i, 1, 2, 3, 4) x\n", "k.conf:1:16: this ~SEQ's numbers are not 1 to 3 numbers"},
		{"~SEQ(i, 1, 300000) x\n", "k.conf:1:9: this ~SEQ makes more than 262144 lines"},
		{"~SEQ(i, 1, 9223372036854775807) x\n", "makes more than 262144 lines"},
		{"~SEQ(i, 0x0000000000000000000000000000000000000000000000000000000000001, 3) x\n", "are longer than the 63 bytes keepalived takes"},
		{"$A=$A\nvirtual_server $A 80 {\n}\n", "k.conf:2:16: the line makes more than 1000 substitutions: a definition that names itself (through $A) never ends"},
		{"$A=" + strings.Repeat("x", 2000) + " ${A}\nvirtual_server $A 80 {\n}\n", "k.conf:2:16: substituting $A makes the line longer than 65536 bytes"},
		{"virtual_server ${_RANDOM 1 9} 80 {\n}\n", "k.conf:1:16: $_RANDOM is a new random number"},
		{"virtual_server ${_ENV IP} 80 {\n}\n", "k.conf:1:16: ${_ENV NAME} is keepalived's environment"},
		{"$L=a \\\n  $L\n\n$L\n", "expansions are nested more than 8 deep"},
		{"virtual_server 10.0.0.1 80 {\n ops\n ops 1\n}\n", "k.conf:3:6: ops takes no value"},
		{"global_defs {\n lvs_timeouts tcp 0\n}\n", "k.conf:2:19: lvs_timeouts tcp 0 is not a whole number from 1"},
	} {
		es := parseErrors(t, tc.src)
		if !strings.Contains(es.Error(), tc.want) {
			t.Errorf("%q:\ngot  %v\nwant %s", tc.src, es, tc.want)
		}
		for _, e := range es {
			if e.Line < 1 {
				t.Errorf("%q: error without a line: %v", tc.src, e)
			}
		}
	}
	// The excerpt shows the line after its number, and the caret the
	// column; the line as every diagnostic shows it (diag.Shown): a tab
	// stays a tab, kept in the marker line for the caret to line up, and
	// other control characters are escaped.
	for _, tc := range []struct{ src, want string }{
		{"virtual_server 10.0.0.1 80 {\n    lb_algo fast\n}\n", "  2 |     lb_algo fast\n" + strings.Repeat(" ", 18) + "^\n"},
		{"virtual_server 10.0.0.1 80 {\n\tlb_algo fast\n}\n", "  2 | \tlb_algo fast\n      \t        ^\n"},
		{"virtual_server 10.0.0.1 80 {\n lb_algo \x01fast\n}\n", "  2 |  lb_algo \\x01fast\n" + strings.Repeat(" ", 15) + "^\n"},
	} {
		if got := parseErrors(t, tc.src)[0].Excerpt("  "); got != tc.want {
			t.Errorf("excerpt %q, want %q", got, tc.want)
		}
	}
}

// An SMTP_CHECK host block takes the checker's common keywords, as
// keepalived's install_checker_common_keywords gives it: connect_timeout
// and retry read as in the checker itself, log_all_failures noted; a
// keyword it has not is an error with a suggestion.
func TestSMTPHostKeywords(t *testing.T) {
	cfg, notes := parse(t, `virtual_server 10.0.0.1 25 {
 protocol TCP
 real_server 10.1.1.1 25 {
  SMTP_CHECK {
   host {
    connect_ip 10.1.1.1
    connect_port 587
    connect_timeout 7
    retry 4
    log_all_failures
   }
  }
 }
}
`)
	s := service(t, cfg, tcp("10.0.0.1:25"))
	hc := cfg.Settings(s.Name).RealServers[s.Dests[0].Name]
	if hc == nil || hc.Port != 587 || hc.Timeout != 7*time.Second || hc.Fall != 5 {
		t.Errorf("SMTP_CHECK host block: %+v, want port 587, timeout 7s, fall 5", hc)
	}
	if !hasNote(notes, 10, "logs every failed check") {
		t.Errorf("log_all_failures in a host block is not noted: %v", notes)
	}
	es := parseErrors(t, "virtual_server 10.0.0.1 25 {\n protocol TCP\n real_server 10.1.1.1 25 {\n  SMTP_CHECK {\n   host {\n    conect_timeout 3\n   }\n  }\n }\n}\n")
	if want := `k.conf:6:5: conect_timeout is not a keyword of an SMTP_CHECK host block (connect_ip, connect_port, bindto, connect_timeout...); did you mean "connect_timeout"?`; es.Error() != want {
		t.Errorf("got  %v\nwant %s", es, want)
	}
}

// keepalived's lexical rules: comments with ! or # anywhere outside
// quotes, \! and \# as characters, braces splitting a line, quoted words.
func TestLexing(t *testing.T) {
	cfg, _ := parse(t, "virtual_server 10.0.0.1 80 { ! comment { }\n"+
		" protocol TCP # trailing\n"+
		" real_server 10.1.1.1 80 { weight 2 }\n"+
		" real_server 10.1.1.2 80 {\n  HTTP_GET { url { path \"/a#b!c\" } }\n }\n"+
		" real_server 10.1.1.3 80 {\n  MISC_CHECK {\n   misc_path /bin/check\\#1\n  }\n }\n}\n")
	s := service(t, cfg, tcp("10.0.0.1:80"))
	if len(s.Dests) != 3 || s.Dests[0].Opts.Weight != 2 {
		t.Fatalf("service %+v", s)
	}
	st := cfg.Settings(s.Name)
	if u := st.RealServers["r10_1_1_2_80"].Probe.(model.HTTPProbe).URLs[0]; u.Path != "/a#b!c" {
		t.Errorf("quoted path %q", u.Path)
	}
	if p := st.RealServers["r10_1_1_3_80"].Probe.(model.ExecProbe).Program; p != "/bin/check#1" {
		t.Errorf("escaped # %q", p)
	}
}

// Conditional lines are read for the config id given.
// keepalived 1.x's keywords, found in RHEL 7's configurations, are noted.
func TestLegacyKeywords(t *testing.T) {
	_, notes := parse(t, "global_defs {\n lvs_id LVS1\n}\nvirtual_server 10.0.0.1 80 {\n protocol TCP\n nat_mask 255.255.255.0\n real_server 10.1.1.1 80\n}\n")
	if !hasNote(notes, 2, "identifies this keepalived") || !hasNote(notes, 6, "keepalived 1.x") {
		t.Errorf("notes %v", notes)
	}
}

// A virtual server without a port is keepalived's port 0, persistent.
func TestNoPort(t *testing.T) {
	cfg, notes := parse(t, "virtual_server 10.0.0.1 {\n protocol TCP\n lb_kind DR\n real_server 10.1.1.1\n}\n")
	s := service(t, cfg, tcp("10.0.0.1:0"))
	if !s.Opts.Persistent || s.Opts.Timeout != 360 || s.Dests[0].Addr.Port() != 0 {
		t.Errorf("service %+v", s)
	}
	if !hasNote(notes, 1, "zero port only valid for persistent services") {
		t.Errorf("notes %v", notes)
	}
}

func TestConfigID(t *testing.T) {
	src := "virtual_server 10.0.0.1 80 {\n protocol TCP\n@high lb_algo rr\n@low lb_algo lc\n@^high lb_algo wrr\n real_server 10.1.1.1 80\n}\n"
	cfg, notes := parse(t, src)
	if s := service(t, cfg, tcp("10.0.0.1:80")); s.Opts.Scheduler != "rr" {
		t.Errorf("config id high: scheduler %s", s.Opts.Scheduler)
	}
	if !hasNote(notes, 4, "for config id low") || !hasNote(notes, 5, "other than high") {
		t.Errorf("notes %v", notes)
	}
}

// includes: globs in name order, relative to the including file's
// directory, nested, bounded; loops refused.
func TestIncludes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("keepalived.conf", "include conf.d/*.conf\n")
	write("conf.d/b.conf", "virtual_server 10.0.0.2 80 {\n protocol TCP\n include ../reals/two\n}\n")
	write("conf.d/a.conf", "virtual_server 10.0.0.1 80 {\n protocol TCP\n real_server 10.1.1.1 80\n}\n")
	write("reals/two", "real_server 10.1.1.2 80\nreal_server 10.1.1.3 80\n")
	f, err := Load(filepath.Join(dir, "keepalived.conf"), testOptions)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"keepalived.conf", "conf.d/a.conf", "conf.d/b.conf", "reals/two"}; len(f.Files) != len(want) || !strings.HasSuffix(f.Files[3], want[3]) || !strings.HasSuffix(f.Files[1], want[1]) {
		t.Errorf("files read %q", f.Files)
	}
	cfg, _, err := f.Config()
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Table.Services; len(got) != 2 || got[0].Key != tcp("10.0.0.1:80") || len(got[1].Dests) != 2 {
		t.Errorf("services %+v", got)
	}

	// An error in an included file names that file.
	write("conf.d/c.conf", "virtual_server 10.0.0.3 80 {\n lb_algo nope\n}\n")
	_, err = Load(filepath.Join(dir, "keepalived.conf"), testOptions)
	if err == nil {
		f, _ = Load(filepath.Join(dir, "keepalived.conf"), testOptions)
		_, _, err = f.Config()
	}
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "conf.d/c.conf")+":2:10: lb_algo nope") {
		t.Errorf("error in an include: %v", err)
	}
	os.Remove(filepath.Join(dir, "conf.d/c.conf"))

	// Braces, as glob(3)'s GLOB_BRACE: each alternative in turn; a
	// directory that matches is skipped with a note.
	write("b/keepalived.conf", "include {x,y}/*.conf\ninclude z*\n")
	write("b/y/1.conf", "virtual_server 10.0.0.2 80 {\n protocol TCP\n real_server 10.1.1.2 80\n}\n")
	write("b/x/1.conf", "virtual_server 10.0.0.1 80 {\n protocol TCP\n real_server 10.1.1.1 80\n}\n")
	write("b/zdir/1.conf", "")
	f, err = Load(filepath.Join(dir, "b/keepalived.conf"), testOptions)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Files) != 3 || !strings.HasSuffix(f.Files[1], "x/1.conf") || !strings.HasSuffix(f.Files[2], "y/1.conf") {
		t.Errorf("files read %q", f.Files)
	}
	if len(f.Notes) != 2 || !strings.Contains(f.Notes[0].Msg, "matches the directory") || !strings.Contains(f.Notes[1].Msg, "matches no file") {
		t.Errorf("notes %v", f.Notes)
	}

	// A loop through two files, and a chain deeper than the limit.
	write("loop/a.conf", "include b.conf\n")
	write("loop/b.conf", "include a.conf\n")
	if _, err := Load(filepath.Join(dir, "loop/a.conf"), testOptions); err == nil || !strings.Contains(err.Error(), "includes itself") {
		t.Errorf("loop: %v", err)
	}
	for i := range MaxIncludeDepth + 2 {
		write(filepath.Join("deep", strings.Repeat("d", i+1)), "include "+strings.Repeat("d", i+2)+"\n")
	}
	if _, err := Load(filepath.Join(dir, "deep/d"), testOptions); err == nil || !strings.Contains(err.Error(), "nested more than 8 deep") {
		t.Errorf("depth: %v", err)
	}
}

func TestBraces(t *testing.T) {
	for p, want := range map[string][]string{
		"a/{b,c}/d":   {"a/b/d", "a/c/d"},
		"{a,b{c,d}}e": {"ae", "bce", "bde"},
		"x\\{a,b}":    {"x\\{a,b}"},
		"{a,b}{1,2}":  {"a1", "a2", "b1", "b2"},
		"no braces":   {"no braces"},
		"{unbalanced": {"{unbalanced"},
	} {
		if got, ok := braces(p, maxBraces); !ok || !slices.Equal(got, want) {
			t.Errorf("braces(%q) = %q, %v; want %q", p, got, ok, want)
		}
	}
	if _, ok := braces(strings.Repeat("{a,b}", 9), maxBraces); ok {
		t.Error("512 alternatives expanded")
	}
}

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want bool
	}{
		{"! Configuration File for keepalived\n\nglobal_defs {\n", true},
		{"# c\nvirtual_server 10.0.0.1 80 {\n", true},
		{"virtual_server fwmark 1 {", true},
		{"include /etc/keepalived/conf.d/*.conf\n", true},
		{"@high net_namespace high\n", true},
		{"vrrp_instance VI_1 {\n", true},
		{"virtual_server \"web\" {\n  address = \"10.0.0.1:80\"\n", false},
		{"pulse {\n", false},
		{"serial_no = 1\n", false},
		{"-A -t 10.0.0.1:80 -s rr\n", false},
		{"", false},
	} {
		if got := Detect([]byte(tc.src)); got != tc.want {
			t.Errorf("Detect(%q) = %v", tc.src, got)
		}
	}
	for src, want := range map[string]bool{
		"  real_server 10.0.0.1 80 {\n": true,
		"vrrp_garp_interval 1\n":        true,
		"  lb_kind DR\n":                true,
		"real_server \"a\" {\n":         false,
		"weight = 2\n":                  false,
		"url {\n":                       false,
		"address \"10.0.0.1\"\n":        false,
		"pulse {\n  primary 10.0.0.1\n": false,
	} {
		if Looks([]byte(src)) != want {
			t.Errorf("Looks(%q) = %v", src, !want)
		}
	}
}

// An include that names no file is what keepalived makes of it
// (lib/parser.c, check_include and open_glob_file): a plain include and
// includer log it and go on (a warning here, at the include), includem,
// includew and includea refuse a missing file, includew and includea a
// pattern that matches nothing, includeb and includea a brace alternative
// that names no file.
func TestIncludeMissing(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.conf"), []byte("virtual_server 10.0.0.1 80 {\n protocol TCP\n real_server 10.1.1.1 80\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		line string
		note string // the warning, at main.conf:2:4
		err  string // or the error
	}{
		{"include nothere.conf", `include nothere.conf names no file (there is no ` + dir + `/nothere.conf); keepalived logs "Config files missing" and goes on`, ""},
		{"includer nothere.conf", "includer nothere.conf names no file", ""},
		{"includeb nothere.conf", "includeb nothere.conf names no file", ""},
		{"include missing/dir/x.conf", "include missing/dir/x.conf names no file", ""},
		{"include a.conf/x", "include a.conf/x names no file", ""},
		{"includem nothere.conf", "", "main.conf:2:4: includem nothere.conf: there is no " + dir + "/nothere.conf, and includem refuses a missing file"},
		{"includew nothere.conf", "", "includew refuses a missing file"},
		{"includea nothere.conf", "", "includea refuses a missing file"},
		{"include *.none", "include *.none matches no file", ""},
		{"includem *.none", "includem *.none matches no file", ""},
		{"includew *.none", "", "main.conf:2:4: includew *.none matches no file (" + dir + "/*.none), and includew refuses that"},
		{"include {a,nothere}.conf", `include {a,nothere}.conf: there is no ` + dir + `/nothere.conf; keepalived logs "Some config files missing"`, ""},
		{"includeb {a,nothere}.conf", "", "main.conf:2:4: includeb {a,nothere}.conf: there is no " + dir + "/nothere.conf, and includeb refuses a brace alternative"},
	} {
		main := filepath.Join(dir, "main.conf")
		if err := os.WriteFile(main, []byte("! a file that includes\n   "+tc.line+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := Load(main, testOptions)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: %v, want an error %q", tc.line, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v, want a warning", tc.line, err)
			continue
		}
		if !slices.ContainsFunc(f.Notes, func(n Note) bool {
			return n.Line == 2 && n.Col == 4 && strings.HasSuffix(n.File, "main.conf") && strings.Contains(n.Msg, tc.note)
		}) {
			t.Errorf("%s: notes %v, want one at main.conf:2:4 saying %q", tc.line, f.Notes, tc.note)
		}
		// The warning is a diagnostic of validate, at its line and column.
		ds := Diagnostics(f, f.Notes, nil)
		if len(ds) == 0 || ds[0].Severity != diag.Warning || ds[0].Range == nil || ds[0].Range.Start.Line != 2 || ds[0].Range.Start.Column != 4 {
			t.Errorf("%s: diagnostics %v, want a warning at 2:4", tc.line, ds)
		}
	}
}
