package health

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"net/textproto"
	"os"

	"github.com/lvsctl/lvsctl/internal/model"
)

func init() { register(probeSMTP, nil) }

// probeSMTP holds the conversation keepalived's SMTP_CHECK holds: the
// greeting must be 220, the reply to HELO 250; then it says QUIT and
// waits for any reply, so that the server sees a clean end. Replies of
// several lines ("250-...") are read whole.
func probeSMTP(ctx context.Context, p model.SMTPProbe, _ *model.HealthCheck, addr netip.AddrPort) error {
	c, err := dial(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	return smtpTalk(c, p.HeloName, addr)
}

// smtpTalk holds the conversation of probeSMTP over c, with the server at
// addr.
func smtpTalk(c io.ReadWriter, helo string, addr netip.AddrPort) error {
	// A server that talks without end runs into maxReply, not memory.
	tp := &smtpConn{textproto.NewReader(bufio.NewReader(io.LimitReader(c, maxReply))), textproto.NewWriter(bufio.NewWriter(c))}
	if code, msg, err := readReply(tp); err != nil {
		return fmt.Errorf("greeting from %s: %w", addr, err)
	} else if code != 220 {
		return fmt.Errorf("greeting from %s: %d %s, want 220", addr, code, truncate(msg, 64))
	}
	if helo == "" {
		helo = heloName()
	}
	if err := tp.PrintfLine("HELO %s", helo); err != nil {
		return fmt.Errorf("HELO to %s: %w", addr, err)
	}
	if code, msg, err := readReply(tp); err != nil {
		return fmt.Errorf("reply to HELO from %s: %w", addr, err)
	} else if code != 250 {
		return fmt.Errorf("reply to HELO from %s: %d %s, want 250", addr, code, truncate(msg, 64))
	}
	if err := tp.PrintfLine("QUIT"); err != nil {
		return fmt.Errorf("QUIT to %s: %w", addr, err)
	}
	if _, _, err := readReply(tp); err != nil {
		return fmt.Errorf("reply to QUIT from %s: %w", addr, err)
	}
	return nil
}

type smtpConn struct {
	*textproto.Reader
	*textproto.Writer
}

// readReply reads one SMTP reply, of one line or several, whatever its
// code: a reply that does not parse is an error.
func readReply(tp *smtpConn) (int, string, error) {
	code, msg, err := tp.ReadResponse(0)
	var pe textproto.ProtocolError
	switch {
	case errors.As(err, new(*textproto.Error)):
		err = nil // a code other than expected: the caller judges it
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		err = errors.New("the connection closed without a reply")
	case errors.As(err, &pe):
		err = fmt.Errorf("not an SMTP reply: %s", truncate(string(pe), 64))
	}
	return code, msg, err
}

// heloName is the name HELO gives when the check names none: the
// director's host name.
func heloName() string {
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "localhost"
}
