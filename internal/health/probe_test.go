package health

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/lvs"
)

// Every server here listens on 127.0.0.1 and every timeout is short, so a
// broken probe fails the test quickly instead of hanging it.

const short = 300 * time.Millisecond

// serveTCP runs handle for every connection to a new loopback listener.
func serveTCP(t *testing.T, handle func(net.Conn)) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return serveTCPOn(t, ln, handle)
}

// serveTCPOn runs handle for every connection to ln, each closed after
// handle and given 5 s at most, until the test ends.
func serveTCPOn(t *testing.T, ln net.Listener, handle func(net.Conn)) netip.AddrPort {
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				handle(c)
			}()
		}
	}()
	return netip.MustParseAddrPort(ln.Addr().String())
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T, network string) netip.AddrPort {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ap := netip.MustParseAddrPort(c.LocalAddr().String())
		c.Close()
		return ap
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ap := netip.MustParseAddrPort(ln.Addr().String())
	ln.Close()
	return ap
}

// replier reads the request line then writes parts with delay between.
func replier(delay time.Duration, parts ...string) func(net.Conn) {
	return func(c net.Conn) {
		buf := make([]byte, 256)
		_, _ = c.Read(buf)
		for _, p := range parts {
			time.Sleep(delay)
			_, _ = io.WriteString(c, p)
		}
	}
}

func check(typ string, mod func(*model.HealthCheck)) *model.HealthCheck {
	p, _ := model.NewProbe(typ, lvs.ServiceKey{Protocol: lvs.TCP})
	hc := model.DefaultHealthCheck(p)
	hc.Timeout = short
	if mod != nil {
		mod(&hc)
	}
	return &hc
}

// set returns a mod that edits a check's probe, a P.
func set[P model.Probe](f func(p *P)) func(*model.HealthCheck) {
	return func(hc *model.HealthCheck) {
		p := hc.Probe.(P)
		f(&p)
		hc.Probe = p
	}
}

// wantResult checks err against want: "" passes, otherwise a substring of
// the error.
func wantResult(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("probe failed: %v; want a pass", err)
	case want != "" && err == nil:
		t.Errorf("probe passed; want a failure with %q", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Errorf("probe error %q; want it to contain %q", err, want)
	}
}

func TestProbeTCP(t *testing.T) {
	healthy := serveTCP(t, func(net.Conn) {})
	wantResult(t, Probe(context.Background(), check("tcp", nil), healthy), "")
	wantResult(t, Probe(context.Background(), check("tcp", nil), closedPort(t, "tcp")), "connection refused")
}

func TestProbeSendExpect(t *testing.T) {
	httpOK := serveTCP(t, replier(0, "HTTP/1.0 200 OK\r\n\r\n"))
	split := serveTCP(t, replier(20*time.Millisecond, "HT", "TP/1.0 200 OK\r\n"))
	wrong := serveTCP(t, replier(0, "SSH-2.0-OpenSSH\r\n"))
	silent := serveTCP(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
	hangup := serveTCP(t, func(net.Conn) {})
	slow := serveTCP(t, replier(150*time.Millisecond, "HTTP/1.0 200 OK\r\n"))
	var gotSend atomic.Value
	echoSend := serveTCP(t, func(c net.Conn) {
		buf := make([]byte, 256)
		n, _ := c.Read(buf)
		gotSend.Store(string(buf[:n]))
		_, _ = c.Write([]byte("OK"))
	})
	get := func(expect string) func(*model.HealthCheck) {
		return set(func(p *model.SendExpectProbe) { p.Send, p.Expect = "GET / HTTP/1.0\r\n\r\n", expect })
	}
	tests := []struct {
		name string
		addr netip.AddrPort
		mod  func(*model.HealthCheck)
		want string
	}{
		{"prefix matches", httpOK, get("HTTP"), ""},
		{"prefix across reads", split, get("HTTP/1.0 200"), ""},
		{"wrong answer", wrong, get("HTTP"), `reply "SSH-2.0-OpenSSH\r\n" does not start with "HTTP"`},
		{"any reply", wrong, get("*"), ""},
		{"any reply but none", hangup, get("*"), "closed without a reply"},
		{"regex matches", httpOK, set(func(p *model.SendExpectProbe) { p.Send, p.ExpectRegex = "x", `^HTTP/1\.[01] 200` }), ""},
		{"regex does not match", wrong, set(func(p *model.SendExpectProbe) { p.Send, p.ExpectRegex = "x", `^HTTP` }), "does not match"},
		{"accepts but never answers", silent, get("HTTP"), "no answer within the 300ms timeout"},
		{"slow answer within the timeout", slow, get("HTTP"), ""},
		{"slow answer past the timeout", slow, func(hc *model.HealthCheck) { get("HTTP")(hc); hc.Timeout = 50 * time.Millisecond }, "no answer within the 50ms timeout"},
		{"refused", closedPort(t, "tcp"), get("HTTP"), "connection refused"},
		{"nothing to expect: connect and send", silent, set(func(p *model.SendExpectProbe) { p.Send = "PING\r\n" }), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantResult(t, Probe(context.Background(), check("send_expect", tt.mod), tt.addr), tt.want)
		})
	}
	t.Run("sends the bytes as they are", func(t *testing.T) {
		wantResult(t, Probe(context.Background(), check("send_expect", set(func(p *model.SendExpectProbe) { p.Send, p.Expect = "A\r\n\tB", "OK" })), echoSend), "")
		if got := gotSend.Load(); got != "A\r\n\tB" {
			t.Errorf("server got %q", got)
		}
	})
}

