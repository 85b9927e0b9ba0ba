package keepalived

import (
	"fmt"
	"math/big"
	"net/netip"
	"strconv"
	"strings"

	"github.com/lvsctl/lvsctl/lvs"
)

// expand returns the services vs stands for: one, or one per address of
// each entry of its group, in the group's order (address entries, then
// fwmark entries, as keepalived's ipvs_group_cmd visits them).
func (c *conv) expand(vs *vsSpec) []keyAt {
	if vs.group == nil {
		at := vs.n.Pos()
		if vs.fwmark != 0 {
			return []keyAt{{key: lvs.MarkKey(c.markFamily(vs, lvs.Family(0)), vs.fwmark), pos: at}}
		}
		return []keyAt{{key: lvs.AddrKey(c.protocol(vs), vs.addr), pos: at}}
	}
	var addrs, marks []keyAt
	for _, e := range vs.group.Block {
		if e.HasBlock {
			c.errorf(e.Pos(), "a virtual_server_group entry takes no block")
			continue
		}
		if e.Key() == "fwmark" {
			if !c.args(e, 1, 2) {
				continue
			}
			v, ok := c.unsigned(e.Words[1], "fwmark", 1, 1<<32-1)
			if !ok {
				continue
			}
			var f lvs.Family
			if len(e.Words) == 3 {
				switch e.Words[2].Text {
				case "inet":
					f = lvs.IPv4
				case "inet6":
					f = lvs.IPv6
				default:
					c.errorf(e.Words[2].Pos, "a fwmark entry's family is inet or inet6, not %s", show(e.Words[2].Text))
					continue
				}
			}
			marks = append(marks, keyAt{key: lvs.MarkKey(c.markFamily(vs, f), uint32(v)), pos: e.Pos(), entry: words(e), fwm: true})
			continue
		}
		if len(e.Words) > 2 {
			c.errorf(e.Words[2].Pos, "a virtual_server_group entry is ADDRESS[-END|/PREFIX] [PORT] or fwmark N [inet|inet6]; %s is one word too many", show(e.Words[2].Text))
			continue
		}
		first, last, ok := c.addrRange(e.Words[0])
		if !ok {
			continue
		}
		var port uint16
		if len(e.Words) == 2 {
			if port, ok = c.port(e.Words[1], "port"); !ok {
				continue
			}
		}
		proto := c.protocol(vs)
		n := 0
		for a := first; ; a = a.Next() {
			if len(c.keys)+len(addrs)+len(marks) >= MaxServices {
				c.errorf(e.Pos(), "the configuration has more than %d virtual services once its groups are expanded; lvsctl takes at most that many", MaxServices)
				return nil
			}
			addrs = append(addrs, keyAt{key: lvs.AddrKey(proto, netip.AddrPortFrom(a, port)), pos: e.Pos(), entry: words(e)})
			n++
			if a == last {
				break
			}
		}
	}
	if len(addrs)+len(marks) == 0 && len(c.errs) == 0 {
		c.errorf(vs.group.Pos(), "virtual_server_group %s has no entries, and keepalived drops it; add ADDRESS PORT or fwmark N lines", show(vs.group.Words[1].Text))
	}
	return append(addrs, marks...)
}

// markFamily is the family of a fwmark service: the entry's, the
// virtual server's ip_family, that of its first real server that is not
// tunnelled, or IPv4, as keepalived decides it.
func (c *conv) markFamily(vs *vsSpec, entry lvs.Family) lvs.Family {
	switch {
	case entry != 0:
		return entry
	case vs.family != 0:
		return vs.family
	}
	for _, rs := range vs.reals {
		if rs.fwd.fwd != lvs.Tunnel {
			return lvs.FamilyOf(rs.addr)
		}
	}
	return lvs.IPv4
}

// protocol is the protocol of vs's address services. Without a protocol
// line keepalived uses UDP ("no protocol set - defaulting to UDP").
func (c *conv) protocol(vs *vsSpec) lvs.Protocol {
	if !vs.protoSet {
		if !vs.udpNoted {
			vs.udpNoted = true
			vs.notes = append(vs.notes, pending{vs.n, "has no protocol line, and keepalived then makes the service UDP (\"no protocol set - defaulting to UDP\"); so does lvsctl. Write protocol TCP in keepalived.conf if TCP was meant."})
		}
		return lvs.UDP
	}
	return vs.proto
}

