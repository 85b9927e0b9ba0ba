package health

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/lvs"
)

// serveDNS runs a fake name server on 127.0.0.1: udp answers the datagrams
// and, when tcp is not nil, tcp answers queries over TCP on the same port
// (each gets the query and returns the reply; nil sends nothing).
func serveDNS(t *testing.T, udp, tcp func(q []byte) []byte) netip.AddrPort {
	t.Helper()
	if tcp == nil {
		return serveUDP(t, udp)
	}
	for range 20 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		pc, err := net.ListenPacket("udp", ln.Addr().String())
		if err != nil {
			ln.Close() // the UDP port is taken: try another
			continue
		}
		serveUDPOn(t, pc, udp)
		return serveTCPOn(t, ln, dnsOverTCP(tcp))
	}
	t.Fatal("no port free for both UDP and TCP")
	return netip.AddrPort{}
}

func mustName(s string) dnsmessage.Name { return dnsmessage.MustNewName(s) }

// rr is one answer record.
func rr(name string, body dnsmessage.ResourceBody) dnsmessage.Resource {
	h := dnsmessage.ResourceHeader{Name: mustName(name), Class: dnsmessage.ClassINET, TTL: 60}
	switch body.(type) {
	case *dnsmessage.AResource:
		h.Type = dnsmessage.TypeA
	case *dnsmessage.AAAAResource:
		h.Type = dnsmessage.TypeAAAA
	case *dnsmessage.CNAMEResource:
		h.Type = dnsmessage.TypeCNAME
	case *dnsmessage.MXResource:
		h.Type = dnsmessage.TypeMX
	}
	return dnsmessage.Resource{Header: h, Body: body}
}

func aRR(name string) dnsmessage.Resource {
	return rr(name, &dnsmessage.AResource{A: [4]byte{127, 0, 0, 1}})
}

func cnameRR(name, target string) dnsmessage.Resource {
	return rr(name, &dnsmessage.CNAMEResource{CNAME: mustName(target)})
}

// respond answers query q with its ID and question, the answers given,
// changed by mod (when not nil) before packing.
func respond(answers []dnsmessage.Resource, mod func(*dnsmessage.Message)) func([]byte) []byte {
	return func(q []byte) []byte {
		var m dnsmessage.Message
		if err := m.Unpack(q); err != nil {
			return nil
		}
		m.Header.Response, m.Header.RecursionAvailable = true, true
		m.Answers = answers
		if mod != nil {
			mod(&m)
		}
		b, err := m.Pack()
		if err != nil {
			panic(err)
		}
		return b
	}
}

// raw answers with the query's ID followed by rest.
func raw(rest string) func([]byte) []byte {
	return func(q []byte) []byte { return append([]byte{q[0], q[1]}, rest...) }
}

