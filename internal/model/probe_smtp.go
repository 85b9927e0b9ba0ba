package model

import (
	"fmt"
	"strings"

	"github.com/lvsctl/lvsctl/lvs"
)

// CheckSMTP is the type of an SMTP conversation: keepalived's SMTP_CHECK.
const CheckSMTP = "smtp"

// SMTPProbe connects, expects the 220 greeting, sends HELO HeloName and
// expects 250, then says QUIT and waits for the reply.
type SMTPProbe struct {
	// HeloName is the name the probe gives in HELO; "" gives the
	// director's host name.
	HeloName string `setting:"helo_name"`
}

// Type implements [Probe].
func (SMTPProbe) Type() string { return CheckSMTP }

// Default implements [Probe].
func (SMTPProbe) Default(lvs.ServiceKey) Probe { return SMTPProbe{} }

// Validate implements [Probe].
func (p SMTPProbe) Validate(func(string) bool) []Problem {
	if strings.ContainsAny(p.HeloName, " \t\r\n") {
		return []Problem{{Setting: "helo_name", Summary: "Invalid HELO name", Msg: fmt.Sprintf("%q is not a domain name; HELO takes one word, such as \"director1.example.com\"", p.HeloName)}}
	}
	return nil
}
