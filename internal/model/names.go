package model

import (
	"fmt"
	"strings"

	"github.com/lvsctl/lvsctl/lvs"
)

// FromTable returns a configuration for t, as read from a kernel or an
// ipvsadm -S dump, which have no names: each virtual server and real
// server is named from its addresses (see [ServiceName] and [RealName]),
// so that it can be written as a configuration file. t is not changed.
func FromTable(t *lvs.Table) *Config {
	c := t.Clone()
	for i := range c.Services {
		s := &c.Services[i]
		s.Name = ServiceName(s.Key)
		for j := range s.Dests {
			s.Dests[j].Name = RealName(s.Dests[j])
		}
	}
	SetSysctls(c, nil, false)
	c.Normalize()
	return &Config{Table: c}
}

// ServiceName is the name lvsctl gives a virtual server that has none: the
// protocol, the address with its dots or colons as underscores, and the
// port ("tcp_10_0_0_2_80", "udp_2001_db8__53_53"), or "fwmark_100"
// ("fwmark6_100" for IPv6).
func ServiceName(k lvs.ServiceKey) string {
	if k.IsFWMark() {
		if k.Family == lvs.IPv6 {
			return fmt.Sprintf("fwmark6_%d", k.FWMark)
		}
		return fmt.Sprintf("fwmark_%d", k.FWMark)
	}
	return fmt.Sprintf("%s_%s_%d", k.Protocol, underscores(k.Addr.String()), k.Port)
}

// RealName is the name lvsctl gives a real server that has none: "r", the
// address with underscores, and the port unless it is 0
// ("r192_168_10_100_80").
func RealName(d lvs.Dest) string {
	n := "r" + underscores(d.Addr.Addr().String())
	if p := d.Addr.Port(); p != 0 {
		n += fmt.Sprintf("_%d", p)
	}
	return n
}

func underscores(s string) string { return strings.NewReplacer(".", "_", ":", "_").Replace(s) }
