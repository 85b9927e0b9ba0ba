package config

import (
	"fmt"
	"math"
	"net/netip"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/lvs"
)

// buildSettings reads what vs declares beyond the table. s is the service
// built from vs; keyOK tells whether its key could be read.
func (b *builder) buildSettings(vs *vsBlock, s *lvs.Service, keyOK bool) {
	st := &model.ServiceSettings{Key: s.Key}
	if vs.SorryServer != nil && keyOK {
		st.SorryServer = b.buildSorry(vs, s)
	}
	if vs.VIP != nil && keyOK {
		st.VIP = b.buildVIP(vs.VIP, s)
	}
	b.buildQuorum(vs, st)
	vsc := b.readCheck(vs.HealthCheck)
	if vsc != nil {
		st.HealthCheck = b.buildCheck(vsc, s)
	}
	n := -1 // the index in s.Dests of rs: nil blocks have none
	for _, rs := range vs.Reals {
		if rs == nil {
			continue
		}
		n++
		hc := b.realServerChecks(rs, vsc, st.HealthCheck, s, n)
		if hc == nil {
			continue
		}
		if st.RealServers == nil {
			st.RealServers = map[string]*model.HealthCheck{}
		}
		st.RealServers[rs.Name] = hc
	}
	if !st.IsZero() {
		if b.services == nil {
			b.services = map[string]*model.ServiceSettings{}
		}
		b.services[vs.Name] = st
	}
}

// realServerChecks returns the checks of the real server rs, the n-th of
// the service s: its health_check blocks, each merged over the virtual
// server's (vsc, built as vhc), or the virtual server's when it has none.
// With several blocks the first check carries the others as its More (all
// must pass). nil after reporting why, or when nothing is probed.
func (b *builder) realServerChecks(rs *rsBlock, vsc *checkSpec, vhc *model.HealthCheck, s *lvs.Service, n int) *model.HealthCheck {
	if len(rs.HealthChecks) == 0 {
		if vhc != nil && n < len(s.Dests) {
			if p := vhc.ValidateTarget(s.Dests[n].Addr, rs.Name); p != nil {
				b.checkProblem(vsc, *p)
			}
		}
		return vhc
	}
	if len(rs.HealthChecks) > model.MaxChecks {
		b.errorAt(rs.HealthChecks[model.MaxChecks].DefRange, "Too many health checks",
			"real_server %q has %d health_check blocks; a real server has at most %d", rs.Name, len(rs.HealthChecks), model.MaxChecks)
		return nil
	}
	var first *model.HealthCheck
	var firstSpec *checkSpec
	failed := false
	for _, cb := range rs.HealthChecks {
		spec := mergeCheck(vsc, b.readCheck(cb))
		hc := b.buildCheck(spec, s)
		if hc == nil {
			failed = true
			continue
		}
		if n < len(s.Dests) {
			if p := hc.ValidateTarget(s.Dests[n].Addr, rs.Name); p != nil {
				b.checkProblem(spec, *p)
				failed = true
				continue
			}
		}
		if first == nil {
			first, firstSpec = hc, spec
			continue
		}
		if hc.OnFailure != first.OnFailure {
			// What happens to a real server that fails is the real
			// server's, not one check's.
			r := cb.DefRange
			if a, ok := spec.attrs["on_failure"]; ok {
				r = a.r
			} else if a, ok := firstSpec.attrs["on_failure"]; ok {
				r = a.r
			}
			b.errorAt(r, "Conflicting on_failure", "The health_check blocks of real_server %q say on_failure %q and %q; a real server that fails a check is removed or quiesced as a whole, so give every block the same on_failure (or set it once, in the virtual server's health_check)", rs.Name, first.OnFailure, hc.OnFailure)
			failed = true
			continue
		}
		first.More = append(first.More, hc)
	}
	if failed {
		return nil
	}
	return first
}

