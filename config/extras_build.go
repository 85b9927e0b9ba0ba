package config

import (
	"fmt"
	"math"
	"net/netip"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/lvsctl/lvsctl/lvs"
	"github.com/lvsctl/lvsctl/model"
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
	if vs.HealthCheck != nil {
		st.HealthCheck = b.buildCheck(vs.HealthCheck, s)
	}
	n := -1 // the index in s.Dests of rs: nil blocks have none
	for _, rs := range vs.Reals {
		if rs == nil {
			continue
		}
		n++
		cb := mergeCheck(vs.HealthCheck, rs.HealthCheck)
		if cb == nil {
			continue
		}
		hc := st.HealthCheck
		if rs.HealthCheck != nil {
			hc = b.buildCheck(cb, s)
		}
		if hc == nil {
			continue
		}
		if st.RealServers == nil {
			st.RealServers = map[string]*model.HealthCheck{}
		}
		st.RealServers[rs.Name] = hc
		// A probe needs a port; a fwmark service's real servers may have
		// none of their own.
		if hc.Port == 0 && hc.Type != model.CheckExec && n < len(s.Dests) && s.Dests[n].Addr.Port() == 0 && s.Dests[n].Addr.IsValid() {
			b.errorAt(cb.DefRange, "Health check without a port",
				"real_server %q has no port (a firewall-mark service keeps the packet's port), so the check cannot know where to probe; set port in the health_check block", rs.Name)
		}
	}
	if !st.IsZero() {
		if b.services == nil {
			b.services = map[string]*model.ServiceSettings{}
		}
		b.services[vs.Name] = st
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

// mergeCheck returns the health_check in effect for a real server: the
// virtual server's, overridden attribute by attribute by the real
// server's. A real server that changes the type inherits only the
// attributes common to every type (port, interval, timeout, rise, fall,
// on_failure).
func mergeCheck(vsc, rsc *checkBlock) *checkBlock {
	switch {
	case rsc == nil:
		return vsc
	case vsc == nil:
		return rsc
	}
	m := *vsc
	if rsc.Type != nil && (vsc.Type == nil || *rsc.Type != *vsc.Type) {
		m.Protocol, m.Send, m.Expect, m.ExpectRegex, m.Program = nil, nil, nil, nil, nil
		m.Method, m.Path, m.Host, m.Status, m.BodyRegex, m.TLSVerify = nil, nil, nil, nil, nil, nil
		m.QueryName, m.QueryType = nil, nil
	}
	m.DefRange = rsc.DefRange
	over := func(dst **string, dr *hcl.Range, src *string, sr hcl.Range) {
		if src != nil || present(sr) {
			*dst, *dr = src, sr
		}
	}
	over(&m.Type, &m.TypeRange, rsc.Type, rsc.TypeRange)
	over(&m.Protocol, &m.ProtocolRange, rsc.Protocol, rsc.ProtocolRange)
	over(&m.Send, &m.SendRange, rsc.Send, rsc.SendRange)
	over(&m.Expect, &m.ExpectRange, rsc.Expect, rsc.ExpectRange)
	over(&m.ExpectRegex, &m.ExpectRegexRange, rsc.ExpectRegex, rsc.ExpectRegexRange)
	over(&m.Program, &m.ProgramRange, rsc.Program, rsc.ProgramRange)
	over(&m.Method, &m.MethodRange, rsc.Method, rsc.MethodRange)
	over(&m.Path, &m.PathRange, rsc.Path, rsc.PathRange)
	over(&m.Host, &m.HostRange, rsc.Host, rsc.HostRange)
	over(&m.BodyRegex, &m.BodyRegexRange, rsc.BodyRegex, rsc.BodyRegexRange)
	over(&m.QueryName, &m.QueryNameRange, rsc.QueryName, rsc.QueryNameRange)
	over(&m.QueryType, &m.QueryTypeRange, rsc.QueryType, rsc.QueryTypeRange)
	over(&m.Interval, &m.IntervalRange, rsc.Interval, rsc.IntervalRange)
	over(&m.Timeout, &m.TimeoutRange, rsc.Timeout, rsc.TimeoutRange)
	over(&m.OnFailure, &m.OnFailureRange, rsc.OnFailure, rsc.OnFailureRange)
	if rsc.Port != nil || present(rsc.PortRange) {
		m.Port, m.PortRange = rsc.Port, rsc.PortRange
	}
	if rsc.Rise != nil || present(rsc.RiseRange) {
		m.Rise, m.RiseRange = rsc.Rise, rsc.RiseRange
	}
	if rsc.Fall != nil || present(rsc.FallRange) {
		m.Fall, m.FallRange = rsc.Fall, rsc.FallRange
	}
	if rsc.TLSVerify != nil || present(rsc.TLSVerifyRange) {
		m.TLSVerify, m.TLSVerifyRange = rsc.TLSVerify, rsc.TLSVerifyRange
	}
	if rsc.Status != nil && present(rsc.StatusRange) {
		m.Status, m.StatusRange = rsc.Status, rsc.StatusRange
	}
	return &m
}

// checkAttrTypes names, for each type-specific attribute, the types it
// belongs to.
var checkAttrTypes = map[string][]string{
	"protocol":     {model.CheckSendExpect},
	"send":         {model.CheckSendExpect},
	"expect":       {model.CheckSendExpect, model.CheckExec},
	"expect_regex": {model.CheckSendExpect},
	"program":      {model.CheckExec},
	"method":       {model.CheckHTTP, model.CheckHTTPS},
	"path":         {model.CheckHTTP, model.CheckHTTPS},
	"host":         {model.CheckHTTP, model.CheckHTTPS},
	"status":       {model.CheckHTTP, model.CheckHTTPS},
	"body_regex":   {model.CheckHTTP, model.CheckHTTPS},
	"tls_verify":   {model.CheckHTTPS},
	"query_name":   {model.CheckDNS},
	"query_type":   {model.CheckDNS},
}

func (b *builder) buildCheck(cb *checkBlock, s *lvs.Service) *model.HealthCheck {
	errs := len(b.diags)
	if cb.Type == nil {
		if !b.hasError(cb.TypeRange) {
			b.errorAt(cb.DefRange, "Missing health check type", "Set type to one of %s, as in type = \"tcp\"", quoteList(model.CheckTypes))
		}
		return nil
	}
	typ := *cb.Type
	if !slices.Contains(model.CheckTypes, typ) {
		b.errorAt(cb.TypeRange, "Invalid health check type", "%q is not a health check type; use one of %s.%s", typ, quoteList(model.CheckTypes), didYouMean(typ, model.CheckTypes))
		return nil
	}
	hc := model.DefaultHealthCheck(typ)
	if s.Key.Protocol == lvs.UDP {
		hc.Protocol = lvs.UDP
	}
	for _, a := range []struct {
		name string
		set  bool
		r    hcl.Range
	}{
		{"protocol", cb.Protocol != nil, cb.ProtocolRange}, {"send", cb.Send != nil, cb.SendRange},
		{"expect", cb.Expect != nil, cb.ExpectRange}, {"expect_regex", cb.ExpectRegex != nil, cb.ExpectRegexRange},
		{"program", cb.Program != nil, cb.ProgramRange}, {"method", cb.Method != nil, cb.MethodRange},
		{"path", cb.Path != nil, cb.PathRange}, {"host", cb.Host != nil, cb.HostRange},
		{"status", present(cb.StatusRange), cb.StatusRange}, {"body_regex", cb.BodyRegex != nil, cb.BodyRegexRange},
		{"tls_verify", cb.TLSVerify != nil, cb.TLSVerifyRange}, {"query_name", cb.QueryName != nil, cb.QueryNameRange},
		{"query_type", cb.QueryType != nil, cb.QueryTypeRange},
	} {
		if a.set && !slices.Contains(checkAttrTypes[a.name], typ) {
			b.errorAt(a.r, "Attribute not used by this check", "%s applies to type %s, and this check is type %q; remove it or change the type",
				a.name, strings.Join(checkAttrTypes[a.name], " or "), typ)
		}
	}

	if cb.Port != nil {
		if p := *cb.Port; p < 1 || p > math.MaxUint16 {
			b.errorAt(cb.PortRange, "Invalid health check port", "A port is a number from 1 to 65535, not %d; leave port out to probe the real server's own port", p)
		} else {
			hc.Port = uint16(p)
		}
	}
	if cb.Protocol != nil {
		switch *cb.Protocol {
		case "tcp":
			hc.Protocol = lvs.TCP
		case "udp":
			hc.Protocol = lvs.UDP
		default:
			b.errorAt(cb.ProtocolRange, "Invalid health check protocol", "%q is not a probe protocol; use \"tcp\" or \"udp\"", *cb.Protocol)
		}
	}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	hc.Send, hc.Expect, hc.ExpectRegex, hc.Program = str(cb.Send), str(cb.Expect), str(cb.ExpectRegex), str(cb.Program)
	switch typ {
	case model.CheckSendExpect:
		if cb.Send == nil && cb.Expect == nil && cb.ExpectRegex == nil {
			b.errorAt(cb.DefRange, "Nothing to send or expect", `A send_expect check needs send, expect or expect_regex; for a plain connect use type = "tcp"`)
		}
		if cb.Expect != nil && cb.ExpectRegex != nil {
			b.errorAt(cb.ExpectRegexRange, "Conflicting expectations", "Use expect (the reply starts with it) or expect_regex (the reply matches it), not both")
		}
		if cb.Expect != nil && *cb.Expect == "" {
			b.errorAt(cb.ExpectRange, "Empty expect", `An empty expect matches nothing useful; write "*" to accept any reply, or remove it`)
		}
		b.checkRegex(cb.ExpectRegex, cb.ExpectRegexRange)
	case model.CheckExec:
		if cb.Program == nil || strings.TrimSpace(*cb.Program) == "" {
			r := cb.DefRange
			if cb.Program != nil {
				r = cb.ProgramRange
			}
			b.errorAt(r, "Missing program", `An exec check needs program = "/path/to/check %%h %%p"; %%h and %%p become the real server's address and port`)
		} else if first := strings.Fields(*cb.Program)[0]; !filepath.IsAbs(first) {
			b.errorAt(cb.ProgramRange, "Program path not absolute", "%q is not an absolute path; lvsctl runs the program without a shell or PATH search, so write the full path", first)
		}
	case model.CheckHTTP, model.CheckHTTPS:
		if cb.Method != nil {
			if m := *cb.Method; m == "" || strings.ToUpper(m) != m || strings.ContainsAny(m, " \t\r\n") {
				b.errorAt(cb.MethodRange, "Invalid HTTP method", "%q is not an HTTP method; write it in capitals, such as \"GET\" or \"HEAD\"", m)
			} else {
				hc.Method = m
			}
		}
		if cb.Path != nil {
			if p := *cb.Path; !strings.HasPrefix(p, "/") || strings.ContainsAny(p, " \t\r\n") {
				b.errorAt(cb.PathRange, "Invalid HTTP path", "%q is not a request path; it starts with / and has no blanks (encode them as %%20)", p)
			} else {
				hc.Path = p
			}
		}
		hc.Host = str(cb.Host)
		codes, ds := decodeList[int64](cb.Status)
		b.diags = append(b.diags, ds...)
		for _, it := range codes {
			if it.v < 100 || it.v > 599 {
				b.errorAt(it.r, "Invalid HTTP status", "An HTTP status code is a number from 100 to 599, not %d", it.v)
				continue
			}
			if !slices.Contains(hc.Status, int(it.v)) {
				hc.Status = append(hc.Status, int(it.v))
			}
		}
		slices.Sort(hc.Status)
		hc.BodyRegex = str(cb.BodyRegex)
		b.checkRegex(cb.BodyRegex, cb.BodyRegexRange)
		if cb.TLSVerify != nil {
			hc.TLSVerify = *cb.TLSVerify
		}
	case model.CheckDNS:
		if cb.QueryName == nil || *cb.QueryName == "" {
			r := cb.DefRange
			if cb.QueryName != nil {
				r = cb.QueryNameRange
			}
			b.errorAt(r, "Missing DNS query name", `A dns check needs query_name, the name to resolve, as in query_name = "www.example.com"`)
		} else {
			hc.QueryName = *cb.QueryName
		}
		if cb.QueryType != nil {
			if !slices.Contains(model.DNSQueryTypes, *cb.QueryType) {
				b.errorAt(cb.QueryTypeRange, "Invalid DNS query type", "%q is not a query type lvsctl asks; use one of %s", *cb.QueryType, quoteList(model.DNSQueryTypes))
			} else {
				hc.QueryType = *cb.QueryType
			}
		}
	}

	if cb.Interval != nil {
		if d, err := parsePositive(*cb.Interval); err != nil {
			b.errorAt(cb.IntervalRange, "Invalid health check interval", "%s", sentence(err.Error()))
		} else {
			// The timeout defaults to the interval, as nanny's did.
			hc.Interval, hc.Timeout = d, d
		}
	}
	if cb.Timeout != nil {
		if d, err := parsePositive(*cb.Timeout); err != nil {
			b.errorAt(cb.TimeoutRange, "Invalid health check timeout", "%s", sentence(err.Error()))
		} else if d > hc.Interval {
			b.errorAt(cb.TimeoutRange, "Health check timeout too long", "The timeout (%s) is longer than the interval (%s), so probes would overlap; make the timeout at most the interval", fmtDuration(d), fmtDuration(hc.Interval))
		} else {
			hc.Timeout = d
		}
	}
	for _, c := range []struct {
		v    *int64
		r    hcl.Range
		name string
		dst  *int
	}{{cb.Rise, cb.RiseRange, "rise", &hc.Rise}, {cb.Fall, cb.FallRange, "fall", &hc.Fall}} {
		if c.v == nil {
			continue
		}
		if *c.v < 1 || *c.v > 10000 {
			b.errorAt(c.r, "Invalid "+c.name, "%s is a count of consecutive probes from 1 to 10000, not %d", c.name, *c.v)
			continue
		}
		*c.dst = int(*c.v)
	}
	if cb.OnFailure != nil {
		switch *cb.OnFailure {
		case model.OnFailureRemove, model.OnFailureQuiesce:
			hc.OnFailure = *cb.OnFailure
		default:
			b.errorAt(cb.OnFailureRange, "Invalid on_failure", "%q is not a failure action; use \"quiesce\" (weight 0, connections drain) or \"remove\" (delete the real server).%s",
				*cb.OnFailure, didYouMean(*cb.OnFailure, []string{model.OnFailureQuiesce, model.OnFailureRemove}))
		}
	}
	if len(b.diags) > errs && b.diags[errs:].HasErrors() {
		return nil
	}
	return &hc
}

func (b *builder) checkRegex(p *string, r hcl.Range) {
	if p == nil {
		return
	}
	if _, err := regexp.Compile(*p); err != nil {
		b.errorAt(r, "Invalid regular expression", "%s", sentence(err.Error()))
	}
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
		b.errorAt(r, "Deadtime not longer than keepalive", "deadtime (%s) must be longer than keepalive (%s), or a single late heartbeat fails the partner over", fmtDuration(p.Deadtime), fmtDuration(p.Keepalive))
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