// addrRange reads a group entry's address: A, A-N (the last byte, or
// the last 16 bits of an IPv6 address in hexadecimal, up to N), A-B (a
// full end address) or A/PREFIX (every address of the prefix, whose host
// bits must be 0), as keepalived's alloc_vsg_entry does.
func (c *conv) addrRange(t Token) (netip.Addr, netip.Addr, bool) {
	s := t.Text
	bad := func(format string, args ...any) (netip.Addr, netip.Addr, bool) {
		c.errorf(t.Pos, "virtual_server_group entry %s: %s", show(s), fmt.Sprintf(format, args...))
		return netip.Addr{}, netip.Addr{}, false
	}
	if a, p, ok := strings.Cut(s, "/"); ok {
		first, err := netip.ParseAddr(a)
		if err != nil || first.Zone() != "" {
			return bad("%s is not an IP address", show(a))
		}
		bits, err := strconv.Atoi(p)
		if err != nil || bits < 1 || bits > first.BitLen() {
			return bad("the prefix length is a number from 1 to %d", first.BitLen())
		}
		pfx := netip.PrefixFrom(first, bits)
		if pfx.Masked().Addr() != first {
			return bad("the address has bits set past the prefix length (keepalived: \"Address mask bits not empty\"); write %s", pfx.Masked())
		}
		if first.BitLen()-bits > 16 {
			// keepalived walks the last 16 bits only (s6_addr16[7]).
			return bad("the prefix has %s addresses; lvsctl expands at most 65536 (a /%d)", big.NewInt(0).Lsh(big.NewInt(1), uint(first.BitLen()-bits)), first.BitLen()-16)
		}
		last := first
		for range (1 << (first.BitLen() - bits)) - 1 {
			last = last.Next()
		}
		return first, last, true
	}
	a, end, ranged := strings.Cut(s, "-")
	first, err := netip.ParseAddr(a)
	if err != nil || first.Zone() != "" {
		return bad("%s is not an IP address", show(a))
	}
	first = first.Unmap()
	if !ranged {
		return first, first, true
	}
	if strings.ContainsAny(end, ".:") {
		last, err := netip.ParseAddr(end)
		if err != nil || last.Is4() != first.Is4() {
			return bad("the end of the range, %s, is not an address of the same family", show(end))
		}
		if last.Less(first) {
			return bad("the range ends before it starts")
		}
		if n := rangeSize(first, last); n > MaxServices {
			return bad("the range has more than %d addresses; lvsctl expands at most that many services", MaxServices)
		}
		return first, last, true
	}
	b := first.AsSlice()
	var start, stop uint64
	if first.Is4() {
		v, err := strconv.ParseUint(end, 10, 8)
		if err != nil {
			return bad("the end of the range, %s, is not a number from 0 to 255 (the last byte)", show(end))
		}
		start, stop = uint64(b[3]), v
		b[3] = byte(v)
	} else {
		v, err := strconv.ParseUint(end, 16, 16)
		if err != nil {
			return bad("the end of the range, %s, is not a hexadecimal number up to ffff (the last 16 bits)", show(end))
		}
		start, stop = uint64(b[14])<<8|uint64(b[15]), v
		b[14], b[15] = byte(v>>8), byte(v)
	}
	if start >= stop {
		return bad("the end of the range is not greater than its start (keepalived skips such an entry)")
	}
	last, _ := netip.AddrFromSlice(b)
	return first, last, true
}

// rangeSize is the number of addresses from a to b, capped past
// MaxServices.
func rangeSize(a, b netip.Addr) int {
	x, y := new(big.Int).SetBytes(a.AsSlice()), new(big.Int).SetBytes(b.AsSlice())
	d := new(big.Int).Sub(y, x)
	if !d.IsInt64() || d.Int64() > MaxServices {
		return MaxServices + 1
	}
	return int(d.Int64()) + 1
}
