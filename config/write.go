package config

import (
	"fmt"
	"io"
	"net/netip"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/lvsctl/lvsctl/lvs"
)

// Annotations are what a converter adds to a written configuration beyond
// its values: comment lines above blocks and attributes, and the order in
// which to write the virtual and real servers.
//
// A place is named by a path of block types, labels and attribute names,
// as in ("virtual_server", "web", "real_server", "real1", "weight") or
// ("pulse", "keepalive"); see [Annotations.Add]. Comments for a place that
// is not written (an attribute left at its default, say) go to the nearest
// enclosing place that is, so that none is lost.
type Annotations struct {
	// Header and Footer are comment lines at the top and the end of the
	// file.
	Header, Footer []string
	// Order lists virtual server names in the order to write them; names
	// not listed follow in the table's order.
	Order []string
	// RealOrder lists, per virtual server name, its real server names in
	// the order to write them.
	RealOrder map[string][]string

	before map[string][]string
}

// Add puts comment lines above the place named by path. A line that does
// not start with "#" is written as "# " and the line; a text with newlines
// is several lines.
func (a *Annotations) Add(text string, path ...string) {
	if a.before == nil {
		a.before = map[string][]string{}
	}
	k := pathKey(path)
	a.before[k] = append(a.before[k], strings.Split(text, "\n")...)
}

// Comments returns the lines added above path.
func (a *Annotations) Comments(path ...string) []string {
	if a == nil {
		return nil
	}
	return a.before[pathKey(path)]
}

// pathKey joins a path with a byte that no name contains (the HCL parser
// and lvsctl's name check refuse control characters).
func pathKey(path []string) string { return strings.Join(path, "\x00") }

// Write writes cfg as HCL, formatted as hclwrite.Format does, with the
// comments of ann (which may be nil). Values equal to their defaults are
// left out, so that parsing the output with [Parse] gives cfg back (its
// Table, DrainTimeout, Pulse and Services).
func Write(w io.Writer, cfg *Config, ann *Annotations) error {
	if cfg.Table == nil {
		return fmt.Errorf("the configuration has no table; it did not parse")
	}
	if ann == nil {
		ann = &Annotations{}
	}
	// First pass: find every place that is written, then move the comments
	// of places that are not to their nearest written ancestor.
	wr := &writer{cfg: cfg, ann: ann, seen: map[string]bool{}, before: map[string][]string{}}
	wr.file()
	var header []string
	keys := make([]string, 0, len(ann.before))
	for k := range ann.before {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		lines := ann.before[k]
		path := strings.Split(k, "\x00")
		for len(path) > 0 && !wr.seen[pathKey(path)] {
			path = path[:len(path)-1]
		}
		if len(path) == 0 {
			header = append(header, lines...)
			continue
		}
		wr.before[pathKey(path)] = append(wr.before[pathKey(path)], lines...)
	}
	wr2 := &writer{cfg: cfg, ann: ann, seen: map[string]bool{}, before: wr.before, header: header}
	f := wr2.file()
	// hclwrite leaves an empty block open over two lines; "persistence {}"
	// reads better.
	out := emptyBlock.ReplaceAll(hclwrite.Format(f.Bytes()), []byte("{}\n"))
	_, err := w.Write(out)
	return err
}

var emptyBlock = regexp.MustCompile(`\{\n[ \t]*\}\n`)

type writer struct {
	cfg    *Config
	ann    *Annotations
	seen   map[string]bool
	before map[string][]string
	header []string
}

func commentTokens(lines []string) hclwrite.Tokens {
	var toks hclwrite.Tokens
	for _, l := range lines {
		l = strings.TrimRight(l, " \t\r")
		switch {
		case l == "":
			l = "#"
		case !strings.HasPrefix(l, "#"):
			l = "# " + l
		}
		toks = append(toks, &hclwrite.Token{Type: hclsyntax.TokenComment, Bytes: []byte(l + "\n")})
	}
	return toks
}

// mark records that path is written and writes its comments into body.
func (wr *writer) mark(body *hclwrite.Body, path ...string) {
	k := pathKey(path)
	wr.seen[k] = true
	if lines := wr.before[k]; len(lines) > 0 {
		body.AppendUnstructuredTokens(commentTokens(lines))
	}
}

