package health

import (
	"bufio"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/lvs"
)

// The url blocks of keepalived's HTTP_GET and SSL_GET: each url passes on
// its status and digest, and every one must pass.
func TestProbeHTTPURLs(t *testing.T) {
	page := "<html>it works</html>\n"
	big := strings.Repeat("0123456789abcdef", 16<<10) // 256 KiB, past maxReply
	sum := func(s string) string { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) }
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/":
			fmt.Fprint(w, page)
		case r.URL.Path == "/big":
			fmt.Fprint(w, big)
		case r.URL.Path == "/vhost" && r.Host == "www.example.com":
			fmt.Fprint(w, "vhost")
		case r.URL.Path == "/moved":
			http.Redirect(w, r, "/", http.StatusMovedPermanently)
		default:
			http.Error(w, "no", http.StatusNotFound)
		}
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	tlsSrv := httptest.NewTLSServer(h)
	t.Cleanup(tlsSrv.Close)
	addr := netip.MustParseAddrPort(srv.Listener.Addr().String())
	tlsAddr := netip.MustParseAddrPort(tlsSrv.Listener.Addr().String())
	urls := func(us ...model.HTTPURL) func(*model.HealthCheck) {
		return set(func(p *model.HTTPProbe) { p.URLs = us })
	}
	tests := []struct {
		name string
		typ  string
		addr netip.AddrPort
		mod  func(*model.HealthCheck)
		want string
	}{
		{"digest matches", "http", addr, urls(model.HTTPURL{Path: "/", Digest: sum(page)}), ""},
		{"digest in capitals", "http", addr, urls(model.HTTPURL{Path: "/", Digest: strings.ToUpper(sum(page))}), ""},
		{"digest differs", "http", addr, urls(model.HTTPURL{Path: "/", Digest: sum("other")}), "body digest " + sum(page) + ", want " + sum("other")},
		{"digest of a body past maxReply", "http", addr, urls(model.HTTPURL{Path: "/big", Digest: sum(big)}), ""},
		{"every url must pass", "http", addr, urls(model.HTTPURL{Path: "/", Digest: sum(page)}, model.HTTPURL{Path: "/gone"}), "/gone: status 404, want 200 to 299"},
		{"a url's own status", "http", addr, urls(model.HTTPURL{Path: "/gone", Status: []int{404}}), ""},
		{"a redirect is not 2xx for a url", "http", addr, urls(model.HTTPURL{Path: "/moved"}), "status 301, want 200 to 299"},
		{"a redirect accepted when listed", "http", addr, urls(model.HTTPURL{Path: "/moved", Status: []int{301}}), ""},
		{"a url's host", "http", addr, urls(model.HTTPURL{Path: "/vhost", Host: "www.example.com", Digest: sum("vhost")}), ""},
		{"the check's host for a url", "http", addr, func(hc *model.HealthCheck) {
			urls(model.HTTPURL{Path: "/vhost"})(hc)
			set(func(p *model.HTTPProbe) { p.Host = "www.example.com" })(hc)
		}, ""},
		{"a url's body regex", "http", addr, urls(model.HTTPURL{Path: "/", BodyRegex: "it (works|worked)"}), ""},
		{"a url's body regex fails", "http", addr, urls(model.HTTPURL{Path: "/", BodyRegex: "broken"}), `body does not match "broken"`},
		{"ssl digest", "https", tlsAddr, set(func(p *model.HTTPSProbe) {
			p.TLSVerify, p.URLs = false, []model.HTTPURL{{Path: "/", Digest: sum(page)}}
		}), ""},
		{"ssl digest differs", "https", tlsAddr, set(func(p *model.HTTPSProbe) {
			p.TLSVerify, p.URLs = false, []model.HTTPURL{{Path: "/", Digest: sum("x")}}
		}), "body digest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hc := check(tt.typ, tt.mod)
			hc.Timeout = 5 * time.Second // a loaded machine is slow to hand over TLS
			wantResult(t, Probe(context.Background(), hc, tt.addr), tt.want)
		})
	}
}