// buildQuorum reads quorum and hysteresis into st.
func (b *builder) buildQuorum(vs *vsBlock, st *model.ServiceSettings) {
	ranges := map[string]hcl.Range{"quorum": vs.QuorumRange, "hysteresis": vs.HysteresisRange}
	for _, x := range []struct {
		v   *int64
		dst *int
	}{{vs.Quorum, &st.Quorum}, {vs.Hysteresis, &st.Hysteresis}} {
		if x.v != nil {
			*x.dst = int(max(min(*x.v, math.MaxInt32), math.MinInt32))
		}
	}
	for _, p := range st.ValidateQuorum() {
		r := ranges[p.Setting]
		if !present(r) {
			r = ranges["quorum"]
			if !present(r) {
				r = vs.DefRange
			}
		}
		b.errorAt(r, p.Summary, "%s", p.Msg)
	}
}

func (b *builder) buildSorry(vs *vsBlock, s *lvs.Service) netip.AddrPort {
	hp, err := parseHostPort(*vs.SorryServer)
	if err != nil {
		b.errorAt(vs.SorryServerRange, "Invalid sorry server", "%s", sentence(err.Error()))
		return netip.AddrPort{}
	}
	port := hp.Port
	if !hp.HasPort {
		port = s.Key.Port
	}
	ap := netip.AddrPortFrom(hp.Addr, port)
	if lvs.FamilyOf(hp.Addr) != s.Key.Family {
		b.errorAt(vs.SorryServerRange, "Invalid sorry server", "%s is an %s address but the service is %s; the sorry server is added as a real server of the same family",
			hp.Addr, lvs.FamilyOf(hp.Addr), s.Key.Family)
		return netip.AddrPort{}
	}
	for _, rs := range vs.Reals {
		if rs != nil && rs.Address != nil {
			if rhp, err := parseHostPort(*rs.Address); err == nil && rhp.Addr == hp.Addr && (rhp.Port == port || !rhp.HasPort && s.Key.Port == port) {
				b.errorAt(vs.SorryServerRange, "Invalid sorry server", "%s is also real_server %q; the sorry server stands in when every real server is down, so it must be another address", ap, rs.Name)
				return netip.AddrPort{}
			}
		}
	}
	return ap
}

func (b *builder) buildVIP(vb *aliasBlock, s *lvs.Service) *model.VIP {
	v := &model.VIP{Address: s.Key.Addr}
	switch {
	case vb.Address != nil:
		a, err := parseIP(*vb.Address)
		if err != nil {
			b.errorAt(vb.AddressRange, "Invalid VIP address", "%s", sentence(err.Error()))
			return nil
		}
		a = a.Unmap()
		if !s.Key.IsFWMark() && a != s.Key.Addr {
			b.errorAt(vb.AddressRange, "Conflicting VIP address", "The service address is %s, so the VIP is %s too; remove address from the vip block (it is needed only for firewall-mark services)", s.Key.Addr, s.Key.Addr)
			return nil
		}
		if s.Key.IsFWMark() && lvs.FamilyOf(a) != s.Key.Family {
			b.errorAt(vb.AddressRange, "Conflicting VIP address", "%s is an %s address but the service is %s", a, lvs.FamilyOf(a), s.Key.Family)
			return nil
		}
		v.Address = a
	case s.Key.IsFWMark():
		b.errorAt(vb.DefRange, "Missing VIP address", `A firewall-mark service has no address of its own; write the address to hold, as in address = "10.0.0.2"`)
		return nil
	}
	dev, ok := b.device(vb.Device, vb.DeviceRange, vb.DefRange, "vip")
	if !ok {
		return nil
	}
	v.Device = dev
	if vb.Netmask != nil {
		m, err := parseNetmask(*vb.Netmask, lvs.FamilyOf(v.Address))
		if err != nil {
			b.errorAt(vb.NetmaskRange, "Invalid VIP netmask", "%s", sentence(strings.ReplaceAll(err.Error(), "persistence ", "")))
			return nil
		}
		v.Netmask = int(m)
	}
	return v
}

// device checks a network device name as the kernel takes it: at most 15
// bytes, no blanks or slashes; an alias label (eth0:1) is a device name too.
func (b *builder) device(p *string, r, def hcl.Range, block string) (string, bool) {
	if p == nil {
		b.errorAt(def, "Missing device", `The %s block needs the device that holds the address, as in device = "eth0" or an alias label such as "eth0:1"`, block)
		return "", false
	}
	if err := model.CheckDevice(*p); err != nil {
		b.errorAt(r, "Invalid device", "%s", sentence(err.Error()))
		return "", false
	}
	return *p, true
}