func (wr *writer) attr(body *hclwrite.Body, v cty.Value, path ...string) {
	wr.mark(body, path...)
	body.SetAttributeValue(path[len(path)-1], v)
}

func (wr *writer) block(body *hclwrite.Body, typ string, labels []string, path ...string) *hclwrite.Body {
	wr.mark(body, path...)
	return body.AppendNewBlock(typ, labels).Body()
}

func secs(n int64) time.Duration { return time.Duration(n) * time.Second }

func str(s string) cty.Value { return cty.StringVal(s) }
func num(n int64) cty.Value  { return cty.NumberIntVal(n) }

func (wr *writer) file() *hclwrite.File {
	f := hclwrite.NewEmptyFile()
	body := f.Body()
	if lines := append(slices.Clone(wr.ann.Header), wr.header...); len(lines) > 0 {
		body.AppendUnstructuredTokens(commentTokens(lines))
		body.AppendNewline()
	}
	t := wr.cfg.Table
	gap := false
	sep := func() {
		if gap {
			body.AppendNewline()
		}
		gap = true
	}
	if wr.cfg.DrainTimeout != 0 {
		sep()
		wr.attr(body, str(fmtDuration(wr.cfg.DrainTimeout)), "drain_timeout")
	}
	if to := t.Timeouts; to != (lvs.Timeouts{}) {
		sep()
		tb := wr.block(body, "timeouts", nil, "timeouts")
		for _, x := range []struct {
			name string
			d    int64
		}{{"tcp", int64(to.TCP.Seconds())}, {"tcp_fin", int64(to.TCPFin.Seconds())}, {"udp", int64(to.UDP.Seconds())}} {
			if x.d != 0 {
				wr.attr(tb, str(fmtDuration(secs(x.d))), "timeouts", x.name)
			}
		}
	}
	if ig := t.Ignore; !ig.IsZero() {
		sep()
		ib := wr.block(body, "ignore", nil, "ignore")
		if len(ig.Prefixes) > 0 {
			vals := make([]cty.Value, len(ig.Prefixes))
			for i, p := range ig.Prefixes {
				s := p.String()
				if p.IsSingleIP() {
					s = p.Addr().String()
				}
				vals[i] = str(s)
			}
			wr.attr(ib, cty.TupleVal(vals), "ignore", "addresses")
		}
		if len(ig.FWMarks) > 0 {
			vals := make([]cty.Value, len(ig.FWMarks))
			for i, m := range ig.FWMarks {
				vals[i] = num(int64(m))
			}
			wr.attr(ib, cty.TupleVal(vals), "ignore", "fwmarks")
		}
		if len(ig.Ports) > 0 {
			vals := make([]cty.Value, len(ig.Ports))
			for i, p := range ig.Ports {
				vals[i] = num(int64(p))
			}
			wr.attr(ib, cty.TupleVal(vals), "ignore", "ports")
		}
	}
	if p := wr.cfg.Pulse; p != nil {
		sep()
		wr.pulse(body, p)
	}
	for _, s := range ordered(t.Services, wr.ann.Order, func(s lvs.Service) string { return s.Name }) {
		sep()
		wr.service(body, s)
	}
	if len(wr.ann.Footer) > 0 {
		if gap {
			body.AppendNewline()
		}
		body.AppendUnstructuredTokens(commentTokens(wr.ann.Footer))
	}
	return f
}

// ordered returns items with the named ones first, in the order of names.
func ordered[T any](items []T, names []string, name func(T) string) []T {
	out := make([]T, 0, len(items))
	done := make([]bool, len(items))
	for _, n := range names {
		for i, it := range items {
			if !done[i] && name(it) == n {
				out, done[i] = append(out, it), true
				break
			}
		}
	}
	for i, it := range items {
		if !done[i] {
			out = append(out, it)
		}
	}
	return out
}

