// Package lvs is the model of a Linux Virtual Server table: the IPVS virtual
// services of one network namespace and the real servers behind each.
//
// A [Table] describes both what a configuration asks for and what the kernel
// has, so that the planner can compare the two. Identity and settings are
// separate, comparable values: a [ServiceKey] or a destination's address
// names an object, and [ServiceOpts] and [DestOpts] hold everything the
// kernel can change in place. Counters read from the kernel live beside them
// and never take part in a comparison.
//
// The words of the domain (protocols, forwarding methods, tunnel types and
// checksum options, scheduler flags, persistence engines) are named,
// parsed and formatted here once, in every spelling lvsctl reads or writes
// them: see [ParseSchedFlag], [SchedFlags.Names], [Forward.IpvsadmOption].
//
// This package uses the standard library only.
package lvs

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"time"
)

// Family is an address family, with the kernel's AF_* values.
type Family uint16

const (
	IPv4 Family = 2  // AF_INET
	IPv6 Family = 10 // AF_INET6
)

func (f Family) String() string {
	switch f {
	case IPv4:
		return "ipv4"
	case IPv6:
		return "ipv6"
	}
	return fmt.Sprintf("family(%d)", uint16(f))
}

// FamilyOf returns the family of a.
func FamilyOf(a netip.Addr) Family {
	if a.Is4() {
		return IPv4
	}
	return IPv6
}

// Protocol is a transport protocol, with its IANA number. Its names are
// in words.go, with the other words of the domain.
type Protocol uint16

const (
	TCP  Protocol = 6
	UDP  Protocol = 17
	SCTP Protocol = 132
)

// A ServiceKey identifies a virtual service: either an address service
// (Protocol, Addr, Port) or a firewall-mark service (FWMark, Family).
// Two services with equal keys are the same service.
type ServiceKey struct {
	Family   Family
	Protocol Protocol   // zero for firewall-mark services
	Addr     netip.Addr // zero for firewall-mark services
	Port     uint16
	FWMark   uint32 // non-zero only for firewall-mark services
}

// AddrKey returns the key of an address service.
func AddrKey(proto Protocol, ap netip.AddrPort) ServiceKey {
	a := ap.Addr().Unmap()
	return ServiceKey{Family: FamilyOf(a), Protocol: proto, Addr: a, Port: ap.Port()}
}

// MarkKey returns the key of a firewall-mark service.
func MarkKey(f Family, mark uint32) ServiceKey {
	return ServiceKey{Family: f, FWMark: mark}
}

// IsFWMark reports whether k is a firewall-mark service.
func (k ServiceKey) IsFWMark() bool { return k.FWMark != 0 }

// AddrPort returns the virtual address and port of an address service.
func (k ServiceKey) AddrPort() netip.AddrPort { return netip.AddrPortFrom(k.Addr, k.Port) }

// String returns "tcp 10.0.0.2:80", "udp [2001:db8::2]:53", "fwmark 100" or
// "fwmark 100 ipv6".
func (k ServiceKey) String() string {
	if k.IsFWMark() {
		if k.Family == IPv6 {
			return fmt.Sprintf("fwmark %d ipv6", k.FWMark)
		}
		return fmt.Sprintf("fwmark %d", k.FWMark)
	}
	return k.Protocol.String() + " " + k.AddrPort().String()
}

// Compare orders keys: address services before firewall-mark services, then
// by family, protocol, address and port, or by mark.
func (k ServiceKey) Compare(o ServiceKey) int {
	if c := cmp.Compare(k.FWMark, o.FWMark); c != 0 {
		return c
	}
	if c := cmp.Compare(k.Family, o.Family); c != 0 {
		return c
	}
	if c := cmp.Compare(k.Protocol, o.Protocol); c != 0 {
		return c
	}
	if c := k.Addr.Compare(o.Addr); c != 0 {
		return c
	}
	return cmp.Compare(k.Port, o.Port)
}

// SchedFlags are the scheduler flags (ipvsadm -b). Their meaning depends on
// the scheduler: for sh and mh, Flag1 is "fallback" and Flag2 is "port"
// (see [SchedFlagNames]). Shifted left by 3 bits they are the kernel's
// IP_VS_SVC_F_SCHED1..3 service flags.
type SchedFlags uint8

