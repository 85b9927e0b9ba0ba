package model

import (
	"fmt"
	"slices"
	"strings"

	"github.com/lvsctl/lvsctl/lvs"
)

// The types of HTTP probes.
const (
	CheckHTTP  = "http"
	CheckHTTPS = "https"
)

// HTTP probe defaults.
const (
	DefaultHTTPMethod = "GET"
	DefaultHTTPPath   = "/"
)

// HTTPProbe sends one request and checks the status and, when asked, the
// body of the response. Redirects are answers, not followed.
type HTTPProbe struct {
	Method string `setting:"method"` // default GET
	Path   string `setting:"path"`   // default /
	// Host is the Host header (and, for https, the TLS server name); ""
	// uses the real server's address.
	Host string `setting:"host"`
	// Status are the accepted status codes; empty accepts any 2xx or 3xx.
	Status []int `setting:"status"`
	// BodyRegex is a regular expression the body must match, when set.
	BodyRegex string `setting:"body_regex"`
}

// Type implements [Probe].
func (HTTPProbe) Type() string { return CheckHTTP }

// Default implements [Probe].
func (HTTPProbe) Default(lvs.ServiceKey) Probe {
	return HTTPProbe{Method: DefaultHTTPMethod, Path: DefaultHTTPPath}
}

// Validate implements [Probe].
func (p HTTPProbe) Validate(func(string) bool) []Problem {
	var ps []Problem
	if m := p.Method; m == "" || strings.ToUpper(m) != m || strings.ContainsAny(m, " \t\r\n") {
		ps = append(ps, Problem{Setting: "method", Summary: "Invalid HTTP method", Msg: fmt.Sprintf("%q is not an HTTP method; write it in capitals, such as \"GET\" or \"HEAD\"", m)})
	}
	if !strings.HasPrefix(p.Path, "/") || strings.ContainsAny(p.Path, " \t\r\n") {
		ps = append(ps, Problem{Setting: "path", Summary: "Invalid HTTP path", Msg: fmt.Sprintf("%q is not a request path; it starts with / and has no blanks (encode them as %%20)", p.Path)})
	}
	for i, c := range p.Status {
		if c < 100 || c > 599 {
			ps = append(ps, Problem{Setting: "status", Element: i + 1, Summary: "Invalid HTTP status", Msg: fmt.Sprintf("An HTTP status code is a number from 100 to 599, not %d", c)})
		}
	}
	if pr := regexProblem("body_regex", p.BodyRegex); pr != nil {
		ps = append(ps, *pr)
	}
	return ps
}

// normalize sorts the status codes and drops repeats.
func (p HTTPProbe) normalize() Probe {
	p.Status = slices.Compact(slices.Sorted(slices.Values(p.Status)))
	return p
}

// HTTPSProbe is an [HTTPProbe] over TLS.
type HTTPSProbe struct {
	HTTPProbe
	// TLSVerify verifies the certificate (default true).
	TLSVerify bool `setting:"tls_verify"`
}

// Type implements [Probe].
func (HTTPSProbe) Type() string { return CheckHTTPS }

// Default implements [Probe].
func (HTTPSProbe) Default(k lvs.ServiceKey) Probe {
	return HTTPSProbe{HTTPProbe: HTTPProbe{}.Default(k).(HTTPProbe), TLSVerify: true}
}

// Validate implements [Probe].
func (p HTTPSProbe) Validate(written func(string) bool) []Problem {
	return p.HTTPProbe.Validate(written)
}

func (p HTTPSProbe) normalize() Probe {
	p.HTTPProbe = p.HTTPProbe.normalize().(HTTPProbe)
	return p
}
