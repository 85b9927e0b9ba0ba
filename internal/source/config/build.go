package config

import (
	"fmt"
	"math"
	"net/netip"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"

	"github.com/lvsctl/lvsctl/internal/diag"
	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/lvs"
)

// defaultPersistTimeout is what ipvsadm -p without a value gives
// (IPVS_SVC_PERSISTENT_TIMEOUT in libipvs), not the 300s of its man page.
const defaultPersistTimeout = 360

// builder turns decoded blocks into a table, collecting diagnostics. It
// keeps the blocks in source order beside the table so that the problems
// [lvs.Table.Validate] reports by index can be mapped back to the source.
type builder struct {
	diags   hcl.Diagnostics
	decoded int // diags[:decoded] came from gohcl
	vss     []*vsBlock
	// keyOK tells, per service, whether its identity could be read; the
	// kernel-level checks of a service with an unreadable key would only
	// repeat the first error in other words.
	keyOK    []bool
	timeouts *timeoutsBlock
	ignore   *ignoreBlock
	pulse    *model.Pulse
	// sysctls are those the sysctl block names; forwardingUnmanaged is
	// its manage_forwarding = false.
	sysctls             []lvs.Sysctl
	forwardingUnmanaged bool
	services            map[string]*model.ServiceSettings
	errIndex            errorIndex         // see hasError
	reals               map[int][]*rsBlock // see realAt
}

// errorAt adds an error about subject, unless an earlier error already
// points at exactly that range: one complaint per value, the first (most
// specific) one wins.
func (b *builder) errorAt(subject hcl.Range, summary, detail string, args ...any) {
	if b.hasError(subject) {
		return
	}
	b.diags = append(b.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fullStop(fmt.Sprintf(detail, args...)),
		Subject:  subject.Ptr(),
	})
}

// sentence makes an error message read as a diagnostic detail: capitalised,
// with a full stop.
func sentence(s string) string { return diag.Sentence(s) }

func fullStop(s string) string {
	if s != "" && !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "?") {
		s += "."
	}
	return s
}

// threshold reads a connection threshold: 0 (no limit) when absent.
func (b *builder) threshold(v *int64, r hcl.Range, name string) uint32 {
	if v == nil {
		return 0
	}
	if *v < 0 || *v > math.MaxUint32 {
		b.errorAt(r, "Invalid threshold", "%s is a number of connections from 0 (no limit) to 4294967295, not %d", name, *v)
		return 0
	}
	return uint32(*v)
}

// where is the place of r in a message: file:line:column.
func where(r hcl.Range) string { return place(&r) }

func (b *builder) build(fb *fileBlock) (*lvs.Table, time.Duration) {
	t := &lvs.Table{}
	var drain time.Duration
	if fb.DrainTimeout != nil {
		d, err := parseSeconds(*fb.DrainTimeout)
		if err != nil {
			b.errorAt(fb.DrainTimeoutRange, "Invalid drain timeout", "%s", sentence(err.Error()))
		}
		drain = d
	}
	if fb.Timeouts != nil {
		b.timeouts = fb.Timeouts
		t.Timeouts = b.buildTimeouts(fb.Timeouts)
	}
	if fb.Ignore != nil {
		b.ignore = fb.Ignore
		t.Ignore = b.buildIgnore(fb.Ignore)
	}
	if fb.Pulse != nil {
		b.pulse = b.buildPulse(fb.Pulse)
	}
	if fb.Sysctl != nil {
		b.buildSysctls(fb.Sysctl)
	}

	names := make(map[string]*vsBlock, len(fb.VirtualServers))
	keys := make(map[lvs.ServiceKey]*vsBlock, len(fb.VirtualServers))
	if n := len(fb.VirtualServers); n > 0 {
		t.Services = make([]lvs.Service, 0, n)
		b.vss = make([]*vsBlock, 0, n)
		b.keyOK = make([]bool, 0, n)
	}
	for _, vs := range fb.VirtualServers {
		if vs == nil {
			continue
		}
		b.checkName(vs.Name, vs.NameRange, "virtual server")
		if prev, dup := names[vs.Name]; dup {
			b.errorAt(vs.NameRange, "Duplicate virtual server",
				"A virtual_server named %q is already declared at %s; give each one its own name", vs.Name, where(prev.NameRange))
		} else {
			names[vs.Name] = vs
		}
		s, ok := b.buildService(vs)
		if ok {
			if prev, dup := keys[s.Key]; dup {
				b.errorAt(keyRange(vs), "Duplicate virtual service",
					"%s is already declared at %s (virtual_server %q); declare each service once", s.Key, where(keyRange(prev)), prev.Name)
			} else {
				keys[s.Key] = vs
			}
			if !t.Ignore.IsZero() && t.Ignore.Matches(s.Key) {
				b.errorAt(keyRange(vs), "Service matched by ignore",
					"%s is matched by the ignore block, so lvsctl would never manage it; remove it from one of the two", s.Key)
			}
		}
		b.buildSettings(vs, &s, ok)
		b.vss = append(b.vss, vs)
		b.keyOK = append(b.keyOK, ok)
		t.Services = append(t.Services, s)
	}
	for _, p := range t.Validate() {
		b.problem(p)
	}
	return t, drain
}