func TestProbeDNSReplies(t *testing.T) {
	udp := func(name, typ string) func(*model.HealthCheck) {
		return set(func(p *model.DNSProbe) { p.Protocol, p.QueryName, p.QueryType = lvs.UDP, name, typ })
	}
	tcp := func(name, typ string) func(*model.HealthCheck) {
		return set(func(p *model.DNSProbe) { p.Protocol, p.QueryName, p.QueryType = lvs.TCP, name, typ })
	}
	ok := []dnsmessage.Resource{aRR("example.com.")}
	truncated := respond(nil, func(m *dnsmessage.Message) { m.Header.Truncated = true })
	// The 65,535 answers of the issue, after a question that matches.
	announce65535 := func(q []byte) []byte {
		r := respond(nil, nil)(q)
		binary.BigEndian.PutUint16(r[6:], 65535)
		return r
	}
	tests := []struct {
		name     string
		udp, tcp func([]byte) []byte
		mod      func(*model.HealthCheck)
		want     string
	}{
		{"answered", respond(ok, nil), nil, udp("example.com", "A"), ""},
		{"names compare case-insensitively", respond([]dnsmessage.Resource{aRR("EXAMPLE.com.")}, func(m *dnsmessage.Message) {
			m.Questions[0].Name = mustName("Example.COM.")
		}), nil, udp("example.com.", "A"), ""},
		{"other records are skipped", respond([]dnsmessage.Resource{
			rr("example.com.", &dnsmessage.AAAAResource{}), cnameRR("other.example.", "x.example."), aRR("example.com."),
		}, nil), nil, udp("example.com", "A"), ""},
		{"CNAME chain in any order", respond([]dnsmessage.Resource{
			aRR("b.example.org."), cnameRR("a.example.net.", "B.example.org."), cnameRR("example.com.", "a.example.net."),
		}, nil), nil, udp("example.com", "A"), ""},
		{"CNAME asked for", respond([]dnsmessage.Resource{cnameRR("www.example.com.", "example.com.")}, nil), nil, udp("www.example.com", "CNAME"), ""},
		{"MX", respond([]dnsmessage.Resource{rr("example.com.", &dnsmessage.MXResource{Pref: 10, MX: mustName("mail.example.com.")})}, nil), nil, udp("example.com", "MX"), ""},

		// The refusals.
		{"65535 answers announced, nothing after the header", raw("\x81\x80\x00\x00\xff\xff\x00\x00\x00\x00"), nil, udp("example.com", "A"), "does not repeat the question"},
		{"65535 answers announced after the question", announce65535, nil, udp("example.com", "A"), "malformed DNS answer"},
		{"shorter than a header", raw("\x81\x80\x00"), nil, udp("example.com", "A"), "malformed DNS answer"},
		{"wrong ID", func(q []byte) []byte {
			r := respond(ok, nil)(q)
			r[1]++
			return r
		}, nil, udp("example.com", "A"), "another query's ID"},
		{"not a response", respond(ok, func(m *dnsmessage.Message) { m.Header.Response = false }), nil, udp("example.com", "A"), "not a response"},
		{"SERVFAIL", respond(nil, func(m *dnsmessage.Message) { m.Header.RCode = dnsmessage.RCodeServerFailure }), nil, udp("example.com", "A"), "example.com A: SERVFAIL"},
		{"wrong question name", respond(ok, func(m *dnsmessage.Message) { m.Questions[0].Name = mustName("example.org.") }), nil, udp("example.com", "A"), "another question (example.org A IN)"},
		{"wrong question type", respond(ok, func(m *dnsmessage.Message) { m.Questions[0].Type = dnsmessage.TypeAAAA }), nil, udp("example.com", "A"), "another question (example.com AAAA IN)"},
		{"wrong question class", respond(ok, func(m *dnsmessage.Message) { m.Questions[0].Class = dnsmessage.ClassCHAOS }), nil, udp("example.com", "A"), "another question (example.com A CLASS3)"},
		{"no question", respond(ok, func(m *dnsmessage.Message) { m.Questions = nil }), nil, udp("example.com", "A"), "does not repeat the question"},
		{"two questions", respond(ok, func(m *dnsmessage.Message) { m.Questions = append(m.Questions, m.Questions[0]) }), nil, udp("example.com", "A"), "more than one question"},
		{"no answer of the type", respond([]dnsmessage.Resource{rr("example.com.", &dnsmessage.AAAAResource{})}, nil), nil, udp("example.com", "A"), "no A record for the name in the answer (1 other records)"},
		{"answer for another name", respond([]dnsmessage.Resource{aRR("example.org.")}, nil), nil, udp("example.com", "A"), "no A record for the name"},
		{"answer of another class", respond([]dnsmessage.Resource{func() dnsmessage.Resource {
			r := aRR("example.com.")
			r.Header.Class = dnsmessage.ClassCHAOS
			return r
		}()}, nil), nil, udp("example.com", "A"), "no A record for the name"},
		{"CNAME to nothing", respond([]dnsmessage.Resource{cnameRR("example.com.", "a.example.net."), aRR("b.example.net.")}, nil), nil, udp("example.com", "A"),
			"the answer's CNAMEs lead to a.example.net, which has no A record in the answer"},
		{"CNAME loop", respond([]dnsmessage.Resource{cnameRR("example.com.", "a.example.net."), cnameRR("a.example.net.", "example.com.")}, nil), nil, udp("example.com", "A"),
			"more than 8 CNAMEs in a row"},
		{"A record of 2 bytes", func(q []byte) []byte {
			r := respond(nil, nil)(q)
			binary.BigEndian.PutUint16(r[6:], 1)
			return append(r, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 2, 127, 0)
		}, nil, udp("example.com", "A"), "malformed DNS answer"},
		{"record longer than the message", func(q []byte) []byte {
			r := respond(nil, nil)(q)
			binary.BigEndian.PutUint16(r[6:], 1)
			return append(r, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 40, 127, 0, 0, 1)
		}, nil, udp("example.com", "A"), "malformed DNS answer"},

		// Truncation: over UDP ask again over TCP, as resolvers do.
		{"TC set, the TCP answer passes", truncated, respond(ok, nil), udp("example.com", "A"), ""},
		{"TC set, the TCP answer has nothing", truncated, respond(nil, nil), udp("example.com", "A"),
			"asked again over TCP after a truncated UDP answer: example.com A: no records in the answer"},
		{"TC set, truncated over TCP too", truncated, truncated, udp("example.com", "A"), "truncated (TC bit set)"},
		{"TC set, no TCP", truncated, nil, udp("example.com", "A"), "the UDP answer was truncated and asking again over TCP failed: connect to"},
		{"TC set over TCP", nil, truncated, tcp("example.com", "A"), "truncated (TC bit set)"},
		{"over TCP", nil, respond(ok, nil), tcp("example.com", "A"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var addr netip.AddrPort
			if tt.udp == nil {
				addr = serveTCPDNS(t, tt.tcp)
			} else {
				addr = serveDNS(t, tt.udp, tt.tcp)
			}
			wantResult(t, Probe(context.Background(), check("dns", tt.mod), addr), tt.want)
		})
	}
}

