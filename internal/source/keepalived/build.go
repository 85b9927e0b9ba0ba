package keepalived

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/lvs"
)

// buildServices adds the services of vs to the table, one per key, with
// their real servers as keepalived's checker adds them at start: every
// real server up, at its weight.
func (c *conv) buildServices(vs *vsSpec, keys []keyAt) {
	if !vs.fwd.set {
		vs.fwd = fwdSpec{set: true, fwd: lvs.Masq}
		vs.notes = append(vs.notes, pending{vs.n, "has no lb_kind, and keepalived then forwards by NAT (\"no forwarding method set, setting default NAT\"); so does lvsctl."})
	}
	if vs.opts.Scheduler == "" {
		vs.opts.Scheduler = "wlc"
	}
	weightSum := 0
	for _, rs := range append(slices.Clone(vs.reals), vs.sorry) {
		if rs != nil && !rs.fwd.set {
			rs.fwd = vs.fwd
		}
	}
	for _, rs := range vs.reals {
		if !rs.weightSet {
			rs.weight = vs.weight
		}
		weightSum += rs.weight
	}
	c.cfg.Table.Services = slices.Grow(c.cfg.Table.Services, len(keys))
	for i, ka := range keys {
		c.buildService(vs, ka, i == 0, weightSum)
	}
}

func (c *conv) buildService(vs *vsSpec, ka keyAt, first bool, weightSum int) {
	k := ka.key
	if prev, dup := c.keys[k]; dup {
		c.errorf(ka.pos, "%s is declared twice (first at %s); keepalived would fail to add it the second time", k, prev)
		return
	}
	c.keys[k] = ka.pos
	name := model.ServiceName(k)
	for i := 2; c.names[name]; i++ {
		name = fmt.Sprintf("%s_%d", model.ServiceName(k), i)
	}
	c.names[name] = true
	path := []string{"virtual_server", name}
	// Notes and comments go with the first service of a group only.
	note := func(n *Node, why string) {
		if first {
			c.note(n, why, path...)
		}
	}
	svc := lvs.Service{Key: k, Name: name, Opts: vs.opts}
	svc.Opts.Persistent = vs.persist
	svc.Opts.Netmask = lvs.FullMask(k.Family)
	if first {
		c.comments(vs.n, false, path...)
		for _, ch := range vs.n.Block {
			if ch.Key() != "real_server" {
				c.comments(ch, true, path...)
			}
		}
		for _, t := range vs.n.End {
			c.ann.Add(commentLine(t), path...)
		}
		for _, p := range vs.notes {
			c.note(p.n, p.why, path...)
		}
	}
	if ka.entry != "" {
		c.ann.Add(fmt.Sprintf("# From virtual_server group %s (%s), entry %s (%s).", vs.group.Words[1].Text, c.where(vs.n.Pos()), ka.entry, c.where(ka.pos)), path...)
	}
	if !k.IsFWMark() && k.Port == 0 && !vs.persist {
		svc.Opts.Persistent, svc.Opts.Timeout = true, defaultPersistence
		note(vs.n, "has port 0 without persistence_timeout; keepalived makes such a service persistent for 360 seconds (\"zero port only valid for persistent services - setting\"), and so does lvsctl.")
	}
	if vs.gran != nil && svc.Opts.Persistent {
		if ka.entry != "" {
			note(&Node{Words: []Token{{Text: "persistence_granularity", Pos: vs.gran.Pos}, *vs.gran}},
				"has no effect on the services of a virtual_server_group: keepalived adds them with a host netmask (ipvs_group_range_cmd); lvsctl does the same.")
		} else if m, ok := c.granularity(*vs.gran, k.Family); ok {
			svc.Opts.Netmask = m
		}
	}
	if !svc.Opts.Persistent {
		svc.Opts.Timeout = 0
		if svc.Opts.PE != "" {
			svc.Opts.PE = ""
			note(vs.n, "has persistence_engine without persistence; keepalived sets the engine only with persistence_timeout, so it is not converted.")
		}
	}
	if svc.Opts.OnePacket && !k.IsFWMark() && k.Protocol != lvs.UDP {
		svc.Opts.OnePacket = false
		note(vs.n, "has ops on a "+k.Protocol.String()+" service; keepalived resets it (\"one packet scheduling requires UDP - resetting\"), and so does lvsctl.")
	}
	if k.IsFWMark() && vs.protoSet && !ka.fwm {
		note(vs.n, "is a fwmark service with a protocol line; keepalived ignores the protocol of fwmark services, and so does lvsctl.")
	}
	st := &model.ServiceSettings{Key: k}
	var order []string
	taken := map[string]bool{}
	seen := map[netip.AddrPort]*rsSpec{}
	var checks []*model.HealthCheck
	if c.dests+len(vs.reals) > MaxDests {
		if !c.tooMany {
			c.tooMany = true
			c.errorf(ka.pos, "the configuration has more than %d real servers once its groups are expanded; lvsctl takes at most that many", MaxDests)
		}
		return
	}
	c.dests += len(vs.reals)
	for _, rs := range vs.reals {
		d, ok := c.dest(vs, ka, rs, first, path)
		if !ok {
			continue
		}
		if prev := seen[d.Addr]; prev != nil {
			if first {
				c.note(rs.n, fmt.Sprintf("is the same real server as the one at %s; keepalived removes the second (\"real server is duplicated - removing second rs\"), and so does lvsctl.", c.where(prev.n.Pos())), path...)
			}
			continue
		}
		seen[d.Addr] = rs
		d.Name = model.RealName(d)
		for i := 2; taken[d.Name]; i++ {
			d.Name = fmt.Sprintf("%s_%d", model.RealName(d), i)
		}
		taken[d.Name] = true
		order = append(order, d.Name)
		rp := append(slices.Clone(path), "real_server", d.Name)
		if !rs.checked {
			rs.checked = true
			rs.checks = c.readChecks(rs)
		}
		if first {
			c.comments(rs.n, true, rp...)
			for _, p := range rs.notes {
				c.note(p.n, p.why, rp...)
			}
		}
		hc := c.check(vs, rs, k, d, first, rp)
		if hc != nil {
			if st.RealServers == nil {
				st.RealServers = map[string]*model.HealthCheck{}
			}
			st.RealServers[d.Name] = hc
		}
		checks = append(checks, hc)
		svc.Dests = append(svc.Dests, d)
	}
	// The real servers' common check is the virtual server's; a virtual
	// server has one check, so real servers with several keep theirs.
	if len(checks) > 0 && checks[0] != nil && len(checks[0].More) == 0 && !slices.ContainsFunc(checks, func(h *model.HealthCheck) bool { return h == nil || !h.Equal(checks[0]) }) {
		st.HealthCheck = checks[0]
	}
	if vs.sorry != nil {
		c.sorry(vs, ka, &svc, st, first, path)
	}
	if vs.quorum != nil {
		q, _ := strconv.Atoi(vs.quorum.Words[1].Text)
		if q > weightSum {
			note(vs.quorum, fmt.Sprintf("is more than the real servers' weights add up to (%d); keepalived lowers the quorum to %d (\"quorum exceeds total weight of real servers\"), and so does lvsctl.", weightSum, weightSum))
			q = weightSum
		}
		st.Quorum = q
	}
	if vs.hyst != nil {
		h, _ := strconv.Atoi(vs.hyst.Words[1].Text)
		q := st.Quorum
		if q == 0 {
			q = 1 // keepalived's default quorum
			st.Quorum = 1
			note(vs.hyst, "is given without quorum; keepalived's quorum is then 1, which lvsctl writes out.")
		}
		if h >= q {
			note(vs.hyst, fmt.Sprintf("is not below the quorum (%d); keepalived lowers it to %d (\"hysteresis >= quorum\"), and so does lvsctl.", q, q-1))
			h = q - 1
		}
		st.Hysteresis = h
	}
	c.cfg.Table.Services = append(c.cfg.Table.Services, svc)
	c.order = append(c.order, ka.pos)
	if c.cfg.Services == nil {
		c.cfg.Services = map[string]*model.ServiceSettings{}
	}
	c.cfg.Services[name] = st
	c.ann.Order = append(c.ann.Order, name)
	c.ann.RealOrder[name] = order
	if !k.IsFWMark() {
		if c.vips == nil {
			c.vips = map[netip.Addr][]string{}
		}
		c.vips[k.Addr] = append(c.vips[k.Addr], name)
	}
}