// keyRange is the range that identifies a service: its address or fwmark.
func keyRange(vs *vsBlock) hcl.Range {
	switch {
	case vs.Address != nil:
		return vs.AddressRange
	case vs.FWMark != nil:
		return vs.FWMarkRange
	case present(vs.AddressRange):
		return vs.AddressRange
	case present(vs.FWMarkRange):
		return vs.FWMarkRange
	}
	return vs.NameRange
}

// checkName refuses names that would garble plan output: the names are
// printed in plans and logs read on a terminal.
func (b *builder) checkName(name string, r hcl.Range, what string) {
	if strings.TrimSpace(name) == "" {
		example := `virtual_server "web"`
		if what == "real server" {
			example = `real_server "real1"`
		}
		b.errorAt(r, "Invalid "+what+" name", "A %s needs a name, as in %s", what, example)
		return
	}
	for _, c := range name {
		if unicode.IsControl(c) || c == utf8.RuneError {
			b.errorAt(r, "Invalid "+what+" name", "The name %q contains a control character; use letters, digits, dots, dashes and underscores", name)
			return
		}
	}
}

func (b *builder) buildTimeouts(tb *timeoutsBlock) lvs.Timeouts {
	var to lvs.Timeouts
	for _, f := range []struct {
		v   *string
		r   hcl.Range
		dst *time.Duration
	}{{tb.TCP, tb.TCPRange, &to.TCP}, {tb.TCPFin, tb.TCPFinRange, &to.TCPFin}, {tb.UDP, tb.UDPRange, &to.UDP}} {
		if f.v == nil {
			continue
		}
		d, err := parseSeconds(*f.v)
		if err == nil && d > math.MaxInt32*time.Second {
			err = fmt.Errorf("%s is longer than the kernel can hold (%d seconds)", *f.v, math.MaxInt32)
		}
		if err != nil {
			b.errorAt(f.r, "Invalid timeout", "%s", sentence(err.Error()))
			continue
		}
		*f.dst = d
	}
	return to
}

func (b *builder) buildIgnore(ib *ignoreBlock) lvs.Ignore {
	var ig lvs.Ignore
	addrs, ds := decodeList[string](ib.Addresses)
	b.diags = append(b.diags, ds...)
	for _, it := range addrs {
		var p netip.Prefix
		var err error
		if strings.Contains(it.v, "/") {
			p, err = netip.ParsePrefix(it.v)
			if err == nil && p.Addr().Zone() != "" {
				err = fmt.Errorf("zone")
			}
		} else {
			var a netip.Addr
			a, err = parseIP(it.v)
			if err == nil {
				a = a.Unmap()
				p = netip.PrefixFrom(a, a.BitLen())
			}
		}
		if err != nil {
			b.errorAt(it.r, "Invalid ignore address", "%q is not an address or a CIDR prefix; write one such as \"10.96.0.0/12\" or \"10.0.0.99\"", it.v)
			continue
		}
		ig.Prefixes = append(ig.Prefixes, p.Masked())
	}
	marks, ds := decodeList[int64](ib.FWMarks)
	b.diags = append(b.diags, ds...)
	for _, it := range marks {
		if it.v < 1 || it.v > math.MaxUint32 {
			b.errorAt(it.r, "Invalid ignore fwmark", "A firewall mark is a number from 1 to 4294967295, not %d", it.v)
			continue
		}
		ig.FWMarks = append(ig.FWMarks, uint32(it.v))
	}
	ports, ds := decodeList[int64](ib.Ports)
	b.diags = append(b.diags, ds...)
	for _, it := range ports {
		if it.v < 0 || it.v > math.MaxUint16 {
			b.errorAt(it.r, "Invalid ignore port", "A port is a number from 0 to 65535, not %d", it.v)
			continue
		}
		ig.Ports = append(ig.Ports, uint16(it.v))
	}
	return ig
}

