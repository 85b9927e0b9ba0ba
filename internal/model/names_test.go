package model

import (
	"net/netip"
	"testing"

	"github.com/lvsctl/lvsctl/lvs"
)

func TestGeneratedNames(t *testing.T) {
	for _, tc := range []struct {
		k    lvs.ServiceKey
		want string
	}{
		{lvs.AddrKey(lvs.TCP, netip.MustParseAddrPort("10.0.0.2:80")), "tcp_10_0_0_2_80"},
		{lvs.AddrKey(lvs.UDP, netip.MustParseAddrPort("[2001:db8::53]:53")), "udp_2001_db8__53_53"},
		{lvs.MarkKey(lvs.IPv4, 100), "fwmark_100"},
		{lvs.MarkKey(lvs.IPv6, 7), "fwmark6_7"},
	} {
		if got := ServiceName(tc.k); got != tc.want {
			t.Errorf("ServiceName(%s) = %q, want %q", tc.k, got, tc.want)
		}
	}
	if got := RealName(lvs.Dest{Addr: netip.MustParseAddrPort("192.168.10.100:80")}); got != "r192_168_10_100_80" {
		t.Errorf("RealName = %q", got)
	}
	if got := RealName(lvs.Dest{Addr: netip.MustParseAddrPort("192.168.10.100:0")}); got != "r192_168_10_100" {
		t.Errorf("RealName port 0 = %q", got)
	}
}
