package lvs

import (
	"fmt"
	"slices"
	"strings"
)

// Schedulers are the kernel's IPVS schedulers (ip_vs_<name>.ko).
var Schedulers = []string{"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos"}

// MaxPersistTimeout is the longest persistence timeout ipvsadm accepts: 31 days.
const MaxPersistTimeout = 31 * 24 * 3600

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
	add := func(si, di int, field, format string, args ...any) {
		ps = append(ps, Problem{Service: si, Dest: di, Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	for _, d := range []struct {
		name string
		v    int64
	}{{"tcp", int64(t.Timeouts.TCP)}, {"tcp_fin", int64(t.Timeouts.TCPFin)}, {"udp", int64(t.Timeouts.UDP)}} {
		if d.v < 0 || d.v%1e9 != 0 {
			add(-1, -1, FieldTimeouts, "timeout %s must be a whole number of seconds, not negative", d.name)
		}
	}
	seen := map[ServiceKey]int{}
	for si := range t.Services {
		s := &t.Services[si]
		k := s.Key
		if k.IsFWMark() {
			if k.Family != IPv4 && k.Family != IPv6 {
				add(si, -1, FieldFamily, "family must be ipv4 or ipv6")
			}
		} else {
			switch {
			case !k.Addr.IsValid():
				add(si, -1, FieldAddress, "a virtual server needs an address (or a fwmark)")
			case k.Addr.IsUnspecified():
				add(si, -1, FieldAddress, "%s is not a usable virtual address", k.Addr)
			}
			if k.Protocol != TCP && k.Protocol != UDP && k.Protocol != SCTP {
				add(si, -1, FieldProtocol, "protocol must be tcp, udp or sctp")
			}
			if k.Port == 0 && !s.Opts.Persistent {
				add(si, -1, FieldPort, "port 0 (all ports) needs persistence: the kernel only accepts it for a persistent service")
			}
		}
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
		validateOpts(s, func(field, format string, args ...any) { add(si, -1, field, format, args...) })
		seenDest := map[string]int{}
		for di := range s.Dests {
			d := &s.Dests[di]
			validateDest(s, d, func(field, format string, args ...any) { add(si, di, field, format, args...) })
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

func normKey(k ServiceKey) ServiceKey {
	k.Addr = k.Addr.Unmap()
	return k
}

func validateOpts(s *Service, add func(field, format string, args ...any)) {
	o := s.Opts
	sched := o.Scheduler
	if sched == "" {
		sched = "wlc"
	}
	if !slices.Contains(Schedulers, sched) {
		add(FieldScheduler, "unknown scheduler %q: the kernel has %s", o.Scheduler, strings.Join(Schedulers, ", "))
	}
	if o.Persistent {
		if o.Timeout < 1 || o.Timeout > MaxPersistTimeout {
			add(FieldTimeout, "persistence timeout must be between 1s and 31 days (%ds), not %ds", MaxPersistTimeout, o.Timeout)
		}
		switch s.Key.Family {
		case IPv6:
			if o.Netmask < 1 || o.Netmask > 128 {
				add(FieldNetmask, "an IPv6 persistence netmask is a prefix length from 1 to 128, not %d", o.Netmask)
			}
		default:
			if o.Netmask > 32 {
				add(FieldNetmask, "an IPv4 persistence netmask has at most 32 bits, not %d", o.Netmask)
			}
		}
	} else if o.PE != "" {
		add(FieldPE, "persistence engine %q needs persistence: add a persistence block", o.PE)
	}
	if o.PE != "" && o.PE != "sip" {
		add(FieldPE, "unknown persistence engine %q: the kernel has only sip", o.PE)
	}
	if o.OnePacket && !s.Key.IsFWMark() && s.Key.Protocol != UDP {
		add(FieldOnePacket, "one-packet scheduling works only for udp and fwmark services, not %s", s.Key.Protocol)
	}
}

func validateDest(s *Service, d *Dest, add func(field, format string, args ...any)) {
	a := d.Addr.Addr().Unmap()
	o := d.Opts
	switch {
	case !a.IsValid():
		add(FieldAddress, "a real server needs an address")
		return
	case a.IsUnspecified():
		add(FieldAddress, "%s is not a usable real server address", a)
	}
	if FamilyOf(a) != s.Key.Family && s.Key.Family != 0 && o.Forward != Tunnel {
		add(FieldAddress, "real server %s is %s but the service is %s: mixing families works only with forwarding = \"tun\"", a, FamilyOf(a), s.Key.Family)
	}
	if !s.Key.IsFWMark() {
		switch o.Forward {
		case Route, Tunnel, Local:
			if d.Addr.Port() != s.Key.Port {
				add(FieldPort, "with forwarding = %q the real server port must equal the virtual port %d, not %d (the packet is not rewritten)", o.Forward, s.Key.Port, d.Addr.Port())
			}
		case Masq:
			if d.Addr.Port() == 0 && s.Key.Port != 0 {
				add(FieldPort, "real server %s needs a port", a)
			}
		}
	}
	switch o.Forward {
	case Masq, Route, Tunnel, Local:
	default:
		add(FieldForwarding, "unknown forwarding method %d", o.Forward)
	}
	if o.Weight < 0 || o.Weight > 65535 {
		add(FieldWeight, "weight must be between 0 and 65535, not %d", o.Weight)
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
		add(FieldTunnelType, "unknown tunnel type %d", o.TunnelType)
	}
	if o.TunnelFlags&^(TunnelCsum|TunnelRemCsum) != 0 || o.TunnelFlags == TunnelCsum|TunnelRemCsum {
		add(FieldTunnelCsum, "choose one checksum option: nocsum, csum or remcsum")
	}
}
