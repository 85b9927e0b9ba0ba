package health

import (
	"bytes"
	"io"
	"net/netip"
	"strings"
	"testing"
)

// FuzzSMTPTalk feeds the SMTP probe whatever a server may say: it never
// panics, passes only a conversation with a 220 greeting and a 250 reply
// to HELO, and reads no more than maxReply.
func FuzzSMTPTalk(f *testing.F) {
	for _, s := range []string{
		"220 ok\r\n250 ok\r\n221 bye\r\n",
		"220-a\r\n220 b\r\n250-c\r\n250 d\r\n221 e\r\n",
		"421 busy\r\n",
		"220 ok\r\n550 no\r\n",
		"HTTP/1.1 400 Bad Request\r\n",
		"220",
		"",
		"220-" + strings.Repeat("x", 100) + "\r\n",
	} {
		f.Add([]byte(s))
	}
	addr := netip.MustParseAddrPort("192.0.2.1:25")
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &countingReader{r: bytes.NewReader(data)}
		err := smtpTalk(struct {
			io.Reader
			io.Writer
		}{r, io.Discard}, "director", addr)
		if r.n > maxReply {
			t.Fatalf("read %d bytes, more than %d", r.n, maxReply)
		}
		if err == nil && !(bytes.HasPrefix(data, []byte("220")) && bytes.Contains(data, []byte("\n250"))) {
			t.Fatalf("passed on %q", data)
		}
	})
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}
