package lvs

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Schedulers are the kernel's IPVS schedulers (ip_vs_<name>.ko).
var Schedulers = []string{"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos"}

// Fields named in a [Problem], spelled as in the HCL configuration so that a
// parser can point at the attribute.
const (
	FieldAddress    = "address"
	FieldPort       = "port"
	FieldProtocol   = "protocol"
	FieldFWMark     = "fwmark"
	FieldFamily     = "family"
	FieldScheduler  = "scheduler"
	FieldSchedFlags = "scheduler_flags"
	FieldTimeout    = "persistence.timeout"
	FieldNetmask    = "persistence.netmask"
	FieldPE         = "pe"
	FieldOnePacket  = "one_packet"
	FieldWeight     = "weight"
	FieldForwarding = "forwarding"
	FieldUpper      = "upper_threshold"
	FieldLower      = "lower_threshold"
	FieldTunnelType = "tunnel_type"
	FieldTunnelPort = "tunnel_port"
	FieldTunnelCsum = "tunnel_checksum"
	FieldTimeouts   = "timeouts"
	FieldIgnore     = "ignore"
	FieldDuplicate  = "" // the object as a whole
)

// A Problem is one thing in a table that the kernel would refuse or that
// cannot be meant. Service and Dest are indexes into the table as given
// (-1 when the problem is not about a service or a destination).
type Problem struct {
	Service int
	Dest    int
	Field   string
	Msg     string
}

func (p Problem) Error() string { return p.Msg }

// Validate returns every problem in t, in table order. It works on a table as
// parsed, before [Table.Normalize], so that indexes match the source.
func (t *Table) Validate() []Problem {
	var ps []Problem
	add := func(si, di int, field, format string, args ...any) { collect(&ps, si, di)(field, format, args...) }
	validateTimeouts(t.Timeouts, collect(&ps, -1, -1))
	seen := map[ServiceKey]int{}
	for si := range t.Services {
		s := &t.Services[si]
		k := s.Key
		validateKey(s, collect(&ps, si, -1))
		if k.Addr.IsValid() || k.IsFWMark() {
			if prev, dup := seen[normKey(k)]; dup {
				add(si, -1, FieldDuplicate, "%s is declared twice (first as service #%d)", k, prev+1)
			} else {
				seen[normKey(k)] = si
			}
		}
		if !t.Ignore.IsZero() && t.Ignore.Matches(k) {
			add(si, -1, FieldAddress, "%s is matched by the ignore block, so lvsctl would never manage it: remove it from one of the two", k)
		}
		validateOpts(s, collect(&ps, si, -1))
		seenDest := map[string]int{}
		for di := range s.Dests {
			d := &s.Dests[di]
			validateDest(s.Key, d, collect(&ps, si, di))
			a := d.Addr.Addr().Unmap().String()
			key := fmt.Sprintf("%s|%d", a, d.Addr.Port())
			if prev, dup := seenDest[key]; dup {
				add(si, di, FieldDuplicate, "real server %s appears twice in %s (first as #%d)", d.Addr, k, prev+1)
			} else {
				seenDest[key] = di
			}
		}
	}
	return ps
}

// ValidateTimeouts returns the problems of connection timeouts alone,
// as [Table.Validate] reports them (Service and Dest are -1).
func ValidateTimeouts(t Timeouts) []Problem {
	var ps []Problem
	validateTimeouts(t, collect(&ps, -1, -1))
	return ps
}

// ValidateService returns the problems of a service's key and options
// alone, without its destinations, as [Table.Validate] reports them
// (Service and Dest are -1).
func ValidateService(k ServiceKey, o ServiceOpts) []Problem {
	var ps []Problem
	s := &Service{Key: k, Opts: o}
	validateKey(s, collect(&ps, -1, -1))
	validateOpts(s, collect(&ps, -1, -1))
	return ps
}

// ValidateDest returns the problems of destination d of the service with
// key k, as [Table.Validate] reports them (Service and Dest are -1).
func ValidateDest(k ServiceKey, d Dest) []Problem {
	var ps []Problem
	validateDest(k, &d, collect(&ps, -1, -1))
	return ps
}