// A url with a body regex and no digest reads no more of the body than
// the regular expression sees: a real server that answers with an endless
// body costs maxReply, not the digest's bound.
func TestProbeHTTPRegexReadsLittle(t *testing.T) {
	const offered = 32 << 20
	written := make(chan int, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat("it works ", 1<<10))
		n := 0
		for n < offered {
			m, err := w.Write(chunk)
			n += m
			if err != nil {
				break
			}
		}
		written <- n
	}))
	t.Cleanup(srv.Close)
	addr := netip.MustParseAddrPort(srv.Listener.Addr().String())
	hc := check("http", set(func(p *model.HTTPProbe) { p.URLs = []model.HTTPURL{{Path: "/", BodyRegex: "it works"}} }))
	hc.Timeout = 10 * time.Second
	wantResult(t, Probe(context.Background(), hc, addr), "")
	select {
	case n := <-written:
		// The socket buffers take some megabytes the probe never reads.
		if n >= offered {
			t.Errorf("the server wrote its whole %d MiB body: the probe read past what its regular expression sees", offered>>20)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the server's handler did not end")
	}
}

// smtpServer speaks SMTP as a mail server does, greeting with greeting
// and answering HELO with helo; it records the HELO name it was given.
func smtpServer(t *testing.T, greeting, helo string, got chan<- string) netip.AddrPort {
	return serveTCP(t, func(c net.Conn) {
		r := bufio.NewReader(c)
		fmt.Fprint(c, greeting)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\r\n")
			switch {
			case strings.HasPrefix(line, "HELO "):
				if got != nil {
					got <- strings.TrimPrefix(line, "HELO ")
				}
				fmt.Fprint(c, helo)
			case line == "QUIT":
				fmt.Fprint(c, "221 2.0.0 Bye\r\n")
				return
			default:
				fmt.Fprint(c, "500 5.5.1 what\r\n")
			}
		}
	})
}

func TestProbeSMTP(t *testing.T) {
	names := make(chan string, 1)
	good := smtpServer(t, "220 mail.example.com ESMTP\r\n", "250 mail.example.com\r\n", names)
	hc := check("smtp", set(func(p *model.SMTPProbe) { p.HeloName = "director.example.com" }))
	wantResult(t, Probe(context.Background(), hc, good), "")
	if n := <-names; n != "director.example.com" {
		t.Errorf("HELO %q, want the helo_name", n)
	}
	host, _ := os.Hostname()
	wantResult(t, Probe(context.Background(), check("smtp", nil), good), "")
	if n := <-names; n != host {
		t.Errorf("HELO %q, want the host name %q", n, host)
	}
	multi := smtpServer(t, "220-mail.example.com ESMTP\r\n220 no UCE\r\n", "250-mail.example.com\r\n250 PIPELINING\r\n", nil)
	wantResult(t, Probe(context.Background(), check("smtp", nil), multi), "")
	busy := smtpServer(t, "421 4.3.2 too busy\r\n", "", nil)
	wantResult(t, Probe(context.Background(), check("smtp", nil), busy), "421 4.3.2 too busy, want 220")
	refuses := smtpServer(t, "220 ok\r\n", "550 go away\r\n", nil)
	wantResult(t, Probe(context.Background(), check("smtp", nil), refuses), "reply to HELO")
	silent := serveTCP(t, func(c net.Conn) { time.Sleep(time.Second) })
	wantResult(t, Probe(context.Background(), check("smtp", nil), silent), "no answer within")
	closes := serveTCP(t, func(net.Conn) {})
	wantResult(t, Probe(context.Background(), check("smtp", nil), closes), "closed without a reply")
	garbage := serveTCP(t, func(c net.Conn) { fmt.Fprint(c, "HTTP/1.1 400 Bad Request\r\n") })
	wantResult(t, Probe(context.Background(), check("smtp", nil), garbage), "not an SMTP reply")
	wantResult(t, Probe(context.Background(), check("smtp", nil), closedPort(t, "tcp")), "connection refused")
}

