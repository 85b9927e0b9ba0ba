package health

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/lvsctl/lvsctl/internal/proc"
	"github.com/lvsctl/lvsctl/lvs"
	"github.com/lvsctl/lvsctl/model"
)

// maxReply bounds what a probe reads from a real server, so a server that
// streams forever cannot make the checker grow.
const maxReply = 64 << 10

// Probe runs the check hc once against addr and returns nil when it passes,
// or an error saying what was wrong. It gives up after hc.Timeout (or when
// ctx ends, whichever is first).
func Probe(ctx context.Context, hc *model.HealthCheck, addr netip.AddrPort) error {
	if hc.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, hc.Timeout)
		defer cancel()
	}
	var err error
	switch hc.Type {
	case model.CheckTCP:
		err = probeTCP(ctx, addr)
	case model.CheckSendExpect:
		if hc.Protocol == lvs.UDP {
			err = probeUDP(ctx, hc, addr)
		} else {
			err = probeSendExpect(ctx, hc, addr)
		}
	case model.CheckHTTP, model.CheckHTTPS:
		err = probeHTTP(ctx, hc, addr)
	case model.CheckDNS:
		err = probeDNS(ctx, hc, addr)
	case model.CheckExec:
		err = probeExec(ctx, hc, addr.Addr().String(), strconv.Itoa(int(addr.Port())))
	default:
		err = fmt.Errorf("unknown health check type %q", hc.Type)
	}
	return timeoutError(ctx, hc, err)
}