func collect(ps *[]Problem, si, di int) func(field, format string, args ...any) {
	return func(field, format string, args ...any) {
		*ps = append(*ps, Problem{Service: si, Dest: di, Field: field, Msg: fmt.Sprintf(format, args...)})
	}
}

func validateTimeouts(t Timeouts, add func(field, format string, args ...any)) {
	for _, d := range []struct {
		name string
		v    int64
	}{{"tcp", int64(t.TCP)}, {"tcp_fin", int64(t.TCPFin)}, {"udp", int64(t.UDP)}} {
		switch {
		case d.v < 0 || d.v%1e9 != 0:
			add(FieldTimeouts, "timeout %s must be a whole number of seconds, not negative", d.name)
		case d.v/1e9 > MaxConnTimeout:
			add(FieldTimeouts, "timeout %s of %ds is longer than the kernel accepts: at most %ds (INT_MAX/HZ for a kernel tick rate of up to %d Hz)",
				d.name, d.v/1e9, MaxConnTimeout, AssumedMaxHZ)
		}
	}
}

func validateKey(s *Service, add func(field, format string, args ...any)) {
	k := s.Key
	if k.IsFWMark() {
		if k.Family != IPv4 && k.Family != IPv6 {
			add(FieldFamily, "family must be ipv4 or ipv6")
		}
		return
	}
	switch {
	case !k.Addr.IsValid():
		add(FieldAddress, "a virtual server needs an address (or a fwmark)")
	case k.Addr.IsUnspecified():
		add(FieldAddress, "%s is not a usable virtual address", k.Addr)
	}
	if !slices.Contains(Protocols, k.Protocol) {
		add(FieldProtocol, "protocol must be %s", orList(ProtocolNames))
	}
	if k.Port == 0 && !s.Opts.Persistent {
		add(FieldPort, "port 0 (all ports) needs persistence: the kernel only accepts it for a persistent service")
	}
}

// normKey is k as [Table.Normalize] makes it, so that two keys that
// normalize alike count as one service.
func normKey(k ServiceKey) ServiceKey {
	if k.IsFWMark() {
		k.Protocol, k.Addr, k.Port = 0, netip.Addr{}, 0
		return k
	}
	k.Addr = k.Addr.Unmap()
	if k.Addr.IsValid() {
		k.Family = FamilyOf(k.Addr)
	}
	return k
}

func validateOpts(s *Service, add func(field, format string, args ...any)) {
	o := s.Opts
	sched := o.Scheduler
	if sched == "" {
		sched = "wlc"
	}
	if len(sched) > MaxSchedNameLen || !slices.Contains(Schedulers, sched) {
		add(FieldScheduler, "unknown scheduler %q: the kernel has %s", o.Scheduler, strings.Join(Schedulers, ", "))
	}
	if o.SchedFlags&^SchedFlagsMask != 0 {
		add(FieldSchedFlags, "unknown scheduler flags %#x: the kernel has flag-1, flag-2 and flag-3 (%#x)", uint8(o.SchedFlags), uint8(SchedFlagsMask))
	}
	if o.Persistent {
		if o.Timeout < MinPersistTimeout || o.Timeout > MaxPersistTimeout {
			add(FieldTimeout, "persistence timeout must be between 1s and 31 days (%ds), not %ds", MaxPersistTimeout, o.Timeout)
		}
		switch s.Key.Family {
		case IPv6:
			if o.Netmask < MinIPv6Netmask || o.Netmask > MaxIPv6Netmask {
				add(FieldNetmask, "an IPv6 persistence netmask is a prefix length from %d to %d, not %d", MinIPv6Netmask, MaxIPv6Netmask, o.Netmask)
			}
		default:
			if o.Netmask > MaxIPv4Netmask {
				add(FieldNetmask, "an IPv4 persistence netmask has at most %d bits, not %d", MaxIPv4Netmask, o.Netmask)
			}
		}
	} else if o.PE != "" {
		add(FieldPE, "persistence engine %q needs persistence: add a persistence block", o.PE)
	}
	if o.PE != "" {
		if err := CheckPE(o.PE); err != nil {
			add(FieldPE, "%v", err)
		}
	}
	if o.OnePacket && !s.Key.IsFWMark() && s.Key.Protocol != UDP {
		add(FieldOnePacket, "one-packet scheduling works only for udp and fwmark services, not %s", s.Key.Protocol)
	}
}

