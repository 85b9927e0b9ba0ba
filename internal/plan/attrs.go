package plan

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lvsctl/lvsctl/lvs"
)

// An attr is one attribute of a resource as the configuration spells it.
// Nested blocks use dotted names ("persistence.timeout"). The text and JSON
// renderings share these lists, so both always name attributes alike.
//
// Durations are written as whole seconds ("360s", "900s"), the unit the
// kernel keeps them in, so that a value reads the same in every plan.
type attr struct {
	name string
	hcl  string // HCL literal: "\"wlc\"", "3", "true", "[\"sh-port\"]"
	json any
}

func strAttr(name, v string) attr { return attr{name, strconv.Quote(v), v} }
func intAttr(name string, v int64) attr {
	return attr{name, strconv.FormatInt(v, 10), v}
}
func boolAttr(name string, v bool) attr { return attr{name, strconv.FormatBool(v), v} }

func seconds(d time.Duration) string { return fmt.Sprintf("%ds", int64(d/time.Second)) }

// serviceAttrs lists a service's attributes. Optional ones appear only when
// set, as in a configuration that relies on the defaults.
func serviceAttrs(k lvs.ServiceKey, o lvs.ServiceOpts) []attr {
	var as []attr
	if k.IsFWMark() {
		as = append(as, intAttr(lvs.FieldFWMark, int64(k.FWMark)), strAttr(lvs.FieldFamily, k.Family.String()))
	} else {
		as = append(as, strAttr(lvs.FieldAddress, k.AddrPort().String()), strAttr(lvs.FieldProtocol, k.Protocol.String()))
	}
	as = append(as, strAttr(lvs.FieldScheduler, o.Scheduler))
	if o.SchedFlags != 0 {
		names := schedFlagNames(o.Scheduler, o.SchedFlags)
		quoted := make([]string, len(names))
		for i, n := range names {
			quoted[i] = strconv.Quote(n)
		}
		as = append(as, attr{lvs.FieldSchedFlags, "[" + strings.Join(quoted, ", ") + "]", names})
	}
	if o.Persistent {
		as = append(as, strAttr(lvs.FieldTimeout, seconds(time.Duration(o.Timeout)*time.Second)))
		as = append(as, strAttr(lvs.FieldNetmask, lvs.FormatNetmask(k.Family, o.Netmask)))
	}
	if o.PE != "" {
		as = append(as, strAttr(lvs.FieldPE, o.PE))
	}
	if o.OnePacket {
		as = append(as, boolAttr(lvs.FieldOnePacket, true))
	}
	return as
}

// schedFlagNames names scheduler flags as the configuration does; bits the
// kernel does not have are shown in hex.
func schedFlagNames(sched string, f lvs.SchedFlags) []string {
	names := f.Names(sched)
	if rest := f &^ lvs.SchedFlagsMask; rest != 0 {
		names = append(names, fmt.Sprintf("0x%x", uint8(rest)))
	}
	return names
}

// destAttrs lists a destination's attributes.
func destAttrs(d lvs.Dest) []attr {
	o := d.Opts
	as := []attr{
		strAttr(lvs.FieldAddress, d.Addr.String()),
		strAttr(lvs.FieldForwarding, o.Forward.String()),
		intAttr(lvs.FieldWeight, int64(o.Weight)),
	}
	if o.UpperThreshold != 0 {
		as = append(as, intAttr(lvs.FieldUpper, int64(o.UpperThreshold)))
	}
	if o.LowerThreshold != 0 {
		as = append(as, intAttr(lvs.FieldLower, int64(o.LowerThreshold)))
	}
	// The configuration writes these in a tunnel block.
	if o.Forward == lvs.Tunnel {
		as = append(as, strAttr("tunnel.type", o.TunnelType.String()))
		if o.TunnelType == lvs.GUE || o.TunnelPort != 0 {
			as = append(as, intAttr("tunnel.port", int64(o.TunnelPort)))
		}
		if o.TunnelType != lvs.IPIP || o.TunnelFlags != 0 {
			as = append(as, strAttr("tunnel.checksum", checksumName(o.TunnelFlags)))
		}
	}
	return as
}

