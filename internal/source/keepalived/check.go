package keepalived

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/internal/quote"
	"github.com/lvsctl/lvsctl/lvs"
)

// checkerNotes explain the checkers lvsctl has no probe for.
var checkerNotes = map[string]string{
	"UDP_CHECK":  "is not converted: lvsctl has no UDP payload probe like it; add a health_check (send_expect with protocol udp, or exec) by hand.",
	"PING_CHECK": "is not converted: lvsctl sends no ICMP probes; add a health_check by hand (tcp, or exec running ping).",
	"FILE_CHECK": "is not converted: lvsctl does not set weights from a file; the real server keeps its weight.",
	"BFD_CHECK":  "is not converted: lvsctl runs no BFD; add a health_check by hand.",
}

// converted are the checkers lvsctl carries.
var converted = []string{"TCP_CHECK", "HTTP_GET", "SSL_GET", "MISC_CHECK", "DNS_CHECK", "SMTP_CHECK"}

func isChecker(k string) bool {
	_, other := checkerNotes[k]
	return other || slices.Contains(converted, k)
}

// A checkSpec is a real server's checker as read, once for all the
// services the real server is in.
type checkSpec struct {
	n            *Node
	probe        model.Probe
	timing       timing
	port         uint16         // connect_port; 0 when not given
	miscTimeout  *time.Duration // MISC_CHECK's misc_timeout
	defaultRetry uint64
	notes        []pending
	vhostSet     bool // the checker has its own virtualhost
	hosts        int  // SMTP_CHECK host blocks
	// connectIP is connect_ip, read at connectIPNode.
	connectIP     netip.Addr
	connectIPNode *Node
	reported      bool // its problems were reported, once for all its services
}

// defaultSMTPHelo is the HELO name of keepalived's SMTP_CHECK.
const defaultSMTPHelo = "smtpchecker.keepalived.org"

// readChecks reads the checkers of rs that lvsctl carries, in order: each
// becomes one of its checks, all of which must pass, as keepalived counts
// a real server alive only while none of its checkers has failed
// (ipwrapper.c, update_svr_checker_state). The others are noted.
func (c *conv) readChecks(rs *rsSpec) []*checkSpec {
	var specs []*checkSpec
	for _, n := range rs.checkers {
		if why, ok := checkerNotes[n.Key()]; ok {
			rs.notes = append(rs.notes, pending{n, why})
			continue
		}
		if !c.block(n) {
			continue
		}
		if len(specs) == model.MaxChecks {
			c.errorf(n.Pos(), "the real server has more than %d checkers; lvsctl runs at most %d checks of one real server", model.MaxChecks, model.MaxChecks)
			continue
		}
		if spec := c.readChecker(n); spec != nil {
			specs = append(specs, spec)
		}
	}
	return specs
}