func validateDest(k ServiceKey, d *Dest, add func(field, format string, args ...any)) {
	a := d.Addr.Addr().Unmap()
	o := d.Opts
	switch {
	case !a.IsValid():
		add(FieldAddress, "a real server needs an address")
		return
	case a.IsUnspecified():
		add(FieldAddress, "%s is not a usable real server address", a)
	}
	if FamilyOf(a) != k.Family && k.Family != 0 && o.Forward != Tunnel {
		add(FieldAddress, "real server %s is %s but the service is %s: mixing families works only with forwarding = \"tun\"", a, FamilyOf(a), k.Family)
	}
	if !k.IsFWMark() {
		switch o.Forward {
		case Route, Tunnel, Local:
			if d.Addr.Port() != k.Port {
				add(FieldPort, "with forwarding = %q the real server port must equal the virtual port %d, not %d (the packet is not rewritten)", o.Forward, k.Port, d.Addr.Port())
			}
		case Masq:
			if d.Addr.Port() == 0 && k.Port != 0 {
				add(FieldPort, "real server %s needs a port", a)
			}
		}
	}
	if o.Forward > MaxForward {
		add(FieldForwarding, "unknown forwarding method %d: the kernel has %s", uint8(o.Forward), kernelValues(len(forwardWords), func(i int) string { return Forward(i).String() }))
	}
	if o.Weight < 0 || o.Weight > MaxWeight {
		add(FieldWeight, "weight must be between 0 and %d, not %d", MaxWeight, o.Weight)
	}
	if o.UpperThreshold > MaxThreshold {
		add(FieldUpper, "upper threshold %d is above the kernel's limit %d", o.UpperThreshold, MaxThreshold)
	}
	if o.LowerThreshold > 0 && o.LowerThreshold > o.UpperThreshold {
		add(FieldLower, "lower threshold %d is above the upper threshold %d; the kernel refuses it (set upper_threshold too)", o.LowerThreshold, o.UpperThreshold)
	}
	if o.Forward != Tunnel {
		if o.TunnelType != IPIP || o.TunnelPort != 0 || o.TunnelFlags != 0 {
			add(FieldTunnelType, "tunnel settings need forwarding = \"tun\"")
		}
		return
	}
	switch o.TunnelType {
	case IPIP:
		if o.TunnelPort != 0 {
			add(FieldTunnelPort, "tunnel_port is for gue tunnels only")
		}
		if o.TunnelFlags != 0 {
			add(FieldTunnelCsum, "checksum options are for gue and gre tunnels only")
		}
	case GUE:
		if o.TunnelPort == 0 {
			add(FieldTunnelPort, "a gue tunnel needs tunnel_port (the UDP port the real server decapsulates on)")
		}
	case GRE:
		if o.TunnelPort != 0 {
			add(FieldTunnelPort, "tunnel_port is for gue tunnels only")
		}
		if o.TunnelFlags&TunnelRemCsum != 0 {
			add(FieldTunnelCsum, "remote checksum offload (remcsum) is for gue tunnels only")
		}
	default:
		add(FieldTunnelType, "unknown tunnel type %d: the kernel has %s", o.TunnelType, kernelValues(len(tunnelTypeNames), func(i int) string { return TunnelType(i).String() }))
	}
	if o.TunnelFlags&^TunnelFlagsMask != 0 || o.TunnelFlags == TunnelFlagsMask {
		add(FieldTunnelCsum, "choose one checksum option: %s", orList(ChecksumNames))
	}
}
