package cmd

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"syscall"
	"testing"

	"github.com/lvsctl/lvsctl/internal/apply"
	"github.com/lvsctl/lvsctl/internal/plan"
	"github.com/lvsctl/lvsctl/lvs"
)

func TestLoopbackHint(t *testing.T) {
	addDest := func(addr string, errno error) error {
		return &apply.OpError{Op: plan.Op{Action: plan.AddDest, ToDest: lvs.Dest{Addr: netip.MustParseAddrPort(addr)}}, Err: errno, Total: 2, Done: 1}
	}
	down := func(string) loState { return loState{available: true} }
	for _, tc := range []struct {
		name string
		err  error
		ns   string
		look func(string) loState
		want string // "" for no hint
	}{
		{"named", addDest("192.168.10.100:80", syscall.EINVAL), "web", down, "bring lo up with: ip -n web link set lo up"},
		{"this one", addDest("192.168.10.100:80", syscall.EINVAL), "", down, "this network namespace has its loopback (lo) down and no IPv4 address, and the kernel refuses every IPv4 real server there; bring lo up with: ip link set lo up"},
		{"path", addDest("192.168.10.100:80", syscall.EINVAL), "/proc/1/ns/net", down, "bring lo up with: nsenter --net=/proc/1/ns/net ip link set lo up"},
		{"wrapped", fmt.Errorf("apply: %w", addDest("192.168.10.100:80", syscall.EINVAL)), "web", down, "ip -n web link set lo up"},
		{"lo up", addDest("192.168.10.100:80", syscall.EINVAL), "web", func(string) loState { return loState{available: true, loUp: true, hasIPv4: true} }, ""},
		{"an IPv4 address elsewhere", addDest("192.168.10.100:80", syscall.EINVAL), "web", func(string) loState { return loState{available: true, hasIPv4: true} }, ""},
		{"not looked at", addDest("192.168.10.100:80", syscall.EINVAL), "web", func(string) loState { return loState{} }, ""},
		{"IPv6", addDest("[2001:db8::1]:80", syscall.EINVAL), "web", down, ""},
		{"another errno", addDest("192.168.10.100:80", syscall.ERANGE), "web", down, ""},
		{"a service", &apply.OpError{Op: plan.Op{Action: plan.AddService}, Err: syscall.EINVAL}, "web", down, ""},
		{"no kernel error", errors.New("x"), "web", down, ""},
	} {
		got := withLoopbackHint(tc.err, tc.ns, tc.look)
		if !errors.Is(got, tc.err) {
			t.Errorf("%s: %v does not wrap %v", tc.name, got, tc.err)
		}
		switch {
		case tc.want == "" && got.Error() != tc.err.Error():
			t.Errorf("%s: a hint where none belongs: %v", tc.name, got)
		case tc.want != "" && !strings.HasSuffix(got.Error(), tc.want):
			t.Errorf("%s: %v\nwant it to end with %q", tc.name, got, tc.want)
		}
	}
}