func TestProbeFlapping(t *testing.T) {
	var n atomic.Int32
	flap := serveTCP(t, func(c net.Conn) {
		if n.Add(1)%2 == 0 {
			_, _ = c.Write([]byte("BAD"))
			return
		}
		_, _ = c.Write([]byte("OK"))
	})
	hc := check("send_expect", set(func(p *model.SendExpectProbe) { p.Expect = "OK" }))
	var s State
	for i := range 6 {
		s, _ = Step(s, 2, 2, Result{Err: Probe(context.Background(), hc, flap), At: t0.Add(time.Duration(i) * time.Second)})
		if s.Down {
			t.Fatal("a flapping server with rise 2 fall 2 went down")
		}
	}
	s, _ = Step(State{}, 1, 1, Result{Err: Probe(context.Background(), hc, flap)})
	s2, _ := Step(s, 1, 1, Result{Err: Probe(context.Background(), hc, flap)})
	if s.Down == s2.Down {
		t.Errorf("with rise 1 fall 1 a flapping server should change side each probe: %v then %v", s.Down, s2.Down)
	}
}

// serveUDP answers every datagram to a new loopback port with reply's
// answer (nil sends nothing).
func serveUDP(t *testing.T, reply func([]byte) []byte) netip.AddrPort {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return serveUDPOn(t, c, reply)
}

// serveUDPOn answers every datagram to c with reply's answer until the
// test ends.
func serveUDPOn(t *testing.T, c net.PacketConn, reply func([]byte) []byte) netip.AddrPort {
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 65535)
		for {
			n, from, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			if r := reply(buf[:n]); r != nil {
				_, _ = c.WriteTo(r, from)
			}
		}
	}()
	return netip.MustParseAddrPort(c.LocalAddr().String())
}

func TestProbeUDP(t *testing.T) {
	echo := serveUDP(t, func(b []byte) []byte { return append([]byte("re:"), b...) })
	silent := serveUDP(t, func([]byte) []byte { return nil })
	udp := func(send, expect string) func(*model.HealthCheck) {
		return set(func(p *model.SendExpectProbe) { p.Protocol, p.Send, p.Expect = lvs.UDP, send, expect })
	}
	tests := []struct {
		name string
		addr netip.AddrPort
		mod  func(*model.HealthCheck)
		want string
	}{
		{"reply matches", echo, udp("ping", "re:ping"), ""},
		{"wrong reply", echo, udp("ping", "pong"), `reply "re:ping" does not start with "pong"`},
		{"no reply", silent, udp("ping", "re:"), "no answer within"},
		{"nothing expected, no reply", silent, udp("ping", ""), ""},
		{"port unreachable", closedPort(t, "udp"), udp("ping", ""), "port unreachable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantResult(t, Probe(context.Background(), check("send_expect", tt.mod), tt.addr), tt.want)
		})
	}
}

