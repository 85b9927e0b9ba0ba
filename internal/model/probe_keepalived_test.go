package model

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

// A list of blocks is set and read by name, as sources that read a format
// do; a block's settings left out are zero.
func TestBlocksSetting(t *testing.T) {
	p, _ := NewProbe(CheckHTTPS, tcpService)
	var kind SettingKind = -1
	var fields []string
	for _, s := range Settings(CheckHTTPS) {
		if s.Name == "url" {
			kind = s.Kind
			for _, f := range s.Fields {
				fields = append(fields, f.Name)
			}
		}
	}
	if kind != SettingBlocks || !slices.Equal(fields, []string{"path", "host", "status", "digest", "body_regex"}) {
		t.Fatalf("url setting: kind %d, fields %q", kind, fields)
	}
	in := []Block{
		{"path": "/", "status": []int{200}, "digest": "9B3A"},
		{"path": "/health", "host": "www.example.com"},
	}
	p, prob := WithSetting(p, "url", in)
	if prob != nil {
		t.Fatal(prob)
	}
	want := []HTTPURL{{Path: "/", Status: []int{200}, Digest: "9B3A"}, {Path: "/health", Host: "www.example.com"}}
	if got := p.(HTTPSProbe).URLs; !reflect.DeepEqual(got, want) {
		t.Errorf("URLs = %+v, want %+v", got, want)
	}
	got := Setting(p, "url").([]Block)
	if len(got) != 2 || got[1]["host"] != "www.example.com" || got[1]["digest"] != "" || got[1]["status"] == nil || len(got[0]) != 5 {
		t.Errorf("Setting(url) = %v", got)
	}
	// What Setting gives, WithSetting takes back unchanged.
	q, _ := WithSetting(p, "url", got)
	a, b := DefaultHealthCheck(p), DefaultHealthCheck(q)
	if !a.Equal(&b) {
		t.Errorf("round trip through Setting: %+v", q)
	}
	b.Probe, _ = WithSetting(q, "url", []Block{{"path": "/"}})
	if a.Equal(&b) {
		t.Error("a different list of urls is equal")
	}
	defer func() {
		if recover() == nil {
			t.Error("a block setting that does not exist was taken")
		}
	}()
	WithSetting(p, "url", []Block{{"paht": "/"}})
}

