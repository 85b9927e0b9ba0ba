package config

import (
	"fmt"
	"io"
	"maps"
	"math/big"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/zclconf/go-cty/cty"

	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/lvs"
)

// Write writes cfg as HCL, formatted as hclwrite.Format does, with the
// comments of ann (which may be nil). Values equal to their defaults are
// left out, so that parsing the output with [Parse] gives cfg back (its
// Table, DrainTimeout, Pulse and Services).
//
// It lays the text out itself as it goes, in one pass, instead of building
// an hclwrite tree twice and formatting its bytes again: that took 2.9 GB
// and 8 s for the conversion of a 4 MB lvs.cf. The output is byte for byte
// what hclwrite.Format gives (a test holds it to that).
func Write(w io.Writer, cfg *model.Config, ann *model.Annotations) error {
	if cfg.Table == nil {
		return fmt.Errorf("the configuration has no table; it did not parse")
	}
	if ann == nil {
		ann = &model.Annotations{}
	}
	comments := maps.Collect(ann.Places())
	wr := &writer{cfg: cfg, ann: ann, want: make(map[string]bool, 2*len(comments)), seen: map[string]bool{}}
	for k := range comments {
		// A place's comments go to it or, when it is not written, to its
		// nearest written ancestor: those are the places to watch.
		for !wr.want[k] {
			wr.want[k] = true
			i := strings.LastIndexByte(k, model.PathSep)
			if i < 0 {
				break
			}
			k = k[:i]
		}
	}
	// About what a service and a real server take, to grow the buffer
	// once or twice rather than twenty times.
	size := 4096
	for _, svc := range cfg.Table.Services {
		size += 200 + 80*len(svc.Dests)
	}
	wr.out = make([]byte, 0, size)
	wr.file()
	wr.close(0)
	if wr.err != nil {
		return wr.err
	}
	// Move the comments of places that are not written to their nearest
	// written ancestor, or to the top of the file (the ancestor ""). When
	// several places' comments go to one, they come in the order of the
	// places' keys.
	into := make(map[string][]string, len(comments)) // ancestor → keys
	for k := range comments {
		a := k
		for a != "" && !wr.seen[a] {
			a = a[:max(strings.LastIndexByte(a, model.PathSep), 0)]
		}
		into[a] = append(into[a], k)
	}
	before := make(map[string][]string, len(into))
	for a, keys := range into {
		if len(keys) == 1 {
			before[a] = comments[keys[0]]
			continue
		}
		slices.Sort(keys)
		var lines []string
		for _, k := range keys {
			lines = append(lines, comments[k]...)
		}
		before[a] = lines
	}
	header := before[""]
	out := make([]byte, 0, len(wr.out)+len(wr.out)/8)
	if lines := append(slices.Clone(ann.Header), header...); len(lines) > 0 {
		out = appendComments(out, lines, 0)
		out = append(out, '\n')
	}
	last := 0
	for _, h := range wr.holes {
		out = append(out, wr.out[last:h.at]...)
		out = appendComments(out, before[h.key], h.depth)
		last = h.at
	}
	out = append(out, wr.out[last:]...)
	_, err := w.Write(out)
	return err
}

// writer lays the file out as the configuration is walked. A body is
// written as its items come, so the walk must finish a block before it
// adds to an enclosing body (the walk below does). Items are laid out as
// hclwrite.Format does: two spaces of indent per level, the equals signs
// of consecutive attribute lines aligned, and a block with nothing in it
// written "{}".
//
// Comments are known only once the walk has seen which places are
// written, so the walk leaves a hole where each watched place starts, and
// Write fills them in. An attribute with comments above it starts a new
// alignment run; whether it has any is known beforehand, as nothing is
// ever written below an attribute.
type writer struct {
	cfg   *model.Config
	ann   *model.Annotations
	want  map[string]bool // the annotated places and their ancestors
	seen  map[string]bool // the places in want that are written
	key   []byte          // scratch for place keys
	out   []byte
	holes []hole
	// open holds a flag per open block: whether it is still empty (its
	// "{" is not written yet).
	open []bool
	run  []runAttr // attribute lines waiting to be aligned
	vals []byte    // their values
	err  error
}

