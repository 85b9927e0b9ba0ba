package lvscf

import (
	"cmp"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/lvsctl/lvsctl/internal/quote"
	"github.com/lvsctl/lvsctl/internal/suggest"
	"github.com/lvsctl/lvsctl/lvs"
)

// Limits on what Parse reads; real files are a few kilobytes, in lines of
// under 100 bytes. Each is checked before the work it bounds.
const (
	// MaxSize is the largest lvs.cf Parse reads, in bytes.
	MaxSize = 4 << 20
	// MaxLineLength is the longest line, in bytes.
	MaxLineLength = 64 << 10
	// MaxErrors is how many errors are reported; one more error counts
	// the rest.
	MaxErrors = 50
	// MaxWarnings is how many warnings Parse reports; one more warning
	// counts the rest.
	MaxWarnings = 100
)

// Parse reads an lvs.cf from r. filename is used in diagnostics only.
//
// It returns every error it can find (as [Errors]), continuing after a bad
// line where the line structure allows; a malformed block header or an
// unclosed block stops it. On error the File is nil. Warnings name lines
// that lvsctl reads although piranha would not have, and quirks that
// decide what runs. [Load] reports the errors of the table and of the
// conversion in the same pass.
func Parse(r io.Reader, filename string) (*File, []Warning, error) {
	p, err := parseFile(r, filename)
	if err != nil {
		return nil, nil, err
	}
	if len(p.errs) > 0 {
		return nil, p.warnings(), withMore(p.errs, p.moreErrs)
	}
	return p.f, p.warnings(), nil
}

// parseFile reads the file into p.f, which is complete even when the file has
// errors (p.errs): the settings that had none are in it. err is an error
// about the whole file, with nothing read.
func parseFile(r io.Reader, filename string) (*parser, error) {
	src, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, Errors{{File: filename, Msg: MsgRead, Detail: err.Error()}}
	}
	if len(src) > MaxSize {
		return nil, Errors{{File: filename, Msg: MsgRead, Detail: fmt.Sprintf("the file is larger than %d MiB, the most lvsctl reads; an lvs.cf is a few kilobytes", MaxSize>>20)}}
	}
	if len(src) == 0 {
		return nil, Errors{{File: filename, Msg: MsgEmpty, Detail: "the file is empty; piranha refuses an empty lvs.cf"}}
	}
	p := &parser{name: filename, f: &File{Name: filename, Globals: defaultGlobals(), failed: map[string]bool{}}}
	p.f.lines = splitLines(string(src))
	p.run(p.f.lines)
	// What piranha does after reading the file is done on a file with
	// errors too, so that its table is the one the file would give; the
	// warnings about the whole file would only guess at what the bad
	// lines meant, and are left out then.
	n := len(p.warns)
	p.finish()
	if len(p.errs) > 0 {
		p.warns = p.warns[:n]
	}
	return p, nil
}

// warnings returns the warnings in line order, those about the whole file
// (line 0) last, and says how many were left out.
func (p *parser) warnings() []Warning {
	slices.SortStableFunc(p.warns, func(a, b Warning) int {
		return cmp.Compare(uint(a.Line-1), uint(b.Line-1))
	})
	if p.moreWarns > 0 {
		p.warns = append(p.warns, Warning{File: p.name, Msg: fmt.Sprintf("%d more warnings not shown (lvsctl shows the first %d)", p.moreWarns, MaxWarnings)})
		p.moreWarns = 0
	}
	return p.warns
}

type parser struct {
	name    string
	f       *File
	errs    Errors
	warns   []Warning
	pending []Comment // comment lines not yet attached to anything
	v       *Virtual  // the open virtual or failover block
	s       *Server   // the open server block
	lastNum int
	// moreErrs counts the errors past MaxErrors.
	moreErrs int
	// stopped says run could not read the file to its end in blocks.
	stopped bool
	// moreWarns counts the warnings past MaxWarnings.
	moreWarns int
	// trailing is the trailing comment kv found on the line being read,
	// for record.
	trailing string
}

// errorf reports an error. Names and values from the file go in through
// show or excerpt, so that a message quotes at most a short piece of a
// hostile line.
func (p *parser) errorf(num, col int, msg, format string, args ...any) {
	p.addError(&Error{File: p.name, Line: num, Col: col, Msg: msg, Detail: fmt.Sprintf(format, args...)})
}

// addError reports an error; past MaxErrors, it only counts it. The
// reading goes on, as the file is bounded (MaxSize), so that the count is
// exact.
func (p *parser) addError(e *Error) {
	if len(p.errs) >= MaxErrors {
		p.moreErrs++
		return
	}
	p.errs = append(p.errs, e)
}

