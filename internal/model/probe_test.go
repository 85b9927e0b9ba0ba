package model

import (
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/lvs"
)

var (
	tcpService = lvs.AddrKey(lvs.TCP, netip.MustParseAddrPort("10.0.0.1:80"))
	udpService = lvs.AddrKey(lvs.UDP, netip.MustParseAddrPort("10.0.0.1:53"))
)

// Every probe type names itself, makes its defaults, and declares settings
// a source can give: each exported field a tagged setting of a known kind
// (settingsOf panics otherwise).
func TestProbeTypes(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range probeTypes {
		typ := p.Type()
		if typ == "" || seen[typ] {
			t.Errorf("%T: type %q is empty or taken", p, typ)
		}
		seen[typ] = true
		if d := p.Default(tcpService); d.Type() != typ || reflect.TypeOf(d) != reflect.TypeOf(p) {
			t.Errorf("%T.Default is a %T of type %q", p, d, d.Type())
		}
		if got, ok := NewProbe(typ, tcpService); !ok || got.Type() != typ {
			t.Errorf("NewProbe(%q) = %v, %v", typ, got, ok)
		}
		if ps := p.Default(tcpService).Validate(nil); typ != CheckExec && typ != CheckDNS && typ != CheckSendExpect && len(ps) > 0 {
			t.Errorf("%s: the defaults are invalid: %v", typ, ps)
		}
		for _, s := range Settings(typ) {
			if !slices.Contains(SettingTypes(s.Name), typ) || !slices.Contains(AllSettings(), s.Name) {
				t.Errorf("%s: setting %s is not listed as its", typ, s.Name)
			}
		}
	}
	if !slices.Equal(CheckTypes[:7], []string{"tcp", "send_expect", "http", "https", "dns", "exec", "smtp"}) {
		t.Errorf("CheckTypes = %q", CheckTypes)
	}
	if _, ok := NewProbe("carrier-pigeon", tcpService); ok {
		t.Error("NewProbe made an unknown type")
	}
}

func TestProbeDefaults(t *testing.T) {
	if p, _ := NewProbe(CheckSendExpect, udpService); p.(SendExpectProbe).Protocol != lvs.UDP {
		t.Errorf("send_expect on a UDP service: %+v, want UDP", p)
	}
	if p, _ := NewProbe(CheckDNS, tcpService); p.(DNSProbe).Protocol != lvs.TCP || p.(DNSProbe).QueryType != "A" {
		t.Errorf("dns on a TCP service: %+v, want TCP, A", p)
	}
	if p, _ := NewProbe(CheckHTTPS, tcpService); p.(HTTPSProbe).Method != "GET" || p.(HTTPSProbe).Path != "/" || !p.(HTTPSProbe).TLSVerify {
		t.Errorf("https defaults: %+v", p)
	}
	hc := DefaultHealthCheck(TCPProbe{})
	if hc.Interval != 5*time.Second || hc.Timeout != hc.Interval || hc.Rise != 1 || hc.Fall != 1 || hc.OnFailure != OnFailureRemove || hc.Type() != CheckTCP {
		t.Errorf("DefaultHealthCheck = %+v", hc)
	}
}

// Settings are set and read by name, as sources that read a format do.
func TestWithSetting(t *testing.T) {
	p, _ := NewProbe(CheckHTTPS, tcpService)
	for _, s := range []struct {
		name string
		v    any
	}{{"path", "/health"}, {"status", []int{204, 200}}, {"tls_verify", false}} {
		var prob *Problem
		p, prob = WithSetting(p, s.name, s.v)
		if prob != nil {
			t.Fatal(prob)
		}
		if got := Setting(p, s.name); !reflect.DeepEqual(got, s.v) {
			t.Errorf("%s = %v, want %v", s.name, got, s.v)
		}
	}
	if h := p.(HTTPSProbe); h.Path != "/health" || h.TLSVerify || h.Method != "GET" {
		t.Errorf("probe = %+v", h)
	}
	se, _ := NewProbe(CheckSendExpect, tcpService)
	if q, prob := WithSetting(se, "protocol", "udp"); prob != nil || q.(SendExpectProbe).Protocol != lvs.UDP || Setting(q, "protocol") != "udp" {
		t.Errorf("protocol udp: %+v, %v", q, prob)
	}
	for _, bad := range []string{"sctp", "UDP", ""} {
		if _, prob := WithSetting(se, "protocol", bad); prob == nil || prob.Summary != "Invalid health check protocol" || prob.Setting != "protocol" {
			t.Errorf("protocol %q: %v", bad, prob)
		}
	}
	if Setting(TCPProbe{}, "path") != nil {
		t.Error("a tcp probe has a path")
	}
	if got := SettingTypes("expect"); !slices.Equal(got, []string{CheckSendExpect, CheckExec}) {
		t.Errorf("SettingTypes(expect) = %q", got)
	}
}