const (
	SchedFlag1 SchedFlags = 1 << iota // sh-fallback, mh-fallback
	SchedFlag2                        // sh-port, mh-port
	SchedFlag3
)

// ServiceOpts are the settings of a virtual service that the kernel changes in
// place (ipvsadm -E). The zero Netmask is a real value (0.0.0.0), so parsers
// set it explicitly; [Table.Normalize] resets it for non-persistent services.
type ServiceOpts struct {
	Scheduler  string // "wlc", "rr", "sh", ...
	Persistent bool
	Timeout    uint32 // persistence timeout in seconds; 0 when not persistent
	Netmask    uint8  // persistence granularity as a prefix length (32 or 128: per client)
	PE         string // persistence engine, "sip" or empty
	OnePacket  bool   // one-packet scheduling (ipvsadm -o)
	SchedFlags SchedFlags
}

// Forward is a destination's forwarding method, with the kernel's values
// (IP_VS_CONN_F_MASQ, _LOCALNODE, _TUNNEL, _DROUTE). Its names are in
// words.go.
type Forward uint8

const (
	Masq   Forward = 0 // NAT, ipvsadm -m
	Local  Forward = 1 // the director itself; ipvsadm shows it as -g
	Tunnel Forward = 2 // IP tunnelling, ipvsadm -i
	Route  Forward = 3 // direct routing, ipvsadm -g
)

// TunnelType is the encapsulation of a tunnelled destination, with the
// kernel's values (IP_VS_CONN_F_TUNNEL_TYPE_*).
type TunnelType uint8

const (
	IPIP TunnelType = 0
	GUE  TunnelType = 1
	GRE  TunnelType = 2
)

// TunnelFlags are the checksum options of GUE and GRE tunnels, with the
// kernel's values (IP_VS_TUNNEL_ENCAP_FLAG_*). No flag means no checksum
// (ipvsadm --tun-nocsum); at most one is set (see [Checksums]).
type TunnelFlags uint16

const (
	TunnelCsum    TunnelFlags = 1 << 0 // --tun-csum
	TunnelRemCsum TunnelFlags = 1 << 1 // --tun-remcsum (GUE only)
)

// DestOpts are the settings of a destination that the kernel changes in place
// (ipvsadm -e).
type DestOpts struct {
	Forward        Forward
	Weight         int    // 0..65535; 0 takes no new connections
	UpperThreshold uint32 // 0 means no limit
	LowerThreshold uint32
	TunnelType     TunnelType // only with Forward == Tunnel
	TunnelPort     uint16     // GUE only
	TunnelFlags    TunnelFlags
}

// Stats are the traffic counters and rates of a service or destination.
type Stats struct {
	Conns, InPkts, OutPkts, InBytes, OutBytes uint64
	CPS, InPPS, OutPPS, InBPS, OutBPS         uint64
}

// DestLive is what only the kernel knows about a destination.
type DestLive struct {
	ActiveConns, InactConns, PersistConns uint32
	Stats                                 Stats
}

// A Dest is a real server behind a virtual service, identified by Addr
// within its service.
type Dest struct {
	Addr netip.AddrPort
	Name string // from the configuration; the kernel has no names
	Opts DestOpts
	Live DestLive // read from the kernel; not compared
}

// A Service is a virtual service and its destinations, sorted by address.
type Service struct {
	Key   ServiceKey
	Name  string // from the configuration; the kernel has no names
	Opts  ServiceOpts
	Dests []Dest
	Stats Stats // read from the kernel; not compared
}

// Dest returns the destination at addr, or nil.
func (s *Service) Dest(addr netip.AddrPort) *Dest {
	i, ok := slices.BinarySearchFunc(s.Dests, addr, func(d Dest, a netip.AddrPort) int { return d.Addr.Compare(a) })
	if !ok {
		return nil
	}
	return &s.Dests[i]
}

// Timeouts are the kernel's connection timeouts (ipvsadm --set). In a
// desired table a zero field means "leave it as it is".
type Timeouts struct {
	TCP, TCPFin, UDP time.Duration
}