func TestHTTPURLValidate(t *testing.T) {
	written := func(names ...string) func(string) bool {
		return func(n string) bool { return slices.Contains(names, n) }
	}
	base := HTTPProbe{Method: "GET", Path: "/"}
	for _, tc := range []struct {
		name    string
		p       HTTPProbe
		written func(string) bool
		want    []string // setting[element].field:summary
	}{
		{"valid", HTTPProbe{Method: "GET", Path: "/", URLs: []HTTPURL{{Path: "/", Digest: "d41d8cd98f00b204e9800998ecf8427e", Status: []int{200, 204}}}}, nil, nil},
		{"no path", HTTPProbe{Method: "GET", Path: "/", URLs: []HTTPURL{{Path: "/"}, {Digest: "x"}}}, nil,
			[]string{"url[2].:Missing url path", "url[2].digest:Invalid digest"}},
		{"short digest", HTTPProbe{Method: "GET", Path: "/", URLs: []HTTPURL{{Path: "/", Digest: "d41d8cd98f00b204"}}}, nil, []string{"url[1].digest:Invalid digest"}},
		{"bad status", HTTPProbe{Method: "GET", Path: "/", URLs: []HTTPURL{{Path: "a b", Status: []int{200, 600}, Host: "a b", BodyRegex: "("}}}, nil,
			[]string{"url[1].path:Invalid HTTP path", "url[1].host:Invalid HTTP host", "url[1].status:Invalid HTTP status", "url[1].body_regex:Invalid regular expression"}},
		{"check path beside urls", HTTPProbe{Method: "GET", Path: "/x", Status: []int{200}, URLs: []HTTPURL{{Path: "/"}}}, nil,
			[]string{"path[0].:Setting beside url blocks", "status[0].:Setting beside url blocks"}},
		{"written path beside urls", HTTPProbe{Method: "GET", Path: "/", URLs: []HTTPURL{{Path: "/"}}}, written("path", "url"),
			[]string{"path[0].:Setting beside url blocks"}},
		{"no urls", base, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, p := range tc.p.Validate(tc.written) {
				got = append(got, p.Setting+"["+string(rune('0'+p.Element))+"]."+p.Field+":"+p.Summary)
				if p.Msg == "" || strings.HasSuffix(p.Msg, ".") {
					t.Errorf("%s: message %q", p.Summary, p.Msg)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("problems %q, want %q", got, tc.want)
			}
		})
	}
	u := HTTPURL{}
	if !u.StatusOK(200) || !u.StatusOK(299) || u.StatusOK(300) || u.StatusOK(199) {
		t.Error("a url without status codes does not accept exactly 200 to 299")
	}
	u.Status = []int{301}
	if !u.StatusOK(301) || u.StatusOK(200) {
		t.Error("a url's own status codes are not the ones it accepts")
	}
	hc := DefaultHealthCheck(HTTPProbe{Method: "GET", Path: "/", URLs: []HTTPURL{{Path: "/", Digest: "D41D8CD98F00B204E9800998ECF8427E", Status: []int{204, 200, 204}}}})
	hc.Normalize()
	if u := hc.Probe.(HTTPProbe).URLs[0]; u.Digest != "d41d8cd98f00b204e9800998ecf8427e" || !slices.Equal(u.Status, []int{200, 204}) {
		t.Errorf("normalized url %+v", u)
	}
}

func TestSMTPAndDynamicExec(t *testing.T) {
	if ps := (SMTPProbe{HeloName: "a b"}).Validate(nil); len(ps) != 1 || ps[0].Setting != "helo_name" {
		t.Errorf("helo name with a blank: %v", ps)
	}
	if ps := (SMTPProbe{}).Validate(nil); len(ps) != 0 {
		t.Errorf("default smtp: %v", ps)
	}
	if ps := (ExecProbe{Program: "/bin/check", Dynamic: true, Expect: "OK"}).Validate(nil); len(ps) != 1 || ps[0].Setting != "dynamic" {
		t.Errorf("dynamic with expect: %v", ps)
	}
	for status, want := range map[int][2]int{0: {1, -1}, 1: {0, -1}, 2: {1, 0}, 3: {1, 1}, 255: {1, 253}, 256: {0, -1}, -1: {0, -1}} {
		up, w := DynamicWeight(status)
		if up != (want[0] == 1) || w != want[1] {
			t.Errorf("DynamicWeight(%d) = %v, %d; want %v", status, up, w, want)
		}
	}
}

func TestValidateQuorum(t *testing.T) {
	for _, tc := range []struct {
		q, h int
		want []string
	}{
		{0, 0, nil}, {3, 1, nil}, {1, 0, nil},
		{-1, 0, []string{"quorum"}},
		{0, 1, []string{"hysteresis"}},
		{2, -1, []string{"hysteresis"}},
		{MaxQuorum + 1, 0, []string{"quorum"}},
	} {
		s := &ServiceSettings{Quorum: tc.q, Hysteresis: tc.h}
		var got []string
		for _, p := range s.ValidateQuorum() {
			got = append(got, p.Setting)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("quorum %d hysteresis %d: %q, want %q", tc.q, tc.h, got, tc.want)
		}
	}
	if (&ServiceSettings{Quorum: 2}).IsZero() {
		t.Error("settings with a quorum are zero")
	}
	a, b := DefaultHealthCheck(TCPProbe{}), DefaultHealthCheck(TCPProbe{})
	b.Alpha = true
	if a.Equal(&b) {
		t.Error("a check with alpha equals one without")
	}
}
