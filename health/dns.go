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

	"github.com/lvsctl/lvsctl/config"
	"github.com/lvsctl/lvsctl/lvs"
)

// dnsTypes are the record type codes of config.DNSQueryTypes (RFC 1035,
// 3596, 2782).
var dnsTypes = map[string]uint16{
	"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28, "SRV": 33,
}

var dnsRcodes = []string{"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"}

// probeDNS asks addr for hc.QueryName/hc.QueryType over UDP (or TCP when
// the check's protocol is TCP) and passes when the answer has the query's
// ID, is a response, has RCODE NOERROR and at least one answer record: a
// name server that answers with nothing for the name it should serve is not
// healthy.
func probeDNS(ctx context.Context, hc *config.HealthCheck, addr netip.AddrPort) error {
	qtype, ok := dnsTypes[strings.ToUpper(hc.QueryType)]
	if !ok {
		return fmt.Errorf("unknown DNS query type %q", hc.QueryType)
	}
	q, id, err := dnsQuery(hc.QueryName, qtype)
	if err != nil {
		return err
	}
	network := "udp"
	if hc.Protocol == lvs.TCP {
		network = "tcp"
	}
	c, err := dial(ctx, network, addr)
	if err != nil {
		return err
	}
	defer c.Close()
	var resp []byte
	if network == "tcp" {
		msg := binary.BigEndian.AppendUint16(nil, uint16(len(q)))
		if _, err := c.Write(append(msg, q...)); err != nil {
			return fmt.Errorf("send to %s: %w", addr, err)
		}
		var l [2]byte
		if _, err := io.ReadFull(c, l[:]); err != nil {
			return fmt.Errorf("reading the DNS answer: %w", err)
		}
		resp = make([]byte, binary.BigEndian.Uint16(l[:]))
		if _, err := io.ReadFull(c, resp); err != nil {
			return fmt.Errorf("reading the DNS answer: %w", err)
		}
	} else {
		if _, err := c.Write(q); err != nil {
			return fmt.Errorf("send to %s: %w", addr, err)
		}
		buf := make([]byte, 65535)
		n, err := c.Read(buf)
		if err != nil {
			return fmt.Errorf("reading the DNS answer: %w", err)
		}
		resp = buf[:n]
	}
	return checkDNSAnswer(resp, id, hc.QueryName, strings.ToUpper(hc.QueryType))
}

// dnsQuery builds a recursion-desired query for name and type with a
// random ID.
func dnsQuery(name string, qtype uint16) ([]byte, uint16, error) {
	var idb [2]byte
	_, _ = rand.Read(idb[:])
	id := binary.BigEndian.Uint16(idb[:])
	msg := binary.BigEndian.AppendUint16(nil, id)
	msg = append(msg, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0) // RD; one question
	name = strings.TrimSuffix(name, ".")
	if name != "" {
		for _, label := range strings.Split(name, ".") {
			if len(label) == 0 || len(label) > 63 {
				return nil, 0, fmt.Errorf("query_name %q is not a valid DNS name", name)
			}
			msg = append(msg, byte(len(label)))
			msg = append(msg, label...)
		}
	}
	msg = append(msg, 0)
	msg = binary.BigEndian.AppendUint16(msg, qtype)
	msg = binary.BigEndian.AppendUint16(msg, 1) // IN
	return msg, id, nil
}

func checkDNSAnswer(resp []byte, id uint16, name, qtype string) error {
	if len(resp) < 12 {
		return errors.New("the DNS answer is shorter than its header")
	}
	if binary.BigEndian.Uint16(resp) != id {
		return errors.New("the DNS answer has another query's ID")
	}
	flags := binary.BigEndian.Uint16(resp[2:])
	if flags&0x8000 == 0 {
		return errors.New("the DNS answer is not a response")
	}
	if rc := int(flags & 0xf); rc != 0 {
		s := fmt.Sprintf("RCODE %d", rc)
		if rc < len(dnsRcodes) {
			s = dnsRcodes[rc]
		}
		return fmt.Errorf("%s %s: %s", name, qtype, s)
	}
	if binary.BigEndian.Uint16(resp[6:]) == 0 {
		return fmt.Errorf("%s %s: no records in the answer", name, qtype)
	}
	return nil
}
