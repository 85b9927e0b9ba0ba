// Package gen generates large, realistic IPVS tables for lvsctl's
// benchmarks, so that the host-side Go benchmarks and the in-VM comparison
// with ipvsadm measure the same shapes.
package gen

import (
	"net/netip"

	"github.com/lvsctl/lvsctl/lvs"
)

// schedulers rotate over the services so that a table is not one
// scheduler's special case; all are loaded in the lab's kernel.
var schedulers = [...]string{"wlc", "rr", "wrr", "lc", "sh"}

// Table returns a normalized table of n services with dests real servers
// each. Service i is TCP port 80 on its own VIP in 10.0.0.0/8 (UDP port 53
// for every tenth one, persistent for every seventh); its real servers are
// NAT'ed to distinct addresses in 172.16.0.0/12 with weights 1 to 4. Names
// are left empty, as in a table read from the kernel.
//
// n must be below 65536 and dests below 16, which keeps every address
// unique.
func Table(n, dests int) *lvs.Table {
	t := &lvs.Table{Services: make([]lvs.Service, 0, n)}
	for i := range n {
		proto, port := lvs.TCP, uint16(80)
		if i%10 == 9 {
			proto, port = lvs.UDP, 53
		}
		s := lvs.Service{
			Key:   lvs.AddrKey(proto, netip.AddrPortFrom(VIP(i), port)),
			Opts:  lvs.ServiceOpts{Scheduler: schedulers[i%len(schedulers)]},
			Dests: make([]lvs.Dest, 0, dests),
		}
		if i%7 == 6 {
			s.Opts.Persistent, s.Opts.Timeout = true, 300
		}
		for j := range dests {
			s.Dests = append(s.Dests, lvs.Dest{
				Addr: netip.AddrPortFrom(RealServer(i, j), port),
				Opts: lvs.DestOpts{Forward: lvs.Masq, Weight: 1 + j%4},
			})
		}
		t.Services = append(t.Services, s)
	}
	t.Normalize()
	return t
}

// VIP is the address of service i: 10.0.0.1 upwards.
func VIP(i int) netip.Addr {
	v := uint32(10)<<24 | uint32(i+1)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// RealServer is the address of real server j of service i, in
// 172.16.0.0/12: 16 bits of service, 4 of real server.
func RealServer(i, j int) netip.Addr {
	v := uint32(172)<<24 | uint32(16)<<16 + uint32(i)<<4 + uint32(j)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// WithWeight returns a copy of t in which real server j of service i has
// weight w: the one-object change of the benchmarks.
func WithWeight(t *lvs.Table, i, j, w int) *lvs.Table {
	c := t.Clone()
	c.Services[i].Dests[j].Opts.Weight = w
	return c
}