// parsePositive parses a duration of more than zero; fractions of a second
// are allowed ("500ms"), unlike the kernel's timeouts.
func parsePositive(s string) (time.Duration, error) {
	if s != "" && strings.Trim(s, "0123456789") == "" {
		s += "s"
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf(`%q is not a duration; write one such as "5s", "500ms" or "1m"`, s)
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q is not positive; write a duration of more than zero", s)
	}
	return d, nil
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

func (b *builder) buildPulse(pb *pulseBlock) *model.Pulse {
	errs := len(b.diags)
	p := model.DefaultPulse()
	addr := func(v *string, r hcl.Range, what string) netip.Addr {
		if v == nil {
			return netip.Addr{}
		}
		a, err := parseIP(*v)
		if err != nil {
			b.errorAt(r, "Invalid "+what+" address", "%s", sentence(err.Error()))
			return netip.Addr{}
		}
		return a.Unmap()
	}
	p.Primary = addr(pb.Primary, pb.PrimaryRange, "primary")
	p.Backup = addr(pb.Backup, pb.BackupRange, "backup")
	p.PrimaryPrivate = addr(pb.PrimaryPrivate, pb.PrimaryPrivateRange, "primary_private")
	p.BackupPrivate = addr(pb.BackupPrivate, pb.BackupPrivateRange, "backup_private")
	if pb.Primary == nil && !b.hasError(pb.PrimaryRange) {
		b.errorAt(pb.DefRange, "Missing primary", `The pulse block needs the primary director's address, as in primary = "10.0.0.10"; both directors run the same file and tell their role by which address is theirs`)
	}
	if p.Primary.IsValid() && p.Backup.IsValid() {
		switch {
		case p.Primary == p.Backup:
			b.errorAt(pb.BackupRange, "Invalid backup address", "The backup has the primary's address %s; give each director its own", p.Backup)
		case p.Primary.Is4() != p.Backup.Is4():
			b.errorAt(pb.BackupRange, "Invalid backup address", "The primary %s and the backup %s are of different families; heartbeats need one", p.Primary, p.Backup)
		}
	}
	if p.PrimaryPrivate.IsValid() != p.BackupPrivate.IsValid() && !b.hasError(pb.PrimaryPrivateRange) && !b.hasError(pb.BackupPrivateRange) {
		r := pb.PrimaryPrivateRange
		if !present(r) {
			r = pb.BackupPrivateRange
		}
		b.errorAt(r, "Incomplete private heartbeat path", "Set both primary_private and backup_private for a second heartbeat path, or neither")
	}
	p.BackupActive = p.Backup.IsValid()
	if pb.BackupActive != nil {
		p.BackupActive = *pb.BackupActive
		if p.BackupActive && pb.Backup == nil && !b.hasError(pb.BackupRange) {
			b.errorAt(pb.BackupActiveRange, "Backup without an address", `backup_active = true needs backup = "ADDRESS", the backup director's address`)
		}
	}
	if pb.HeartbeatPort != nil {
		if v := *pb.HeartbeatPort; v < 1 || v > math.MaxUint16 {
			b.errorAt(pb.HeartbeatPortRange, "Invalid heartbeat port", "The heartbeat port is a UDP port from 1 to 65535, not %d", v)
		} else {
			p.HeartbeatPort = uint16(v)
		}
	}
	for _, d := range []struct {
		v    *string
		r    hcl.Range
		name string
		dst  *time.Duration
	}{{pb.Keepalive, pb.KeepaliveRange, "keepalive", &p.Keepalive}, {pb.Deadtime, pb.DeadtimeRange, "deadtime", &p.Deadtime}} {
		if d.v == nil {
			continue
		}
		v, err := parsePositive(*d.v)
		if err != nil {
			b.errorAt(d.r, "Invalid "+d.name, "%s", sentence(err.Error()))
			continue
		}
		*d.dst = v
	}
	if p.Deadtime <= p.Keepalive && !b.hasError(pb.KeepaliveRange) && !b.hasError(pb.DeadtimeRange) {
		r := pb.DeadtimeRange
		if !present(r) {
			r = pb.KeepaliveRange
		}
		if p.Backup.IsValid() && p.BackupActive {
			b.errorAt(r, "Deadtime not longer than keepalive", "deadtime (%s) must be longer than keepalive (%s), or a single late heartbeat fails the partner over; set deadtime to at least %s", fmtDuration(p.Deadtime), fmtDuration(p.Keepalive), fmtDuration(2*p.Keepalive+time.Second))
		} else {
			// No partner, no failover: the values do no harm yet.
			b.diags = append(b.diags, &hcl.Diagnostic{
				Severity: hcl.DiagWarning,
				Summary:  "Deadtime not longer than keepalive",
				Detail:   fmt.Sprintf("deadtime (%s) is not longer than keepalive (%s). No backup runs, so nothing fails over now, but with a backup a single late heartbeat would; set deadtime above keepalive before you add one.", fmtDuration(p.Deadtime), fmtDuration(p.Keepalive)),
				Subject:  r.Ptr(),
			})
		}
	}
	if pb.MonitorLinks != nil {
		p.MonitorLinks = *pb.MonitorLinks
	}
	for _, c := range []struct {
		v   *string
		r   hcl.Range
		dst *string
	}{{pb.ActiveCmd, pb.ActiveCmdRange, &p.ActiveCmd}, {pb.InactiveCmd, pb.InactiveCmdRange, &p.InactiveCmd}} {
		if c.v == nil {
			continue
		}
		if strings.TrimSpace(*c.v) == "" {
			b.errorAt(c.r, "Empty command", "The command is empty; remove the attribute or write the full path of a program")
			continue
		}
		*c.dst = *c.v
	}
	if pb.Preempt != nil {
		p.Preempt = *pb.Preempt
	}
	if pb.PiranhaCompat != nil {
		p.PiranhaCompat = *pb.PiranhaCompat
	}
	if pb.KeyFile != nil {
		if !filepath.IsAbs(*pb.KeyFile) {
			b.errorAt(pb.KeyFileRange, "Key file path not absolute", "%q is relative; write the full path, such as %q", *pb.KeyFile, model.DefaultPulseKeyFile)
		} else {
			p.KeyFile = *pb.KeyFile
		}
	}
	if nb := pb.NATRouter; nb != nil {
		n := &model.NATRouter{}
		if nb.Address == nil && !b.hasError(nb.AddressRange) {
			b.errorAt(nb.DefRange, "Missing NAT router address", `The nat_router block needs the gateway address the real servers route through, as in address = "192.168.10.1"`)
		} else if nb.Address != nil {
			n.Address = addr(nb.Address, nb.AddressRange, "NAT router")
		}
		n.Device, _ = b.device(nb.Device, nb.DeviceRange, nb.DefRange, "nat_router")
		if nb.Netmask != nil && n.Address.IsValid() {
			m, err := parseNetmask(*nb.Netmask, lvs.FamilyOf(n.Address))
			if err != nil {
				b.errorAt(nb.NetmaskRange, "Invalid NAT router netmask", "%s", sentence(strings.ReplaceAll(err.Error(), "persistence ", "")))
			}
			n.Netmask = int(m)
		}
		p.NATRouter = n
	}
	if sb := pb.SyncDaemon; sb != nil {
		sd := &model.SyncDaemon{}
		if sb.Interface == nil && !b.hasError(sb.InterfaceRange) {
			b.errorAt(sb.DefRange, "Missing sync interface", `The sync_daemon block needs the interface the sync messages use, as in interface = "eth1"`)
		} else if sb.Interface != nil {
			if err := model.CheckDevice(*sb.Interface); err != nil {
				b.errorAt(sb.InterfaceRange, "Invalid sync interface", "%s", sentence(err.Error()))
			}
			sd.Interface = *sb.Interface
		}
		if sb.ID != nil {
			if v := *sb.ID; v < 0 || v > 255 {
				b.errorAt(sb.IDRange, "Invalid sync id", "The sync id is a number from 0 to 255, not %d", v)
			} else {
				sd.ID = uint8(v)
			}
		}
		p.SyncDaemon = sd
	}
	if b.diags[errs:].HasErrors() {
		return nil
	}
	return &p
}

// fmtDuration writes d as the configuration would: "5s", "1m30s", "500ms".
func fmtDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