// dest is the real server rs of the service ka as keepalived adds it:
// its port is the virtual server's in direct routing and tunnelling (0 for
// fwmark services), the configured one (or the virtual server's when
// none) in NAT.
func (c *conv) dest(vs *vsSpec, ka keyAt, rs *rsSpec, first bool, path []string) (lvs.Dest, bool) {
	k := ka.key
	if rs.fwd.fwd != lvs.Tunnel && lvs.FamilyOf(rs.addr) != k.Family {
		if rs.familyReported {
			return lvs.Dest{}, false
		}
		rs.familyReported = true
		c.errorf(rs.n.Words[1].Pos, "real server %s is %s but the virtual server %s is %s; keepalived skips it (\"Address family of virtual server and real server don't match\"); only TUN forwarding mixes families", rs.addr, lvs.FamilyOf(rs.addr), k, k.Family)
		return lvs.Dest{}, false
	}
	port := rs.port
	nat := rs.fwd.fwd == lvs.Masq
	note := ""
	switch {
	case nat && !k.IsFWMark() && port == 0 && ka.entry != "":
		c.errorf(rs.n.Pos(), "real server %s has no port, and its virtual_server group entry %s is NAT: keepalived would add it with port 0, which the kernel cannot forward to; give the real server a port", rs.addr, ka.entry)
		return lvs.Dest{}, false
	case nat && !k.IsFWMark() && port == 0:
		port = k.Port
	case nat:
	case k.IsFWMark():
		if port != 0 && ka.entry == "" {
			note = "is in a fwmark service that is not NAT; keepalived clears the real server's port in the table (\"real server has port specified - clearing\"), and so does lvsctl; its checks still probe the port written."
		}
		port = 0
	case ka.entry != "":
		if port != 0 && port != k.Port && !rs.portNoted {
			rs.portNoted = true
			c.note(rs.n, fmt.Sprintf("has port %d, and its virtual_server group entry %s has port %d; keepalived adds it with the entry's port in a service that is not NAT (and warns \"ports don't match\"), and so does lvsctl; its checks still probe port %d.", port, ka.entry, k.Port, port), path...)
		}
		port = k.Port
	default:
		if port != 0 && port != k.Port {
			note = fmt.Sprintf("has port %d in a service that is not NAT; keepalived puts the virtual port %d in the table (\"ports don't match - resetting\"), and so does lvsctl; its checks still probe port %d, as keepalived's do.", port, k.Port, port)
		}
		port = k.Port
	}
	if note != "" && first {
		c.note(rs.n, note, path...)
	}
	o := lvs.DestOpts{Forward: rs.fwd.fwd, Weight: rs.weight, UpperThreshold: rs.upper, LowerThreshold: rs.lower}
	if rs.fwd.fwd == lvs.Tunnel {
		o.TunnelType, o.TunnelPort, o.TunnelFlags = rs.fwd.tun, rs.fwd.port, rs.fwd.csum
	}
	if o.LowerThreshold > 0 && o.UpperThreshold == 0 || o.LowerThreshold > o.UpperThreshold && o.UpperThreshold > 0 {
		c.errorf(rs.n.Pos(), "real server %s has lthreshold %d above uthreshold %d; the kernel refuses it", rs.addr, o.LowerThreshold, o.UpperThreshold)
		return lvs.Dest{}, false
	}
	return lvs.Dest{Addr: netip.AddrPortFrom(rs.addr, port), Opts: o}, true
}