func (c *conv) readChecker(n *Node) *checkSpec {
	spec := &checkSpec{n: n, defaultRetry: 1}
	later := func(k *Node, why string) { spec.notes = append(spec.notes, pending{k, why}) }
	var urls []model.HTTPURL
	var vhost *string
	var program []string
	dynamic := false
	var helo *string
	var dnsType, dnsName *Token
	conn := n.Key() != "MISC_CHECK"
	for _, k := range n.Block {
		key := k.Key()
		if key == "url" && (n.Key() == "HTTP_GET" || n.Key() == "SSL_GET") {
			if c.block(k) && c.args(k, 0, 0) {
				if u, ok := c.url(k, later); ok {
					urls = append(urls, u)
				}
			}
			continue
		}
		if key == "host" && n.Key() == "SMTP_CHECK" {
			if c.block(k) && c.args(k, 0, 0) {
				c.smtpHost(k, spec, later)
			}
			continue
		}
		if !c.noBlock(k) {
			continue
		}
		if conn && c.connKey(k, spec, later) {
			continue
		}
		if c.timingKey(k, &spec.timing, later) {
			if key == "virtualhost" && n.Key() != "HTTP_GET" && n.Key() != "SSL_GET" {
				c.errorf(k.Pos(), "virtualhost is for HTTP_GET and SSL_GET checks")
			}
			continue
		}
		switch {
		case key == "log_all_failures":
			if c.args(k, 0, 1) {
				later(k, "logs every failed check; lvsctl check logs each state change.")
			}
		case (n.Key() == "HTTP_GET" || n.Key() == "SSL_GET") && key == "virtualhost":
			if c.args(k, 1, 1) {
				s := k.Words[1].Text
				vhost = &s
			}
		case (n.Key() == "HTTP_GET" || n.Key() == "SSL_GET") && slices.Contains([]string{"http_protocol", "enable_sni", "sni_name", "fast_recovery", "tls_compliant"}, key):
			if c.args(k, 0, 1) {
				later(k, map[string]string{
					"http_protocol": "sets the HTTP version of the request; lvsctl sends HTTP/1.1 with a Host header.",
					"enable_sni":    "sends the server name in TLS; lvsctl sends the check's host (or the real server's address) as the server name.",
					"sni_name":      "names the server in TLS; lvsctl sends the check's host (or the real server's address) as the server name: put the name in virtualhost.",
					"fast_recovery": "probes a failed real server again at once; lvsctl probes at the interval.",
					"tls_compliant": "shuts TLS down the compliant way; lvsctl's TLS client always does.",
				}[key])
			}
		case n.Key() == "MISC_CHECK" && key == "misc_path":
			if !c.args(k, 1, -1) {
				continue
			}
			program = c.commandLine(k)
		case n.Key() == "MISC_CHECK" && key == "misc_timeout":
			if c.args(k, 1, 1) {
				if v, ok := c.unsigned(k.Words[1], "misc_timeout", 1, 1<<31/uint64(time.Second/time.Microsecond)); ok {
					d := time.Duration(v) * time.Second
					spec.miscTimeout = &d
				}
			}
		case n.Key() == "MISC_CHECK" && key == "misc_dynamic":
			if c.args(k, 0, 0) {
				dynamic = true
			}
		case n.Key() == "MISC_CHECK" && key == "user":
			if c.args(k, 1, 2) {
				later(k, "runs the program as that user; lvsctl check runs it as itself (run lvsctl check as that user, or use a wrapper that changes user).")
			}
		case n.Key() == "SMTP_CHECK" && key == "helo_name":
			if c.args(k, 1, 1) {
				s := k.Words[1].Text
				helo = &s
			}
		case n.Key() == "DNS_CHECK" && key == "type":
			if c.args(k, 1, 1) {
				dnsType = &k.Words[1]
			}
		case n.Key() == "DNS_CHECK" && key == "name":
			if c.args(k, 1, 1) {
				dnsName = &k.Words[1]
			}
		default:
			c.errorf(k.Pos(), "%s is not a %s keyword keepalived has%s", show(key), n.Key(), orManual(suggest(key, checkerWords)))
		}
	}
	switch n.Key() {
	case "TCP_CHECK":
		spec.probe = model.TCPProbe{}
	case "HTTP_GET", "SSL_GET":
		spec.defaultRetry = 1
		if len(urls) == 0 {
			c.errorf(n.Pos(), "%s has no url block; keepalived checks nothing without one: add url { path / }", n.Key())
			return nil
		}
		h := model.HTTPProbe{Method: model.DefaultHTTPMethod, Path: model.DefaultHTTPPath, URLs: urls}
		if vhost != nil {
			h.Host = *vhost
		}
		if n.Key() == "HTTP_GET" {
			spec.probe = h
		} else {
			spec.probe = model.HTTPSProbe{HTTPProbe: h}
			later(n, "does not verify the real server's certificate (keepalived's SSL_GET does not either): tls_verify = false; set it to true once the real servers' certificates verify on the director (against its system CAs, for the name in virtualhost, else the address).")
		}
		spec.vhostSet = vhost != nil
	case "MISC_CHECK":
		spec.defaultRetry = 0
		if len(program) == 0 {
			c.errorf(n.Pos(), "MISC_CHECK needs misc_path, the program to run")
			return nil
		}
		spec.probe = model.ExecProbe{Program: strings.Join(program, " "), Dynamic: dynamic}
		if strings.Contains(spec.probe.(model.ExecProbe).Program, "%") {
			later(n, "has a % in its command line: lvsctl replaces %h and %p with the real server's address and port, which keepalived does not.")
		}
	case "DNS_CHECK":
		spec.defaultRetry = 3
		p := model.DNSProbe{Protocol: lvs.UDP, QueryName: ".", QueryType: "SOA"}
		if dnsType != nil {
			p.QueryType = strings.ToUpper(dnsType.Text)
			if !slices.Contains(model.DNSQueryTypes, p.QueryType) {
				c.errorf(dnsType.Pos, "DNS_CHECK type %s is not one lvsctl asks: %s", show(dnsType.Text), strings.Join(model.DNSQueryTypes, ", "))
				return nil
			}
		}
		if dnsName != nil && dnsName.Text != "" {
			p.QueryName = dnsName.Text
		}
		spec.probe = p
	case "SMTP_CHECK":
		h := defaultSMTPHelo
		if helo != nil {
			h = *helo
		}
		spec.probe = model.SMTPProbe{HeloName: h}
	}
	return spec
}