// keepalived's misc_dynamic: the exit status says up or down and the
// weight, and the checker keeps that weight in the state.
func TestProbeExecDynamic(t *testing.T) {
	dir := t.TempDir()
	prog := filepath.Join(dir, "weight")
	if err := os.WriteFile(prog, []byte("#!/bin/sh\nexit $1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	addr := netip.MustParseAddrPort("127.0.0.1:80")
	for _, tc := range []struct {
		status string
		want   string // "" passes
		weight int    // -1: none reported
	}{{"0", "", -1}, {"1", "exit status 1", -1}, {"2", "", 0}, {"12", "", 10}, {"255", "", 253}} {
		hc := check("exec", func(hc *model.HealthCheck) {
			hc.Probe, hc.Timeout = model.ExecProbe{Program: prog + " " + tc.status, Dynamic: true}, 5*time.Second
		})
		ctx, weight := withWeight(context.Background())
		wantResult(t, Probe(ctx, hc, addr), tc.want)
		switch w := weight(); {
		case tc.weight < 0 && w != nil:
			t.Errorf("exit %s: weight %d reported", tc.status, *w)
		case tc.weight >= 0 && (w == nil || *w != tc.weight):
			t.Errorf("exit %s: weight %v, want %d", tc.status, w, tc.weight)
		}
	}
	// Without dynamic, an exit status other than 0 fails.
	hc := check("exec", func(hc *model.HealthCheck) {
		hc.Probe, hc.Timeout = model.ExecProbe{Program: prog + " 12"}, 5*time.Second
	})
	wantResult(t, Probe(context.Background(), hc, addr), "exit status 12")

	// Through the checker into the state, and from there into the table.
	cfg := loadConfig(t, `
virtual_server "web" {
  address = "10.0.0.1:80"
  health_check {
    type    = "exec"
    program = "`+prog+` %p"
    dynamic = true
    timeout = "5s"
  }
  real_server "a" {
    address = "10.0.1.1:12"
    weight  = 7
  }
}
`)
	c := &Checker{}
	if err := c.Load(cfg); err != nil {
		t.Fatal(err)
	}
	if err := c.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	st, q, pol := c.Snapshot()
	ka := Key{web, netip.MustParseAddrPort("10.0.1.1:12")}
	if s := st[ka]; s.Down || s.Weight == nil || *s.Weight != 10 {
		t.Fatalf("state %+v, want up at weight 10", s)
	}
	if w := weights(Desired(cfg, st, q, pol, t0), web); w != "10.0.1.1:12=10" {
		t.Errorf("table %s, want the weight the program gave", w)
	}
}

// A weight in the state counts only for a check that sets weights: one
// left from a dynamic check that is no longer dynamic (or from a damaged
// state file) is dropped on load and ignored by Desired.
func TestWeightOnlyFromDynamic(t *testing.T) {
	src := func(dynamic bool) string {
		return fmt.Sprintf(`
virtual_server "web" {
  address = "10.0.0.1:80"
  health_check {
    type    = "exec"
    program = "/bin/true"
    dynamic = %v
  }
  real_server "a" {
    address = "10.0.1.1:80"
    weight  = 7
  }
}
`, dynamic)
	}
	dyn, plain := loadConfig(t, src(true)), loadConfig(t, src(false))
	web := dyn.Table.Services[0].Key
	ka := Key{web, netip.MustParseAddrPort("10.0.1.1:80")}
	w := 3
	st := States{ka: {Weight: &w}}
	if got := weights(Desired(dyn, st, nil, Policy{}, t0), web); got != "10.0.1.1:80=3" {
		t.Errorf("dynamic: %s, want the program's weight 3", got)
	}
	if got := weights(Desired(plain, st, nil, Policy{}, t0), web); got != "10.0.1.1:80=7" {
		t.Errorf("not dynamic: %s, want the configured weight 7", got)
	}
	c := &Checker{}
	if err := c.Load(dyn); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	c.states[ka] = State{Passes: 1, Weight: &w}
	c.mu.Unlock()
	if err := c.Load(plain); err != nil {
		t.Fatal(err)
	}
	if s := c.States()[ka]; s.Weight != nil {
		t.Errorf("after the check stopped being dynamic, the state keeps weight %d", *s.Weight)
	}
}

func TestStepWeight(t *testing.T) {
	w := 3
	s, tr := Step(State{}, 1, 1, Result{Weight: &w})
	if tr != nil || s.Weight == nil || *s.Weight != 3 {
		t.Fatalf("pass with a weight: %+v", s)
	}
	// keepalived's misc_dynamic: exit 0 leaves the weight as it is.
	s, _ = Step(s, 1, 1, Result{})
	if s.Weight == nil || *s.Weight != 3 {
		t.Errorf("a pass without a weight: %+v, want the weight kept", s)
	}
	s, _ = Step(State{Weight: &w}, 1, 1, Result{Err: fmt.Errorf("exit status 1")})
	if !s.Down || s.Weight != nil {
		t.Errorf("a failure that takes it down: %+v", s)
	}
	// A failure short of fall keeps the weight: the configured one
	// would send a sick real server the traffic its program turned away.
	zero := 0
	s, _ = Step(State{Weight: &zero}, 1, 3, Result{Err: fmt.Errorf("exit status 1")})
	if s.Down || s.Weight == nil || *s.Weight != 0 {
		t.Errorf("a failure short of fall: %+v, want up at weight 0", s)
	}
	if !SameWeight(nil, nil) || SameWeight(&w, nil) || !SameWeight(&w, new(3)) {
		t.Error("SameWeight")
	}
}

// QuorumLost follows keepalived's update_quorum_state.
func TestQuorumLost(t *testing.T) {
	const q, h = 5, 1
	for _, tc := range []struct {
		sum            int
		wasLost, known bool
		want           bool
	}{
		// At start: held from q + h.
		{6, false, false, false}, {5, false, false, true}, {0, false, false, true},
		// Held: lost below q - h, or at 0.
		{4, false, true, false}, {3, false, true, true}, {0, false, true, true},
		// Lost: regained from q + h.
		{5, true, true, true}, {6, true, true, false},
	} {
		if got := QuorumLost(tc.sum, q, h, tc.wasLost, tc.known); got != tc.want {
			t.Errorf("sum %d, was lost %v, known %v: lost %v, want %v", tc.sum, tc.wasLost, tc.known, got, tc.want)
		}
		// Judging again what was judged gives the same answer.
		if again := QuorumLost(tc.sum, q, h, tc.want, true); again != tc.want {
			t.Errorf("sum %d: judged again %v, first %v", tc.sum, again, tc.want)
		}
	}
	// Without hysteresis a sum of 0 is lost even with quorum 0 + h.
	if !QuorumLost(0, 1, 0, false, true) || QuorumLost(1, 1, 0, false, true) {
		t.Error("quorum 1")
	}
}

const quorumSrc = `
virtual_server "web" {
  address      = "10.0.0.1:80"
  sorry_server = "10.0.9.9:8080"
  quorum       = 10
  hysteresis   = 2
  health_check {
    type = "tcp"
  }
  real_server "a" {
    address = "10.0.1.1"
    weight  = 6
  }
  real_server "b" {
    address = "10.0.1.2"
    weight  = 5
    health_check {
      on_failure = "quiesce"
    }
  }
  real_server "c" {
    address = "10.0.1.3"
    weight  = 3
    health_check {
      alpha = true
    }
  }
}
`

// A virtual server's quorum: the sorry server alone while it is lost (the
// quiesced real servers at weight 0), the real servers alone while it
// holds, with hysteresis between; and alpha.
func TestDesiredQuorum(t *testing.T) {
	cfg := loadConfig(t, quorumSrc)
	kC := Key{web, netip.MustParseAddrPort("10.0.1.3:80")}
	up, down := State{}, State{Down: true}
	w1 := 1
	tests := []struct {
		name    string
		states  States
		quorums Quorums
		want    string
	}{
		// c has alpha: unknown is down. a+b = 11 < 10+2: lost at start.
		{"start, c not probed: lost", States{kA: up, kB: up}, nil, "10.0.1.2:80=0 10.0.9.9:8080=1"},
		{"start, all up: held", States{kA: up, kB: up, kC: up}, nil, "10.0.1.1:80=6 10.0.1.2:80=5 10.0.1.3:80=3"},
		{"held, c down: 11 >= 10-2 holds", States{kA: up, kB: up, kC: down}, Quorums{web: false}, "10.0.1.1:80=6 10.0.1.2:80=5"},
		{"held, b down: 9 >= 8 holds", States{kA: up, kB: down, kC: up}, Quorums{web: false}, "10.0.1.1:80=6 10.0.1.2:80=0 10.0.1.3:80=3"},
		{"held, a down: 8 holds", States{kA: down, kB: up, kC: up}, Quorums{web: false}, "10.0.1.2:80=5 10.0.1.3:80=3"},
		{"held, a and c down: 5 < 8 lost", States{kA: down, kB: up, kC: down}, Quorums{web: false}, "10.0.1.2:80=0 10.0.9.9:8080=1"},
		{"lost, c back: 8 < 12 stays lost", States{kA: down, kB: up, kC: up}, Quorums{web: true}, "10.0.1.2:80=0 10.0.9.9:8080=1"},
		{"lost, all back: 14 regains", States{kA: up, kB: up, kC: up}, Quorums{web: true}, "10.0.1.1:80=6 10.0.1.2:80=5 10.0.1.3:80=3"},
		{"lost, all down", States{kA: down, kB: down, kC: down}, Quorums{web: true}, "10.0.1.2:80=0 10.0.9.9:8080=1"},
		// With a dynamic exec check (only such a check's weight counts).
		{"a dynamic weight counts", States{kA: {Weight: &w1}, kB: up, kC: up}, Quorums{web: false}, "10.0.1.1:80=1 10.0.1.2:80=5 10.0.1.3:80=3"},
		{"a dynamic weight loses the quorum", States{kA: {Weight: &w1}, kB: up, kC: down}, Quorums{web: false}, "10.0.1.2:80=0 10.0.9.9:8080=1"},
	}
	dynCfg := loadConfig(t, strings.Replace(quorumSrc, `type = "tcp"`, "type    = \"exec\"\n    program = \"/bin/true\"\n    dynamic = true", 1))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := cfg
			if strings.HasPrefix(tt.name, "a dynamic") {
				cfg = dynCfg
			}
			got := Desired(cfg, tt.states, tt.quorums, Policy{Quorum: 3}, t0)
			if w := weights(got, web); w != tt.want {
				t.Errorf("web = %s\nwant  %s", w, tt.want)
			}
			for _, s := range DesiredFor(cfg, map[lvs.ServiceKey]bool{web: true}, tt.states, tt.quorums, Policy{Quorum: 3}, t0) {
				if w := weights(&lvs.Table{Services: []lvs.Service{s}}, web); w != tt.want {
					t.Errorf("DesiredFor: web = %s", w)
				}
			}
		})
	}
	// Without a sorry server a lost quorum leaves the table as the health
	// makes it.
	cfg = loadConfig(t, strings.Replace(quorumSrc, `sorry_server = "10.0.9.9:8080"`, "", 1))
	got := Desired(cfg, States{kA: down, kB: up, kC: down}, Quorums{web: false}, Policy{}, t0)
	if w := weights(got, web); w != "10.0.1.2:80=5" {
		t.Errorf("lost without a sorry server: %s", w)
	}
}

