package health

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/lvs"
)

// dnsTypes are the record types of model.DNSQueryTypes (RFC 1035, 3596,
// 2782).
var dnsTypes = map[string]dnsmessage.Type{
	"A": dnsmessage.TypeA, "NS": dnsmessage.TypeNS, "CNAME": dnsmessage.TypeCNAME,
	"SOA": dnsmessage.TypeSOA, "PTR": dnsmessage.TypePTR, "MX": dnsmessage.TypeMX,
	"TXT": dnsmessage.TypeTXT, "AAAA": dnsmessage.TypeAAAA, "SRV": dnsmessage.TypeSRV,
}

// dnsTypeName is the name of a record type as config spells it.
func dnsTypeName(t dnsmessage.Type) string {
	for name, v := range dnsTypes {
		if v == t {
			return name
		}
	}
	return fmt.Sprintf("TYPE%d", uint16(t))
}

var dnsRcodes = []string{"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"}

// maxCNAMEHops bounds how many CNAMEs of one answer the checker follows
// from the name asked to the record asked for.
const maxCNAMEHops = 8

// errTruncated is a reply with the TC bit: the server had more to say than
// fits in a UDP datagram.
var errTruncated = errors.New("the DNS answer is truncated (TC bit set)")

func init() { register(probeDNS, nil) }

// probeDNS asks addr for p.QueryName/p.QueryType over UDP (or TCP when
// p.Protocol is TCP) and passes on an answer that [checkDNSReply]
// accepts. A UDP answer with the TC bit set is asked again over TCP on the
// same port, as resolvers do; the probe fails when that fails, or when the
// TCP answer is truncated too.
func probeDNS(ctx context.Context, p model.DNSProbe, _ *model.HealthCheck, addr netip.AddrPort) error {
	qtype, ok := dnsTypes[strings.ToUpper(p.QueryType)]
	if !ok {
		return fmt.Errorf("unknown DNS query type %q", p.QueryType)
	}
	msg, q, err := dnsQuery(p.QueryName, qtype)
	if err != nil {
		return err
	}
	if p.Protocol == lvs.TCP {
		resp, err := exchangeDNSTCP(ctx, addr, msg)
		if err != nil {
			return err
		}
		return checkDNSReply(resp, q)
	}
	resp, err := exchangeDNSUDP(ctx, addr, msg)
	if err != nil {
		return err
	}
	err = checkDNSReply(resp, q)
	if !errors.Is(err, errTruncated) {
		return err
	}
	resp, err = exchangeDNSTCP(ctx, addr, msg)
	if err != nil {
		return fmt.Errorf("the UDP answer was truncated and asking again over TCP failed: %w", err)
	}
	if err := checkDNSReply(resp, q); err != nil {
		return fmt.Errorf("asked again over TCP after a truncated UDP answer: %w", err)
	}
	return nil
}

func exchangeDNSUDP(ctx context.Context, addr netip.AddrPort, msg []byte) ([]byte, error) {
	c, err := dial(ctx, "udp", addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if _, err := c.Write(msg); err != nil {
		return nil, fmt.Errorf("send to %s: %w", addr, err)
	}
	buf := make([]byte, 65535)
	n, err := c.Read(buf)
	if err != nil {
		return nil, fmt.Errorf("reading the DNS answer: %w", err)
	}
	return buf[:n], nil
}

// exchangeDNSTCP sends msg with its two-byte length (RFC 1035 4.2.2) and
// reads one answer framed the same way.
func exchangeDNSTCP(ctx context.Context, addr netip.AddrPort, msg []byte) ([]byte, error) {
	c, err := dial(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if _, err := c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(msg))), msg...)); err != nil {
		return nil, fmt.Errorf("send to %s: %w", addr, err)
	}
	var l [2]byte
	if _, err := io.ReadFull(c, l[:]); err != nil {
		return nil, fmt.Errorf("reading the DNS answer: %w", err)
	}
	resp := make([]byte, binary.BigEndian.Uint16(l[:]))
	if _, err := io.ReadFull(c, resp); err != nil {
		return nil, fmt.Errorf("reading the DNS answer: %w", err)
	}
	return resp, nil
}

