package config

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/lvsctl/lvsctl/internal/suggest"
	"github.com/lvsctl/lvsctl/lvs"
)

// hostPort is an address as written in the configuration: an IP address and,
// when the text had one, a port.
type hostPort struct {
	Addr    netip.Addr
	Port    uint16
	HasPort bool
}

// parseHostPort parses "10.0.0.2:80", "10.0.0.2", "[2001:db8::2]:80",
// "[2001:db8::2]" and "2001:db8::2". Names are refused rather than resolved:
// a table that depends on DNS at apply time is not declarative.
func parseHostPort(s string) (hostPort, error) {
	var host, port string
	hasPort := false
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return hostPort{}, errors.New("the closing ] of the IPv6 address is missing")
		}
		host = s[1:end]
		rest := s[end+1:]
		switch {
		case rest == "":
		case rest[0] == ':':
			port, hasPort = rest[1:], true
		default:
			return hostPort{}, fmt.Errorf("unexpected %q after the IPv6 address; write [ADDRESS]:PORT", rest)
		}
		a, err := parseIP(host)
		if err != nil {
			return hostPort{}, err
		}
		if a.Is4() {
			return hostPort{}, fmt.Errorf("%s is an IPv4 address; write it without brackets", host)
		}
	case strings.Count(s, ":") > 1:
		host = s // a bare IPv6 address cannot carry a port
	case strings.Count(s, ":") == 1:
		i := strings.IndexByte(s, ':')
		host, port, hasPort = s[:i], s[i+1:], true
	default:
		host = s
	}
	a, err := parseIP(host)
	if err != nil {
		if strings.Count(s, ":") > 1 && !strings.HasPrefix(s, "[") {
			if i := strings.LastIndexByte(s, ':'); i > 0 {
				if _, err2 := parseIP(s[:i]); err2 == nil {
					return hostPort{}, fmt.Errorf("an IPv6 address with a port needs brackets: [%s]:%s", s[:i], s[i+1:])
				}
			}
		}
		return hostPort{}, err
	}
	hp := hostPort{Addr: a.Unmap(), HasPort: hasPort}
	if hasPort {
		p, err := parsePort(port)
		if err != nil {
			return hostPort{}, err
		}
		hp.Port = p
	}
	return hp, nil
}

func parseIP(s string) (netip.Addr, error) {
	if s == "" {
		return netip.Addr{}, errors.New("the IP address is missing")
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		if looksLikeName(s) {
			return netip.Addr{}, fmt.Errorf("%q is not an IP address; lvsctl does not resolve host names, write the address", s)
		}
		return netip.Addr{}, fmt.Errorf("%q is not an IP address", s)
	}
	if a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("%q has a zone; IPVS addresses cannot carry one, remove %%%s", s, a.Zone())
	}
	return a, nil
}

func looksLikeName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	_, err := strconv.Atoi(strings.ReplaceAll(s, ".", ""))
	return err != nil // all digits and dots is a broken IPv4 address, not a name
}

func parsePort(s string) (uint16, error) {
	if s == "" {
		return 0, errors.New("the port after the colon is missing")
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("port %q is not a number from 0 to 65535 (service names are not looked up)", s)
		}
	}
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return 0, fmt.Errorf("port %s is out of range: use 0 to 65535", s)
	}
	return uint16(n), nil
}

// parseSeconds parses a duration such as "360s", "6m" or "1h30m", or a bare
// number of seconds as ipvsadm takes it. The kernel counts whole seconds, so
// fractions are refused rather than rounded.
func parseSeconds(s string) (time.Duration, error) {
	if s == "" {
		return 0, errors.New(`the duration is empty; write one such as "360s" or "6m"`)
	}
	if strings.Trim(s, "0123456789") == "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n > math.MaxInt64/int64(time.Second) {
			return 0, fmt.Errorf("%s seconds is too long", s)
		}
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf(`%q is not a duration; write one such as "360s", "6m" or "1h30m"`, s)
	}
	if d < 0 {
		return 0, fmt.Errorf("%q is negative; durations must be zero or more", s)
	}
	if d%time.Second != 0 {
		return 0, fmt.Errorf("%q is not a whole number of seconds; the kernel counts seconds", s)
	}
	return d, nil
}

// parseNetmask parses a persistence netmask into a prefix length: a dotted
// mask or a prefix length for IPv4, a prefix length only for IPv6 (as
// ipvsadm -M takes them).
func parseNetmask(s string, f lvs.Family) (uint8, error) {
	bits := int(lvs.FullMask(f))
	num := strings.TrimPrefix(s, "/")
	if num != "" && strings.Trim(num, "0123456789") == "" {
		n, err := strconv.Atoi(num)
		if err != nil || n > bits || (f == lvs.IPv6 && n < 1) {
			if f == lvs.IPv6 {
				return 0, fmt.Errorf("an IPv6 persistence netmask is a prefix length from 1 to 128, not %s", num)
			}
			return 0, fmt.Errorf("an IPv4 persistence netmask is a prefix length from 0 to 32, not %s", num)
		}
		return uint8(n), nil
	}
	if f == lvs.IPv6 {
		return 0, fmt.Errorf("%q is not a prefix length; an IPv6 persistence netmask is written as a prefix length such as 64", s)
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return 0, fmt.Errorf("%q is not an IPv4 netmask; write a dotted mask such as 255.255.255.0 or a prefix length such as 24", s)
	}
	m := a.As4()
	v := uint32(m[0])<<24 | uint32(m[1])<<16 | uint32(m[2])<<8 | uint32(m[3])
	ones := 0
	for v&(1<<31) != 0 {
		ones++
		v <<= 1
	}
	if v != 0 {
		return 0, fmt.Errorf("%s is not a contiguous netmask; its one bits must all come first, as in 255.255.255.0", s)
	}
	return uint8(ones), nil
}

// schedFlagList is lvs.SchedFlagNames in the order the configuration's
// messages list them: the schedulers' own names first.
var schedFlagList = func() []string {
	var own, generic []string
	for _, name := range lvs.SchedFlagNames {
		if _, sched, _ := lvs.LookupSchedFlag(name); sched != "" {
			own = append(own, name)
		} else {
			generic = append(generic, name)
		}
	}
	return append(own, generic...)
}()

// quotedList joins names as messages list choices: "tcp", "udp" or "sctp".
func quotedList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	if len(q) < 2 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// didYouMean returns ` Did you mean "x"?` or "".
func didYouMean(s string, candidates []string) string {
	if c := suggest.Closest(s, candidates); c != "" {
		return fmt.Sprintf(" Did you mean %q?", c)
	}
	return ""
}
