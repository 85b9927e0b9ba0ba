package health

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"regexp"
	"strings"
	"syscall"

	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/lvs"
)

func init() { register(probeSendExpect, nil) }

// matcher decides whether a reply so far passes (nanny's semantics):
// expect "*" takes any reply of at least one byte; expect is otherwise a
// prefix of the reply; expect_regex must match somewhere in it.
type matcher struct {
	expect string
	re     *regexp.Regexp
}

func newMatcher(p model.SendExpectProbe) (matcher, error) {
	m := matcher{expect: p.Expect}
	if p.ExpectRegex != "" {
		re, err := regexp.Compile(p.ExpectRegex)
		if err != nil {
			return m, fmt.Errorf("expect_regex %q: %w", p.ExpectRegex, err)
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

// probeSendExpect sends p.Send to addr and matches the reply, over TCP or
// UDP as p.Protocol says.
func probeSendExpect(ctx context.Context, p model.SendExpectProbe, _ *model.HealthCheck, addr netip.AddrPort) error {
	if p.Protocol == lvs.UDP {
		return probeUDP(ctx, p, addr)
	}
	m, err := newMatcher(p)
	if err != nil {
		return err
	}
	c, err := dial(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if p.Send != "" {
		if _, err := io.WriteString(c, p.Send); err != nil {
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
func probeUDP(ctx context.Context, p model.SendExpectProbe, addr netip.AddrPort) error {
	m, err := newMatcher(p)
	if err != nil {
		return err
	}
	c, err := dial(ctx, "udp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := io.WriteString(c, p.Send); err != nil {
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