// The checker judges quorums as results come, keeps alpha real servers
// down until probed, and publishes both.
func TestCheckerQuorumAlpha(t *testing.T) {
	cfg := loadConfig(t, quorumSrc)
	kC := Key{web, netip.MustParseAddrPort("10.0.1.3:80")}
	f := &fakeProbes{}
	path := filepath.Join(t.TempDir(), "state", "health.json")
	c := &Checker{Probe: f.probe, StatePath: path}
	if err := c.Load(cfg); err != nil {
		t.Fatal(err)
	}
	st, q, _ := c.Snapshot()
	if !st[kC].Down || st[kA].Down || !q[web] {
		t.Fatalf("after load: states %+v, quorums %v; want c down (alpha), the quorum lost (11 < 12)", st, q)
	}
	if err := c.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st, q, _ = c.Snapshot(); st[kC].Down || q[web] {
		t.Fatalf("after a pass: states %+v, quorums %v", st, q)
	}
	f.set(kA.Dest, true)
	f.set(kC.Dest, true)
	if err := c.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, q, _ = c.Snapshot(); !q[web] {
		t.Fatalf("a and c down (5 < 8): quorums %v", q)
	}
	f.set(kC.Dest, false)
	if err := c.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, q, _ = c.Snapshot(); !q[web] {
		t.Fatalf("c back (8 < 12): quorums %v, want still lost", q)
	}
	// The published file carries the quorum to plan and apply, and to the
	// next checker.
	sf, err := ReadState(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := sf.Quorums(cfg); !got[web] {
		t.Errorf("published quorums %v (%v)", got, sf.QuorumLost)
	}
	c2 := &Checker{Probe: f.probe, StatePath: path}
	if err := c2.Load(cfg); err != nil {
		t.Fatal(err)
	}
	if _, q, _ := c2.Snapshot(); !q[web] {
		t.Errorf("a restarted checker forgot the lost quorum: %v", q)
	}
}
