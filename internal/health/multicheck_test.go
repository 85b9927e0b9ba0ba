package health

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/lvs"
)

// twoChecks is a real server's TCP check with an HTTP check beside it
// (rise 2), as keepalived's TCP_CHECK and HTTP_GET on one real_server.
func twoChecks() *model.HealthCheck {
	tcp := model.DefaultHealthCheck(model.TCPProbe{})
	http := model.DefaultHealthCheck(model.HTTPProbe{URLs: []model.HTTPURL{{Path: "/"}}})
	http.Port, http.Rise = 8080, 2
	tcp.More = []*model.HealthCheck{&http}
	return &tcp
}

func TestStepCheckEveryCheckMustPass(t *testing.T) {
	checks := twoChecks().Checks()
	at := time.Unix(1000, 0)
	pass, fail := Result{At: at}, Result{Err: errors.New("HTTP 503"), At: at}
	var s State
	var tr *Transition
	step := func(i int, r Result) {
		t.Helper()
		s, tr = StepCheck(s, i, checks, r)
	}

	step(0, pass)
	step(1, pass)
	if s.Down || tr != nil {
		t.Fatalf("both checks pass: %+v %+v", s, tr)
	}
	// One check failing (fall 1) takes the real server out, whatever the
	// other says.
	step(1, fail)
	if !s.Down || tr == nil || tr.Up {
		t.Fatalf("the HTTP check failed, the real server is not down: %+v %+v", s, tr)
	}
	if want := "check 2 of 2 (http): HTTP 503 (1 probe failed in a row, fall 1)"; tr.Reason != want {
		t.Errorf("reason %q, want %q", tr.Reason, want)
	}
	step(0, pass)
	if !s.Down || tr != nil {
		t.Fatalf("the TCP check passing brought the real server back while HTTP fails: %+v %+v", s, tr)
	}
	// Back only when the failed check passes again, by its own rise (2).
	step(1, pass)
	if !s.Down || tr != nil {
		t.Fatalf("up after 1 pass of a check with rise 2: %+v", s)
	}
	step(1, pass)
	if s.Down || tr == nil || !tr.Up {
		t.Fatalf("every check passes again, the real server is not up: %+v %+v", s, tr)
	}
	if !strings.HasPrefix(tr.Reason, "every check passes: check 2 of 2 (http) came back, 2 probes passed in a row (rise 2)") {
		t.Errorf("reason %q", tr.Reason)
	}
	// Both failing, then one back: still down until the other is.
	step(0, fail)
	step(1, fail)
	step(1, pass)
	step(1, pass)
	if !s.Down {
		t.Fatalf("up with the TCP check still failing: %+v", s)
	}
	step(0, pass)
	if s.Down || tr == nil {
		t.Fatalf("every check passes, still down: %+v", s)
	}
}

// A real server with one check steps as Step does, and keeps no list.
func TestStepCheckOneIsStep(t *testing.T) {
	hc := model.DefaultHealthCheck(model.TCPProbe{})
	hc.Fall = 2
	r := Result{Err: errors.New("refused"), At: time.Unix(1, 0)}
	var a, b State
	for range 3 {
		var ta, tb *Transition
		a, ta = Step(a, hc.Rise, hc.Fall, r)
		b, tb = StepCheck(b, 0, hc.Checks(), r)
		if ta != nil != (tb != nil) || a.Down != b.Down || a.Fails != b.Fails || a.Reason != b.Reason || b.Checks != nil {
			t.Fatalf("StepCheck %+v, Step %+v", b, a)
		}
	}
}