func TestProbeHTTP(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/redirect":
			http.Redirect(w, r, "http://192.0.2.1/", http.StatusFound)
		case r.URL.Path == "/slow":
			time.Sleep(time.Second)
		case r.URL.Path == "/health" && r.Host == "www.example.com" && r.Method == http.MethodHead:
			w.WriteHeader(http.StatusNoContent)
		case r.URL.Path == "/":
			fmt.Fprint(w, "status: green\n")
		default:
			http.Error(w, "no", http.StatusNotFound)
		}
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	tlsSrv := httptest.NewUnstartedServer(h)
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the failed handshakes are the point
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	addr := netip.MustParseAddrPort(srv.Listener.Addr().String())
	tlsAddr := netip.MustParseAddrPort(tlsSrv.Listener.Addr().String())
	tests := []struct {
		name string
		typ  string
		addr netip.AddrPort
		mod  func(*model.HealthCheck)
		want string
	}{
		{"healthy", "http", addr, nil, ""},
		{"body regex", "http", addr, set(func(p *model.HTTPProbe) { p.BodyRegex = "status: (green|yellow)" }), ""},
		{"body regex fails", "http", addr, set(func(p *model.HTTPProbe) { p.BodyRegex = "status: red" }), `body does not match "status: red"`},
		{"method, path, host, status", "http", addr, set(func(p *model.HTTPProbe) {
			p.Method, p.Path, p.Host, p.Status = "HEAD", "/health", "www.example.com", []int{204}
		}), ""},
		{"wrong host", "http", addr, set(func(p *model.HTTPProbe) { p.Method, p.Path, p.Status = "HEAD", "/health", []int{204} }), "status 404, want 204"},
		{"404 is not healthy", "http", addr, set(func(p *model.HTTPProbe) { p.Path = "/missing" }), "status 404, want 2xx or 3xx"},
		{"404 when asked for", "http", addr, set(func(p *model.HTTPProbe) { p.Path, p.Status = "/missing", []int{404} }), ""},
		{"redirect is not followed", "http", addr, set(func(p *model.HTTPProbe) { p.Path = "/redirect" }), ""},
		{"slow answer", "http", addr, func(hc *model.HealthCheck) {
			set(func(p *model.HTTPProbe) { p.Path = "/slow" })(hc)
			hc.Timeout = 100 * time.Millisecond
		}, "no answer within the 100ms timeout"},
		{"refused", "http", closedPort(t, "tcp"), nil, "connection refused"},
		{"https unverified", "https", tlsAddr, set(func(p *model.HTTPSProbe) { p.TLSVerify = false }), ""},
		{"https verified fails on a self-signed certificate", "https", tlsAddr, nil, "certificate"},
		{"plain http to https", "http", tlsAddr, nil, "status 400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hc := check(tt.typ, tt.mod)
			if tt.typ == "https" {
				// A loaded machine is slow to hand over TLS: the default
				// 300ms made "https verified fails" time out before the
				// certificate was refused.
				hc.Timeout = 5 * time.Second
			}
			wantResult(t, Probe(context.Background(), hc, tt.addr), tt.want)
		})
	}
}

// dnsServer answers each query with rcode and, when answers, one A record.
func dnsServer(t *testing.T, rcode byte, answers bool, sameID bool) netip.AddrPort {
	return serveUDP(t, func(q []byte) []byte {
		r := append([]byte(nil), q...)
		if !sameID {
			r[0]++
		}
		r[2] |= 0x80
		r[3] = r[3]&0xf0 | rcode
		if answers {
			binary.BigEndian.PutUint16(r[6:], 1)
			r = append(r, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1)
		}
		return r
	})
}

