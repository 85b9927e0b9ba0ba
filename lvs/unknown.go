package lvs

import "strings"

// Unknown names the settings that a live table does not know because the
// source it was read from cannot carry them: an "ipvsadm -S" dump has no
// connection timeouts and no thresholds, and one saved by an ipvsadm older
// than 1.30 no tunnel types. The kernel's own reading knows everything.
//
// An unknown field holds its zero value, and the planner leaves it out of
// the comparison instead of planning a change from zero: see
// [Table.Forget].
type Unknown uint8

const (
	UnknownTCPTimeout    Unknown = 1 << iota // Timeouts.TCP
	UnknownTCPFinTimeout                     // Timeouts.TCPFin
	UnknownUDPTimeout                        // Timeouts.UDP
	UnknownThresholds                        // every real server's UpperThreshold and LowerThreshold
	UnknownTunnel                            // every tunnelled real server's TunnelType, TunnelPort and TunnelFlags

	UnknownTimeouts = UnknownTCPTimeout | UnknownTCPFinTimeout | UnknownUDPTimeout
	// UnknownAll is every bit that has a meaning; others are invalid.
	UnknownAll = UnknownTimeouts | UnknownThresholds | UnknownTunnel
)

// UnknownTimeoutsOf returns the timeouts that t does not have: the zero
// ones. The kernel never holds a zero timeout (setting 0 leaves a timeout
// as it is), so a zero in a table read from elsewhere means "not known".
func UnknownTimeoutsOf(t Timeouts) Unknown {
	var u Unknown
	if t.TCP == 0 {
		u |= UnknownTCPTimeout
	}
	if t.TCPFin == 0 {
		u |= UnknownTCPFinTimeout
	}
	if t.UDP == 0 {
		u |= UnknownUDPTimeout
	}
	return u
}

// timeoutBits names each timeout's bit as the timeouts block names the
// timeout.
var timeoutBits = []struct {
	bit  Unknown
	name string
}{{UnknownTCPTimeout, "tcp"}, {UnknownTCPFinTimeout, "tcp_fin"}, {UnknownUDPTimeout, "udp"}}

// Names returns the settings of u as the configuration names them:
// "timeouts" when all three are unknown, else "timeouts.tcp" and so on,
// then "upper_threshold", "lower_threshold" and "tunnel".
func (u Unknown) Names() []string {
	var ns []string
	if u&UnknownTimeouts == UnknownTimeouts {
		ns = append(ns, FieldTimeouts)
	} else {
		for _, x := range timeoutBits {
			if u&x.bit != 0 {
				ns = append(ns, FieldTimeouts+"."+x.name)
			}
		}
	}
	if u&UnknownThresholds != 0 {
		ns = append(ns, FieldUpper, FieldLower)
	}
	if u&UnknownTunnel != 0 {
		ns = append(ns, "tunnel")
	}
	return ns
}

// String describes u for people: "the connection timeouts, the real
// servers' thresholds and the tunnel options", or "" for none.
func (u Unknown) String() string {
	var parts []string
	switch t := u & UnknownTimeouts; t {
	case 0:
	case UnknownTimeouts:
		parts = append(parts, "the connection timeouts")
	default:
		var ns []string
		for _, x := range timeoutBits {
			if t&x.bit != 0 {
				ns = append(ns, x.name)
			}
		}
		parts = append(parts, "the "+strings.Join(ns, " and ")+" connection timeout"+map[bool]string{true: "s", false: ""}[len(ns) > 1])
	}
	if u&UnknownThresholds != 0 {
		parts = append(parts, "the real servers' thresholds")
	}
	if u&UnknownTunnel != 0 {
		parts = append(parts, "the tunnel options (type, port, checksum)")
	}
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// Forget marks the settings of u unknown in t and sets them to zero, so
// that a table that knows them compares as one that does not: how a saved
// plan made against a dump is checked against the kernel's table.
func (t *Table) Forget(u Unknown) {
	u &= UnknownAll
	t.Unknown |= u
	if u&UnknownTCPTimeout != 0 {
		t.Timeouts.TCP = 0
	}
	if u&UnknownTCPFinTimeout != 0 {
		t.Timeouts.TCPFin = 0
	}
	if u&UnknownUDPTimeout != 0 {
		t.Timeouts.UDP = 0
	}
	if u&(UnknownThresholds|UnknownTunnel) == 0 {
		return
	}
	for i := range t.Services {
		for j := range t.Services[i].Dests {
			o := &t.Services[i].Dests[j].Opts
			if u&UnknownThresholds != 0 {
				o.UpperThreshold, o.LowerThreshold = 0, 0
			}
			if u&UnknownTunnel != 0 && o.Forward == Tunnel {
				o.TunnelType, o.TunnelPort, o.TunnelFlags = IPIP, 0, 0
			}
		}
	}
}
