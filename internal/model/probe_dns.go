package model

import (
	"fmt"
	"slices"
	"strings"

	"github.com/lvsctl/lvsctl/lvs"
)

// CheckDNS is the type of a DNS query.
const CheckDNS = "dns"

// DefaultDNSQueryType is the record type a dns check asks for by default.
const DefaultDNSQueryType = "A"

// DNSQueryTypes are the record types a dns check may ask for.
var DNSQueryTypes = []string{"A", "AAAA", "CNAME", "MX", "NS", "PTR", "SOA", "SRV", "TXT"}

// DNSProbe asks the real server for QueryName's records of QueryType,
// class IN.
type DNSProbe struct {
	// Protocol is the transport, lvs.UDP or lvs.TCP; it defaults to the
	// service's protocol (TCP for fwmark services). A truncated UDP answer
	// is asked again over TCP.
	Protocol  lvs.Protocol `setting:"protocol"`
	QueryName string       `setting:"query_name"`
	QueryType string       `setting:"query_type"` // one of DNSQueryTypes; default A
}

// Type implements [Probe].
func (DNSProbe) Type() string { return CheckDNS }

// Default implements [Probe].
func (DNSProbe) Default(k lvs.ServiceKey) Probe {
	return DNSProbe{Protocol: DefaultCheckProtocol(k), QueryType: DefaultDNSQueryType}
}

// Validate implements [Probe].
func (p DNSProbe) Validate(func(string) bool) []Problem {
	var ps []Problem
	if p.QueryName == "" {
		ps = append(ps, Problem{Setting: "query_name", Summary: "Missing DNS query name", Msg: `A dns check needs query_name, the name to resolve, as in query_name = "www.example.com"`})
	}
	if !slices.Contains(DNSQueryTypes, p.QueryType) {
		ps = append(ps, Problem{Setting: "query_type", Summary: "Invalid DNS query type", Msg: fmt.Sprintf("%q is not a query type lvsctl asks; use one of %s", p.QueryType, quoteList(DNSQueryTypes))})
	}
	return ps
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
