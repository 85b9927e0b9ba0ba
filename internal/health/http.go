package health

import (
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

	"github.com/lvsctl/lvsctl/internal/model"
)

func init() {
	register(probeHTTP, nil)
	register(probeHTTPS, nil)
}

// probeHTTPS is probeHTTP over TLS.
func probeHTTPS(ctx context.Context, p model.HTTPSProbe, _ *model.HealthCheck, addr netip.AddrPort) error {
	return probeHTTPOver(ctx, p.HTTPProbe, &tls.Config{InsecureSkipVerify: !p.TLSVerify, ServerName: hostOnly(p.Host)}, addr)
}

// probeHTTP sends p's request to addr and checks the response.
func probeHTTP(ctx context.Context, p model.HTTPProbe, _ *model.HealthCheck, addr netip.AddrPort) error {
	return probeHTTPOver(ctx, p, nil, addr)
}

// probeHTTPOver is probeHTTP, over TLS when tlsConf is not nil.
func probeHTTPOver(ctx context.Context, p model.HTTPProbe, tlsConf *tls.Config, addr netip.AddrPort) error {
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
		tr.TLSClientConfig = tlsConf
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport: tr,
		// A redirect is the real server's answer; following it would probe
		// somewhere else.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	path := p.Path
	if path == "" {
		path = "/"
	}
	method := p.Method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, method, scheme+"://"+addr.String()+path, nil)
	if err != nil {
		return fmt.Errorf("health check request: %w", err)
	}
	if p.Host != "" {
		req.Host = p.Host
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
	if len(p.Status) > 0 && !slices.Contains(p.Status, resp.StatusCode) {
		return fmt.Errorf("%s %s: status %d, want %s", method, req.URL, resp.StatusCode, joinInts(p.Status))
	}
	if len(p.Status) == 0 && (resp.StatusCode < 200 || resp.StatusCode > 399) {
		return fmt.Errorf("%s %s: status %d, want 2xx or 3xx", method, req.URL, resp.StatusCode)
	}
	if p.BodyRegex == "" {
		return nil
	}
	re, err := regexp.Compile(p.BodyRegex)
	if err != nil {
		return fmt.Errorf("body_regex %q: %w", p.BodyRegex, err)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReply))
	if err != nil {
		return fmt.Errorf("%s %s: reading the body: %w", method, req.URL, err)
	}
	if !re.Match(body) {
		return fmt.Errorf("%s %s: body does not match %q", method, req.URL, p.BodyRegex)
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