// unknownValue is how an attribute the live table does not know is shown
// on the before side of an update: in the text, and as a JSON null.
const unknownValue = "(not in the live table)"

// unknownDestAttrs replaces in as, the attributes of live real server
// settings o, those that unknown says the live table does not know: the
// zeros there are not values.
func unknownDestAttrs(as []attr, o lvs.DestOpts, unknown lvs.Unknown) []attr {
	if unknown&(lvs.UnknownThresholds|lvs.UnknownTunnel) == 0 {
		return as
	}
	out := make([]attr, 0, len(as)+2)
	for _, a := range as {
		switch {
		case unknown&lvs.UnknownThresholds != 0 && (a.name == lvs.FieldUpper || a.name == lvs.FieldLower):
		case unknown&lvs.UnknownTunnel != 0 && strings.HasPrefix(a.name, "tunnel."):
		default:
			out = append(out, a)
		}
	}
	if unknown&lvs.UnknownThresholds != 0 {
		out = append(out, attr{lvs.FieldUpper, unknownValue, nil}, attr{lvs.FieldLower, unknownValue, nil})
	}
	if unknown&lvs.UnknownTunnel != 0 && o.Forward == lvs.Tunnel {
		out = append(out, attr{"tunnel.type", unknownValue, nil}, attr{"tunnel.port", unknownValue, nil}, attr{"tunnel.checksum", unknownValue, nil})
	}
	return out
}

// checksumName names a tunnel checksum option; flags that are none of
// them are shown in hex.
func checksumName(f lvs.TunnelFlags) string {
	if !f.IsChecksum() {
		return fmt.Sprintf("flags(0x%x)", uint16(f))
	}
	return f.String()
}

// timeoutsAttrs lists the connection timeouts, as in the timeouts block.
func timeoutsAttrs(t lvs.Timeouts) []attr {
	return []attr{
		strAttr("tcp", seconds(t.TCP)),
		strAttr("tcp_fin", seconds(t.TCPFin)),
		strAttr("udp", seconds(t.UDP)),
	}
}

// shownFrom is what a live destination's settings mean next to want: a
// live Local forwarding stands for whatever was asked (see [DestSettled]),
// so it is shown as such instead of as a change that is not one.
func shownFrom(live, want lvs.Dest) lvs.Dest {
	if live.Opts.Forward == lvs.Local {
		live.Opts.Forward, live.Opts.TunnelType, live.Opts.TunnelPort, live.Opts.TunnelFlags = want.Opts.Forward, want.Opts.TunnelType, want.Opts.TunnelPort, want.Opts.TunnelFlags
	}
	return live
}

// attrsJSON nests attributes into a JSON object, splitting dotted names
// into sub-objects ("persistence.timeout" -> {"persistence":{"timeout":..}}).
func attrsJSON(as []attr) map[string]any {
	m := map[string]any{}
	for _, a := range as {
		cur := m
		parts := strings.Split(a.name, ".")
		for _, p := range parts[:len(parts)-1] {
			sub, ok := cur[p].(map[string]any)
			if !ok {
				sub = map[string]any{}
				cur[p] = sub
			}
			cur = sub
		}
		cur[parts[len(parts)-1]] = a.json
	}
	return m
}

// sysctlAttrs lists a kernel setting's one attribute, its value: a number
// where it reads as one. A setting the kernel does not have has none.
func sysctlAttrs(s lvs.Sysctl) []attr {
	if s.Value == "" {
		return []attr{}
	}
	if n, err := strconv.ParseInt(s.Value, 10, 64); err == nil {
		return []attr{intAttr("value", n)}
	}
	return []attr{strAttr("value", s.Value)}
}