// serveTCPDNS is a name server over TCP alone.
func serveTCPDNS(t *testing.T, tcp func([]byte) []byte) netip.AddrPort {
	return serveTCP(t, dnsOverTCP(tcp))
}

// dnsOverTCP answers a DNS query over TCP, each message after its length
// (RFC 1035 4.2.2), with tcp's reply.
func dnsOverTCP(tcp func(q []byte) []byte) func(net.Conn) {
	return func(c net.Conn) {
		var l [2]byte
		if _, err := io.ReadFull(c, l[:]); err != nil {
			return
		}
		q := make([]byte, binary.BigEndian.Uint16(l[:]))
		if _, err := io.ReadFull(c, q); err != nil {
			return
		}
		if r := tcp(q); r != nil {
			_, _ = c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(r))), r...))
		}
	}
}

// testQuestion is the question of the reply-checker tests and fuzz target.
func testQuestion(typ dnsmessage.Type) dnsQuestion {
	return dnsQuestion{id: 0x1234, q: dnsmessage.Question{Name: mustName("example.com."), Type: typ, Class: dnsmessage.ClassINET}}
}

func TestCheckDNSReplyEscapesNames(t *testing.T) {
	q := testQuestion(dnsmessage.TypeA)
	m := dnsmessage.Message{
		Header:    dnsmessage.Header{ID: q.id, Response: true},
		Questions: []dnsmessage.Question{{Name: mustName("evil\n\x1b[31m.example."), Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET}},
	}
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	err = checkDNSReply(b, q)
	if err == nil || strings.ContainsAny(err.Error(), "\n\x1b") || !strings.Contains(err.Error(), `evil\010\027[31m.example`) {
		t.Errorf("error %q", err)
	}
}

// TestCheckDNSReplyBounded feeds the checker a megabyte of records whose
// names expand, through compression pointers, to 192 bytes each: what it
// allocates stays within a small multiple of the input.
func TestCheckDNSReplyBounded(t *testing.T) {
	q := testQuestion(dnsmessage.TypeA)
	msg := []byte{0x12, 0x34, 0x81, 0x80, 0, 1, 0xff, 0xff, 0, 0, 0, 0}
	msg = append(msg, 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1)
	long := len(msg)
	for range 3 {
		msg = append(msg, 62)
		msg = append(msg, strings.Repeat("x", 62)...)
	}
	// The first record has the long name, a CNAME to itself.
	msg = append(msg, 0, 0, 5, 0, 1, 0, 0, 0, 60, 0, 2, 0xc0|byte(long>>8), byte(long))
	for i := range 65534 {
		// A CNAME from a distinct 3-byte label under the long name to the
		// long name itself.
		msg = append(msg, 3, 0x80|byte(i>>12), 0x80|byte(i>>6&63), 0x80|byte(i&63), 0xc0|byte(long>>8), byte(long), 0, 5, 0, 1, 0, 0, 0, 60, 0, 2, 0xc0|byte(long>>8), byte(long))
	}
	if len(msg) > 1<<21 {
		t.Fatalf("input of %d bytes", len(msg))
	}
	alloc := allocated(func() {
		err := checkDNSReply(msg, q)
		if err == nil || !strings.Contains(err.Error(), "no A record") {
			t.Errorf("checking a megabyte of CNAMEs: %v", err)
		}
	})
	if limit := uint64(64 * len(msg)); alloc > limit {
		t.Errorf("checking a %d-byte reply allocated %d bytes, more than %d", len(msg), alloc, limit)
	}
	t.Logf("%d bytes in, %d allocated", len(msg), alloc)
}