type item[T any] struct {
	v T
	r hcl.Range
}

// decodeList decodes a list attribute element by element, so that each
// element keeps its own range. An absent (null) list is empty.
func decodeList[T any](expr hcl.Expression) ([]item[T], hcl.Diagnostics) {
	if expr == nil {
		return nil, nil
	}
	v, diags := expr.Value(nil)
	if diags.HasErrors() || v.IsNull() {
		return nil, diags
	}
	elems, ds := hcl.ExprList(expr)
	if ds.HasErrors() {
		// Not written as [a, b]: decode it whole, pointing at the whole.
		var vals []T
		if ds := gohcl.DecodeExpression(expr, nil, &vals); ds.HasErrors() {
			return nil, ds
		}
		items := make([]item[T], len(vals))
		for i, v := range vals {
			items[i] = item[T]{v, expr.Range()}
		}
		return items, nil
	}
	var items []item[T]
	for _, e := range elems {
		var v T
		if ds := gohcl.DecodeExpression(e, nil, &v); ds.HasErrors() {
			diags = append(diags, ds...)
			continue
		}
		items = append(items, item[T]{v, e.Range()})
	}
	return items, diags
}

// buildService returns the service vs declares and whether its key (the
// identity the kernel knows it by) could be read.
func (b *builder) buildService(vs *vsBlock) (lvs.Service, bool) {
	s := lvs.Service{Name: vs.Name}
	keyOK := b.buildKey(vs, &s)

	if vs.Scheduler != nil {
		name := *vs.Scheduler
		if isScheduler(name) {
			s.Opts.Scheduler = name
		} else {
			b.errorAt(vs.SchedulerRange, "Invalid scheduler", "%q is not an IPVS scheduler; use one of %s.%s",
				name, strings.Join(lvs.Schedulers, ", "), didYouMean(name, lvs.Schedulers))
		}
	}
	b.buildSchedFlags(vs, &s)
	if vs.OnePacket != nil {
		s.Opts.OnePacket = *vs.OnePacket
	}
	if vs.PE != nil {
		s.Opts.PE = *vs.PE
	}
	if p := vs.Persistence; p != nil {
		s.Opts.Persistent = true
		s.Opts.Timeout = defaultPersistTimeout
		if p.Timeout != nil {
			d, err := parseSeconds(*p.Timeout)
			if err != nil {
				b.errorAt(p.TimeoutRange, "Invalid persistence timeout", "%s", sentence(err.Error()))
			} else {
				s.Opts.Timeout = uint32(min(d/time.Second, math.MaxUint32))
			}
		}
		s.Opts.Netmask = lvs.FullMask(s.Key.Family)
		if p.Netmask != nil && keyOK {
			m, err := parseNetmask(*p.Netmask, s.Key.Family)
			if err != nil {
				b.errorAt(p.NetmaskRange, "Invalid persistence netmask", "%s", sentence(err.Error()))
			} else {
				s.Opts.Netmask = m
			}
		}
	}

	fwd := lvs.Masq
	if vs.Forwarding != nil {
		fwd = b.parseForward(*vs.Forwarding, vs.ForwardingRange)
	}
	names := make(map[string]*rsBlock, len(vs.Reals))
	addrs := make(map[netip.AddrPort]*rsBlock, len(vs.Reals))
	if len(vs.Reals) > 0 {
		s.Dests = make([]lvs.Dest, 0, len(vs.Reals))
	}
	for _, rs := range vs.Reals {
		if rs == nil {
			continue
		}
		b.checkName(rs.Name, rs.NameRange, "real server")
		if prev, dup := names[rs.Name]; dup {
			b.errorAt(rs.NameRange, "Duplicate real server",
				"A real_server named %q is already declared in virtual_server %q at %s; give each one its own name", rs.Name, vs.Name, where(prev.NameRange))
		} else {
			names[rs.Name] = rs
		}
		d, ok := b.buildDest(vs, rs, &s, keyOK, fwd)
		if ok {
			if prev, dup := addrs[d.Addr]; dup {
				b.errorAt(rs.AddressRange, "Duplicate real server",
					"%s is already a real server of virtual_server %q, declared at %s (real_server %q)", d.Addr, vs.Name, where(prev.AddressRange), prev.Name)
			} else {
				addrs[d.Addr] = rs
			}
		}
		s.Dests = append(s.Dests, d)
	}
	return s, keyOK
}

func isScheduler(name string) bool {
	for _, s := range lvs.Schedulers {
		if s == name {
			return true
		}
	}
	return false
}

