package model

import (
	"encoding/hex"
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

// DefaultURLStatus are the status codes a url block accepts when it
// lists none: 200 to 299, as keepalived's HTTP_GET.
var DefaultURLStatus = [2]int{200, 299}

// HTTPProbe sends one request and checks the status and, when asked, the
// body of the response; or, with url blocks, one request per url, every
// one of which must pass (keepalived's HTTP_GET and SSL_GET). Redirects
// are answers, not followed.
type HTTPProbe struct {
	Method string `setting:"method"` // default GET
	Path   string `setting:"path"`   // default /; not used with url blocks
	// Host is the Host header (and, for https, the TLS server name); ""
	// uses the real server's address. A url block may have its own.
	Host string `setting:"host"`
	// Status are the accepted status codes; empty accepts any 2xx or 3xx.
	// Not used with url blocks, which have their own.
	Status []int `setting:"status"`
	// BodyRegex is a regular expression the body must match, when set.
	// Not used with url blocks, which have their own.
	BodyRegex string `setting:"body_regex"`
	// URLs, when there are any, are the requests the check sends in
	// place of Path, Status and BodyRegex: each in turn, all of them
	// passing for the check to pass.
	URLs []HTTPURL `setting:"url"`
}

// An HTTPURL is one request of an HTTP check with url blocks, and what
// its response must be: keepalived's url block.
type HTTPURL struct {
	// Path is the request path; required.
	Path string `setting:"path"`
	// Host is the Host header (and, for https, the TLS server name) of
	// this request; "" uses the check's.
	Host string `setting:"host"`
	// Status are the accepted status codes; empty accepts 200 to 299
	// (DefaultURLStatus), as keepalived does.
	Status []int `setting:"status"`
	// Digest is the MD5 of the response body in hexadecimal, as
	// keepalived's genhash prints it (and md5sum of the body); "" does
	// not check the body's digest.
	Digest string `setting:"digest"`
	// BodyRegex is a regular expression the body must match, when set.
	BodyRegex string `setting:"body_regex"`
}

// StatusOK reports whether the url accepts the status code c.
func (u HTTPURL) StatusOK(c int) bool {
	if len(u.Status) == 0 {
		return c >= DefaultURLStatus[0] && c <= DefaultURLStatus[1]
	}
	return slices.Contains(u.Status, c)
}

// Type implements [Probe].
func (HTTPProbe) Type() string { return CheckHTTP }

// Default implements [Probe].
func (HTTPProbe) Default(lvs.ServiceKey) Probe {
	return HTTPProbe{Method: DefaultHTTPMethod, Path: DefaultHTTPPath}
}

// Validate implements [Probe].
func (p HTTPProbe) Validate(written func(string) bool) []Problem {
	var ps []Problem
	if m := p.Method; m == "" || strings.ToUpper(m) != m || strings.ContainsAny(m, " \t\r\n") {
		ps = append(ps, Problem{Setting: "method", Summary: "Invalid HTTP method", Msg: fmt.Sprintf("%q is not an HTTP method; write it in capitals, such as \"GET\" or \"HEAD\"", m)})
	}
	if pr := pathProblem(p.Path); pr != nil {
		pr.Setting = "path"
		ps = append(ps, *pr)
	}
	ps = append(ps, statusProblems(p.Status, "status", 0)...)
	if pr := regexProblem("body_regex", p.BodyRegex); pr != nil {
		ps = append(ps, *pr)
	}
	if pr := hostProblem(p.Host); pr != nil {
		pr.Setting = "host"
		ps = append(ps, *pr)
	}
	if len(p.URLs) == 0 {
		return ps
	}
	// With url blocks, what the check says of one request is each url's
	// to say: written beside them it would be ignored.
	if written == nil {
		written = func(name string) bool {
			switch name {
			case "path":
				return p.Path != DefaultHTTPPath
			case "status":
				return len(p.Status) > 0
			}
			return p.BodyRegex != ""
		}
	}
	for _, name := range []string{"path", "status", "body_regex"} {
		if written(name) {
			ps = append(ps, Problem{Setting: name, Summary: "Setting beside url blocks", Msg: fmt.Sprintf("With url blocks each url has its own %s; move it into the url blocks, or remove the url blocks", name)})
		}
	}
	for i, u := range p.URLs {
		el := func(pr Problem, field string) Problem {
			pr.Setting, pr.Element, pr.Field = "url", i+1, field
			return pr
		}
		if u.Path == "" {
			ps = append(ps, el(Problem{Summary: "Missing url path", Msg: `A url block needs path, the request path, as in path = "/health"`}, ""))
		} else if pr := pathProblem(u.Path); pr != nil {
			ps = append(ps, el(*pr, "path"))
		}
		if pr := hostProblem(u.Host); pr != nil {
			ps = append(ps, el(*pr, "host"))
		}
		ps = append(ps, statusProblems(u.Status, "url", i+1)...)
		if u.Digest != "" {
			if b, err := hex.DecodeString(u.Digest); err != nil || len(b) != 16 {
				ps = append(ps, el(Problem{Summary: "Invalid digest", Msg: fmt.Sprintf("%q is not an MD5 digest; write the 32 hexadecimal digits genhash or md5sum prints for the body", u.Digest)}, "digest"))
			}
		}
		if pr := regexProblem("body_regex", u.BodyRegex); pr != nil {
			ps = append(ps, el(*pr, "body_regex"))
		}
	}
	return ps
}

// pathProblem returns the problem of a request path, if any.
func pathProblem(path string) *Problem {
	if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \t\r\n") {
		return &Problem{Summary: "Invalid HTTP path", Msg: fmt.Sprintf("%q is not a request path; it starts with / and has no blanks (encode them as %%20)", path)}
	}
	return nil
}

// hostProblem returns the problem of a Host header, if any.
func hostProblem(host string) *Problem {
	if strings.ContainsAny(host, " \t\r\n/") {
		return &Problem{Summary: "Invalid HTTP host", Msg: fmt.Sprintf("%q is not a host name; write a name such as \"www.example.com\", with a :port if the server expects one", host)}
	}
	return nil
}

// statusProblems returns the problems of a list of status codes, the
// setting name's, or the status of the url block at element (1-based)
// when element is not 0.
func statusProblems(codes []int, name string, element int) []Problem {
	var ps []Problem
	for i, c := range codes {
		if c < 100 || c > 599 {
			pr := Problem{Setting: name, Element: i + 1, Summary: "Invalid HTTP status", Msg: fmt.Sprintf("An HTTP status code is a number from 100 to 599, not %d", c)}
			if element > 0 {
				pr.Element, pr.Field = element, "status"
			}
			ps = append(ps, pr)
		}
	}
	return ps
}

// normalize sorts the status codes and drops repeats, and writes digests
// in lower case.
func (p HTTPProbe) normalize() Probe {
	p.Status = slices.Compact(slices.Sorted(slices.Values(p.Status)))
	if p.URLs != nil {
		p.URLs = slices.Clone(p.URLs)
		for i := range p.URLs {
			u := &p.URLs[i]
			u.Status = slices.Compact(slices.Sorted(slices.Values(u.Status)))
			u.Digest = strings.ToLower(u.Digest)
		}
	}
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