// Ignore selects services that a table does not own: the planner neither
// changes nor deletes them (kube-proxy's, Docker's, hand-made ones).
type Ignore struct {
	Prefixes []netip.Prefix // address services whose address is inside
	FWMarks  []uint32
	Ports    []uint16 // address services on these ports
}

// Matches reports whether k is selected by ig.
func (ig Ignore) Matches(k ServiceKey) bool {
	if k.IsFWMark() {
		return slices.Contains(ig.FWMarks, k.FWMark)
	}
	if slices.Contains(ig.Ports, k.Port) {
		return true
	}
	for _, p := range ig.Prefixes {
		if p.Contains(k.Addr) {
			return true
		}
	}
	return false
}

// IsZero reports whether ig selects nothing.
func (ig Ignore) IsZero() bool {
	return len(ig.Prefixes) == 0 && len(ig.FWMarks) == 0 && len(ig.Ports) == 0
}

// A Table is a whole IPVS configuration, services sorted by key.
type Table struct {
	Services []Service
	Timeouts Timeouts
	Ignore   Ignore // desired tables only: services this table does not own
	// Unknown names the settings a live table read from a dump does not
	// have (zero in it); the planner leaves them out of the comparison.
	Unknown Unknown
	// Sysctls are the kernel settings of the namespace that the table
	// owns, sorted by name (see [Sysctl]): in a desired table those to
	// set, in a live one their values as read.
	Sysctls []Sysctl
}

// Service returns the service with key k, or nil.
func (t *Table) Service(k ServiceKey) *Service {
	i, ok := slices.BinarySearchFunc(t.Services, k, func(s Service, k ServiceKey) int { return s.Key.Compare(k) })
	if !ok {
		return nil
	}
	return &t.Services[i]
}

// FullMask returns the prefix length that means "per client" for f.
func FullMask(f Family) uint8 {
	if f == IPv6 {
		return 128
	}
	return 32
}

// Normalize puts t in canonical form, the one place where defaults live:
// services and destinations sorted, the scheduler defaulted to wlc, and the
// persistence fields of non-persistent services cleared, so that equal intent
// gives equal tables whoever wrote them.
func (t *Table) Normalize() {
	for i := range t.Services {
		s := &t.Services[i]
		if s.Key.IsFWMark() {
			s.Key.Protocol, s.Key.Addr, s.Key.Port = 0, netip.Addr{}, 0
		} else {
			s.Key.Addr = s.Key.Addr.Unmap()
			s.Key.Family = FamilyOf(s.Key.Addr)
		}
		if s.Opts.Scheduler == "" {
			s.Opts.Scheduler = "wlc"
		}
		if !s.Opts.Persistent {
			s.Opts.Timeout = 0
			s.Opts.Netmask = FullMask(s.Key.Family)
		}
		for j := range s.Dests {
			d := &s.Dests[j]
			d.Addr = netip.AddrPortFrom(d.Addr.Addr().Unmap(), d.Addr.Port())
			if d.Opts.Forward != Tunnel {
				d.Opts.TunnelType, d.Opts.TunnelPort, d.Opts.TunnelFlags = IPIP, 0, 0
			}
		}
		slices.SortFunc(s.Dests, func(a, b Dest) int { return a.Addr.Compare(b.Addr) })
	}
	slices.SortFunc(t.Services, func(a, b Service) int { return a.Key.Compare(b.Key) })
	SortSysctls(t.Sysctls)
}

// Clone returns a deep copy of t.
func (t *Table) Clone() *Table {
	c := *t
	c.Services = slices.Clone(t.Services)
	for i := range c.Services {
		c.Services[i].Dests = slices.Clone(c.Services[i].Dests)
	}
	c.Ignore.Prefixes = slices.Clone(t.Ignore.Prefixes)
	c.Ignore.FWMarks = slices.Clone(t.Ignore.FWMarks)
	c.Ignore.Ports = slices.Clone(t.Ignore.Ports)
	c.Sysctls = slices.Clone(t.Sysctls)
	return &c
}