// dnsQuestion is what a probe asked: the reply must carry the same ID and
// question.
type dnsQuestion struct {
	id uint16
	q  dnsmessage.Question
}

// dnsQuery builds a recursion-desired query for name (with or without its
// final dot) and type, class IN, with a random ID.
func dnsQuery(name string, qtype dnsmessage.Type) ([]byte, dnsQuestion, error) {
	fqdn := strings.TrimSuffix(name, ".") + "."
	n, err := dnsmessage.NewName(fqdn)
	if err != nil {
		return nil, dnsQuestion{}, fmt.Errorf("query_name %q is not a valid DNS name: %v", name, err)
	}
	var idb [2]byte
	_, _ = rand.Read(idb[:])
	q := dnsQuestion{
		id: binary.BigEndian.Uint16(idb[:]),
		q:  dnsmessage.Question{Name: n, Type: qtype, Class: dnsmessage.ClassINET},
	}
	b := dnsmessage.NewBuilder(make([]byte, 0, 64), dnsmessage.Header{ID: q.id, RecursionDesired: true})
	if err := b.StartQuestions(); err != nil {
		return nil, dnsQuestion{}, err
	}
	if err := b.Question(q.q); err != nil {
		return nil, dnsQuestion{}, fmt.Errorf("query_name %q is not a valid DNS name: %v", name, err)
	}
	msg, err := b.Finish()
	if err != nil {
		return nil, dnsQuestion{}, err
	}
	return msg, q, nil
}