func TestCheckValidate(t *testing.T) {
	written := func(names ...string) func(string) bool {
		return func(n string) bool { return slices.Contains(names, n) }
	}
	for _, tc := range []struct {
		name    string
		hc      HealthCheck
		written func(string) bool
		want    []string // setting:summary
	}{
		{"valid", DefaultHealthCheck(TCPProbe{}), nil, nil},
		{"nothing to send", DefaultHealthCheck(SendExpectProbe{}), nil, []string{":Nothing to send or expect"}},
		{"send written empty", DefaultHealthCheck(SendExpectProbe{}), written("send"), nil},
		{"expect written empty", DefaultHealthCheck(SendExpectProbe{}), written("expect"), []string{"expect:Empty expect"}},
		{"both expectations", DefaultHealthCheck(SendExpectProbe{Expect: "a", ExpectRegex: "b"}), nil, []string{"expect_regex:Conflicting expectations"}},
		{"bad regex", DefaultHealthCheck(SendExpectProbe{ExpectRegex: "a("}), nil, []string{"expect_regex:Invalid regular expression"}},
		{"no program", DefaultHealthCheck(ExecProbe{Program: " "}), nil, []string{"program:Missing program"}},
		{"relative program", DefaultHealthCheck(ExecProbe{Program: "check %h"}), nil, []string{"program:Program path not absolute"}},
		{"http", DefaultHealthCheck(HTTPProbe{Method: "get", Path: "x", Status: []int{200, 99}, BodyRegex: "("}), nil,
			[]string{"method:Invalid HTTP method", "path:Invalid HTTP path", "status:Invalid HTTP status", "body_regex:Invalid regular expression"}},
		{"dns", DefaultHealthCheck(DNSProbe{QueryType: "a"}), nil, []string{"query_name:Missing DNS query name", "query_type:Invalid DNS query type"}},
		{"timing", HealthCheck{Probe: TCPProbe{}, Interval: time.Second, Timeout: 2 * time.Second, Rise: 0, Fall: MaxCheckCount + 1, OnFailure: "x"}, nil,
			[]string{"timeout:Health check timeout too long", "rise:Invalid rise", "fall:Invalid fall", "on_failure:Invalid on_failure"}},
		{"no interval", HealthCheck{Probe: TCPProbe{}, Rise: 1, Fall: 1, OnFailure: OnFailureRemove}, nil,
			[]string{"interval:Invalid health check interval", "timeout:Invalid health check timeout"}},
		{"no probe", HealthCheck{Interval: time.Second, Timeout: time.Second, Rise: 1, Fall: 1, OnFailure: OnFailureRemove}, nil, []string{":Missing health check type"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, p := range tc.hc.Validate(tc.written) {
				got = append(got, p.Setting+":"+p.Summary)
				if p.Msg == "" || strings.HasSuffix(p.Msg, ".") {
					t.Errorf("%s: message %q", p.Summary, p.Msg)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("problems %q, want %q", got, tc.want)
			}
		})
	}
	hc := DefaultHealthCheck(HTTPProbe{Method: "GET", Path: "/", Status: []int{200, 700}})
	ps := hc.Validate(nil)
	if len(ps) != 1 || ps[0].Element != 2 {
		t.Errorf("status problems %+v: want the second element", ps)
	}
	hc = DefaultHealthCheck(SendExpectProbe{ExpectRegex: "("})
	if ps := hc.Validate(nil); len(ps) != 1 || ps[0].Err == nil || !strings.HasPrefix(ps[0].Msg, "Error parsing regexp") {
		t.Errorf("regex problem %+v", ps)
	}
}

// A check that connects needs a port; an exec check does not.
func TestValidateTarget(t *testing.T) {
	noPort := netip.MustParseAddrPort("192.168.0.1:0")
	tcp := DefaultHealthCheck(TCPProbe{})
	if p := tcp.ValidateTarget(noPort, "r"); p == nil || p.Setting != "port" || !strings.Contains(p.Msg, `real_server "r" has no port`) {
		t.Errorf("tcp without a port: %v", p)
	}
	if p := tcp.ValidateTarget(netip.MustParseAddrPort("192.168.0.1:80"), "r"); p != nil {
		t.Errorf("tcp with the real server's port: %v", p)
	}
	tcp.Port = 80
	if p := tcp.ValidateTarget(noPort, "r"); p != nil {
		t.Errorf("tcp with its own port: %v", p)
	}
	exec := DefaultHealthCheck(ExecProbe{Program: "/bin/true"})
	if p := exec.ValidateTarget(noPort, "r"); p != nil {
		t.Errorf("exec: %v", p)
	}
}

func TestCheckEqualNormalize(t *testing.T) {
	a := DefaultHealthCheck(HTTPSProbe{HTTPProbe: HTTPProbe{Status: []int{204, 200, 204}}})
	a.Normalize()
	if s := a.Probe.(HTTPSProbe).Status; !slices.Equal(s, []int{200, 204}) {
		t.Errorf("normalized status %v", s)
	}
	b := DefaultHealthCheck(HTTPSProbe{HTTPProbe: HTTPProbe{Status: []int{200, 204}}})
	if !a.Equal(&b) {
		t.Error("equal checks differ")
	}
	b.Probe = HTTPSProbe{HTTPProbe: HTTPProbe{Status: []int{200, 204}}, TLSVerify: true}
	if a.Equal(&b) {
		t.Error("a different tls_verify is equal")
	}
	b.Probe = HTTPProbe{Status: []int{200, 204}}
	if a.Equal(&b) {
		t.Error("http equals https")
	}
	c, d := DefaultHealthCheck(HTTPProbe{Status: []int{}}), DefaultHealthCheck(HTTPProbe{})
	if !c.Equal(&d) {
		t.Error("an empty status differs from none")
	}
	d.Fall = 2
	if c.Equal(&d) {
		t.Error("a different fall is equal")
	}
}
