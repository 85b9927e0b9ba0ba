package model

import "github.com/lvsctl/lvsctl/lvs"

// CheckSendExpect is the type of nanny's probe: send, then match the
// reply, over TCP or UDP.
const CheckSendExpect = "send_expect"

// SendExpectProbe sends Send and matches the reply with Expect or
// ExpectRegex.
type SendExpectProbe struct {
	// Protocol is the transport, lvs.TCP or lvs.UDP; it defaults to the
	// service's protocol (TCP for fwmark services).
	Protocol lvs.Protocol `setting:"protocol"`
	// Send is sent after connecting; the bytes as they are, escapes such
	// as \r\n already decoded.
	Send string `setting:"send"`
	// Expect is matched against the start of the reply; "*" accepts any
	// reply.
	Expect string `setting:"expect"`
	// ExpectRegex is a regular expression the reply must match.
	ExpectRegex string `setting:"expect_regex"`
}

// Type implements [Probe].
func (SendExpectProbe) Type() string { return CheckSendExpect }

// Default implements [Probe].
func (SendExpectProbe) Default(k lvs.ServiceKey) Probe {
	return SendExpectProbe{Protocol: DefaultCheckProtocol(k)}
}

// Validate implements [Probe].
func (p SendExpectProbe) Validate(written func(string) bool) []Problem {
	if written == nil {
		written = nonEmpty(p)
	}
	var ps []Problem
	if !written("send") && !written("expect") && !written("expect_regex") {
		ps = append(ps, Problem{Summary: "Nothing to send or expect", Msg: `A send_expect check needs send, expect or expect_regex; for a plain connect use type = "tcp"`})
	}
	if written("expect") && written("expect_regex") {
		ps = append(ps, Problem{Setting: "expect_regex", Summary: "Conflicting expectations", Msg: "Use expect (the reply starts with it) or expect_regex (the reply matches it), not both"})
	}
	if written("expect") && p.Expect == "" {
		ps = append(ps, Problem{Setting: "expect", Summary: "Empty expect", Msg: `An empty expect matches nothing useful; write "*" to accept any reply, or remove it`})
	}
	if pr := regexProblem("expect_regex", p.ExpectRegex); pr != nil {
		ps = append(ps, *pr)
	}
	return ps
}
