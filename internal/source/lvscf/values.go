package lvscf

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"

	"github.com/lvsctl/lvsctl/internal/quote"
	"github.com/lvsctl/lvsctl/internal/services"
)

// strtol reads s as C's strtol(s, &end, 0) with the whole string consumed:
// an optional sign, then 0x/0X hexadecimal, a leading 0 for octal, or
// decimal. Piranha stores the result in a C int, so values outside the
// 32-bit range are refused rather than silently wrapped.
func strtol(s string) (int, string) {
	if s == "" {
		return 0, "an empty value is not a number"
	}
	t := s
	neg := false
	if t[0] == '+' || t[0] == '-' {
		neg = t[0] == '-'
		t = t[1:]
	}
	base := 10
	digits := t
	switch {
	case len(t) >= 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X'):
		base, digits = 16, t[2:]
	case len(t) >= 2 && t[0] == '0':
		base, digits = 8, t[1:]
	}
	if digits == "" {
		return 0, fmt.Sprintf("%s is not a number", quote.Excerpt(s))
	}
	u, err := strconv.ParseUint(digits, base, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, fmt.Sprintf("%s is out of range", show(s))
		}
		if base == 8 {
			return 0, fmt.Sprintf("%s is not a number (a leading 0 means octal, digits 0-7)", quote.Excerpt(s))
		}
		return 0, fmt.Sprintf("%s is not a number", quote.Excerpt(s))
	}
	v := int64(u)
	if u > math.MaxInt64 {
		return 0, fmt.Sprintf("%s is out of range", show(s))
	}
	if neg {
		v = -v
	}
	if v < math.MinInt32 || v > math.MaxInt32 {
		return 0, fmt.Sprintf("%s is out of range (piranha keeps numbers in a 32-bit int)", show(s))
	}
	return int(v), ""
}

// inetAton reads s as glibc's inet_aton does: one to four parts separated by
// dots, each a C number (0x.. hex, 0.. octal, else decimal); a.b.c puts c in
// the low 16 bits, a.b the low 24, and a lone a is the whole address.
func inetAton(s string) (netip.Addr, bool) {
	var parts []uint64
	rest := s
	for {
		if rest == "" || rest[0] < '0' || rest[0] > '9' {
			return netip.Addr{}, false
		}
		i := 0
		for i < len(rest) && rest[i] != '.' {
			i++
		}
		p := rest[:i]
		base := 10
		switch {
		case len(p) >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'):
			base, p = 16, p[2:]
			if p == "" {
				// strtoul reads "0x" as 0 followed by "x", which is not a dot.
				return netip.Addr{}, false
			}
		case len(p) >= 2 && p[0] == '0':
			base, p = 8, p[1:]
		}
		v, err := strconv.ParseUint(p, base, 32)
		if err != nil {
			return netip.Addr{}, false
		}
		parts = append(parts, v)
		if i == len(rest) {
			break
		}
		if len(parts) == 4 {
			return netip.Addr{}, false
		}
		rest = rest[i+1:]
	}
	var v uint64
	n := len(parts)
	for _, p := range parts[:n-1] {
		if p > 0xff {
			return netip.Addr{}, false
		}
	}
	last := parts[n-1]
	switch n {
	case 1:
		v = last
	case 2:
		if last > 0xffffff {
			return netip.Addr{}, false
		}
		v = parts[0]<<24 | last
	case 3:
		if last > 0xffff {
			return netip.Addr{}, false
		}
		v = parts[0]<<24 | parts[1]<<16 | last
	case 4:
		if last > 0xff {
			return netip.Addr{}, false
		}
		v = parts[0]<<24 | parts[1]<<16 | parts[2]<<8 | last
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

// maskBits returns the prefix length of a contiguous netmask.
func maskBits(m netip.Addr) (int, bool) {
	b := m.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	n := 0
	for n < 32 && v&(1<<(31-n)) != 0 {
		n++
	}
	if n < 32 && v<<n != 0 {
		return 0, false
	}
	return n, true
}

// builtinServices are the TCP service names lvscf knows for `port =
// NAME`. Piranha asked getservbyname(NAME, "tcp"), that is the host's
// /etc/services; lvsctl uses a fixed table instead (Debian netbase's
// names for the common services) so that a file means the same on every
// machine.
var builtinServices = services.Builtin()