// A hole is where the comments of a watched place go.
type hole struct {
	at    int
	depth int
	key   string
}

type runAttr struct {
	name       string
	start, end int // of the value in vals
}

// A wbody is a body being written: the file's, at depth 0, or a block's.
type wbody struct {
	wr    *writer
	depth int
}

// enter closes the blocks deeper than depth and opens the body at depth
// for an item.
func (wr *writer) enter(depth int) {
	wr.close(depth)
	if depth > 0 && wr.open[depth-1] {
		wr.open[depth-1] = false
		wr.out = append(wr.out, " {\n"...)
	}
}

// close ends the blocks deeper than depth.
func (wr *writer) close(depth int) {
	for len(wr.open) > depth {
		wr.flush()
		d := len(wr.open) - 1
		if wr.open[d] {
			wr.out = append(wr.out, " {}\n"...)
		} else {
			wr.out = appendIndent(wr.out, d)
			wr.out = append(wr.out, "}\n"...)
		}
		wr.open = wr.open[:d]
	}
}

// flush writes the waiting attribute lines, aligned.
func (wr *writer) flush() {
	width := 0
	for _, a := range wr.run {
		width = max(width, len(a.name))
	}
	depth := len(wr.open)
	for _, a := range wr.run {
		wr.out = appendIndent(wr.out, depth)
		wr.out = append(wr.out, a.name...)
		for range width - len(a.name) + 1 {
			wr.out = append(wr.out, ' ')
		}
		wr.out = append(wr.out, "= "...)
		wr.out = append(wr.out, wr.vals[a.start:a.end]...)
		wr.out = append(wr.out, '\n')
	}
	wr.run, wr.vals = wr.run[:0], wr.vals[:0]
}

// mark reports whether path is watched; if it is, it is recorded as
// written and a hole is left for its comments.
func (wr *writer) mark(depth int, path []string) bool {
	wr.key = appendPathKey(wr.key[:0], path)
	if !wr.want[string(wr.key)] {
		return false
	}
	k := string(wr.key)
	wr.seen[k] = true
	wr.holes = append(wr.holes, hole{at: len(wr.out), depth: depth, key: k})
	return true
}

func (b *wbody) newline() {
	b.wr.enter(b.depth)
	b.wr.flush()
	b.wr.out = append(b.wr.out, '\n')
}

func (b *wbody) comments(lines []string) {
	b.wr.enter(b.depth)
	b.wr.flush()
	b.wr.out = appendComments(b.wr.out, lines, b.depth)
}

func (wr *writer) attr(body *wbody, v cty.Value, path ...string) {
	wr.enter(body.depth)
	if wr.want[string(appendPathKey(wr.key[:0], path))] {
		wr.flush() // the comments above it end the alignment run
		wr.mark(body.depth, path)
	}
	start := len(wr.vals)
	var err error
	if wr.vals, err = appendValue(wr.vals, v); err != nil && wr.err == nil {
		wr.err = fmt.Errorf("%s: %w", strings.Join(path, "."), err)
	}
	wr.run = append(wr.run, runAttr{name: path[len(path)-1], start: start, end: len(wr.vals)})
}

func (wr *writer) block(body *wbody, typ string, labels []string, path ...string) *wbody {
	wr.enter(body.depth)
	wr.flush()
	wr.mark(body.depth, path)
	wr.out = appendIndent(wr.out, body.depth)
	wr.out = append(wr.out, typ...)
	for _, l := range labels {
		wr.out = append(wr.out, ' ')
		wr.out = appendString(wr.out, l)
	}
	wr.open = append(wr.open, true)
	return &wbody{wr: wr, depth: body.depth + 1}
}

// appendPathKey appends model.PathKey(path...).
func appendPathKey(b []byte, path []string) []byte {
	for i, p := range path {
		if i > 0 {
			b = append(b, model.PathSep)
		}
		b = append(b, p...)
	}
	return b
}