// buildKey reads the identity of a service: address and protocol, or
// fwmark and family.
func (b *builder) buildKey(vs *vsBlock, s *lvs.Service) bool {
	// null is how HCL writes "not set"; a value that failed to decode was
	// set, and has its error already.
	hasAddr := vs.Address != nil || b.hasError(vs.AddressRange)
	hasMark := vs.FWMark != nil || b.hasError(vs.FWMarkRange)
	switch {
	case hasAddr && hasMark:
		b.errorAt(vs.FWMarkRange, "Conflicting service identity",
			"A virtual server is either an address service or a firewall-mark service, not both; remove address or fwmark")
		return false
	case !hasAddr && !hasMark:
		b.errorAt(vs.DefRange, "Missing service address",
			`Set address = "10.0.0.2:80" for an address service, or fwmark = 100 for a firewall-mark service`)
		return false
	}
	ok := !b.hasError(keyRange(vs))
	if hasMark {
		if vs.FWMark != nil {
			switch m := *vs.FWMark; {
			case m == 0:
				b.errorAt(vs.FWMarkRange, "Invalid fwmark",
					"Mark 0 means \"no mark\" and matches nothing; use the mark your firewall sets, from 1 to 4294967295")
				ok = false
			case m < 0 || m > math.MaxUint32:
				b.errorAt(vs.FWMarkRange, "Invalid fwmark", "A firewall mark is a number from 1 to 4294967295, not %d", m)
				ok = false
			default:
				s.Key.FWMark = uint32(m)
			}
		}
		s.Key.Family = lvs.IPv4
		if vs.Family != nil {
			switch *vs.Family {
			case "ipv4":
			case "ipv6":
				s.Key.Family = lvs.IPv6
			default:
				b.errorAt(vs.FamilyRange, "Invalid family", "%q is not an address family; use \"ipv4\" or \"ipv6\"", *vs.Family)
				ok = false
			}
		}
		if vs.Protocol != nil {
			b.errorAt(vs.ProtocolRange, "Protocol not allowed with fwmark",
				"A firewall-mark service takes whatever packets carry the mark, whatever their protocol; remove protocol and match the protocol in the firewall rule that sets the mark")
		}
		return ok && !b.hasError(vs.FamilyRange)
	}

	s.Key.Protocol = lvs.TCP
	if vs.Protocol != nil {
		p, err := lvs.ParseProtocol(*vs.Protocol)
		if err != nil {
			b.errorAt(vs.ProtocolRange, "Invalid protocol", "%q is not a protocol IPVS balances; use %s.%s",
				*vs.Protocol, quotedList(lvs.ProtocolNames), didYouMean(*vs.Protocol, lvs.ProtocolNames))
			ok = false
		}
		s.Key.Protocol = p
	} else if b.hasError(vs.ProtocolRange) {
		ok = false
	}
	if vs.Address == nil {
		return false
	}
	hp, err := parseHostPort(*vs.Address)
	if err == nil && !hp.HasPort {
		example := hp.Addr.String() + ":80"
		if hp.Addr.Is6() {
			example = "[" + hp.Addr.String() + "]:80"
		}
		err = fmt.Errorf("the virtual port is missing; write it, as in %q (port 0 means all ports and needs persistence)", example)
	}
	if err != nil {
		b.errorAt(vs.AddressRange, "Invalid virtual server address", "%s", sentence(err.Error()))
		return false
	}
	s.Key.Family, s.Key.Addr, s.Key.Port = lvs.FamilyOf(hp.Addr), hp.Addr, hp.Port
	if vs.Family != nil && *vs.Family != s.Key.Family.String() {
		b.errorAt(vs.FamilyRange, "Conflicting family",
			"The address %s is %s, so family = %q contradicts it; an address service takes its family from the address, remove family", hp.Addr, s.Key.Family, *vs.Family)
	}
	return ok
}

func (b *builder) buildSchedFlags(vs *vsBlock, s *lvs.Service) {
	flags, ds := decodeList[string](vs.SchedFlags)
	b.diags = append(b.diags, ds...)
	sched := s.Opts.Scheduler
	if sched == "" && vs.Scheduler == nil {
		sched = "wlc"
	}
	seen := map[string]bool{}
	for _, it := range flags {
		f, owner, ok := lvs.LookupSchedFlag(it.v)
		switch {
		case !ok:
			b.errorAt(it.r, "Invalid scheduler flag", "%q is not a scheduler flag; use %s.%s",
				it.v, strings.Join(schedFlagList, ", "), didYouMean(it.v, schedFlagList))
			continue
		case seen[it.v]:
			b.errorAt(it.r, "Duplicate scheduler flag", "%q is listed twice; list each flag once", it.v)
			continue
		case owner != "" && sched != "" && owner != sched:
			b.errorAt(it.r, "Scheduler flag for another scheduler",
				"%q is a flag of the %s scheduler, but this virtual server uses %s; set scheduler = %q, or use flag-1, flag-2 or flag-3 for the raw bits",
				it.v, owner, sched, owner)
			continue
		}
		seen[it.v] = true
		s.Opts.SchedFlags |= f
	}
}