func TestProbeDNS(t *testing.T) {
	dns := func(name, typ string) func(*model.HealthCheck) {
		return set(func(p *model.DNSProbe) { p.Protocol, p.QueryName, p.QueryType = lvs.UDP, name, typ })
	}
	tests := []struct {
		name string
		addr netip.AddrPort
		mod  func(*model.HealthCheck)
		want string
	}{
		{"answered", dnsServer(t, 0, true, true), dns("example.com", "A"), ""},
		{"nxdomain", dnsServer(t, 3, false, true), dns("example.com", "A"), "example.com A: NXDOMAIN"},
		{"no records", dnsServer(t, 0, false, true), dns("example.com", "AAAA"), "no records"},
		{"another id", dnsServer(t, 0, true, false), dns("example.com", "A"), "another query's ID"},
		{"silent", serveUDP(t, func([]byte) []byte { return nil }), dns("example.com", "A"), "no answer within"},
		{"refused", closedPort(t, "udp"), dns("example.com", "A"), "refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantResult(t, Probe(context.Background(), check("dns", tt.mod), tt.addr), tt.want)
		})
	}
	t.Run("over tcp", func(t *testing.T) {
		addr := serveTCPDNS(t, func(q []byte) []byte {
			q[2] |= 0x80
			binary.BigEndian.PutUint16(q[6:], 1)
			return append(q, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1)
		})
		wantResult(t, Probe(context.Background(), check("dns", set(func(p *model.DNSProbe) { p.QueryName = "example.com" })), addr), "")
	})
	t.Run("query encoding", func(t *testing.T) {
		q, dq, err := dnsQuery("www.example.com.", dnsmessage.TypeAAAA)
		if err != nil {
			t.Fatal(err)
		}
		want := "\x03www\x07example\x03com\x00\x00\x1c\x00\x01"
		if binary.BigEndian.Uint16(q) != dq.id || string(q[2:4]) != "\x01\x00" || string(q[12:]) != want {
			t.Errorf("query %q", q)
		}
		if _, _, err := dnsQuery("a..b", dnsmessage.TypeA); err == nil {
			t.Error("an empty label was accepted")
		}
	})
}

func TestProbeExec(t *testing.T) {
	addr := netip.MustParseAddrPort("127.0.0.1:8080")
	tests := []struct {
		name, program, expect string
		timeout               time.Duration
		want                  string
	}{
		{"exit 0 passes", "/bin/true", "", short, ""},
		{"exit 1 fails", "/bin/false", "", short, "exit status 1"},
		{"expect matches", "/bin/echo %h:%p", "127.0.0.1:8080", short, ""},
		{"expect mismatch", "/bin/echo BAD", "OK", short, `printed "BAD", want "OK"`},
		{"no output passes as in nanny", "/bin/true", "OK", short, ""},
		{"timeout", "/bin/sleep 5", "", 100 * time.Millisecond, "did not finish within"},
		{"missing program", "/nonexistent/check %h", "", short, "no such file"},
		{"empty program", "", "", short, "has no program"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hc := check("exec", func(hc *model.HealthCheck) {
				hc.Probe, hc.Timeout = model.ExecProbe{Program: tt.program, Expect: tt.expect}, tt.timeout
			})
			start := time.Now()
			err := Probe(context.Background(), hc, addr)
			if tt.name == "timeout" {
				if time.Since(start) > 2*time.Second {
					t.Errorf("the timeout took %v", time.Since(start))
				}
				if err == nil || err.Error() != "/bin/sleep did not finish within the 100ms timeout" {
					t.Errorf("err = %v", err)
				}
				return
			}
			wantResult(t, err, tt.want)
		})
	}
}

func TestProbeExecHostile(t *testing.T) {
	dir := t.TempDir()
	pwned := filepath.Join(dir, "pwned")
	host := "; touch " + pwned + " #$(touch " + pwned + ")`touch " + pwned + "`"
	p := model.ExecProbe{
		Program: "/bin/echo %h",
		Expect:  host, // the argument arrives whole and verbatim
	}
	if err := probeExecHost(context.Background(), p, check("exec", nil), host, "80"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(pwned); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the hostile host string ran a command: %v", err)
	}
	if got := execArgv("/usr/bin/check --host=%h --port %p", host, "80"); len(got) != 4 || got[1] != "--host="+host || got[3] != "80" {
		t.Errorf("argv %q", got)
	}
}