// The checker runs every check of a real server, each to its own port,
// and lays out of the table a real server one of whose checks fails.
func TestCheckerRunsEveryCheck(t *testing.T) {
	rs := netip.MustParseAddrPort("192.168.10.100:80")
	svc := lvs.Service{Key: lvs.AddrKey(lvs.TCP, netip.MustParseAddrPort("10.0.0.2:80")), Name: "web",
		Opts:  lvs.ServiceOpts{Scheduler: "wlc", Netmask: 32},
		Dests: []lvs.Dest{{Addr: rs, Name: "a", Opts: lvs.DestOpts{Forward: lvs.Masq, Weight: 1}}}}
	cfg := &model.Config{Table: &lvs.Table{Services: []lvs.Service{svc}},
		Services: map[string]*model.ServiceSettings{"web": {Key: svc.Key, RealServers: map[string]*model.HealthCheck{"a": twoChecks()}}}}
	cfg.Table.Services[0].Dests[0].Opts.Weight = 1

	var mu sync.Mutex
	probed := map[string]netip.AddrPort{}
	httpDown := true
	c := &Checker{Probe: func(_ context.Context, hc *model.HealthCheck, a netip.AddrPort) error {
		mu.Lock()
		defer mu.Unlock()
		probed[hc.Type()] = a
		if hc.Type() == model.CheckHTTP && httpDown {
			return errors.New("HTTP 503")
		}
		return nil
	}}
	if err := c.Load(cfg); err != nil {
		t.Fatal(err)
	}
	inTable := func() bool {
		st, q, pol := c.Snapshot()
		return len(Desired(cfg, st, q, pol, time.Now()).Services[0].Dests) == 1
	}
	if err := c.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	if want := map[string]netip.AddrPort{"tcp": rs, "http": netip.MustParseAddrPort("192.168.10.100:8080")}; len(probed) != 2 || probed["tcp"] != want["tcp"] || probed["http"] != want["http"] {
		t.Fatalf("probed %v, want %v", probed, want)
	}
	if inTable() {
		t.Fatalf("the TCP check passes and the HTTP check fails: the real server is in the table (%+v)", c.States())
	}
	httpDown = false
	if err := c.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	if inTable() {
		t.Fatalf("back after one pass of a check with rise 2: %+v", c.States())
	}
	if err := c.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !inTable() {
		t.Fatalf("both checks pass: the real server is not in the table (%+v)", c.States())
	}
}

// alpha on any one check starts the real server down, and only that
// check has to pass to bring it up.
func TestAlphaOnOneOfSeveralChecks(t *testing.T) {
	hc := twoChecks()
	hc.More[0].Alpha, hc.More[0].Rise = true, 1
	rs := netip.MustParseAddrPort("192.168.10.100:80")
	svc := lvs.Service{Key: lvs.AddrKey(lvs.TCP, netip.MustParseAddrPort("10.0.0.2:80")), Name: "web",
		Opts:  lvs.ServiceOpts{Scheduler: "wlc", Netmask: 32},
		Dests: []lvs.Dest{{Addr: rs, Name: "a", Opts: lvs.DestOpts{Forward: lvs.Masq, Weight: 1}}}}
	cfg := &model.Config{Table: &lvs.Table{Services: []lvs.Service{svc}},
		Services: map[string]*model.ServiceSettings{"web": {Key: svc.Key, RealServers: map[string]*model.HealthCheck{"a": hc}}}}
	if n := len(Desired(cfg, nil, nil, Policy{}, time.Now()).Services[0].Dests); n != 0 {
		t.Errorf("not probed yet, a check with alpha: %d real servers in the table, want 0", n)
	}
	c := &Checker{Probe: func(context.Context, *model.HealthCheck, netip.AddrPort) error { return nil }}
	if err := c.Load(cfg); err != nil {
		t.Fatal(err)
	}
	k := Key{svc.Key, rs}
	if s := c.States()[k]; !s.Down || len(s.Checks) != 2 || s.Checks[0].Down || !s.Checks[1].Down {
		t.Fatalf("start: %+v, want down with only the alpha check down", s)
	}
	c.record(c.targets[0], 1, Result{At: time.Now()})
	if s := c.States()[k]; s.Down {
		t.Fatalf("the alpha check passed, the other never failed: still down: %+v", s)
	}
}

// The checks' states are published, read back, and bounded.
func TestStateFileChecks(t *testing.T) {
	in := `{"version": 1, "real_servers": [{"service": "tcp 10.0.0.2:80", "address": "192.168.10.100:80", "down": true,
		"checks": [{"down": false, "passes": 3, "fails": 0}, {"down": true, "passes": 0, "fails": 2, "reason": "HTTP 503"}]}]}`
	f, err := decodeState("health.json", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if cs := f.RealServers[0].Checks; len(cs) != 2 || cs[0].Passes != 3 || !cs[1].Down || cs[1].Reason != "HTTP 503" {
		t.Errorf("read %+v", cs)
	}
	many := `{"version": 1, "real_servers": [{"service": "s", "address": "a", "checks": [` + strings.Repeat(`{},`, model.MaxChecks) + `{}]}]}`
	if _, err := decodeState("health.json", []byte(many)); err == nil || !strings.Contains(err.Error(), "more than 16 checks") {
		t.Errorf("%d checks: %v", model.MaxChecks+1, err)
	}
}
