package model

import (
	"time"

	"github.com/lvsctl/lvsctl/lvs"
)

// Health check types.
const (
	CheckTCP        = "tcp"         // a TCP connect
	CheckSendExpect = "send_expect" // nanny's probe: send, then match the reply, over TCP or UDP
	CheckHTTP       = "http"
	CheckHTTPS      = "https"
	CheckDNS        = "dns"
	CheckExec       = "exec" // an external program, run without a shell
)

// CheckTypes are the health check types.
var CheckTypes = []string{CheckTCP, CheckSendExpect, CheckHTTP, CheckHTTPS, CheckDNS, CheckExec}

// What a health check does with a real server that fails it.
const (
	OnFailureRemove  = "remove"  // delete it from the service (nanny's default)
	OnFailureQuiesce = "quiesce" // set its weight to 0 so its connections drain (nanny -q)
)

// Health check defaults, in effect when a source does not say.
const (
	DefaultCheckInterval = 5 * time.Second
	DefaultCheckRise     = 1
	DefaultCheckFall     = 1
	DefaultHTTPMethod    = "GET"
	DefaultHTTPPath      = "/"
	DefaultDNSQueryType  = "A"
)

// DNSQueryTypes are the record types a dns check may ask for.
var DNSQueryTypes = []string{"A", "AAAA", "CNAME", "MX", "NS", "PTR", "SOA", "SRV", "TXT"}

// A HealthCheck is how one real server is probed: its virtual server's
// check, with the real server's own settings merged in when it has any.
// Every field holds the value in effect, defaults filled in.
type HealthCheck struct {
	Type string // one of CheckTypes

	// Protocol is the transport of a send_expect probe: lvs.TCP or lvs.UDP.
	// It defaults to the service's protocol (TCP for fwmark services).
	Protocol lvs.Protocol
	// Port is the port probed; 0 means the real server's own port.
	Port uint16

	// Send is sent after connecting (send_expect); the bytes as they are,
	// escapes such as \r\n already decoded.
	Send string
	// Expect is matched against the start of the reply (send_expect; "*"
	// accepts any reply), or, for exec, compared with the program's whole
	// output as nanny did: no output at all also passes.
	Expect string
	// ExpectRegex is a regular expression the reply must match (send_expect).
	ExpectRegex string
	// Program is the exec command line, split on blanks and run without a
	// shell; %h and %p are replaced by the real server's address and port.
	Program string

	// HTTP and HTTPS.
	Method    string // default GET
	Path      string // default /
	Host      string // Host header; "" uses the real server's address
	Status    []int  // accepted status codes; empty accepts any 2xx or 3xx
	BodyRegex string // the body must match, when set
	TLSVerify bool   // https: verify the certificate (default true)

	// DNS.
	QueryName string
	QueryType string // default A

	Interval  time.Duration // between probes; default 5s
	Timeout   time.Duration // of one probe; default the interval
	Rise      int           // consecutive passes to come back; default 1
	Fall      int           // consecutive failures to go out; default 1
	OnFailure string        // OnFailureRemove (default) or OnFailureQuiesce
}

// DefaultHealthCheck returns a check of type typ with every default set.
func DefaultHealthCheck(typ string) HealthCheck {
	hc := HealthCheck{
		Type:      typ,
		Protocol:  lvs.TCP,
		Interval:  DefaultCheckInterval,
		Timeout:   DefaultCheckInterval,
		Rise:      DefaultCheckRise,
		Fall:      DefaultCheckFall,
		OnFailure: OnFailureRemove,
		TLSVerify: true,
	}
	switch typ {
	case CheckHTTP, CheckHTTPS:
		hc.Method, hc.Path = DefaultHTTPMethod, DefaultHTTPPath
	case CheckDNS:
		hc.QueryType = DefaultDNSQueryType
	}
	return hc
}

// DefaultCheckProtocol is the probe protocol of a service's checks when
// none is given: UDP for UDP services, TCP otherwise.
func DefaultCheckProtocol(k lvs.ServiceKey) lvs.Protocol {
	if k.Protocol == lvs.UDP {
		return lvs.UDP
	}
	return lvs.TCP
}