func appendIndent(b []byte, depth int) []byte {
	for range depth {
		b = append(b, "  "...)
	}
	return b
}

// appendComments writes comment lines: a line that does not start with
// "#" gets "# ", an empty one is "#", trailing blanks go.
func appendComments(b []byte, lines []string, depth int) []byte {
	for _, l := range lines {
		l = strings.TrimRight(l, " \t\r")
		b = appendIndent(b, depth)
		switch {
		case l == "":
			b = append(b, '#')
		case !strings.HasPrefix(l, "#"):
			b = append(b, "# "...)
		}
		b = append(b, l...)
		b = append(b, '\n')
	}
	return b
}

// appendValue writes v as hclwrite.TokensForValue does, for the kinds of
// value Write uses.
func appendValue(b []byte, v cty.Value) ([]byte, error) {
	switch t := v.Type(); {
	case v.IsNull() || !v.IsKnown():
		return b, fmt.Errorf("cannot write a null or unknown value")
	case t == cty.String:
		return appendString(b, v.AsString()), nil
	case t == cty.Number:
		f := v.AsBigFloat()
		if n, acc := f.Int64(); acc == big.Exact {
			return strconv.AppendInt(b, n, 10), nil // what Text gives, without its allocations
		}
		return append(b, f.Text('f', -1)...), nil
	case t == cty.Bool:
		return strconv.AppendBool(b, v.True()), nil
	case t.IsTupleType() || t.IsListType():
		b = append(b, '[')
		i := 0
		for it := v.ElementIterator(); it.Next(); i++ {
			if i > 0 {
				b = append(b, ", "...)
			}
			_, e := it.Element()
			var err error
			if b, err = appendValue(b, e); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	}
	return b, fmt.Errorf("cannot write a value of type %s", v.Type().FriendlyName())
}

// appendString writes s as a quoted HCL string, escaped as hclwrite
// escapes it: \n \r \t \" \\, "${" and "%{" doubled to stay literal,
// other unprintable characters as \uNNNN or \UNNNNNNNN (and invalid
// UTF-8 as U+FFFD, as ranging over the string gives it).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i, r := range s {
		switch r {
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '"':
			b = append(b, '\\', '"')
		case '\\':
			b = append(b, '\\', '\\')
		case '$', '%':
			b = append(b, byte(r))
			if i+1 < len(s) && s[i+1] == '{' {
				b = append(b, byte(r))
			}
		default:
			switch {
			case !unicode.IsPrint(r) && r < 65536:
				b = fmt.Appendf(b, "\\u%04x", r)
			case !unicode.IsPrint(r):
				b = fmt.Appendf(b, "\\U%08x", r)
			default:
				b = utf8.AppendRune(b, r)
			}
		}
	}
	return append(b, '"')
}

func secs(n int64) time.Duration { return time.Duration(n) * time.Second }

func str(s string) cty.Value { return cty.StringVal(s) }
func num(n int64) cty.Value  { return cty.NumberIntVal(n) }