func (wr *writer) pulse(body *hclwrite.Body, p *Pulse) {
	pb := wr.block(body, "pulse", nil, "pulse")
	a := func(name string, v cty.Value) { wr.attr(pb, v, "pulse", name) }
	addr := func(name string, ad netip.Addr) {
		if ad.IsValid() {
			a(name, str(ad.String()))
		}
	}
	addr("primary", p.Primary)
	addr("backup", p.Backup)
	if p.BackupActive != p.Backup.IsValid() {
		a("backup_active", cty.BoolVal(p.BackupActive))
	}
	addr("primary_private", p.PrimaryPrivate)
	addr("backup_private", p.BackupPrivate)
	if p.HeartbeatPort != DefaultHeartbeatPort {
		a("heartbeat_port", num(int64(p.HeartbeatPort)))
	}
	if p.Keepalive != DefaultKeepalive {
		a("keepalive", str(fmtDuration(p.Keepalive)))
	}
	if p.Deadtime != DefaultDeadtime {
		a("deadtime", str(fmtDuration(p.Deadtime)))
	}
	if p.MonitorLinks {
		a("monitor_links", cty.True)
	}
	if p.ActiveCmd != "" {
		a("active_cmd", str(p.ActiveCmd))
	}
	if p.InactiveCmd != "" {
		a("inactive_cmd", str(p.InactiveCmd))
	}
	if p.Preempt {
		a("preempt", cty.True)
	}
	if p.PiranhaCompat {
		a("piranha_compat", cty.True)
	}
	if p.KeyFile != DefaultPulseKeyFile {
		a("key_file", str(p.KeyFile))
	}
	if n := p.NATRouter; n != nil {
		nb := wr.block(pb, "nat_router", nil, "pulse", "nat_router")
		wr.attr(nb, str(n.Address.String()), "pulse", "nat_router", "address")
		wr.attr(nb, str(n.Device), "pulse", "nat_router", "device")
		if n.Netmask != 0 {
			wr.attr(nb, str(maskString(n.Netmask, n.Address)), "pulse", "nat_router", "netmask")
		}
	}
	if sd := p.SyncDaemon; sd != nil {
		sb := wr.block(pb, "sync_daemon", nil, "pulse", "sync_daemon")
		wr.attr(sb, str(sd.Interface), "pulse", "sync_daemon", "interface")
		if sd.ID != 0 {
			wr.attr(sb, num(int64(sd.ID)), "pulse", "sync_daemon", "id")
		}
	}
}

