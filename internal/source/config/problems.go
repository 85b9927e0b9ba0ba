package config

import (
	"github.com/hashicorp/hcl/v2"

	"github.com/lvsctl/lvsctl/lvs"
)

// keyFields are the problems that follow from a service's identity; for a
// service whose identity could not be read they would be noise.
var keyFields = map[string]bool{
	lvs.FieldAddress:   true,
	lvs.FieldPort:      true,
	lvs.FieldProtocol:  true,
	lvs.FieldFWMark:    true,
	lvs.FieldFamily:    true,
	lvs.FieldOnePacket: true,
	lvs.FieldNetmask:   true,
}

// problem turns a kernel-refusal problem found by [lvs.Table.Validate] into
// a diagnostic on the attribute it is about.
func (b *builder) problem(p lvs.Problem) {
	if p.Field == lvs.FieldDuplicate {
		return // reported by build, with the place of the first declaration
	}
	if p.Service < 0 || p.Service >= len(b.vss) {
		b.globalProblem(p)
		return
	}
	if !b.keyOK[p.Service] && keyFields[p.Field] {
		return
	}
	vs := b.vss[p.Service]
	if p.Dest >= 0 {
		rs := b.realAt(p.Service, p.Dest)
		if rs == nil {
			return
		}
		r, summary := b.destRange(vs, rs, p.Field)
		b.errorAt(r, summary, "%s", sentence(p.Msg))
		return
	}
	r, summary := serviceRange(vs, p.Field)
	b.errorAt(r, summary, "%s", sentence(p.Msg))
}

// realAt returns the i-th real server of service svc as the table has
// them (nil blocks are skipped there too). The list is made once per
// service: a service with many problems would scan it for each.
func (b *builder) realAt(svc, i int) *rsBlock {
	if b.reals == nil {
		b.reals = map[int][]*rsBlock{}
	}
	reals, ok := b.reals[svc]
	if !ok {
		for _, rs := range b.vss[svc].Reals {
			if rs != nil {
				reals = append(reals, rs)
			}
		}
		b.reals[svc] = reals
	}
	if i < len(reals) {
		return reals[i]
	}
	return nil
}

func (b *builder) globalProblem(p lvs.Problem) {
	switch {
	case p.Field == lvs.FieldTimeouts && b.timeouts != nil:
		b.errorAt(b.timeouts.DefRange, "Invalid timeout", "%s", sentence(p.Msg))
	case p.Field == lvs.FieldIgnore && b.ignore != nil:
		b.errorAt(b.ignore.DefRange, "Invalid ignore", "%s", sentence(p.Msg))
	default:
		// Every problem has a place in a file this package wrote the table
		// from; one without is a bug, but the user still deserves to see it.
		b.diags = append(b.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid configuration", Detail: sentence(p.Msg)})
	}
}

// firstPresent returns the first range that was written, or the last one
// given as the fallback.
func firstPresent(rs ...hcl.Range) hcl.Range {
	for _, r := range rs {
		if present(r) {
			return r
		}
	}
	return rs[len(rs)-1]
}

func serviceRange(vs *vsBlock, field string) (hcl.Range, string) {
	var persist persistenceBlock
	if vs.Persistence != nil {
		persist = *vs.Persistence
	}
	switch field {
	case lvs.FieldAddress:
		return keyRange(vs), "Invalid virtual server address"
	case lvs.FieldPort:
		return keyRange(vs), "Invalid virtual server port"
	case lvs.FieldProtocol:
		return firstPresent(vs.ProtocolRange, keyRange(vs)), "Invalid protocol"
	case lvs.FieldFWMark:
		return keyRange(vs), "Invalid fwmark"
	case lvs.FieldFamily:
		return firstPresent(vs.FamilyRange, keyRange(vs)), "Invalid family"
	case lvs.FieldScheduler:
		return firstPresent(vs.SchedulerRange, vs.NameRange), "Invalid scheduler"
	case lvs.FieldSchedFlags:
		return firstPresent(vs.SchedFlagsRange, vs.NameRange), "Invalid scheduler flags"
	case lvs.FieldTimeout:
		return firstPresent(persist.TimeoutRange, persist.DefRange, vs.NameRange), "Invalid persistence timeout"
	case lvs.FieldNetmask:
		return firstPresent(persist.NetmaskRange, persist.DefRange, vs.NameRange), "Invalid persistence netmask"
	case lvs.FieldPE:
		return firstPresent(vs.PERange, vs.NameRange), "Invalid persistence engine"
	case lvs.FieldOnePacket:
		return firstPresent(vs.OnePacketRange, vs.NameRange), "One-packet scheduling not possible"
	}
	return vs.NameRange, "Invalid virtual server"
}

func (b *builder) destRange(vs *vsBlock, rs *rsBlock, field string) (hcl.Range, string) {
	var tun tunnelBlock
	if rs.Tunnel != nil {
		tun = *rs.Tunnel
	}
	addr := rs.DefRange // where "Missing real server address" points
	if rs.Address != nil || b.hasError(rs.AddressRange) {
		addr = rs.AddressRange
	}
	switch field {
	case lvs.FieldAddress:
		return addr, "Invalid real server address"
	case lvs.FieldPort:
		return addr, "Invalid real server port"
	case lvs.FieldWeight:
		return firstPresent(rs.WeightRange, rs.NameRange), "Invalid weight"
	case lvs.FieldForwarding:
		return firstPresent(rs.ForwardingRange, vs.ForwardingRange, rs.NameRange), "Invalid forwarding method"
	case lvs.FieldUpper:
		return firstPresent(rs.UpperRange, rs.NameRange), "Invalid threshold"
	case lvs.FieldLower:
		return firstPresent(rs.LowerRange, rs.NameRange), "Invalid threshold"
	case lvs.FieldTunnelType:
		return firstPresent(tun.TypeRange, tun.DefRange, rs.NameRange), "Invalid tunnel settings"
	case lvs.FieldTunnelPort:
		return firstPresent(tun.PortRange, tun.DefRange, rs.NameRange), "Invalid tunnel settings"
	case lvs.FieldTunnelCsum:
		return firstPresent(tun.ChecksumRange, tun.DefRange, rs.NameRange), "Invalid tunnel settings"
	}
	return rs.NameRange, "Invalid real server"
}