// ProbeIn opens every socket and starts every program through its enter
// function, which check --netns points at the director's namespace.
func TestProbeIn(t *testing.T) {
	// Answer after the request (or the TCP probe's close): a reply sent
	// before the request is one the HTTP client may take for an
	// unsolicited response and fail on.
	addr := serveTCP(t, func(c net.Conn) {
		buf := make([]byte, 4096)
		if n, _ := c.Read(buf); n > 0 {
			c.Write([]byte("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"))
		}
	})
	var entered atomic.Int32
	probe := ProbeIn(func(f func() error) error { entered.Add(1); return f() })
	for _, typ := range []string{model.CheckTCP, model.CheckHTTP, model.CheckExec} {
		entered.Store(0)
		p, _ := model.NewProbe(typ, lvs.ServiceKey{})
		if typ == model.CheckExec {
			p = model.ExecProbe{Program: "/bin/true %h"}
		}
		hc := model.DefaultHealthCheck(p)
		hc.Timeout = 2 * time.Second
		if err := probe(context.Background(), &hc, addr); err != nil {
			t.Errorf("%s: %v", typ, err)
		}
		if entered.Load() != 1 {
			t.Errorf("%s: enter ran %d times, want 1", typ, entered.Load())
		}
	}
	// A namespace that cannot be entered fails the probe, saying why.
	hc := model.DefaultHealthCheck(model.TCPProbe{})
	err := ProbeIn(func(func() error) error { return errors.New("cannot enter network namespace x") })(context.Background(), &hc, addr)
	if err == nil || !strings.Contains(err.Error(), "cannot enter network namespace x") {
		t.Errorf("got %v", err)
	}
}

// An exec program that forks a child which outlives the timeout leaves
// nothing behind: the probe kills the program's whole process group.
func TestProbeExecNoOrphans(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("process groups and /proc are Linux's")
	}
	prog := filepath.Join(t.TempDir(), "check")
	// The program starts a copy of itself, and both sleep on. Their
	// command lines name prog, so running(prog) sees them; they sleep a
	// second at a time so that killing them leaves no long sleep behind.
	body := "#!/bin/sh\nif [ \"$1\" != child ]; then /bin/sh \"$0\" child & fi\nwhile :; do sleep 1; done\n"
	if err := os.WriteFile(prog, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	// Whatever a failing run leaves is killed at the end.
	t.Cleanup(func() {
		for _, pid := range running(prog) {
			if p, err := os.FindProcess(pid); err == nil {
				_ = p.Kill()
			}
		}
	})
	hc := check("exec", func(hc *model.HealthCheck) {
		hc.Probe, hc.Timeout = model.ExecProbe{Program: prog + " %h"}, 200*time.Millisecond
	})
	addr := netip.MustParseAddrPort("127.0.0.1:80")
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if err := Probe(context.Background(), hc, addr); err == nil || !strings.Contains(err.Error(), "did not finish within the 200ms timeout") {
				t.Errorf("probe: %v", err)
			}
		})
	}
	wg.Wait()
	// SIGKILL is delivered asynchronously: allow the dead a moment to go.
	left := running(prog)
	for deadline := time.Now().Add(5 * time.Second); len(left) > 0 && time.Now().Before(deadline); left = running(prog) {
		time.Sleep(20 * time.Millisecond)
	}
	if len(left) != 0 {
		t.Errorf("%d processes of %s left after 20 timed-out probes: %v", len(left), prog, left)
	}
}

// running lists the live processes (zombies aside) whose command line
// mentions prog.
func running(prog string) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || !bytes.Contains(cmdline, []byte(prog)) {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if i := bytes.LastIndexByte(stat, ')'); err == nil && i >= 0 && i+2 < len(stat) && stat[i+2] != 'Z' {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Every probe type of the model has a prober, and a probe of a type
// without one fails saying so.
func TestProbers(t *testing.T) {
	for _, typ := range model.CheckTypes {
		if _, ok := probers[typ]; !ok {
			t.Errorf("no prober for the probe type %q", typ)
		}
	}
	if len(probers) != len(model.CheckTypes) {
		t.Errorf("%d probers for %d probe types", len(probers), len(model.CheckTypes))
	}
	var hc model.HealthCheck
	if err := Probe(context.Background(), &hc, netip.MustParseAddrPort("127.0.0.1:1")); err == nil || !strings.Contains(err.Error(), "unknown health check type") {
		t.Errorf("a check without a probe: %v", err)
	}
}