// timeoutError words a deadline as the check's timeout.
func timeoutError(ctx context.Context, hc *model.HealthCheck, err error) error {
	if err == nil {
		return nil
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() || ctx.Err() == context.DeadlineExceeded {
		if hc.Type == model.CheckExec && hc.Timeout > 0 {
			return fmt.Errorf("%s did not finish within the %s timeout", firstField(hc.Program), hc.Timeout)
		}
		if hc.Timeout > 0 {
			return fmt.Errorf("no answer within the %s timeout", hc.Timeout)
		}
		return errors.New("no answer before the deadline")
	}
	return err
}

var dialer net.Dialer

// enterKey is the context key of the function that runs the creation of a
// probe's socket, or the start of its program, in another network
// namespace (see [ProbeIn]).
type enterKey struct{}

// ProbeIn returns a probe like [Probe] whose sockets are opened and whose
// exec programs are started by calling enter, which runs its function in
// another network namespace (the director's, for `check --netns`). A
// socket, once open, stays in the namespace it was made in, so only its
// creation needs to be there.
func ProbeIn(enter func(func() error) error) func(context.Context, *model.HealthCheck, netip.AddrPort) error {
	return func(ctx context.Context, hc *model.HealthCheck, addr netip.AddrPort) error {
		return Probe(context.WithValue(ctx, enterKey{}, enter), hc, addr)
	}
}

// inNamespace runs f through the enter function of ctx, if any.
func inNamespace(ctx context.Context, f func() error) error {
	if enter, ok := ctx.Value(enterKey{}).(func(func() error) error); ok {
		return enter(f)
	}
	return f()
}

func dial(ctx context.Context, network string, addr netip.AddrPort) (net.Conn, error) {
	var c net.Conn
	err := inNamespace(ctx, func() (err error) {
		c, err = dialer.DialContext(ctx, network, addr.String())
		return err
	})
	if err != nil {
		var oe *net.OpError
		if errors.As(err, &oe) && oe.Err != nil {
			return nil, fmt.Errorf("connect to %s: %w", addr, oe.Err)
		}
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	return c, nil
}

func probeTCP(ctx context.Context, addr netip.AddrPort) error {
	c, err := dial(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return c.Close()
}

// matcher decides whether a reply so far passes (nanny's semantics):
// expect "*" takes any reply of at least one byte; expect is otherwise a
// prefix of the reply; expect_regex must match somewhere in it.
type matcher struct {
	expect string
	re     *regexp.Regexp
}

func newMatcher(hc *model.HealthCheck) (matcher, error) {
	m := matcher{expect: hc.Expect}
	if hc.ExpectRegex != "" {
		re, err := regexp.Compile(hc.ExpectRegex)
		if err != nil {
			return m, fmt.Errorf("expect_regex %q: %w", hc.ExpectRegex, err)
		}
		m.re = re
	}
	return m, nil
}

// wantsReply reports whether a reply is awaited at all.
func (m matcher) wantsReply() bool { return m.expect != "" || m.re != nil }

// decided says whether reply is enough to decide, and whether it passes.
func (m matcher) decided(reply []byte) (done, ok bool) {
	switch {
	case m.re != nil:
		if m.re.Match(reply) {
			return true, true
		}
		return false, false
	case m.expect == "*":
		return len(reply) > 0, len(reply) > 0
	case len(reply) >= len(m.expect):
		return true, bytes.HasPrefix(reply, []byte(m.expect))
	default:
		// A reply shorter than expect may still be completed by a later
		// read, unless it already differs.
		if !strings.HasPrefix(m.expect, string(reply)) {
			return true, false
		}
		return false, false
	}
}

func (m matcher) mismatch(reply []byte) error {
	if len(reply) == 0 {
		return errors.New("the connection closed without a reply")
	}
	shown := reply
	if len(shown) > 64 {
		shown = shown[:64]
	}
	if m.re != nil {
		return fmt.Errorf("reply %q does not match %q", shown, m.re)
	}
	return fmt.Errorf("reply %q does not start with %q", shown, m.expect)
}

func probeSendExpect(ctx context.Context, hc *model.HealthCheck, addr netip.AddrPort) error {
	m, err := newMatcher(hc)
	if err != nil {
		return err
	}
	c, err := dial(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if hc.Send != "" {
		if _, err := io.WriteString(c, hc.Send); err != nil {
			return fmt.Errorf("send to %s: %w", addr, err)
		}
	}
	if !m.wantsReply() {
		return nil
	}
	var reply []byte
	buf := make([]byte, 4096)
	for len(reply) < maxReply {
		n, err := c.Read(buf)
		reply = append(reply, buf[:n]...)
		if done, ok := m.decided(reply); done {
			if ok {
				return nil
			}
			return m.mismatch(reply)
		}
		if err == io.EOF || errors.Is(err, syscall.ECONNRESET) {
			return m.mismatch(reply)
		}
		if err != nil {
			return err
		}
	}
	return m.mismatch(reply)
}

// probeUDP sends and waits for one datagram. With nothing to expect it
// passes unless the port is unreachable (ICMP), the only failure UDP can
// show.
func probeUDP(ctx context.Context, hc *model.HealthCheck, addr netip.AddrPort) error {
	m, err := newMatcher(hc)
	if err != nil {
		return err
	}
	c, err := dial(ctx, "udp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := io.WriteString(c, hc.Send); err != nil {
		return fmt.Errorf("send to %s: %w", addr, err)
	}
	buf := make([]byte, maxReply)
	n, err := c.Read(buf)
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%s: port unreachable", addr)
	case err != nil && !m.wantsReply():
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil
		}
		return err
	case err != nil:
		return err
	case !m.wantsReply():
		return nil
	}
	if _, ok := m.decided(buf[:n]); ok {
		return nil
	}
	return m.mismatch(buf[:n])
}

func probeHTTP(ctx context.Context, hc *model.HealthCheck, addr netip.AddrPort) error {
	scheme := "http"
	tr := &http.Transport{
		DisableKeepAlives: true,
		Proxy:             nil, // a proxy from the environment must not stand in for the real server
		DialContext: func(dctx context.Context, _, _ string) (net.Conn, error) {
			// The transport's context need not carry ctx's values.
			if enter, ok := ctx.Value(enterKey{}).(func(func() error) error); ok {
				dctx = context.WithValue(dctx, enterKey{}, enter)
			}
			return dial(dctx, "tcp", addr)
		},
	}
	if hc.Type == model.CheckHTTPS {
		scheme = "https"
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: !hc.TLSVerify, ServerName: hostOnly(hc.Host)}
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport: tr,
		// A redirect is the real server's answer; following it would probe
		// somewhere else.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	path := hc.Path
	if path == "" {
		path = "/"
	}
	method := hc.Method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, method, scheme+"://"+addr.String()+path, nil)
	if err != nil {
		return fmt.Errorf("health check request: %w", err)
	}
	if hc.Host != "" {
		req.Host = hc.Host
	}
	req.Header.Set("User-Agent", "lvsctl-check")
	resp, err := client.Do(req)
	if err != nil {
		var ue interface{ Unwrap() error }
		if errors.As(err, &ue) && ue.Unwrap() != nil {
			err = ue.Unwrap()
		}
		return fmt.Errorf("%s %s: %w", method, req.URL, err)
	}
	defer resp.Body.Close()
	if len(hc.Status) > 0 && !slices.Contains(hc.Status, resp.StatusCode) {
		return fmt.Errorf("%s %s: status %d, want %s", method, req.URL, resp.StatusCode, joinInts(hc.Status))
	}
	if len(hc.Status) == 0 && (resp.StatusCode < 200 || resp.StatusCode > 399) {
		return fmt.Errorf("%s %s: status %d, want 2xx or 3xx", method, req.URL, resp.StatusCode)
	}
	if hc.BodyRegex == "" {
		return nil
	}
	re, err := regexp.Compile(hc.BodyRegex)
	if err != nil {
		return fmt.Errorf("body_regex %q: %w", hc.BodyRegex, err)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReply))
	if err != nil {
		return fmt.Errorf("%s %s: reading the body: %w", method, req.URL, err)
	}
	if !re.Match(body) {
		return fmt.Errorf("%s %s: body does not match %q", method, req.URL, hc.BodyRegex)
	}
	return nil
}