// allocated returns how many bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// FuzzCheckDNSReply feeds the reply checker arbitrary replies to the
// question "example.com. <typ> IN", ID 0x1234 (typ picks one of the types
// a check may ask). It must not panic, must say truncated only of a reply
// with the TC bit, and must accept only a reply whose header, question and
// some answer record are those an independent parse finds acceptable.
func FuzzCheckDNSReply(f *testing.F) {
	types := []dnsmessage.Type{dnsmessage.TypeA, dnsmessage.TypeAAAA, dnsmessage.TypeCNAME, dnsmessage.TypeMX,
		dnsmessage.TypeNS, dnsmessage.TypePTR, dnsmessage.TypeSOA, dnsmessage.TypeSRV, dnsmessage.TypeTXT}
	for _, seed := range dnsSeeds() {
		f.Add(seed, uint8(0))
	}
	f.Fuzz(func(t *testing.T, reply []byte, typ uint8) {
		q := testQuestion(types[int(typ)%len(types)])
		err := checkDNSReply(reply, q)
		var p dnsmessage.Parser
		h, herr := p.Start(reply)
		if errors.Is(err, errTruncated) && (herr != nil || !h.Truncated) {
			t.Fatalf("truncated, but the header says %+v, %v", h, herr)
		}
		if err != nil {
			if len(err.Error()) > 600 {
				t.Errorf("a %d-byte error", len(err.Error()))
			}
			return
		}
		if herr != nil || h.ID != q.id || !h.Response || h.Truncated || h.RCode != dnsmessage.RCodeSuccess {
			t.Fatalf("accepted a reply with header %+v, %v", h, herr)
		}
		qs, qerr := p.AllQuestions()
		if qerr != nil || len(qs) != 1 || !strings.EqualFold(qs[0].Name.String(), "example.com.") || qs[0].Type != q.q.Type || qs[0].Class != dnsmessage.ClassINET {
			t.Fatalf("accepted a reply with questions %v, %v", qs, qerr)
		}
		for {
			h, err := p.AnswerHeader()
			if err != nil {
				t.Fatalf("accepted a reply without an answer of the type: %v", err)
			}
			if h.Type == q.q.Type && h.Class == dnsmessage.ClassINET {
				return
			}
			if err := p.SkipAnswer(); err != nil {
				t.Fatalf("accepted a reply whose answers do not parse: %v", err)
			}
		}
	})
}

// dnsSeeds are replies to the fuzz target's question: ones it accepts and
// ones it refuses for each reason.
func dnsSeeds() [][]byte {
	q := testQuestion(dnsmessage.TypeA)
	query, err := (&dnsmessage.Message{Header: dnsmessage.Header{ID: q.id, RecursionDesired: true}, Questions: []dnsmessage.Question{q.q}}).Pack()
	if err != nil {
		panic(err)
	}
	ok := []dnsmessage.Resource{aRR("example.com.")}
	seeds := [][]byte{
		respond(ok, nil)(query),
		respond([]dnsmessage.Resource{cnameRR("example.com.", "a.example.net."), aRR("a.example.net.")}, nil)(query),
		respond([]dnsmessage.Resource{cnameRR("example.com.", "a.example.net."), cnameRR("a.example.net.", "example.com.")}, nil)(query),
		respond(nil, func(m *dnsmessage.Message) { m.Header.Truncated = true })(query),
		respond(nil, func(m *dnsmessage.Message) { m.Header.RCode = dnsmessage.RCodeNameError })(query),
		respond(ok, func(m *dnsmessage.Message) { m.Questions[0].Name = mustName("example.org.") })(query),
		respond([]dnsmessage.Resource{rr("example.com.", &dnsmessage.AAAAResource{})}, nil)(query),
		[]byte("\x12\x34\x81\x80\x00\x00\xff\xff\x00\x00\x00\x00"),
	}
	r := respond(nil, nil)(query)
	binary.BigEndian.PutUint16(r[6:], 65535)
	return append(seeds, r)
}