// commandLine reads the command of a script keyword (misc_path,
// notify_master): keepalived takes the rest of the line, a quoted string
// being one command line, and splits it into words; lvsctl splits on
// blanks and runs it without a shell, so quoting inside the command
// cannot be carried.
func (c *conv) commandLine(k *Node) []string {
	var out []string
	for _, w := range k.Args() {
		if strings.ContainsAny(w.Text, `'"\`) {
			c.errorf(w.Pos, "%s: %s quotes or escapes inside the command, and lvsctl runs the command without a shell, splitting it on blanks; use a wrapper script", k.Key(), show(w.Text))
			return nil
		}
		out = append(out, strings.Fields(w.Text)...)
	}
	return out
}

// connKey reads a checker's connection keyword.
func (c *conv) connKey(k *Node, spec *checkSpec, later func(*Node, string)) bool {
	switch k.Key() {
	case "connect_port":
		if c.args(k, 1, 1) {
			if v, ok := c.unsigned(k.Words[1], "connect_port", 1, 65535); ok {
				spec.port = uint16(v)
			}
		}
	case "connect_ip":
		if c.args(k, 1, 1) {
			if a, ok := c.addr(k.Words[1], "connect_ip"); ok {
				spec.connectIP = a
				spec.connectIPNode = k
			}
		}
	case "bindto", "bind_port", "bind_if", "fwmark":
		if c.args(k, 1, 1) {
			later(k, "sets where the check's connection comes from; lvsctl's probes come from the director's own address, chosen by its routes.")
		}
	default:
		return false
	}
	return true
}

// url reads a url block of HTTP_GET or SSL_GET.
func (c *conv) url(n *Node, later func(*Node, string)) (model.HTTPURL, bool) {
	var u model.HTTPURL
	ok := true
	for _, k := range n.Block {
		if !c.noBlock(k) {
			ok = false
			continue
		}
		switch k.Key() {
		case "path":
			if c.args(k, 1, 1) {
				u.Path = k.Words[1].Text
			}
		case "digest":
			if c.args(k, 1, 1) {
				u.Digest = k.Words[1].Text
			}
		case "virtualhost":
			if c.args(k, 1, 1) {
				u.Host = k.Words[1].Text
			}
		case "status_code":
			if !c.args(k, 1, -1) {
				ok = false
				continue
			}
			for _, w := range k.Args() {
				lo, hi, isRange := strings.Cut(w.Text, "-")
				a, err1 := strconv.Atoi(lo)
				b, err2 := a, error(nil)
				if isRange {
					b, err2 = strconv.Atoi(hi)
				}
				if err1 != nil || err2 != nil || a < 100 || b > 599 || b < a {
					c.errorf(w.Pos, "status_code %s is not a status code from 100 to 599, or a range of them such as 200-299", show(w.Text))
					ok = false
					continue
				}
				for s := a; s <= b; s++ {
					u.Status = append(u.Status, s)
				}
			}
		case "regex":
			if c.args(k, 1, 1) {
				u.BodyRegex = k.Words[1].Text
				later(k, "is a PCRE2 expression in keepalived; lvsctl matches body_regex with Go's RE2 syntax, which reads common expressions alike but has no back-references or look-around.")
			}
		case "regex_no_match", "regex_options", "regex_min_offset", "regex_max_offset", "regex_stack", "tls_compliant":
			later(k, "is not converted: lvsctl's body_regex must match anywhere in the body, with Go's RE2 syntax and no options.")
		default:
			c.errorf(k.Pos(), "%s is not a url keyword keepalived has (path, digest, status_code, virtualhost, regex...)%s", show(k.Key()), suggest(k.Key(), urlWords))
			ok = false
		}
	}
	if u.Path == "" {
		c.errorf(n.Pos(), "this url has no path; keepalived ignores such a url (\"url has no path - ignoring\"): add path /")
		return u, false
	}
	// No status_code accepts 200 to 299, in keepalived and in lvsctl's
	// url blocks alike.
	return u, ok
}

// smtpHost reads a host block of SMTP_CHECK: the connection of one of
// its targets.
func (c *conv) smtpHost(n *Node, spec *checkSpec, later func(*Node, string)) {
	spec.hosts++
	if spec.hosts > 1 {
		later(n, "is another target of the SMTP check; lvsctl probes the real server itself only.")
		return
	}
	for _, k := range n.Block {
		if !c.noBlock(k) || c.connKey(k, spec, later) {
			continue
		}
		// keepalived takes a checker's common keywords in a host block
		// too: connect_timeout for the host's connection, the others for
		// the whole checker, as lvsctl takes them here.
		switch k.Key() {
		case "connect_timeout", "retry", "delay_before_retry", "warmup", "delay_loop", "alpha":
			c.timingKey(k, &spec.timing, later)
		case "log_all_failures":
			if c.args(k, 0, 1) {
				later(k, "logs every failed check; lvsctl check logs each state change.")
			}
		default:
			c.errorf(k.Pos(), "%s is not a keyword of an SMTP_CHECK host block (connect_ip, connect_port, bindto, connect_timeout...)%s", show(k.Key()), suggest(k.Key(), smtpHostWords))
		}
	}
}

// smtpHostWords are the keywords of an SMTP_CHECK host block.
var smtpHostWords = []string{"connect_ip", "connect_port", "bindto", "bind_port", "bind_if", "fwmark", "connect_timeout",
	"retry", "delay_before_retry", "warmup", "delay_loop", "alpha", "log_all_failures"}

// check returns the health check of the real server d (read from rs) in
// the service k, with its other checkers' checks as its More; nil when it
// has none.
func (c *conv) check(vs *vsSpec, rs *rsSpec, k lvs.ServiceKey, d lvs.Dest, first bool, rp []string) *model.HealthCheck {
	var hc *model.HealthCheck
	for i, spec := range rs.checks {
		one := c.oneCheck(vs, rs, spec, d, first, model.CheckPath(rp, i))
		if one == nil {
			return nil // reported
		}
		if hc == nil {
			hc = one
		} else {
			hc.More = append(hc.More, one)
		}
	}
	return hc
}

// oneCheck builds the check of one checker of rs (spec) for the real
// server d, its notes at hp; nil after reporting why it cannot be.
func (c *conv) oneCheck(vs *vsSpec, rs *rsSpec, spec *checkSpec, d lvs.Dest, first bool, hp []string) *model.HealthCheck {
	note := func(n *Node, why string) {
		if first {
			c.note(n, why, hp...)
		}
	}
	if first {
		for _, p := range spec.notes {
			c.note(p.n, p.why, hp...)
		}
	}
	t := spec.timing.merged(rs.timing).merged(vs.timing)
	hc := model.DefaultHealthCheck(spec.probe)
	hc.Interval = defaultDelayLoop
	if t.delayLoop != nil {
		hc.Interval = *t.delayLoop
	}
	hc.Timeout = defaultConnectTimeout
	if spec.n.Key() == "MISC_CHECK" {
		hc.Timeout = hc.Interval
		if spec.miscTimeout != nil {
			hc.Timeout = *spec.miscTimeout
		}
	} else if t.connectTimeout != nil {
		hc.Timeout = *t.connectTimeout
	}
	if hc.Timeout > hc.Interval {
		note(spec.n, fmt.Sprintf("has a timeout (%s) longer than its delay_loop (%s); lvsctl probes at most once an interval, so its timeout is the interval.", model.FormatDuration(hc.Timeout), model.FormatDuration(hc.Interval)))
		hc.Timeout = hc.Interval
	}
	retry := spec.defaultRetry
	if t.retry != nil {
		retry = *t.retry
	}
	hc.Fall = int(retry) + 1
	if t.inhibit != nil && *t.inhibit {
		hc.OnFailure = model.OnFailureQuiesce
	}
	hc.Alpha = t.alpha != nil && *t.alpha
	if t.virtualhost != nil {
		switch p := hc.Probe.(type) {
		case model.HTTPProbe:
			if !spec.vhostSet {
				p.Host = *t.virtualhost
			}
			hc.Probe = p
		case model.HTTPSProbe:
			if !spec.vhostSet {
				p.Host = *t.virtualhost
			}
			hc.Probe = p
		}
	}
	if spec.connectIPNode != nil && spec.connectIP != d.Addr.Addr() {
		note(spec.connectIPNode, fmt.Sprintf("probes another address than the real server's; lvsctl probes the real server (%s) itself.", d.Addr.Addr()))
	}
	switch {
	case spec.port != 0 && spec.port != d.Addr.Port():
		hc.Port = spec.port
	case spec.port == 0 && rs.port != 0 && rs.port != d.Addr.Port():
		// keepalived's checker probes the address written, before the
		// table's port is reset (queue_checker copies it).
		hc.Port = rs.port
	}
	if hc.Probe.Type() == model.CheckExec {
		hc.Port = 0 // the program is told the real server's port
	}
	if p := hc.ValidateTarget(d.Addr, d.Name); p != nil {
		if !spec.reported {
			spec.reported = true
			c.errorf(spec.n.Pos(), "the real server %s has no port (a fwmark service), so the %s has none to probe; give it connect_port", d.Addr.Addr(), spec.n.Key())
		}
		return nil
	}
	if ps := hc.Validate(nil); len(ps) > 0 {
		for _, p := range ps {
			msg := quote.Clip(p.Msg)
			if p.Element > 0 && p.Setting == "url" {
				msg = fmt.Sprintf("url %d: %s", p.Element, msg)
			}
			if !spec.reported {
				c.errorf(spec.n.Pos(), "%s: %s", spec.n.Key(), msg)
			}
		}
		spec.reported = true
		return nil
	}
	hc.Normalize()
	return &hc
}