// checkDNSReply accepts resp as the answer to q when:
//
//   - the whole header and every record header parse (a message that does
//     not, such as a header that announces records the message does not
//     carry, fails with dnsmessage's reason);
//   - it has q's ID, is a response to a standard query, and has RCODE
//     NOERROR;
//   - its question section is exactly q's question: one entry, the same
//     name (ASCII case-insensitively, as DNS compares names), type and class
//     IN;
//   - its answer section holds at least one class-IN record of the type
//     asked for, owned either by the name asked for or by a name that a
//     chain of at most [maxCNAMEHops] class-IN CNAME records in the same
//     answer section leads to from it (the records of a chain may come in
//     any order; a loop fails). Records of other names and types are
//     skipped; the body of each record used must parse.
//
// A reply with the TC bit set fails with [errTruncated], before anything
// else is looked at past the ID: probeDNS asks again over TCP.
func checkDNSReply(resp []byte, q dnsQuestion) error {
	what := fmt.Sprintf("%s %s", dnsDisplayName(q.q.Name), dnsTypeName(q.q.Type))
	var p dnsmessage.Parser
	h, err := p.Start(resp)
	if err != nil {
		return fmt.Errorf("malformed DNS answer (%d bytes): %v", len(resp), err)
	}
	switch {
	case h.ID != q.id:
		return errors.New("the DNS answer has another query's ID")
	case !h.Response:
		return errors.New("the DNS answer is not a response")
	case h.Truncated:
		return errTruncated
	case h.OpCode != 0:
		return fmt.Errorf("the DNS answer has opcode %d, not that of a standard query", h.OpCode)
	case h.RCode != dnsmessage.RCodeSuccess:
		rc := int(h.RCode)
		s := fmt.Sprintf("RCODE %d", rc)
		if rc < len(dnsRcodes) {
			s = dnsRcodes[rc]
		}
		return fmt.Errorf("%s: %s", what, s)
	}
	n := 0
	for {
		rq, err := p.Question()
		if errors.Is(err, dnsmessage.ErrSectionDone) {
			break
		}
		if err != nil {
			return fmt.Errorf("malformed DNS answer: %v", err)
		}
		n++
		if n > 1 {
			return fmt.Errorf("the DNS answer has more than one question; %s was asked alone", what)
		}
		if !sameDNSName(rq.Name, q.q.Name) || rq.Type != q.q.Type || rq.Class != q.q.Class {
			return fmt.Errorf("the DNS answer is for another question (%s %s %s); %s IN was asked", dnsDisplayName(rq.Name), dnsTypeName(rq.Type), dnsClassName(rq.Class), what)
		}
	}
	if n == 0 {
		return fmt.Errorf("the DNS answer does not repeat the question %s", what)
	}
	// found: owner names (lower-cased) with a record of the asked type;
	// cnames: owner name to target, both lower-cased.
	found := map[string]bool{}
	cnames := map[string]string{}
	records := 0
	for {
		rh, err := p.AnswerHeader()
		if errors.Is(err, dnsmessage.ErrSectionDone) {
			break
		}
		if err != nil {
			return fmt.Errorf("malformed DNS answer: %v", err)
		}
		records++
		switch {
		case rh.Class != dnsmessage.ClassINET:
		case rh.Type == q.q.Type:
			// A copy parses the body, so that p then checks that the
			// record's length stays within the message as it skips it.
			body := p
			if _, err := body.Answer(); err != nil {
				return fmt.Errorf("malformed DNS answer: %s record of %s: %v", dnsTypeName(rh.Type), dnsDisplayName(rh.Name), err)
			}
			if want := wantLen(rh.Type); want >= 0 && int(rh.Length) != want {
				return fmt.Errorf("malformed DNS answer: %s record of %s is %d bytes long, not %d", dnsTypeName(rh.Type), dnsDisplayName(rh.Name), rh.Length, want)
			}
			found[lowerDNSName(rh.Name)] = true
		case rh.Type == dnsmessage.TypeCNAME:
			body := p
			r, err := body.CNAMEResource()
			if err != nil {
				return fmt.Errorf("malformed DNS answer: CNAME record of %s: %v", dnsDisplayName(rh.Name), err)
			}
			cnames[lowerDNSName(rh.Name)] = lowerDNSName(r.CNAME)
		}
		if err := p.SkipAnswer(); err != nil {
			return fmt.Errorf("malformed DNS answer: %v", err)
		}
	}
	if err := p.SkipAllAuthorities(); err != nil {
		return fmt.Errorf("malformed DNS answer: %v", err)
	}
	if err := p.SkipAllAdditionals(); err != nil {
		return fmt.Errorf("malformed DNS answer: %v", err)
	}
	if records == 0 {
		return fmt.Errorf("%s: no records in the answer", what)
	}
	name := lowerDNSName(q.q.Name)
	for hops := 0; ; hops++ {
		if found[name] {
			return nil
		}
		next, ok := cnames[name]
		switch {
		case !ok && hops == 0:
			return fmt.Errorf("%s: no %s record for the name in the answer (%d other records)", what, dnsTypeName(q.q.Type), records)
		case !ok:
			return fmt.Errorf("%s: the answer's CNAMEs lead to %s, which has no %s record in the answer", what, strings.TrimSuffix(name, "."), dnsTypeName(q.q.Type))
		case hops == maxCNAMEHops:
			return fmt.Errorf("%s: more than %d CNAMEs in a row in the answer (a loop?)", what, maxCNAMEHops)
		}
		name = next
	}
}

func dnsClassName(c dnsmessage.Class) string {
	if c == dnsmessage.ClassINET {
		return "IN"
	}
	return fmt.Sprintf("CLASS%d", uint16(c))
}

// wantLen is the RDATA length of a record of type t, or -1 when it varies.
func wantLen(t dnsmessage.Type) int {
	switch t {
	case dnsmessage.TypeA:
		return 4
	case dnsmessage.TypeAAAA:
		return 16
	}
	return -1
}

// lowerDNSName is n's text with ASCII letters lower-cased: DNS compares
// names case-insensitively in ASCII only (RFC 4343).
func lowerDNSName(n dnsmessage.Name) string {
	for i, c := range n.Data[:n.Length] {
		if 'A' <= c && c <= 'Z' {
			n.Data[i] = c + 'a' - 'A'
		}
	}
	return string(n.Data[:n.Length])
}

func sameDNSName(a, b dnsmessage.Name) bool { return lowerDNSName(a) == lowerDNSName(b) }

// dnsDisplayName writes n for a message: without its final dot (except for
// the root), with bytes that are not printable ASCII escaped, so that a
// hostile server cannot put control characters into logs.
func dnsDisplayName(n dnsmessage.Name) string {
	s := string(n.Data[:n.Length])
	if s != "." {
		s = strings.TrimSuffix(s, ".")
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '\\' {
			fmt.Fprintf(&b, "\\%03d", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
