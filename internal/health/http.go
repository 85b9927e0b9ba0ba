package health

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/lvsctl/lvsctl/internal/model"
)

func init() {
	register(probeHTTP, nil)
	register(probeHTTPS, nil)
}

// probeHTTPS is probeHTTP over TLS.
func probeHTTPS(ctx context.Context, p model.HTTPSProbe, _ *model.HealthCheck, addr netip.AddrPort) error {
	return probeHTTPOver(ctx, p.HTTPProbe, &tls.Config{InsecureSkipVerify: !p.TLSVerify}, addr)
}

// probeHTTP sends p's request to addr and checks the response; with url
// blocks, each url's request in turn, stopping at the first that fails.
func probeHTTP(ctx context.Context, p model.HTTPProbe, _ *model.HealthCheck, addr netip.AddrPort) error {
	return probeHTTPOver(ctx, p, nil, addr)
}

// maxDigestBody bounds the body a url's digest is computed over: the
// digest streams, so this bounds time, not memory.
const maxDigestBody = 64 << 20

// probeHTTPOver is probeHTTP, over TLS when tlsConf is not nil.
func probeHTTPOver(ctx context.Context, p model.HTTPProbe, tlsConf *tls.Config, addr netip.AddrPort) error {
	if len(p.URLs) == 0 {
		// The check's own request: without status, any 2xx or 3xx.
		return fetchURL(ctx, p.Method, model.HTTPURL{Path: p.Path, Host: p.Host, Status: p.Status, BodyRegex: p.BodyRegex}, len(p.Status) == 0, tlsConf, addr)
	}
	for _, u := range p.URLs {
		if u.Host == "" {
			u.Host = p.Host
		}
		if err := fetchURL(ctx, p.Method, u, false, tlsConf, addr); err != nil {
			return err
		}
	}
	return nil
}

// fetchURL sends one request for u to addr and checks its response. With
// anyOK, any 2xx or 3xx status passes (a check without url blocks or
// status); otherwise u's status codes, 200 to 299 when it has none.
func fetchURL(ctx context.Context, method string, u model.HTTPURL, anyOK bool, tlsConf *tls.Config, addr netip.AddrPort) error {
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
	if tlsConf != nil {
		scheme = "https"
		tc := tlsConf.Clone()
		tc.ServerName = hostOnly(u.Host)
		tr.TLSClientConfig = tc
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport: tr,
		// A redirect is the real server's answer; following it would probe
		// somewhere else.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	path := u.Path
	if path == "" {
		path = "/"
	}
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, method, scheme+"://"+addr.String()+path, nil)
	if err != nil {
		return fmt.Errorf("health check request: %w", err)
	}
	if u.Host != "" {
		req.Host = u.Host
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
	switch {
	case anyOK:
		if resp.StatusCode < 200 || resp.StatusCode > 399 {
			return fmt.Errorf("%s %s: status %d, want 2xx or 3xx", method, req.URL, resp.StatusCode)
		}
	case len(u.Status) == 0:
		if !u.StatusOK(resp.StatusCode) {
			return fmt.Errorf("%s %s: status %d, want %d to %d", method, req.URL, resp.StatusCode, model.DefaultURLStatus[0], model.DefaultURLStatus[1])
		}
	case !u.StatusOK(resp.StatusCode):
		return fmt.Errorf("%s %s: status %d, want %s", method, req.URL, resp.StatusCode, joinInts(u.Status))
	}
	if u.BodyRegex == "" && u.Digest == "" {
		return nil
	}
	var re *regexp.Regexp
	if u.BodyRegex != "" {
		if re, err = regexp.Compile(u.BodyRegex); err != nil {
			return fmt.Errorf("body_regex %q: %w", u.BodyRegex, err)
		}
	}
	// The digest is over the whole body, as keepalived's genhash computes
	// it; the regular expression sees its first maxReply bytes, and
	// without a digest no more than those are read.
	limit := int64(maxReply)
	if u.Digest != "" {
		limit = maxDigestBody + 1
	}
	var head bytes.Buffer
	sum := md5.New()
	n, err := io.Copy(io.MultiWriter(sum, &limitedBuffer{&head, maxReply}), io.LimitReader(resp.Body, limit))
	if err != nil {
		return fmt.Errorf("%s %s: reading the body: %w", method, req.URL, err)
	}
	if u.Digest != "" {
		if n > maxDigestBody {
			return fmt.Errorf("%s %s: the body is larger than %d MiB, too large for a digest", method, req.URL, maxDigestBody>>20)
		}
		if got := hex.EncodeToString(sum.Sum(nil)); !strings.EqualFold(got, u.Digest) {
			return fmt.Errorf("%s %s: body digest %s, want %s", method, req.URL, got, strings.ToLower(u.Digest))
		}
	}
	if re != nil && !re.Match(head.Bytes()) {
		return fmt.Errorf("%s %s: body does not match %q", method, req.URL, u.BodyRegex)
	}
	return nil
}

// limitedBuffer keeps the first max bytes written to it and takes the
// rest without keeping them.
type limitedBuffer struct {
	b   *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.b.Len(); room > 0 {
		l.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
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
