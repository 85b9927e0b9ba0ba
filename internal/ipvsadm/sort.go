package ipvsadm

import (
	"net/netip"

	"github.com/lvsctl/lvsctl/lvs"
)

// ipvsadm sorts with libipvs's ipvs_cmp_services and ipvs_cmp_dests, which
// subtract unsigned 32-bit values and return the difference as a C int. A
// difference of 2^31 or more wraps around and changes sign, so 10.0.0.1
// sorts after 192.168.0.1 and an address service sorts after a firewall
// mark of 0x80000001 or more. The comparators below repeat that arithmetic,
// and msort repeats glibc's qsort (a stable top-down merge sort), because
// with a comparator that is not transitive the result depends on the
// algorithm too.

// cmpServices is ipvs_cmp_services.
func cmpServices(a, b *lvs.Service) int {
	// u_int32_t - u_int32_t, converted to int: wraps.
	if r := int32(a.Key.FWMark - b.Key.FWMark); r != 0 {
		return int(r)
	}
	// u_int16_t operands are promoted to int: no wrap.
	if r := int(a.Key.Family) - int(b.Key.Family); r != 0 {
		return r
	}
	if r := int(svcProto(a.Key)) - int(svcProto(b.Key)); r != 0 {
		return r
	}
	wa, wb := words(svcAddr(a.Key)), words(svcAddr(b.Key))
	var r int32
	if a.Key.Family == lvs.IPv6 {
		for i := 0; r == 0 && i < 4; i++ {
			r = int32(wa[i] - wb[i])
		}
	} else {
		r = int32(wa[0] - wb[0])
	}
	if r != 0 {
		return int(r)
	}
	return int(svcPort(a.Key)) - int(svcPort(b.Key))
}

// cmpDests is ipvs_cmp_dests. The family of the first destination decides
// how many address words are compared, as in libipvs; an IPv4 address
// occupies the first word of the kernel's address union.
func cmpDests(a, b *lvs.Dest) int {
	wa, wb := words(a.Addr.Addr()), words(b.Addr.Addr())
	var r int32
	if lvs.FamilyOf(a.Addr.Addr().Unmap()) == lvs.IPv6 {
		for i := 0; r == 0 && i < 4; i++ {
			r = int32(wa[i] - wb[i])
		}
	} else {
		r = int32(wa[0] - wb[0])
	}
	if r != 0 {
		return int(r)
	}
	return int(a.Addr.Port()) - int(b.Addr.Port())
}

// The kernel reports firewall-mark services without protocol, address or
// port, so those take part in the comparison as zeros.
func svcProto(k lvs.ServiceKey) lvs.Protocol {
	if k.IsFWMark() {
		return 0
	}
	return k.Protocol
}

func svcAddr(k lvs.ServiceKey) netip.Addr {
	if k.IsFWMark() {
		return netip.Addr{}
	}
	return k.Addr
}

func svcPort(k lvs.ServiceKey) uint16 {
	if k.IsFWMark() {
		return 0
	}
	return k.Port
}

// words returns a as the four host-order 32-bit words of the kernel's
// union nf_inet_addr: an IPv4 address is the first word, the rest zero.
func words(a netip.Addr) [4]uint32 {
	var w [4]uint32
	if !a.IsValid() {
		return w
	}
	a = a.Unmap()
	if a.Is4() {
		b := a.As4()
		w[0] = uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		return w
	}
	b := a.As16()
	for i := range w {
		w[i] = uint32(b[4*i])<<24 | uint32(b[4*i+1])<<16 | uint32(b[4*i+2])<<8 | uint32(b[4*i+3])
	}
	return w
}

// msort sorts s in place the way glibc's qsort does (msort_with_tmp): split
// at n/2, sort both halves, merge taking from the left half while
// cmp(left, right) <= 0.
func msort[T any](s []T, cmp func(a, b *T) int) {
	tmp := make([]T, len(s))
	msortRec(s, tmp, cmp)
}

func msortRec[T any](s, tmp []T, cmp func(a, b *T) int) {
	n := len(s)
	if n <= 1 {
		return
	}
	n1 := n / 2
	b1, b2 := s[:n1], s[n1:]
	msortRec(b1, tmp, cmp)
	msortRec(b2, tmp, cmp)
	i, j, k := 0, 0, 0
	for i < len(b1) && j < len(b2) {
		if cmp(&b1[i], &b2[j]) <= 0 {
			tmp[k] = b1[i]
			i++
		} else {
			tmp[k] = b2[j]
			j++
		}
		k++
	}
	// What is left of b1 goes after the merged part; what is left of b2 is
	// already in place.
	k += copy(tmp[k:], b1[i:])
	copy(s, tmp[:k])
}

// sortedServices returns the services of t in ipvsadm's order, each with
// its destinations in ipvsadm's order, without changing t.
func sortedServices(t *lvs.Table, sort bool) []lvs.Service {
	svcs := make([]lvs.Service, len(t.Services))
	copy(svcs, t.Services)
	for i := range svcs {
		ds := make([]lvs.Dest, len(svcs[i].Dests))
		copy(ds, svcs[i].Dests)
		if sort {
			msort(ds, cmpDests)
		}
		svcs[i].Dests = ds
	}
	if sort {
		msort(svcs, cmpServices)
	}
	return svcs
}
