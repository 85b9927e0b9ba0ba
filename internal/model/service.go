package model

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lvsctl/lvsctl/lvs"
)

// ServiceSettings are a virtual server's settings beyond the IPVS table.
// `lvsctl check` and `lvsctl pulse` act on them; the table itself never
// depends on them.
type ServiceSettings struct {
	Key lvs.ServiceKey
	// HealthCheck is the virtual server's probe, nil when it has none.
	HealthCheck *HealthCheck
	// RealServers maps each real server's name to the probe in effect for
	// it (the virtual server's, with the real server's own settings merged
	// in). It is empty when nothing is probed.
	RealServers map[string]*HealthCheck
	// SorryServer takes the traffic while no real server is healthy (or,
	// with a Quorum, while the quorum is lost); the zero value means none.
	SorryServer netip.AddrPort
	// Quorum, when not 0, is the sum of the weights of the healthy real
	// servers the service needs, as keepalived's quorum: it loses its
	// quorum when the sum falls below Quorum - Hysteresis (or to 0), and
	// regains it when the sum reaches Quorum + Hysteresis. While it is
	// lost, the sorry server alone serves; without a sorry server the
	// table stays as the health makes it. 0 leaves the sorry server to
	// the checker's --quorum (a count of healthy real servers).
	Quorum int
	// Hysteresis keeps a quorum that hovers at its threshold from
	// flapping; 0 when not given.
	Hysteresis int
	// VIP is where the service address lives on the active director; nil
	// when the address is managed elsewhere.
	VIP *VIP
}

// IsZero reports whether s says nothing beyond the table.
func (s *ServiceSettings) IsZero() bool {
	return s.HealthCheck == nil && len(s.RealServers) == 0 && !s.SorryServer.IsValid() && s.VIP == nil &&
		s.Quorum == 0 && s.Hysteresis == 0
}

// MaxQuorum bounds quorum and hysteresis, sums of real server weights:
// more than 16,000 real servers at the largest weight would be needed to
// reach it.
const MaxQuorum = 1 << 30

// ValidateQuorum returns the problems of the quorum settings, each
// naming its setting ("quorum", "hysteresis").
func (s *ServiceSettings) ValidateQuorum() []Problem {
	var ps []Problem
	if s.Quorum < 0 || s.Quorum > MaxQuorum {
		ps = append(ps, Problem{Setting: "quorum", Summary: "Invalid quorum", Msg: fmt.Sprintf("The quorum is a sum of real server weights from 1 to %d, not %d", MaxQuorum, s.Quorum)})
	}
	switch {
	case s.Hysteresis < 0 || s.Hysteresis > MaxQuorum:
		ps = append(ps, Problem{Setting: "hysteresis", Summary: "Invalid hysteresis", Msg: fmt.Sprintf("The hysteresis is a sum of real server weights from 0 to %d, not %d", MaxQuorum, s.Hysteresis)})
	case s.Hysteresis > 0 && s.Quorum == 0:
		ps = append(ps, Problem{Setting: "hysteresis", Summary: "Hysteresis without a quorum", Msg: "hysteresis widens the quorum's threshold; set quorum too, or remove hysteresis"})
	}
	return ps
}

// A VIP is where the active director puts a virtual server's address: the
// device (an alias label such as eth0:1, or a plain device) and the
// netmask. It is what pulse adds on takeover and removes on release.
type VIP struct {
	// Address is the address to add: the service's own address for an
	// address service; for a firewall-mark service the one given.
	Address netip.Addr
	Device  string
	// Netmask is a prefix length; 0 when not given (a host address).
	Netmask int
}

// CheckDevice checks a network device name as the kernel takes it (at most
// 15 bytes, no blanks or slashes); an alias label such as eth0:1 passes.
func CheckDevice(d string) error {
	switch {
	case d == "":
		return errors.New(`the device name is empty; write one such as "eth0" or "eth0:1"`)
	case len(d) > 15:
		return fmt.Errorf("%q is longer than the 15 bytes Linux allows for a device name", d)
	case strings.ContainsAny(d, "/ \t\n\r\x00") || d == "." || d == "..":
		return fmt.Errorf("%q is not a device name; device names have no blanks or slashes", d)
	case !utf8.ValidString(d) || strings.IndexFunc(d, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
		return fmt.Errorf("%q is not a device name; device names are printable characters", d)
	case strings.HasPrefix(d, ":"):
		return fmt.Errorf("%q has no device before the colon; write an alias label as DEVICE:N, such as eth0:1", d)
	}
	return nil
}