// maskString writes a prefix length as a dotted mask for IPv4 (as
// admins know them from ifconfig) and as a number for IPv6.
func maskString(bits int, a netip.Addr) string {
	if a.Is6() && !a.Is4In6() {
		return strconv.Itoa(bits)
	}
	var m [4]byte
	v := ^uint32(0) << (32 - bits)
	if bits == 0 {
		v = 0
	}
	m[0], m[1], m[2], m[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
	return netip.AddrFrom4(m).String()
}

func hostPortString(ap netip.AddrPort, withPort bool) string {
	a := ap.Addr()
	if !withPort {
		return a.String()
	}
	return ap.String() // [v6]:port or v4:port
}

func (wr *writer) service(body *hclwrite.Body, s lvs.Service) {
	vp := []string{"virtual_server", s.Name}
	vb := wr.block(body, "virtual_server", []string{s.Name}, vp...)
	a := func(name string, v cty.Value) { wr.attr(vb, v, append(vp, name)...) }
	st := wr.cfg.Settings(s.Name)
	k := s.Key
	if k.IsFWMark() {
		a("fwmark", num(int64(k.FWMark)))
		if k.Family == lvs.IPv6 {
			a("family", str("ipv6"))
		}
	} else {
		a("address", str(k.AddrPort().String()))
		if k.Protocol != lvs.TCP {
			a("protocol", str(k.Protocol.String()))
		}
	}
	if s.Opts.Scheduler != "" && s.Opts.Scheduler != "wlc" {
		a("scheduler", str(s.Opts.Scheduler))
	}
	if f := s.Opts.SchedFlags; f != 0 {
		var vals []cty.Value
		for _, bit := range []lvs.SchedFlags{lvs.SchedFlag1, lvs.SchedFlag2, lvs.SchedFlag3} {
			if f&bit != 0 {
				vals = append(vals, str(schedFlagName(s.Opts.Scheduler, bit)))
			}
		}
		a("scheduler_flags", cty.TupleVal(vals))
	}
	fwd := serviceForward(s)
	if fwd != lvs.Masq {
		a("forwarding", str(fwd.String()))
	}
	if s.Opts.OnePacket {
		a("one_packet", cty.True)
	}
	if s.Opts.PE != "" {
		a("pe", str(s.Opts.PE))
	}
	if st != nil && st.SorryServer.IsValid() {
		a("sorry_server", str(hostPortString(st.SorryServer, st.SorryServer.Port() != k.Port)))
	}
	if s.Opts.Persistent {
		pp := append(slices.Clone(vp), "persistence")
		pb := wr.block(vb, "persistence", nil, pp...)
		if s.Opts.Timeout != defaultPersistTimeout {
			wr.attr(pb, str(fmtDuration(secs(int64(s.Opts.Timeout)))), append(pp, "timeout")...)
		}
		if s.Opts.Netmask != lvs.FullMask(k.Family) {
			ref := netip.IPv4Unspecified()
			if k.Family == lvs.IPv6 {
				ref = netip.IPv6Unspecified()
			}
			wr.attr(pb, str(maskString(int(s.Opts.Netmask), ref)), append(pp, "netmask")...)
		}
	}
	if st != nil && st.VIP != nil {
		pp := append(slices.Clone(vp), "vip")
		pb := wr.block(vb, "vip", nil, pp...)
		if k.IsFWMark() {
			wr.attr(pb, str(st.VIP.Address.String()), append(pp, "address")...)
		}
		wr.attr(pb, str(st.VIP.Device), append(pp, "device")...)
		if st.VIP.Netmask != 0 {
			wr.attr(pb, str(maskString(st.VIP.Netmask, st.VIP.Address)), append(pp, "netmask")...)
		}
	}
	var base *HealthCheck
	if st != nil && st.HealthCheck != nil {
		base = st.HealthCheck
		wr.check(vb, base, nil, k, append(slices.Clone(vp), "health_check"))
	}
	var order []string
	if wr.ann.RealOrder != nil {
		order = wr.ann.RealOrder[s.Name]
	}
	for _, d := range ordered(s.Dests, order, func(d lvs.Dest) string { return d.Name }) {
		rp := append(slices.Clone(vp), "real_server", d.Name)
		rb := wr.block(vb, "real_server", []string{d.Name}, rp...)
		ra := func(name string, v cty.Value) { wr.attr(rb, v, append(slices.Clone(rp), name)...) }
		ra("address", str(hostPortString(d.Addr, d.Addr.Port() != k.Port)))
		if d.Opts.Weight != 1 {
			ra("weight", num(int64(d.Opts.Weight)))
		}
		if d.Opts.Forward != fwd {
			ra("forwarding", str(d.Opts.Forward.String()))
		}
		if d.Opts.UpperThreshold != 0 {
			ra("upper_threshold", num(int64(d.Opts.UpperThreshold)))
		}
		if d.Opts.LowerThreshold != 0 {
			ra("lower_threshold", num(int64(d.Opts.LowerThreshold)))
		}
		if o := d.Opts; o.Forward == lvs.Tunnel && (o.TunnelType != lvs.IPIP || o.TunnelPort != 0 || o.TunnelFlags != 0) {
			tp := append(slices.Clone(rp), "tunnel")
			tb := wr.block(rb, "tunnel", nil, tp...)
			if o.TunnelType != lvs.IPIP {
				wr.attr(tb, str(o.TunnelType.String()), append(slices.Clone(tp), "type")...)
			}
			if o.TunnelPort != 0 {
				wr.attr(tb, num(int64(o.TunnelPort)), append(slices.Clone(tp), "port")...)
			}
			switch {
			case o.TunnelFlags&lvs.TunnelRemCsum != 0:
				wr.attr(tb, str("remcsum"), append(slices.Clone(tp), "checksum")...)
			case o.TunnelFlags&lvs.TunnelCsum != 0:
				wr.attr(tb, str("csum"), append(slices.Clone(tp), "checksum")...)
			}
		}
		if st != nil {
			if hc := st.RealServers[d.Name]; hc != nil && (base == nil || !equalCheck(hc, base)) {
				wr.check(rb, hc, base, k, append(slices.Clone(rp), "health_check"))
			}
		}
	}
}

// serviceForward picks the forwarding method to write on the virtual
// server: the one every real server uses, or nat.
func serviceForward(s lvs.Service) lvs.Forward {
	if len(s.Dests) == 0 {
		return lvs.Masq
	}
	f := s.Dests[0].Opts.Forward
	for _, d := range s.Dests[1:] {
		if d.Opts.Forward != f {
			return lvs.Masq
		}
	}
	return f
}

func schedFlagName(sched string, bit lvs.SchedFlags) string {
	for _, name := range schedFlagList {
		if f := schedFlagNames[name]; f.flag == bit && f.sched != "" && f.sched == sched {
			return name
		}
	}
	switch bit {
	case lvs.SchedFlag1:
		return "flag-1"
	case lvs.SchedFlag2:
		return "flag-2"
	}
	return "flag-3"
}

// DefaultCheckProtocol is the probe protocol of a service's checks when
// none is written: UDP for UDP services, TCP otherwise.
func DefaultCheckProtocol(k lvs.ServiceKey) lvs.Protocol {
	if k.Protocol == lvs.UDP {
		return lvs.UDP
	}
	return lvs.TCP
}

func equalCheck(a, b *HealthCheck) bool {
	x, y := *a, *b
	if !slices.Equal(x.Status, y.Status) {
		return false
	}
	x.Status, y.Status = nil, nil
	return reflect.DeepEqual(x, y)
}

// check writes hc as a health_check block. With a base (the virtual
// server's check, for a real server's override) only what differs from
// it is written.
func (wr *writer) check(body *hclwrite.Body, hc, base *HealthCheck, k lvs.ServiceKey, path []string) {
	ref := DefaultHealthCheck(hc.Type)
	ref.Protocol = DefaultCheckProtocol(k)
	sameType := base != nil && base.Type == hc.Type
	if base != nil {
		if sameType {
			ref = *base
		} else {
			ref.Port, ref.Interval, ref.Timeout, ref.Rise, ref.Fall, ref.OnFailure = base.Port, base.Interval, base.Timeout, base.Rise, base.Fall, base.OnFailure
		}
	}
	cb := wr.block(body, "health_check", nil, path...)
	a := func(name string, v cty.Value) { wr.attr(cb, v, append(slices.Clone(path), name)...) }
	s := func(name, v, refv string) {
		if v != refv {
			a(name, str(v))
		}
	}
	if !sameType {
		a("type", str(hc.Type))
	}
	if hc.Type == CheckSendExpect && hc.Protocol != ref.Protocol {
		a("protocol", str(hc.Protocol.String()))
	}
	if hc.Port != ref.Port {
		a("port", num(int64(hc.Port)))
	}
	s("send", hc.Send, ref.Send)
	s("expect", hc.Expect, ref.Expect)
	s("expect_regex", hc.ExpectRegex, ref.ExpectRegex)
	s("program", hc.Program, ref.Program)
	s("method", hc.Method, ref.Method)
	s("path", hc.Path, ref.Path)
	s("host", hc.Host, ref.Host)
	if !slices.Equal(hc.Status, ref.Status) {
		vals := make([]cty.Value, len(hc.Status))
		for i, c := range hc.Status {
			vals[i] = num(int64(c))
		}
		if len(vals) == 0 {
			a("status", cty.EmptyTupleVal)
		} else {
			a("status", cty.TupleVal(vals))
		}
	}
	s("body_regex", hc.BodyRegex, ref.BodyRegex)
	if hc.Type == CheckHTTPS && hc.TLSVerify != ref.TLSVerify {
		a("tls_verify", cty.BoolVal(hc.TLSVerify))
	}
	s("query_name", hc.QueryName, ref.QueryName)
	s("query_type", hc.QueryType, ref.QueryType)
	interval := hc.Interval != ref.Interval
	if interval {
		a("interval", str(fmtDuration(hc.Interval)))
	}
	// An interval written alone sets the timeout too; in an override the
	// virtual server's timeout would win, so write it whenever it differs.
	if base == nil && hc.Timeout != hc.Interval || base != nil && (interval || hc.Timeout != ref.Timeout) {
		a("timeout", str(fmtDuration(hc.Timeout)))
	}
	if hc.Rise != ref.Rise {
		a("rise", num(int64(hc.Rise)))
	}
	if hc.Fall != ref.Fall {
		a("fall", num(int64(hc.Fall)))
	}
	s("on_failure", hc.OnFailure, ref.OnFailure)
}
