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
	// SorryServer takes the traffic while no real server is healthy; the
	// zero value means none.
	SorryServer netip.AddrPort
	// VIP is where the service address lives on the active director; nil
	// when the address is managed elsewhere.
	VIP *VIP
}

// IsZero reports whether s says nothing beyond the table.
func (s *ServiceSettings) IsZero() bool {
	return s.HealthCheck == nil && len(s.RealServers) == 0 && !s.SorryServer.IsValid() && s.VIP == nil
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