// granularity reads persistence_granularity: a dotted netmask for IPv4,
// a prefix length for IPv6.
func (c *conv) granularity(t Token, f lvs.Family) (uint8, bool) {
	if f == lvs.IPv6 {
		v, ok := c.unsigned(t, "persistence_granularity", 1, 128)
		return uint8(v), ok
	}
	m, err := netip.ParseAddr(t.Text)
	if err != nil || !m.Is4() {
		c.errorf(t.Pos, "persistence_granularity %s is not an IPv4 netmask such as 255.255.255.0", show(t.Text))
		return 0, false
	}
	b := m.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	bits := uint8(0)
	for v&0x80000000 != 0 {
		bits++
		v <<= 1
	}
	if v != 0 {
		c.errorf(t.Pos, "persistence_granularity %s is not a contiguous netmask; keepalived passes it on, but lvsctl keeps the netmask as a prefix length: write one such as 255.255.255.0", t.Text)
		return 0, false
	}
	return bits, true
}

// sorry sets the sorry server of the service svc.
func (c *conv) sorry(vs *vsSpec, ka keyAt, svc *lvs.Service, st *model.ServiceSettings, first bool, path []string) {
	s := vs.sorry
	k := ka.key
	port := s.port
	switch {
	case s.fwd.fwd == lvs.Masq && !k.IsFWMark() && port == 0:
		port = k.Port
	case s.fwd.fwd == lvs.Masq:
	case k.IsFWMark():
		port = 0
	default:
		port = k.Port
	}
	if s.fwd.fwd != lvs.Tunnel && lvs.FamilyOf(s.addr) != k.Family {
		if first {
			c.errorf(s.n.Words[1].Pos, "sorry_server %s is %s but the virtual server %s is %s; keepalived skips it (\"Address family of virtual server and sorry server don't match\")", s.addr, lvs.FamilyOf(s.addr), k, k.Family)
		}
		return
	}
	st.SorryServer = netip.AddrPortFrom(s.addr, port)
	for _, d := range svc.Dests {
		if d.Addr == st.SorryServer {
			c.errorf(s.n.Pos(), "sorry_server %s is also real server %s; lvsctl's sorry server stands in when the real servers are down, so it must be another address", st.SorryServer, d.Name)
			return
		}
	}
	if !first {
		return
	}
	fwd := lvs.Masq
	if len(svc.Dests) > 0 {
		fwd = svc.Dests[0].Opts.Forward
	}
	if s.fwd.fwd != fwd {
		c.note(s.n, fmt.Sprintf("forwards by %s, and lvsctl adds a sorry server with the forwarding of the service's real servers (%s).", strings.ToUpper(s.fwd.fwd.String()), strings.ToUpper(fwd.String())), path...)
	}
	if s.inhibitSet {
		c.note(s.n, "has sorry_server_inhibit: keepalived keeps the sorry server in the table at weight 0 while the real servers serve; lvsctl check adds it when it is needed and removes it after, so it is not in the table lvsctl applies.", path...)
	}
	c.comments(s.n, false, append(slices.Clone(path), "sorry_server")...)
}