func (p *parser) warnf(num int, format string, args ...any) {
	if len(p.warns) >= MaxWarnings {
		p.moreWarns++
		return
	}
	p.warns = append(p.warns, Warning{File: p.name, Line: num, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) takeComments() []Comment {
	c := p.pending
	p.pending = nil
	return c
}

// run parses the lines; it returns early only where the rest of the file
// cannot be read in a meaningful context.
func (p *parser) run(texts []string) {
	for i, text := range texts {
		if len(text) > MaxLineLength {
			p.lastNum = i + 1
			p.errorf(i+1, 1, MsgTooLong, "the line is %d bytes long, and lvsctl reads lines of up to %d bytes (piranha's GUI writes lines of under 100); it starts %s", len(text), MaxLineLength, quote.Excerpt(text))
			continue
		}
		ln := lexLine(p.name, i+1, text)
		p.lastNum = ln.num
		switch {
		case ln.err != nil:
			p.addError(ln.err)
			continue
		case ln.comment != "":
			p.pending = append(p.pending, Comment{Line: ln.num, Text: ln.comment})
			continue
		case len(ln.toks) == 0:
			continue
		}
		for _, n := range ln.notes {
			p.warnf(ln.num, "%s", n)
		}
		if ln.glued {
			p.warnf(ln.num, "write %s with blanks around \"=\"; piranha rejects this line", quote.Excerpt(ln.toks[0].text+" = ..."))
		}
		if !p.line(ln) {
			p.stopped = true
			return
		}
	}
	end := p.lastNum
	p.stopped = p.v != nil
	switch {
	case p.s != nil:
		p.errorf(end, 0, MsgEOF, "server %s (line %d) in %s %s has no closing }", show(p.s.Name), p.s.Line, p.v.Kind(), show(p.v.Name))
	case p.v != nil:
		p.errorf(end, 0, MsgEOF, "%s %s (line %d) has no closing }", p.v.Kind(), show(p.v.Name), p.v.Line)
	}
	p.f.TrailingComments = p.takeComments()
}

// line handles one line of tokens and reports whether parsing can go on.
func (p *parser) line(ln line) bool {
	toks := ln.toks
	key := toks[0].text
	if key == "}" && toks[0].quote == 0 && (p.v != nil || p.s != nil) {
		toks, trailing := p.trimComment(ln, toks, 1)
		if len(toks) > 1 {
			p.errorf(ln.num, toks[1].col, MsgExtraArgs, "} must be alone on its line")
		}
		if p.s != nil {
			p.s.EndLine, p.s.EndComments, p.s.EndTrailing = ln.num, p.takeComments(), trailing
			p.s = nil
		} else {
			p.v.EndLine, p.v.EndComments, p.v.EndTrailing = ln.num, p.takeComments(), trailing
			p.endVirtual(p.v)
			p.v = nil
		}
		return true
	}
	switch {
	case p.s != nil:
		p.serverKey(ln, p.s)
	case p.v != nil:
		if key == "server" {
			name, trailing, ok := p.header(ln)
			if !ok {
				return false
			}
			p.s = &Server{Name: name, Line: ln.num, Comments: p.takeComments(), Trailing: trailing, Weight: 1, Port: p.v.Port, PortInherited: true,
				nameCol: ln.toks[1].col, failed: map[string]bool{}}
			p.v.Servers = append(p.v.Servers, p.s)
			return true
		}
		p.virtualKey(ln, p.v)
	default:
		if key == "virtual" || key == "failover" {
			name, trailing, ok := p.header(ln)
			if !ok {
				return false
			}
			p.v = newVirtual(name, key == "failover", ln.num)
			p.v.Comments, p.v.Trailing, p.v.nameCol = p.takeComments(), trailing, ln.toks[1].col
			if p.v.Failover {
				p.f.Failovers = append(p.f.Failovers, p.v)
			} else {
				p.f.Virtuals = append(p.f.Virtuals, p.v)
			}
			return true
		}
		p.globalKey(ln)
	}
	return true
}

// header checks a block header `KIND NAME {` and returns NAME and the
// trailing comment.
func (p *parser) header(ln line) (string, string, bool) {
	toks, trailing := p.trimComment(ln, ln.toks, 3)
	kind := toks[0].text
	switch {
	case len(toks) < 3:
		p.errorf(ln.num, endCol(toks), MsgMissingArgs, "write `%s NAME {` with the { on the same line", kind)
		return "", "", false
	case len(toks) > 3:
		p.errorf(ln.num, toks[3].col, MsgExtraArgs, "write `%s NAME {`: the name is a single word and nothing follows the {", kind)
		return "", "", false
	case toks[2].text != "{":
		p.errorf(ln.num, toks[2].col, MsgMissingArgs, "write `%s NAME {`: expected { after the name, not %s", kind, quote.Excerpt(toks[2].text))
		return "", "", false
	}
	return toks[1].text, trailing, true
}

// trimComment drops a trailing `# comment` that starts at or after token
// max, with a warning, and returns it. Piranha had no trailing comments,
// and a '#' token within a setting's arity is a value to it (send = #), so
// only tokens that piranha would have refused as unexpected are taken for
// a comment.
func (p *parser) trimComment(ln line, toks []token, max int) ([]token, string) {
	if len(toks) > max && toks[max].quote == 0 && strings.HasPrefix(toks[max].text, "#") {
		p.warnf(ln.num, "trailing comment read as a comment (convert carries it over); piranha accepts comments only on lines of their own and rejects this line (unexpected arguments)")
		return toks[:max], strings.TrimRight(ln.text[toks[max].col-1:], " \t")
	}
	return toks, ""
}

// endCol is the column just after the last of toks, where a missing value
// would go.
func endCol(toks []token) int {
	t := toks[len(toks)-1]
	if t.quote != 0 {
		return t.col + len(t.text) + 2
	}
	return t.col + len(t.text)
}

// kv checks `KEY = ARG...` with exactly n arguments (CHECK_ARGS in
// lvsconfig.c) and returns the arguments.
func (p *parser) kv(ln line, n int) ([]token, bool) {
	toks := ln.toks
	if len(toks) < 2 || toks[1].text != "=" {
		col := endCol(toks)
		if len(toks) >= 2 {
			col = toks[1].col
		}
		p.errorf(ln.num, col, MsgEqualExpected, "write `%s = VALUE`", toks[0].text)
		return nil, false
	}
	toks, p.trailing = p.trimComment(ln, toks, n+2)
	if len(toks) < n+2 {
		what := "a value"
		if n == 2 {
			what = "two values"
		}
		p.errorf(ln.num, endCol(toks), MsgMissingArgs, "%s takes %s", toks[0].text, what)
		return nil, false
	}
	if len(toks) > n+2 {
		what := "one value"
		if n == 2 {
			what = "two values"
		}
		p.errorf(ln.num, toks[n+2].col, MsgExtraArgs, "%s takes %s; quote a value that contains blanks", toks[0].text, what)
		return nil, false
	}
	return toks[2:], true
}

func record(ss *Settings, p *parser, ln line, args []token) {
	key := ln.toks[0].text
	if prev := ss.Last(key); prev != nil {
		p.warnf(ln.num, "%s repeats line %d; the last value wins, as in piranha", key, prev.Line)
	}
	s := Setting{Key: key, Line: ln.num, Col: ln.toks[0].col, Comments: p.takeComments(), Trailing: p.trailing}
	p.trailing = ""
	if len(args) > 0 {
		s.Col = args[0].col
	}
	for _, a := range args {
		s.Args = append(s.Args, a.text)
	}
	*ss = append(*ss, s)
}

// Value readers. Each reports its own error and returns ok=false.

func (p *parser) num(ln line, t token) (int, bool) {
	v, why := strtol(t.text)
	if why != "" {
		p.errorf(ln.num, t.col, MsgIntExpected, "%s", why)
		return 0, false
	}
	return v, true
}

func (p *parser) boolean(ln line, t token) (bool, bool) {
	v, ok := p.num(ln, t)
	if !ok {
		return false, false
	}
	if v != 0 && v != 1 {
		p.errorf(ln.num, t.col, MsgBoolExpected, "%s must be 0 or 1, not %s", ln.toks[0].text, show(t.text))
		return false, false
	}
	return v == 1, true
}

// port reads a virtual or heartbeat port: a number or a service name.
func (p *parser) port(ln line, t token) (int, bool) {
	v, why := strtol(t.text)
	if why != "" {
		n, ok := builtinServices.Port(t.text, "tcp")
		if !ok {
			p.errorf(ln.num, t.col, MsgBadArgument, "%s is not a port number nor a service name lvsctl knows (it has a built-in table of common names and does not read /etc/services); write the number", quote.Excerpt(t.text))
			return 0, false
		}
		v = int(n)
	}
	return p.portRange(ln, t, v)
}

func (p *parser) portRange(ln line, t token, v int) (int, bool) {
	if v < 0 || v > 65535 {
		p.errorf(ln.num, t.col, MsgBadArgument, "port %s is not between 0 and 65535", show(t.text))
		return 0, false
	}
	return v, true
}

// host reads an IPv4 address the way inet_aton does. Piranha also resolved
// host names; lvsctl refuses them so that a file means the same offline and
// on every run.
func (p *parser) host(ln line, t token) (netip.Addr, bool) {
	a, ok := inetAton(t.text)
	if !ok {
		p.errorf(ln.num, t.col, MsgBadHostname, "%s is not an IPv4 address; lvsctl does not resolve host names, write the address", quote.Excerpt(t.text))
		return netip.Addr{}, false
	}
	p.noteAton(ln, t, a)
	return a, true
}

func (p *parser) mask(ln line, t token) (netip.Addr, bool) {
	a, ok := inetAton(t.text)
	if !ok {
		p.errorf(ln.num, t.col, MsgBadNetmask, "%s is not a dotted netmask such as 255.255.255.0", quote.Excerpt(t.text))
		return netip.Addr{}, false
	}
	p.noteAton(ln, t, a)
	return a, true
}

// noteAton warns when inet_aton reads an address differently from how it
// looks: 10.1 is 10.0.0.1 and 010.0.0.1 is 8.0.0.1.
func (p *parser) noteAton(ln line, t token, a netip.Addr) {
	if a.String() != t.text {
		p.warnf(ln.num, "%s is read as %s (inet_aton: fewer than four parts, or 0/0x for octal/hex)", show(t.text), a)
	}
}

func (p *parser) oneOf(ln line, t token, choices ...string) (string, bool) {
	if !slices.Contains(choices, t.text) {
		// A word the kernel knows (sctp, sed) is no misspelling: piranha
		// lacks it.
		hint := ""
		if s := suggest.Closest(t.text, choices); s != "" && t.text != "sctp" && !slices.Contains(lvs.Schedulers, t.text) {
			hint = "; did you mean " + s + "?"
		}
		p.errorf(ln.num, t.col, MsgBadArgument, "%s must be %s, not %s%s", ln.toks[0].text, orList(choices), quote.Excerpt(t.text), hint)
		return "", false
	}
	return t.text, true
}

func orList(s []string) string {
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

func quoted(t token) Quoted { return Quoted{Text: t.text, Quote: t.quote} }

// unknown reports a key that is not one of keys, the keys of where, with
// the nearest one when it looks like a misspelling, or the block it
// belongs in.
func (p *parser) unknown(ln line, where string, keys []string) {
	k := ln.toks[0].text
	hint := ""
	switch {
	case suggest.Closest(k, keys) != "":
		hint = fmt.Sprintf("; did you mean %s?", suggest.Closest(k, keys))
	case where != "server block" && slices.Contains(serverKeys, k):
		hint = "; it belongs in a server block"
	case where == "global" && slices.Contains(virtualKeys, k):
		hint = "; it belongs in a virtual block"
	case where != "global" && slices.Contains(globalKeys, k):
		hint = "; it is a global key, outside any block"
	}
	p.errorf(ln.num, ln.toks[0].col, MsgBadCommand, "%s is not a %s key%s", quote.Excerpt(k), where, hint)
}

// The keys piranha's parser knows, where it knows them. A block header
// (virtual, failover, server) counts as a key for suggestions.
var (
	globalKeys = []string{"serial_no", "service", "primary", "primary_private", "primary_shared",
		"backup", "backup_private", "backup_shared", "backup_active",
		"reservation_conflict_action", "nat_router", "nat_nmask", "active_cmd", "inactive_cmd",
		"monitor_links", "debug_level", "hard_shutdown", "ipvsadm", "keepalive",
		"deadtime", "rsh_command", "syncdaemon", "syncd_iface", "syncd_id",
		"tcp_timeout", "tcpfin_timeout", "udp_timeout", "heartbeat",
		"heartbeat_port", "sync", "network", "virtual", "failover"}
	virtualKeys = []string{"active", "address", "sorry_server", "vip_nmask", "fwmark", "protocol", "port",
		"scheduler", "persistent", "pmask", "client_monitor", "send_program",
		"send", "expect", "use_regex", "timeout", "reentry", "load_monitor",
		"quiesce_server", "start_cmd", "stop_cmd", "master", "dirs", "server"}
	serverKeys = []string{"address", "active", "weight", "port"}
)

func (p *parser) globalKey(ln line) {
	g := &p.f.Globals
	key := ln.toks[0].text
	n := 1
	switch key {
	case "nat_router":
		n = 2
	case "serial_no", "service", "primary", "primary_private", "primary_shared",
		"backup", "backup_private", "backup_shared", "backup_active",
		"reservation_conflict_action", "nat_nmask", "active_cmd", "inactive_cmd",
		"monitor_links", "debug_level", "hard_shutdown", "ipvsadm", "keepalive",
		"deadtime", "rsh_command", "syncdaemon", "syncd_iface", "syncd_id",
		"tcp_timeout", "tcpfin_timeout", "udp_timeout", "heartbeat",
		"heartbeat_port", "sync", "network":
	default:
		if ln.toks[0].quote == 0 && ln.toks[0].text == "}" {
			p.errorf(ln.num, ln.toks[0].col, MsgBadCommand, "} closes no block")
			return
		}
		p.unknown(ln, "global", globalKeys)
		return
	}
	args, ok := p.kv(ln, n)
	if !ok {
		p.f.failed[key] = true
		return
	}
	a := args[0]
	switch key {
	case "serial_no":
		g.SerialNo, ok = p.num(ln, a)
	case "service":
		g.Service, ok = p.oneOf(ln, a, "lvs", "fos")
	case "primary", "primary_private", "backup_private":
		var addr netip.Addr
		if addr, ok = p.host(ln, a); ok && addr.IsUnspecified() {
			// lvsconfig.c refuses 0.0.0.0 for these, not for backup.
			p.errorf(ln.num, a.col, MsgBadHostname, "%s cannot be 0.0.0.0", key)
			ok = false
		}
		switch key {
		case "primary":
			g.Primary = addr
		case "primary_private":
			g.PrimaryPrivate = addr
		default:
			g.BackupPrivate = addr
		}
	case "backup":
		g.Backup, ok = p.host(ln, a)
	case "primary_shared":
		g.PrimaryShared = a.text
	case "backup_shared":
		g.BackupShared = a.text
	case "backup_active":
		g.BackupActive, ok = p.boolean(ln, a)
	case "reservation_conflict_action":
		g.ReservationConflictAction, ok = p.oneOf(ln, a, "nothing", "preempt")
	case "nat_nmask":
		g.NATNetmask, ok = p.mask(ln, a)
	case "nat_router":
		if g.NATRouter, ok = p.host(ln, a); ok {
			g.NATRouterDevice = args[1].text
			p.checkAlias(ln, key, args[1].text)
		}
	case "active_cmd":
		g.ActiveCmd = a.text
	case "inactive_cmd":
		g.InactiveCmd = a.text
	case "monitor_links":
		g.MonitorLinks, ok = p.num(ln, a)
	case "debug_level":
		g.DebugLevel = a.text
	case "hard_shutdown":
		g.HardShutdown, ok = p.boolean(ln, a)
	case "ipvsadm":
		g.Ipvsadm = a.text
	case "keepalive":
		g.Keepalive, ok = p.num(ln, a)
	case "deadtime":
		g.Deadtime, ok = p.num(ln, a)
	case "rsh_command":
		g.RshCommand = a.text
	case "syncdaemon":
		g.SyncDaemon, ok = p.boolean(ln, a)
	case "syncd_iface":
		g.SyncdIface = a.text
	case "syncd_id":
		g.SyncdID, ok = p.num(ln, a)
	case "tcp_timeout":
		g.TCPTimeout, ok = p.num(ln, a)
	case "tcpfin_timeout":
		g.TCPFinTimeout, ok = p.num(ln, a)
	case "udp_timeout":
		g.UDPTimeout, ok = p.num(ln, a)
	case "heartbeat":
		g.Heartbeat, ok = p.boolean(ln, a)
	case "heartbeat_port":
		g.HeartbeatPort, ok = p.port(ln, a)
	case "sync":
		g.Sync, ok = p.boolean(ln, a)
	case "network":
		g.Network, ok = p.oneOf(ln, a, "nat", "direct", "tunnel")
	}
	if ok {
		record(&p.f.Settings, p, ln, args)
	} else {
		p.f.failed[key] = true
	}
}

// checkAlias warns about a base device: pulse runs `ifconfig DEV down` when
// it releases the address, which takes a whole NIC down unless DEV is an
// alias such as eth0:1.
func (p *parser) checkAlias(ln line, key, dev string) {
	if !strings.Contains(dev, ":") {
		p.warnf(ln.num, "%s device %s is not an alias such as %s:1; piranha's pulse runs `ifconfig %s down` on failover, taking the whole interface down", key, show(dev), show(dev), show(dev))
	}
}

func (p *parser) virtualKey(ln line, v *Virtual) {
	key := ln.toks[0].text
	n := 1
	switch key {
	case "address":
		n = 2
	case "dirs":
		p.dirs(ln, v)
		return
	case "active", "sorry_server", "vip_nmask", "fwmark", "protocol", "port",
		"scheduler", "persistent", "pmask", "client_monitor", "send_program",
		"send", "expect", "use_regex", "timeout", "reentry", "load_monitor",
		"quiesce_server", "start_cmd", "stop_cmd", "master":
	default:
		p.unknown(ln, v.Kind()+" block", virtualKeys)
		return
	}
	args, ok := p.kv(ln, n)
	if !ok {
		v.failed[key] = true
		return
	}
	a := args[0]
	switch key {
	case "active":
		v.Active, ok = p.boolean(ln, a)
	case "address":
		if v.Address, ok = p.host(ln, a); ok {
			v.Device = args[1].text
			p.checkAlias(ln, key, args[1].text)
		}
	case "sorry_server":
		if v.SorryServer, ok = inetAton(a.text); !ok {
			p.errorf(ln.num, a.col, MsgBadHostname, "sorry_server takes an IPv4 address, not %s", quote.Excerpt(a.text))
		} else {
			p.noteAton(ln, a, v.SorryServer)
		}
	case "vip_nmask":
		v.VIPNetmask, ok = p.mask(ln, a)
	case "fwmark":
		var m int
		if m, ok = p.num(ln, a); ok {
			if m < 0 {
				p.errorf(ln.num, a.col, MsgBadArgument, "fwmark %s is negative", show(a.text))
				ok = false
			}
			v.FWMark = uint32(m)
		}
	case "protocol":
		v.Protocol, ok = p.oneOf(ln, a, "tcp", "udp")
	case "port":
		v.Port, ok = p.port(ln, a)
	case "scheduler":
		// Piranha knows only these eight; it refuses sed, nq, mh and the
		// rest although the kernel has them.
		v.Scheduler, ok = p.oneOf(ln, a, "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh")
	case "persistent":
		v.Persistent, ok = p.num(ln, a)
	case "pmask":
		var m netip.Addr
		if m, ok = inetAton(a.text); !ok {
			// lvsconfig.c ignores a pmask that inet_aton refuses.
			p.warnf(ln.num, "pmask %s is not a netmask and is ignored, as piranha did", quote.Excerpt(a.text))
			p.trailing = ""
			return
		}
		p.noteAton(ln, a, m)
		if m == netip.AddrFrom4([4]byte{255, 255, 255, 255}) || m.IsUnspecified() {
			// Piranha turns 255.255.255.255 into 0, and lvsd passes no -M
			// for 0: both mean "unset", that is ipvsadm's per-client /32.
			m = netip.Addr{}
		}
		v.PMask = m
	case "client_monitor":
		v.ClientMonitor = a.text
	case "send_program":
		v.SendProgram = quoted(a)
	case "send":
		v.Send = quoted(a)
	case "expect":
		v.Expect = quoted(a)
	case "use_regex":
		v.UseRegex, ok = p.boolean(ln, a)
	case "timeout":
		v.Timeout, ok = p.num(ln, a)
	case "reentry":
		v.Reentry, ok = p.num(ln, a)
	case "load_monitor":
		v.LoadMonitor = a.text
	case "quiesce_server":
		v.QuiesceServer, ok = p.boolean(ln, a)
	case "start_cmd":
		v.StartCmd = quoted(a)
	case "stop_cmd":
		v.StopCmd = quoted(a)
	case "master":
		v.Master, ok = p.host(ln, a)
	}
	if ok {
		record(&v.Settings, p, ln, args)
	} else {
		v.failed[key] = true
	}
}

// dirs reads the legacy list `dirs = [ a b ]`.
func (p *parser) dirs(ln line, v *Virtual) {
	toks := ln.toks
	if len(toks) < 2 || toks[1].text != "=" {
		col := endCol(toks[:1])
		if len(toks) >= 2 {
			col = toks[1].col
		}
		p.errorf(ln.num, col, MsgEqualExpected, "write `dirs = [ DIR ... ]`")
		return
	}
	if len(toks) < 3 || toks[2].text != "[" {
		p.errorf(ln.num, endCol(toks[:2]), MsgListExpected, "write `dirs = [ DIR ... ]` with blanks around [ and ]")
		return
	}
	end := slices.IndexFunc(toks[3:], func(t token) bool { return t.text == "]" })
	if end < 0 {
		p.errorf(ln.num, endCol(toks), MsgListExpected, "the list has no closing ] on this line")
		return
	}
	end += 3
	rest, trailing := p.trimComment(ln, toks, end+1)
	p.trailing = trailing
	if len(rest) > end+1 {
		p.warnf(ln.num, "text after ] is ignored, as piranha did")
	}
	v.Dirs, v.DirsSet = nil, true
	for _, t := range toks[3:end] {
		v.Dirs = append(v.Dirs, t.text)
	}
	record(&v.Settings, p, ln, toks[3:end])
}

func (p *parser) serverKey(ln line, s *Server) {
	key := ln.toks[0].text
	switch key {
	case "address", "active", "weight", "port":
	default:
		p.unknown(ln, "server block", serverKeys)
		return
	}
	args, ok := p.kv(ln, 1)
	if !ok {
		s.failed[key] = true
		return
	}
	a := args[0]
	switch key {
	case "address":
		s.Address, ok = p.host(ln, a)
	case "active":
		s.Active, ok = p.boolean(ln, a)
	case "weight":
		s.Weight, ok = p.num(ln, a)
	case "port":
		// Numeric only: piranha reads a server port with strtol, not
		// getservbyname.
		var v int
		if v, ok = p.num(ln, a); ok {
			if v, ok = p.portRange(ln, a, v); ok {
				s.Port, s.PortInherited = v, false
			}
		}
	}
	if ok {
		record(&s.Settings, p, ln, args)
	} else {
		s.failed[key] = true
	}
}

// endVirtual warns about the port order quirk once a block is complete.
func (p *parser) endVirtual(v *Virtual) {
	if v.Failover {
		return
	}
	ps := v.Setting("port")
	for _, s := range v.Servers {
		if s.PortInherited && ps != nil && s.Port != v.Port {
			p.warnf(s.Line, "server %s takes port %d, the virtual's port when its block starts; `port = %s` on line %d comes later and does not reach it (piranha reads in order)", show(s.Name), s.Port, show(ps.Args[0]), ps.Line)
		}
	}
}

// finish applies what piranha does after the whole file is read.
func (p *parser) finish() {
	f := p.f
	g := &f.Globals
	// lvsconfig.c: with primary and no primary_private, both private
	// addresses are copied from the public ones, even an explicit
	// backup_private.
	if f.Setting("primary") != nil && f.Setting("primary_private") == nil {
		if bp := f.Setting("backup_private"); bp != nil && g.BackupPrivate != g.Backup {
			p.warnf(bp.Line, "backup_private is replaced by backup (%s) because primary_private is not set (piranha sets both private addresses from the public ones)", addrOrNone(g.Backup))
		}
		g.PrimaryPrivate = g.Primary
		g.BackupPrivate = g.Backup
	}
	switch {
	case g.Service == "lvs" && len(f.Failovers) > 0:
		p.warnf(f.Failovers[0].Line, "failover blocks are not run with service = lvs (piranha's old check %q is disabled since the service key exists)", MsgOnlyOne)
	case g.Service == "fos" && len(f.Virtuals) > 0:
		p.warnf(f.Virtuals[0].Line, "virtual blocks are not run with service = fos (piranha's old check %q is disabled since the service key exists)", MsgOnlyOne)
	}
	if g.Service == "lvs" && len(f.ActiveVirtuals()) == 0 {
		p.warnf(0, "no virtual block has active = 1: piranha's pulse refuses to start, and the IPVS table is empty")
	}
	if g.Service == "lvs" {
		p.sharedMarks()
	}
	if g.Deadtime <= g.Keepalive && !f.failsOver() {
		at := f.at("deadtime", f.at("keepalive", place{}))
		p.warnf(at.line, "deadtime (%d) is not longer than keepalive (%d): with a backup running, a single late heartbeat would fail the partner over; harmless here, as no backup runs (%s), but set deadtime above keepalive before you add one",
			g.Deadtime, g.Keepalive, f.whyAlone())
	}
}

// failsOver reports whether lvsctl's pulse runs failover with this file's
// pulse settings: there is a primary, and a backup that runs.
func (f *File) failsOver() bool {
	return f.Primary.IsValid() && f.Backup.IsValid() && !f.Backup.IsUnspecified() && f.BackupActive
}

// whyAlone says why no backup runs.
func (f *File) whyAlone() string {
	switch {
	case !f.Primary.IsValid():
		return "no primary is set, so there is no director pair"
	case !f.Backup.IsValid() || f.Backup.IsUnspecified():
		return "no backup is set"
	}
	return "backup_active = 0"
}

// sharedMarks warns about each active virtual block that shares its fwmark
// with an earlier one: what piranha did with it, what lvsctl does (see
// File.Table), and which of its settings the service does not take.
func (p *parser) sharedMarks() {
	f := p.f
	nat := f.forward() == lvs.Masq
	for _, l := range f.layout() {
		first := l.v
		for _, v := range l.blocks[1:] {
			p.warnf(v.Line, "virtual %s shares fwmark %d with virtual %s (line %d): lvsctl makes one service of them, with the first block's settings. Piranha's lvsd ran `ipvsadm -A -f %d` for each block; for this one it failed (\"Service already exists\"), so lvsd started no nanny for its servers and never added them",
				brief(v.Name), v.FWMark, brief(first.Name), first.Line, v.FWMark)
			var added, same, of []string
			for _, m := range l.dests {
				if m.v == v {
					added = append(added, fmt.Sprintf("%s (%s)", brief(m.s.Name), f.destAddr(m.v, m.s)))
				}
			}
			for _, d := range l.dups {
				if d.v != v {
					continue
				}
				o := l.dests[d.of]
				same = append(same, brief(d.s.Name))
				of = append(of, fmt.Sprintf("%s (%s)", brief(o.s.Name), f.destAddr(o.v, o.s)))
				if d.s.Weight != o.s.Weight {
					line := d.s.Line
					if ws := d.s.Setting("weight"); ws != nil {
						line = ws.Line
					}
					p.warnf(line, "server %s of virtual %s has weight %d, but it is real server %s of virtual %s (line %d), whose weight %d the fwmark %d service keeps: one real server has one weight",
						brief(d.s.Name), brief(v.Name), d.s.Weight, brief(o.s.Name), brief(o.v.Name), o.s.Line, o.s.Weight, first.FWMark)
				}
			}
			if len(added) > 0 {
				p.warnf(v.Line, "virtual %s: lvsctl adds its servers %s to the fwmark %d service, each with this block's health check",
					brief(v.Name), list(added), v.FWMark)
			}
			if len(same) > 0 {
				how := "the same address and port"
				if !nat {
					how = "the same address: direct routing and tunnelling keep each packet's port"
				}
				p.warnf(v.Line, "virtual %s: its servers %s are real servers %s of virtual %s already (%s); each stays one real server, with %s's health check",
					brief(v.Name), list(same), list(of), brief(first.Name), how, brief(first.Name))
			}
			p.markConflicts(first, v)
			if nat {
				p.natPorts(l, v)
			}
		}
	}
}

// brief shows a block name in a message that names several: as show does,
// cut to 24 characters.
func brief(name string) string {
	s := show(name)
	if r := []rune(s); len(r) > 24 {
		return string(r[:23]) + "…"
	}
	return s
}

// list joins at most three items, and counts the rest.
func list(items []string) string {
	if len(items) <= 3 {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:3], ", "), len(items)-3)
}

// markConflicts warns about each setting of v, a later block sharing
// first's fwmark, that the service does not take.
func (p *parser) markConflicts(first, v *Virtual) {
	for _, c := range conflicts(first, v) {
		line := v.Line
		if s := v.Setting(c.key); s != nil {
			line = s.Line
		}
		from := "its default"
		if s := first.Setting(c.key); s != nil {
			from = fmt.Sprintf("line %d", s.Line)
		}
		p.warnf(line, "virtual %s: %s %s is not used: the fwmark %d service keeps %s's %s %s (%s), the first block's, which is what piranha's lvsd set (its later ipvsadm -A failed)",
			brief(v.Name), c.key, c.theirs, v.FWMark, brief(first.Name), c.key, c.ours, from)
	}
}

// A conflict is a setting of a later block sharing a fwmark that differs
// from the first block's, which the service keeps.
type conflict struct{ key, ours, theirs string }

func conflicts(first, v *Virtual) []conflict {
	var cs []conflict
	for _, c := range []struct {
		conflict
		different bool
	}{
		{conflict{"scheduler", first.Scheduler, v.Scheduler}, first.Scheduler != v.Scheduler},
		{conflict{"persistent", strconv.Itoa(first.Persistent), strconv.Itoa(v.Persistent)}, first.Persistent != v.Persistent},
		{conflict{"pmask", addrOrNone(first.PMask), addrOrNone(v.PMask)}, first.Persistent > 0 && v.Persistent > 0 && first.PMask != v.PMask},
		{conflict{"sorry_server", addrOrNone(first.SorryServer), addrOrNone(v.SorryServer)}, v.SorryServer.IsValid() && first.SorryServer != v.SorryServer},
		{conflict{"vip_nmask", addrOrNone(first.VIPNetmask), addrOrNone(v.VIPNetmask)}, v.VIPNetmask.IsValid() && first.VIPNetmask != v.VIPNetmask},
	} {
		if c.different {
			cs = append(cs, c.conflict)
		}
	}
	return cs
}

// natPorts warns about a server of v, a later block sharing a fwmark in
// NAT, whose address is a real server of the service on another port:
// NAT sends each connection to the real server's port, whatever port the
// client asked for.
func (p *parser) natPorts(l layout, v *Virtual) {
	for _, m := range l.dests {
		if m.v != v {
			continue
		}
		a := p.f.destAddr(m.v, m.s)
		for _, o := range l.dests {
			if b := p.f.destAddr(o.v, o.s); o.v != v && b.Addr() == a.Addr() && b.Port() != a.Port() {
				p.warnf(m.s.Line, "server %s (%s) of virtual %s and server %s (%s) of virtual %s are one host on two ports in the NAT fwmark %d service: NAT sends each connection to the real server's port, so a connection to either port may reach the other; write port = 0 in both server blocks to keep each connection's port",
					brief(m.s.Name), a, brief(v.Name), brief(o.s.Name), b, brief(o.v.Name), v.FWMark)
				break
			}
		}
	}
}

func addrOrNone(a netip.Addr) string {
	if !a.IsValid() {
		return "unset"
	}
	return a.String()
}