// file writes the body of the file; Write adds the header.
func (wr *writer) file() {
	body := &wbody{wr: wr}
	t := wr.cfg.Table
	gap := false
	sep := func() {
		if gap {
			body.newline()
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
	if named := namedSysctls(t); len(named) > 0 || wr.cfg.ForwardingUnmanaged {
		sep()
		wr.sysctls(body, named, wr.cfg.ForwardingUnmanaged)
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
			body.newline()
		}
		body.comments(wr.ann.Footer)
	}
}

// ordered returns items with the named ones first, in the order of names
// (each name takes the first item of that name not yet taken).
func ordered[T any](items []T, names []string, name func(T) string) []T {
	out := make([]T, 0, len(items))
	done := make([]bool, len(items))
	if len(items) <= 16 {
		// A scan is cheaper than a map for the real servers of a service.
		for _, n := range names {
			for i, it := range items {
				if !done[i] && name(it) == n {
					out, done[i] = append(out, it), true
					break
				}
			}
		}
	} else if len(names) > 0 {
		byName := make(map[string][]int, len(items))
		for i, it := range items {
			byName[name(it)] = append(byName[name(it)], i)
		}
		for _, n := range names {
			if is := byName[n]; len(is) > 0 {
				out, done[is[0]] = append(out, items[is[0]]), true
				byName[n] = is[1:]
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

func (wr *writer) pulse(body *wbody, p *model.Pulse) {
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
	if p.HeartbeatPort != model.DefaultHeartbeatPort {
		a("heartbeat_port", num(int64(p.HeartbeatPort)))
	}
	if p.Keepalive != model.DefaultKeepalive {
		a("keepalive", str(fmtDuration(p.Keepalive)))
	}
	if p.Deadtime != model.DefaultDeadtime {
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
	if p.KeyFile != model.DefaultPulseKeyFile {
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
// admins know them from ifconfig) and as a number for IPv6, whichever
// family a is.
func maskString(bits int, a netip.Addr) string {
	f := lvs.IPv4
	if a.Is6() && !a.Is4In6() {
		f = lvs.IPv6
	}
	return lvs.FormatNetmask(f, uint8(bits))
}

func hostPortString(ap netip.AddrPort, withPort bool) string {
	a := ap.Addr()
	if !withPort {
		return a.String()
	}
	return ap.String() // [v6]:port or v4:port
}

// service writes a virtual_server block: its attributes, its persistence
// and vip blocks, its health check and its real servers.
func (wr *writer) service(body *wbody, s lvs.Service) {
	vp := []string{"virtual_server", s.Name}
	vb := wr.block(body, "virtual_server", []string{s.Name}, vp...)
	st := wr.cfg.Settings(s.Name)
	fwd := serviceForward(s)
	wr.serviceAttrs(vb, vp, s, fwd, st)
	if s.Opts.Persistent {
		wr.persistence(vb, vp, s.Key.Family, s.Opts)
	}
	if st != nil && st.VIP != nil {
		wr.vip(vb, vp, s.Key, st.VIP)
	}
	var base *model.HealthCheck
	if st != nil && st.HealthCheck != nil {
		base = st.HealthCheck
		wr.check(vb, base, nil, s.Key, append(slices.Clone(vp), "health_check"))
	}
	var order []string
	if wr.ann.RealOrder != nil {
		order = wr.ann.RealOrder[s.Name]
	}
	for _, d := range ordered(s.Dests, order, func(d lvs.Dest) string { return d.Name }) {
		// A real server's check is written where it differs from the
		// virtual server's.
		var hc *model.HealthCheck
		if st != nil {
			if c := st.RealServers[d.Name]; c != nil && (base == nil || !equalCheck(c, base)) {
				hc = c
			}
		}
		wr.realServer(vb, vp, s.Key, d, fwd, hc, base)
	}
}

// serviceAttrs writes the attributes of a virtual_server block: its key,
// the options that differ from their defaults, the forwarding method fwd
// its real servers share, and its sorry server.
func (wr *writer) serviceAttrs(vb *wbody, vp []string, s lvs.Service, fwd lvs.Forward, st *model.ServiceSettings) {
	a := func(name string, v cty.Value) { wr.attr(vb, v, append(vp, name)...) }
	k := s.Key
	if k.IsFWMark() {
		a("fwmark", num(int64(k.FWMark)))
		if k.Family == lvs.IPv6 {
			a("family", str(k.Family.String()))
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
		names := f.Names(s.Opts.Scheduler)
		vals := make([]cty.Value, len(names))
		for i, n := range names {
			vals[i] = str(n)
		}
		a("scheduler_flags", cty.TupleVal(vals))
	}
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
	if st != nil && st.Quorum != 0 {
		a("quorum", num(int64(st.Quorum)))
	}
	if st != nil && st.Hysteresis != 0 {
		a("hysteresis", num(int64(st.Hysteresis)))
	}
}

// persistence writes the persistence block of a service of family f.
func (wr *writer) persistence(vb *wbody, vp []string, f lvs.Family, o lvs.ServiceOpts) {
	pp := append(slices.Clone(vp), "persistence")
	pb := wr.block(vb, "persistence", nil, pp...)
	// The default timeout too when nothing else would be written: an
	// empty "persistence {}" reads like a setting left out.
	if o.Timeout != defaultPersistTimeout || o.Netmask == lvs.FullMask(f) {
		wr.attr(pb, str(fmtDuration(secs(int64(o.Timeout)))), append(pp, "timeout")...)
	}
	if o.Netmask != lvs.FullMask(f) {
		wr.attr(pb, str(lvs.FormatNetmask(f, o.Netmask)), append(pp, "netmask")...)
	}
}

// vip writes the vip block of the service with key k.
func (wr *writer) vip(vb *wbody, vp []string, k lvs.ServiceKey, v *model.VIP) {
	pp := append(slices.Clone(vp), "vip")
	pb := wr.block(vb, "vip", nil, pp...)
	if k.IsFWMark() {
		wr.attr(pb, str(v.Address.String()), append(pp, "address")...)
	}
	wr.attr(pb, str(v.Device), append(pp, "device")...)
	if v.Netmask != 0 {
		wr.attr(pb, str(maskString(v.Netmask, v.Address)), append(pp, "netmask")...)
	}
}

// realServer writes a real_server block of the service with key k: the
// settings of d that differ from their defaults (the forwarding method
// from the service's fwd), and hc, its health check (and hc.More), when it
// has one of its own (base is the service's).
func (wr *writer) realServer(vb *wbody, vp []string, k lvs.ServiceKey, d lvs.Dest, fwd lvs.Forward, hc, base *model.HealthCheck) {
	rp := append(append(make([]string, 0, len(vp)+5), vp...), "real_server", d.Name) // room for an attribute's name
	rb := wr.block(vb, "real_server", []string{d.Name}, rp...)
	ra := func(name string, v cty.Value) { wr.attr(rb, v, append(rp, name)...) }
	o := d.Opts
	ra("address", str(hostPortString(d.Addr, d.Addr.Port() != k.Port)))
	if o.Weight != 1 {
		ra("weight", num(int64(o.Weight)))
	}
	if o.Forward != fwd {
		ra("forwarding", str(o.Forward.String()))
	}
	if o.UpperThreshold != 0 {
		ra("upper_threshold", num(int64(o.UpperThreshold)))
	}
	if o.LowerThreshold != 0 {
		ra("lower_threshold", num(int64(o.LowerThreshold)))
	}
	if o.Forward == lvs.Tunnel && (o.TunnelType != lvs.IPIP || o.TunnelPort != 0 || o.TunnelFlags != 0) {
		wr.tunnel(rb, rp, o)
	}
	// Each of its checks, where it has several, is a block of its own
	// written over the virtual server's, as the parser merges it.
	for i, c := range hc.Checks() {
		wr.check(rb, c, base, k, model.CheckPath(rp, i))
	}
}

// tunnel writes the tunnel block of a real server.
func (wr *writer) tunnel(rb *wbody, rp []string, o lvs.DestOpts) {
	tp := append(slices.Clone(rp), "tunnel")
	tb := wr.block(rb, "tunnel", nil, tp...)
	if o.TunnelType != lvs.IPIP {
		wr.attr(tb, str(o.TunnelType.String()), append(tp, "type")...)
	}
	if o.TunnelPort != 0 {
		wr.attr(tb, num(int64(o.TunnelPort)), append(tp, "port")...)
	}
	// One checksum option, the strongest, as ipvsadm reads the flags.
	for _, c := range []lvs.TunnelFlags{lvs.TunnelRemCsum, lvs.TunnelCsum} {
		if o.TunnelFlags&c != 0 {
			wr.attr(tb, str(c.String()), append(tp, "checksum")...)
			break
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

// equalCheck compares two checks (see [model.HealthCheck.Equal]).
func equalCheck(a, b *model.HealthCheck) bool { return a.Equal(b) }

// check writes hc as a health_check block. With a base (the virtual
// server's check, for a real server's override) only what differs from
// it is written. The probe's settings are written as the model names
// them, whatever the type: the transport first, then the port, then the
// rest in the order the type declares them.
func (wr *writer) check(body *wbody, hc, base *model.HealthCheck, k lvs.ServiceKey, path []string) {
	typ := hc.Type()
	probe, _ := model.NewProbe(typ, k)
	ref := model.DefaultHealthCheck(probe)
	sameType := base != nil && base.Type() == typ
	if base != nil {
		if sameType {
			ref = *base
		} else {
			ref.Port, ref.Interval, ref.Timeout, ref.Rise, ref.Fall, ref.OnFailure, ref.Alpha = base.Port, base.Interval, base.Timeout, base.Rise, base.Fall, base.OnFailure, base.Alpha
		}
	}
	cb := wr.block(body, "health_check", nil, path...)
	a := func(name string, v cty.Value) { wr.attr(cb, v, append(path, name)...) }
	s := func(name, v, refv string) {
		if v != refv {
			a(name, str(v))
		}
	}
	if !sameType {
		a("type", str(typ))
	}
	settings := model.Settings(typ)
	var blocks []model.SettingInfo
	for _, set := range settings {
		if set.Kind == model.SettingProtocol {
			s(set.Name, model.Setting(hc.Probe, set.Name).(string), model.Setting(ref.Probe, set.Name).(string))
		}
	}
	if hc.Port != ref.Port {
		a("port", num(int64(hc.Port)))
	}
	for _, set := range settings {
		v, refv := model.Setting(hc.Probe, set.Name), model.Setting(ref.Probe, set.Name)
		switch set.Kind {
		case model.SettingString:
			s(set.Name, v.(string), refv.(string))
		case model.SettingBool:
			if v != refv {
				a(set.Name, cty.BoolVal(v.(bool)))
			}
		case model.SettingNumbers:
			ns := v.([]int)
			if slices.Equal(ns, refv.([]int)) {
				continue
			}
			if len(ns) == 0 {
				a(set.Name, cty.EmptyTupleVal)
				continue
			}
			a(set.Name, numbers(ns))
		case model.SettingBlocks:
			if !model.EqualSetting(hc.Probe, ref.Probe, set.Name) {
				blocks = append(blocks, set) // after the attributes
			}
		}
	}
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
	if hc.Alpha != ref.Alpha {
		a("alpha", cty.BoolVal(hc.Alpha))
	}
	for _, set := range blocks {
		bp := append(slices.Clone(path), set.Name)
		for _, blk := range model.Setting(hc.Probe, set.Name).([]model.Block) {
			nb := wr.block(cb, set.Name, nil, bp...)
			for _, f := range set.Fields {
				v := blk[f.Name]
				switch f.Kind {
				case model.SettingString:
					if v != "" {
						wr.attr(nb, str(v.(string)), append(bp, f.Name)...)
					}
				case model.SettingBool:
					if v == true {
						wr.attr(nb, cty.True, append(bp, f.Name)...)
					}
				case model.SettingNumbers:
					if ns := v.([]int); len(ns) > 0 {
						wr.attr(nb, numbers(ns), append(bp, f.Name)...)
					}
				}
			}
		}
	}
}

// numbers is a list of whole numbers as HCL writes it, three or more
// consecutive ones as a range ("200-299").
func numbers(ns []int) cty.Value {
	var vals []cty.Value
	for i := 0; i < len(ns); {
		j := i + 1
		for j < len(ns) && ns[j] == ns[j-1]+1 && j-i < maxRange {
			j++
		}
		if j-i >= 3 {
			vals = append(vals, str(fmt.Sprintf("%d-%d", ns[i], ns[j-1])))
			i = j
			continue
		}
		vals = append(vals, num(int64(ns[i])))
		i++
	}
	return cty.TupleVal(vals)
}