func hostOnly(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return host
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, " or ")
}

// probeExec runs hc.Program split on blanks, %h and %p replaced inside
// each argument by host and port, without a shell: host and port can never
// become extra arguments or commands. The exit status decides; with
// hc.Expect set, the output decides as in nanny: it passes when it equals
// Expect (trailing newlines aside) or is empty.
//
// The program runs in a process group of its own, killed whole when it
// times out and when it exits: nothing a probe starts outlives it.
func probeExec(ctx context.Context, hc *model.HealthCheck, host, port string) error {
	argv := execArgv(hc.Program, host, port)
	if len(argv) == 0 {
		return errors.New("the exec check has no program")
	}
	res, err := proc.Run(ctx, argv, proc.Options{
		Name:            argv[0], // the host and port are said elsewhere
		Timeout:         hc.Timeout,
		Env:             []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		ClearEnv:        true,
		MaxOutput:       maxReply,
		WaitDelay:       100 * time.Millisecond,
		KillGroupOnExit: true,
		// The program inherits the network namespace of the thread that
		// starts it.
		Enter: func(start func() error) error { return inNamespace(ctx, start) },
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if res.TimedOut {
		return context.DeadlineExceeded // worded by timeoutError
	}
	if hc.Expect != "" {
		if !res.Started {
			return err
		}
		got := strings.TrimRight(string(res.Stdout), "\r\n")
		if got == "" || got == hc.Expect {
			return nil
		}
		return fmt.Errorf("%s printed %q, want %q", argv[0], truncate(got, 64), hc.Expect)
	}
	return err
}

// execArgv splits program on blanks and substitutes %h and %p in each
// argument.
func execArgv(program, host, port string) []string {
	argv := strings.Fields(program)
	r := strings.NewReplacer("%h", host, "%p", port)
	for i := range argv {
		argv[i] = r.Replace(argv[i])
	}
	return argv
}

func firstField(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