func (b *builder) parseForward(v string, r hcl.Range) lvs.Forward {
	f, err := lvs.ParseForward(v)
	if err != nil {
		b.errorAt(r, "Invalid forwarding method", "%q is not a forwarding method; use \"nat\" (masquerading), \"dr\" (direct routing) or \"tun\" (tunnelling).%s",
			v, didYouMean(v, lvs.ForwardNames))
		return lvs.Masq
	}
	return f
}

// buildDest returns the real server rs declares and whether its address
// could be read.
func (b *builder) buildDest(vs *vsBlock, rs *rsBlock, s *lvs.Service, keyOK bool, fwd lvs.Forward) (lvs.Dest, bool) {
	d := lvs.Dest{Name: rs.Name, Opts: lvs.DestOpts{Forward: fwd, Weight: 1}}
	ok := false
	switch {
	case rs.Address == nil && !b.hasError(rs.AddressRange):
		b.errorAt(rs.DefRange, "Missing real server address",
			`Set address = "192.168.10.100:80"; the port may be left out, it defaults to the virtual port`)
	case rs.Address != nil:
		hp, err := parseHostPort(*rs.Address)
		if err != nil {
			b.errorAt(rs.AddressRange, "Invalid real server address", "%s", sentence(err.Error()))
			break
		}
		port := hp.Port
		if !hp.HasPort {
			port = s.Key.Port // 0 for fwmark services: keep the packet's port
		}
		d.Addr = netip.AddrPortFrom(hp.Addr, port)
		ok = keyOK || hp.HasPort
	}
	if rs.Weight != nil {
		if w := *rs.Weight; w < 0 || w > math.MaxUint16 {
			b.errorAt(rs.WeightRange, "Invalid weight", "Weight must be between 0 and 65535, not %d (0 takes no new connections)", w)
		} else {
			d.Opts.Weight = int(w)
		}
	}
	if rs.Forwarding != nil {
		d.Opts.Forward = b.parseForward(*rs.Forwarding, rs.ForwardingRange)
	}
	d.Opts.UpperThreshold = b.threshold(rs.Upper, rs.UpperRange, "upper_threshold")
	d.Opts.LowerThreshold = b.threshold(rs.Lower, rs.LowerRange, "lower_threshold")
	if tb := rs.Tunnel; tb != nil {
		if d.Opts.Forward != lvs.Tunnel {
			b.errorAt(tb.DefRange, "Tunnel settings without tunnelling",
				"The tunnel block applies only to forwarding = \"tun\", and real_server %q uses %q; set forwarding = \"tun\" or remove the block", rs.Name, d.Opts.Forward)
		} else {
			b.buildTunnel(tb, &d.Opts)
		}
	}
	return d, ok
}

func (b *builder) buildTunnel(tb *tunnelBlock, o *lvs.DestOpts) {
	if tb.Type != nil {
		tt, err := lvs.ParseTunnelType(*tb.Type)
		if err != nil {
			b.errorAt(tb.TypeRange, "Invalid tunnel type", "%q is not a tunnel type; use %s.%s",
				*tb.Type, quotedList(lvs.TunnelTypeNames), didYouMean(*tb.Type, lvs.TunnelTypeNames))
		}
		o.TunnelType = tt
	}
	if tb.Port != nil {
		if p := *tb.Port; p < 1 || p > math.MaxUint16 {
			b.errorAt(tb.PortRange, "Invalid tunnel port", "The GUE port is a UDP port from 1 to 65535, not %d", p)
		} else {
			o.TunnelPort = uint16(p)
		}
	}
	if tb.Checksum != nil {
		f, err := lvs.ParseChecksum(*tb.Checksum)
		if err != nil {
			b.errorAt(tb.ChecksumRange, "Invalid tunnel checksum", "%q is not a checksum option; use \"nocsum\", \"csum\" or \"remcsum\" (gue only).%s",
				*tb.Checksum, didYouMean(*tb.Checksum, lvs.ChecksumNames))
		}
		o.TunnelFlags = f
	}
}
