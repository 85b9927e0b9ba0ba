package lvscf

import (
	"cmp"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/lvsctl/lvsctl/internal/quote"

	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/lvs"
)

// nannyDefaultSend and nannyDefaultExpect are the probe nanny used for a
// port 80 service that sets none of send, expect and send_program.
const (
	nannyDefaultSend   = "GET / HTTP/1.0\r\n\r\n"
	nannyDefaultExpect = "HTTP"
)

// Config returns the configuration f means: the table of [File.Table], and
// beside it what lvs.cf carries for `lvsctl check` and `lvsctl pulse`. It is
// exactly what config.Parse returns for the HCL that [File.Convert]
// writes. Errors name the line of the setting that lvsctl cannot take.
func (f *File) Config() (*model.Config, error) {
	cfg, _, err := f.Convert()
	return cfg, err
}

// Convert returns the configuration f means (see [File.Config]) and the
// annotations to write it with config.Write: the comments of the source
// above the block or attribute they preceded, and a "# NOTE:" for each
// setting that has no HCL equivalent.
//
// Each active virtual gets a health_check that does what its nanny did:
// send_program becomes an exec check (with nanny's comparison of the
// output with expect), send and expect a send_expect check (expect_regex
// with use_regex = 1; the \r, \n, \t and \\ escapes decoded as nanny did),
// and a port 80 virtual with none of them nanny's default HTTP probe. The
// interval and the timeout are the virtual's timeout, rise is reentry /
// timeout rounded up, fall is 1 (nanny removed a server at its first
// failure), and quiesce_server = 1 makes the failure action "quiesce".
//
// Inactive virtuals and servers (active = 0), which piranha did not run,
// are left out, each with a note; so are failover blocks. The pulse block
// is written only when the file names a primary: without one piranha's
// pulse never became active either.
func (f *File) Convert() (*model.Config, *model.Annotations, error) {
	t, err := f.Table()
	if err != nil {
		return nil, nil, err
	}
	c := &converter{f: f, ann: &model.Annotations{RealOrder: map[string][]string{}}}
	cfg := &model.Config{Table: t}
	c.ann.Header = []string{"# Converted from " + filepath.Base(f.Name) + " by lvsctl convert."}
	c.names(t)
	c.globals()
	cfg.Pulse = c.pulse()
	for _, v := range f.Virtuals {
		if !v.Active {
			c.inactiveVirtual(v)
			continue
		}
		st := c.service(v, t)
		if st != nil {
			if cfg.Services == nil {
				cfg.Services = map[string]*model.ServiceSettings{}
			}
			cfg.Services[c.vname[v]] = st
		}
	}
	for _, v := range f.Failovers {
		c.ann.Footer = append(c.ann.Footer, texts(v.Comments)...)
		c.ann.Footer = append(c.ann.Footer, fmt.Sprintf("# NOTE: failover %s (line %d) is a piranha failover service (fos): lvsctl runs no services, so it is not converted.", v.Name, v.Line))
	}
	c.ann.Footer = append(c.ann.Footer, texts(f.TrailingComments)...)
	if len(c.errs) > 0 {
		slices.SortStableFunc(c.errs, func(a, b *Error) int { return cmp.Compare(a.Line, b.Line) })
		return nil, nil, c.errs.capped()
	}
	return cfg, c.ann, nil
}

type converter struct {
	f     *File
	ann   *model.Annotations
	errs  Errors
	vname map[*Virtual]string
	sname map[*Server]string
}

func (c *converter) errorf(line int, format string, args ...any) {
	c.errs = append(c.errs, &Error{File: c.f.Name, Line: line, Msg: MsgBadArgument, Detail: fmt.Sprintf(format, args...)})
}

// note adds a NOTE comment at the top of the file, or above path.
func (c *converter) note(text string, path ...string) {
	c.ann.Add("# NOTE: "+text, path...)
}

// comments carries source comments to the top of the file, or above path.
func (c *converter) comments(cs []Comment, path ...string) {
	for _, cm := range cs {
		c.ann.Add(cm.Text, path...)
	}
}

func texts(cs []Comment) []string {
	out := make([]string, len(cs))
	for i, cm := range cs {
		out[i] = cm.Text
	}
	return out
}

// label makes a block name a valid, readable HCL label: control characters
// and broken UTF-8 become "_".
func label(name, fallback string) string {
	var b strings.Builder
	for i, r := range name {
		if r == utf8.RuneError && len(name[i:]) > 0 {
			if _, n := utf8.DecodeRuneInString(name[i:]); n <= 1 {
				b.WriteByte('_')
				continue
			}
		}
		if unicode.IsControl(r) {
			b.WriteByte('_')
			continue
		}
		b.WriteRune(r)
	}
	if strings.TrimSpace(b.String()) == "" {
		return fallback
	}
	return b.String()
}

// unique returns name, or name_2, name_3... when it is taken.
func unique(name string, taken map[string]bool) string {
	n := name
	for i := 2; taken[n]; i++ {
		n = fmt.Sprintf("%s_%d", name, i)
	}
	taken[n] = true
	return n
}

// names gives each active virtual and server its HCL label: the lvs.cf name,
// made a valid label and unique where needed (piranha allowed two blocks of
// the same name; HCL does not), and renames them in t.
func (c *converter) names(t *lvs.Table) {
	c.vname, c.sname = map[*Virtual]string{}, map[*Server]string{}
	vtaken := map[string]bool{}
	for _, v := range c.f.Virtuals {
		if !v.Active {
			continue
		}
		n := unique(label(v.Name, "virtual"), vtaken)
		c.vname[v] = n
		if n != v.Name {
			c.note(fmt.Sprintf("virtual %q (line %d) is named %q here: HCL labels must be unique and printable.", v.Name, v.Line, n), "virtual_server", n)
		}
		svc := serviceOf(t, v)
		if svc != nil {
			svc.Name = n
		}
		stak := map[string]bool{}
		var order []string
		// The real servers of svc by address: Table gave each active
		// server one, with its name, and Validate allows no address
		// twice. (A scan of svc.Dests per server made a virtual with
		// tens of thousands of servers take seconds.)
		var dests map[netip.AddrPort]int
		if svc != nil {
			dests = make(map[netip.AddrPort]int, len(svc.Dests))
			for i, d := range svc.Dests {
				if _, dup := dests[d.Addr]; !dup {
					dests[d.Addr] = i
				}
			}
		}
		for _, s := range v.Servers {
			if !s.Active {
				continue
			}
			sn := unique(label(s.Name, "server"), stak)
			c.sname[s] = sn
			order = append(order, sn)
			if sn != s.Name {
				c.note(fmt.Sprintf("server %q (line %d) is named %q here: real server names must be unique within a virtual server and printable.", s.Name, s.Line, sn), "virtual_server", n, "real_server", sn)
			}
			if i, ok := dests[c.destAddr(v, s)]; ok && svc.Dests[i].Name == s.Name {
				svc.Dests[i].Name = sn
			}
		}
		c.ann.Order = append(c.ann.Order, n)
		c.ann.RealOrder[n] = order
	}
}

// key is the service key Table gives v.
func key(v *Virtual) lvs.ServiceKey {
	if v.FWMark != 0 {
		return lvs.MarkKey(lvs.IPv4, v.FWMark)
	}
	proto := lvs.TCP
	if v.Protocol == "udp" {
		proto = lvs.UDP
	}
	return lvs.AddrKey(proto, netip.AddrPortFrom(addrOrZero(v.Address), uint16(v.Port)))
}

func serviceOf(t *lvs.Table, v *Virtual) *lvs.Service {
	k := key(v)
	if k.IsFWMark() {
		k.Protocol, k.Addr, k.Port = 0, netip.Addr{}, 0
	}
	return t.Service(k)
}

// destAddr is the real server address Table gives s.
func (c *converter) destAddr(v *Virtual, s *Server) netip.AddrPort {
	port := s.Port
	if c.f.Network != "nat" && v.FWMark == 0 {
		port = v.Port
	}
	return netip.AddrPortFrom(addrOrZero(s.Address), uint16(port))
}

// globalPaths says where the comments of each global setting go.
var globalPaths = map[string][]string{
	"primary": {"pulse", "primary"}, "backup": {"pulse", "backup"},
	"primary_private": {"pulse", "primary_private"}, "backup_private": {"pulse", "backup_private"},
	"backup_active": {"pulse", "backup_active"}, "heartbeat_port": {"pulse", "heartbeat_port"},
	"keepalive": {"pulse", "keepalive"}, "deadtime": {"pulse", "deadtime"},
	"monitor_links": {"pulse", "monitor_links"}, "active_cmd": {"pulse", "active_cmd"},
	"inactive_cmd": {"pulse", "inactive_cmd"}, "nat_router": {"pulse", "nat_router"},
	"nat_nmask": {"pulse", "nat_router", "netmask"}, "syncdaemon": {"pulse", "sync_daemon"},
	"syncd_iface": {"pulse", "sync_daemon", "interface"}, "syncd_id": {"pulse", "sync_daemon", "id"},
	"tcp_timeout": {"timeouts", "tcp"}, "tcpfin_timeout": {"timeouts", "tcp_fin"}, "udp_timeout": {"timeouts", "udp"},
}

// globalNotes explain the global settings that have no HCL equivalent.
var globalNotes = map[string]string{
	"serial_no":                   "was the piranha GUI's revision counter; lvsctl keeps none (use version control).",
	"service":                     "lvsctl runs virtual servers only (service = lvs).",
	"debug_level":                 "was never read by piranha; lvsctl logs what it does.",
	"rsh_command":                 "was used by load_monitor and file mirroring; lvsctl runs no remote commands.",
	"hard_shutdown":               "told lvsd what to do when a nanny died; lvsctl check never leaves the table half-managed.",
	"ipvsadm":                     "named the ipvsadm binary; lvsctl talks to the kernel over netlink.",
	"heartbeat":                   "was never read by piranha's pulse; the pulse block decides.",
	"sync":                        "was piranha's file mirroring; copy the configuration with your usual tooling.",
	"primary_shared":              "belongs to failover services, which lvsctl does not run.",
	"backup_shared":               "belongs to failover services, which lvsctl does not run.",
	"reservation_conflict_action": "belongs to failover services, which lvsctl does not run.",
	"network":                     "is the forwarding attribute of each virtual server.",
}

func (c *converter) globals() {
	pulse := c.f.Primary.IsValid()
	for _, s := range c.f.Settings {
		path, ok := globalPaths[s.Key]
		if ok && path[0] == "pulse" && !pulse {
			path = nil
		}
		c.comments(s.Comments, path...)
	}
	seen := map[string]bool{}
	for _, s := range c.f.Settings {
		if seen[s.Key] {
			continue
		}
		seen[s.Key] = true
		last := c.f.Setting(s.Key)
		value := strings.Join(last.Args, " ")
		if n, ok := globalNotes[s.Key]; ok {
			if s.Key == "network" || s.Key == "service" && value == "lvs" {
				continue
			}
			c.note(fmt.Sprintf("%s = %s (line %d) %s", s.Key, value, last.Line, n))
			continue
		}
		if !pulse && globalPaths[s.Key] != nil && globalPaths[s.Key][0] == "pulse" {
			c.note(fmt.Sprintf("%s = %s (line %d) is not converted: without a primary there is no director pair; add a pulse block with primary and backup to fail over.", s.Key, value, last.Line))
		}
	}
}

func (c *converter) pulse() *model.Pulse {
	f := c.f
	if !f.Primary.IsValid() {
		return nil
	}
	p := model.DefaultPulse()
	p.Primary = f.Primary
	if f.Backup.IsValid() && !f.Backup.IsUnspecified() {
		p.Backup = f.Backup
		if p.Backup == p.Primary {
			c.errorf(lineOf(f.Setting("backup"), 0), "backup %s is the primary's address; give each director its own", p.Backup)
		}
	}
	// Piranha's pulse opened the private heartbeat path only when
	// primary_private differed from primary.
	if f.PrimaryPrivate.IsValid() && f.BackupPrivate.IsValid() && f.PrimaryPrivate != f.Primary {
		p.PrimaryPrivate, p.BackupPrivate = f.PrimaryPrivate, f.BackupPrivate
	} else if f.Setting("primary_private") != nil || f.Setting("backup_private") != nil {
		c.note("primary_private and backup_private give no second heartbeat path here (one is missing, or it equals primary), as in piranha; they are not converted.", "pulse")
	}
	p.BackupActive = f.BackupActive && p.Backup.IsValid()
	if f.HeartbeatPort < 1 || f.HeartbeatPort > 65535 {
		c.errorf(lineOf(f.Setting("heartbeat_port"), 0), "heartbeat_port %d is not a UDP port from 1 to 65535", f.HeartbeatPort)
	}
	p.HeartbeatPort = uint16(f.HeartbeatPort)
	if f.Keepalive < 1 {
		c.errorf(lineOf(f.Setting("keepalive"), 0), "keepalive %d is not a number of seconds of at least 1", f.Keepalive)
	}
	if f.Deadtime <= f.Keepalive {
		c.errorf(lineOf(f.Setting("deadtime"), lineOf(f.Setting("keepalive"), 0)),
			"deadtime (%d) must be longer than keepalive (%d), or a single late heartbeat fails the partner over", f.Deadtime, f.Keepalive)
	}
	p.Keepalive = time.Duration(f.Keepalive) * time.Second
	p.Deadtime = time.Duration(f.Deadtime) * time.Second
	p.MonitorLinks = f.MonitorLinks != 0
	p.ActiveCmd, p.InactiveCmd = strings.TrimSpace(f.ActiveCmd), strings.TrimSpace(f.InactiveCmd)
	c.text(p.ActiveCmd, f.Setting("active_cmd"), 0)
	c.text(p.InactiveCmd, f.Setting("inactive_cmd"), 0)
	if f.NATRouter.IsValid() {
		n := &model.NATRouter{Address: f.NATRouter, Device: f.NATRouterDevice}
		c.device(n.Device, f.Setting("nat_router"))
		n.Netmask = c.mask(f.NATNetmask, f.Setting("nat_nmask"))
		p.NATRouter = n
	}
	if f.SyncDaemon {
		if f.SyncdID < 0 || f.SyncdID > 255 {
			c.errorf(lineOf(f.Setting("syncd_id"), 0), "syncd_id %d is not a sync id from 0 to 255", f.SyncdID)
		}
		c.device(f.SyncdIface, f.Setting("syncd_iface"))
		p.SyncDaemon = &model.SyncDaemon{Interface: f.SyncdIface, ID: uint8(f.SyncdID)}
		if f.Setting("syncd_iface") == nil {
			c.note("syncd_iface was not set; piranha's default eth0 is written out.", "pulse", "sync_daemon")
		}
	}
	c.note("lvsctl's heartbeats are authenticated (key_file, default /etc/lvsctl/pulse.key) and do not talk to piranha's pulse; set piranha_compat = true only while the partner still runs piranha.", "pulse")
	return &p
}

// text checks that a value can be written in HCL, whose files are UTF-8.
func (c *converter) text(v string, s *Setting, fallback int) {
	if !utf8.ValidString(v) {
		c.errorf(lineOf(s, fallback), "%s is not valid UTF-8, and lvsctl's configuration is UTF-8 text; write the value in UTF-8", quote.Excerpt(v))
	}
}

func (c *converter) device(name string, s *Setting) {
	if err := model.CheckDevice(name); err != nil {
		c.errorf(lineOf(s, 0), "%s", shorten(err.Error()))
	}
}

// mask returns a netmask as a prefix length, 0 for none (unset, or
// 0.0.0.0, which piranha's ifconfig call left out).
func (c *converter) mask(m netip.Addr, s *Setting) int {
	if !m.IsValid() || m.IsUnspecified() {
		return 0
	}
	bits, ok := maskBits(m)
	if !ok {
		c.errorf(lineOf(s, 0), "%s is not a contiguous netmask; write one such as 255.255.255.0", m)
	}
	return bits
}

// virtualPaths says where the comments of each virtual setting go, below
// the virtual_server block.
var virtualPaths = map[string][]string{
	"address": {"address"}, "port": {"address"}, "protocol": {"protocol"},
	"scheduler": {"scheduler"}, "persistent": {"persistence"}, "pmask": {"persistence", "netmask"},
	"sorry_server": {"sorry_server"}, "vip_nmask": {"vip", "netmask"}, "fwmark": {"fwmark"},
	"send": {"health_check", "send"}, "expect": {"health_check", "expect"},
	"use_regex": {"health_check", "expect_regex"}, "send_program": {"health_check", "program"},
	"timeout": {"health_check", "interval"}, "reentry": {"health_check", "rise"},
	"quiesce_server": {"health_check", "on_failure"},
}

// virtualNotes explain the virtual settings that have no HCL equivalent.
var virtualNotes = map[string]string{
	"load_monitor":   "has no equivalent: lvsctl does not scale weights by the real servers' load average; weights stay as configured.",
	"client_monitor": "named nanny; lvsctl check runs the health_check instead.",
	"start_cmd":      "belongs to failover services, which lvsctl does not run.",
	"stop_cmd":       "belongs to failover services, which lvsctl does not run.",
	"master":         "was piranha's legacy file mirroring; it had no effect.",
	"dirs":           "was piranha's legacy file mirroring; it had no effect.",
}

func (c *converter) service(v *Virtual, t *lvs.Table) *model.ServiceSettings {
	name := c.vname[v]
	vp := []string{"virtual_server", name}
	c.comments(v.Comments, vp...)
	for _, s := range v.Settings {
		c.comments(s.Comments, append(slices.Clone(vp), virtualPaths[s.Key]...)...)
	}
	noted := map[string]bool{}
	for _, s := range v.Settings {
		if n, ok := virtualNotes[s.Key]; ok && !noted[s.Key] {
			noted[s.Key] = true
			last := v.Setting(s.Key)
			if s.Key == "load_monitor" && last.Args[0] == "none" {
				continue
			}
			c.note(fmt.Sprintf("%s = %s (line %d) %s", s.Key, strings.Join(last.Args, " "), last.Line, n), vp...)
		}
	}
	svc := serviceOf(t, v)
	if svc == nil {
		return nil
	}
	st := &model.ServiceSettings{Key: svc.Key}
	if v.Address.IsValid() && v.Device != "" {
		c.device(v.Device, v.Setting("address"))
		st.VIP = &model.VIP{Address: v.Address, Device: v.Device, Netmask: c.mask(v.VIPNetmask, v.Setting("vip_nmask"))}
	}
	if v.SorryServer.IsValid() {
		st.SorryServer = netip.AddrPortFrom(v.SorryServer, uint16(v.Port))
		if svc.Key.IsFWMark() && v.Port == 0 {
			st.SorryServer = netip.AddrPortFrom(v.SorryServer, 0)
		}
		for _, d := range svc.Dests {
			if d.Addr == st.SorryServer || d.Addr.Addr() == st.SorryServer.Addr() && svc.Key.IsFWMark() {
				c.errorf(lineOf(v.Setting("sorry_server"), v.Line), "sorry_server %s is also real server %q; the sorry server stands in when every real server is down, so it must be another address", v.SorryServer, quote.Excerpt(d.Name))
			}
		}
	}
	st.HealthCheck = c.check(v, svc.Key, vp)
	if st.HealthCheck != nil && len(svc.Dests) > 0 {
		st.RealServers = map[string]*model.HealthCheck{}
		for _, d := range svc.Dests {
			st.RealServers[d.Name] = st.HealthCheck
			if st.HealthCheck.ValidateTarget(d.Addr, d.Name) != nil {
				c.errorf(lineOf(v.Setting("port"), v.Line), "virtual %s: real server %s has port 0, so its health check has no port to probe; set the port", show(v.Name), show(d.Name))
			}
		}
	}
	for _, s := range v.Servers {
		if !s.Active {
			c.note(fmt.Sprintf("server %s (line %d, address %s) is inactive (active = 0); piranha did not run it, so it is not converted. Add a real_server block to run it.",
				s.Name, s.Line, addrOrZero(s.Address)), vp...)
			c.comments(s.Comments, vp...)
			continue
		}
		rp := append(slices.Clone(vp), "real_server", c.sname[s])
		c.comments(s.Comments, rp...)
		for _, set := range s.Settings {
			p := map[string]string{"address": "address", "port": "address", "weight": "weight"}[set.Key]
			if p == "" {
				c.comments(set.Comments, rp...)
			} else {
				c.comments(set.Comments, append(slices.Clone(rp), p)...)
			}
		}
		c.comments(s.EndComments, rp...)
	}
	c.comments(v.EndComments, vp...)
	if st.IsZero() {
		return nil
	}
	return st
}

// check builds the health check nanny ran for v.
func (c *converter) check(v *Virtual, k lvs.ServiceKey, vp []string) *model.HealthCheck {
	hp := append(slices.Clone(vp), "health_check")
	proto := model.DefaultCheckProtocol(k)
	if v.Protocol == "udp" {
		proto = lvs.UDP
	}
	var probe model.Probe
	var send, expect, program string
	switch {
	case strings.TrimSpace(v.SendProgram.Arg()) != "":
		program = strings.TrimSpace(v.SendProgram.Arg())
		expect = nannyUnescape(v.Expect.Arg())
		probe = model.ExecProbe{Program: program, Expect: expect}
		if expect != "" {
			c.note("nanny compared the program's output with expect, and no output at all passed; the exec check does the same.", hp...)
		}
		if v.Send.IsSet() {
			c.note(fmt.Sprintf("send (line %d) was ignored by nanny because send_program is set; it is not converted.", v.Setting("send").Line), hp...)
		}
	case v.Send.Arg() != "" || v.Expect.Arg() != "":
		send = nannyUnescape(v.Send.Arg())
		p := model.SendExpectProbe{Protocol: proto, Send: send}
		if v.UseRegex && v.Expect.Arg() != "" {
			expect = v.Expect.Arg()
			p.ExpectRegex = expect
		} else {
			expect = nannyUnescape(v.Expect.Arg())
			p.Expect = expect
		}
		probe = p
	case v.Port == 80 && v.Protocol == "tcp":
		probe = model.SendExpectProbe{Protocol: proto, Send: nannyDefaultSend, Expect: nannyDefaultExpect}
		c.note("nanny's default probe for port 80, written out: no send, expect or send_program was set.", hp...)
	case v.Protocol == "udp":
		probe = model.SendExpectProbe{Protocol: proto, Expect: "*"}
		c.note("nanny accepted any reply to a UDP probe with nothing to send or expect.", hp...)
	default:
		probe = model.TCPProbe{}
	}
	c.text(send, v.Setting("send"), v.Line)
	c.text(expect, v.Setting("expect"), v.Line)
	c.text(program, v.Setting("send_program"), v.Line)
	hc := model.DefaultHealthCheck(probe)
	hc.Interval = time.Duration(v.Timeout) * time.Second
	hc.Timeout = hc.Interval
	rise := 1
	if v.Timeout > 0 && v.Reentry > 0 {
		rise = (v.Reentry + v.Timeout - 1) / v.Timeout
	}
	hc.Rise = max(rise, 1)
	if v.QuiesceServer {
		hc.OnFailure = model.OnFailureQuiesce
	}
	timeout := false // the interval and the timeout are both lvs.cf's timeout
	for _, p := range hc.Validate(nil) {
		if p.Setting == "interval" || p.Setting == "timeout" {
			if timeout {
				continue
			}
			timeout = true
		}
		c.checkProblem(v, &hc, p)
	}
	return &hc
}

// checkProblem reports a problem of v's health check hc (see
// [model.HealthCheck.Validate]) at the line of the lvs.cf setting it comes
// from, in the words of lvs.cf.
func (c *converter) checkProblem(v *Virtual, hc *model.HealthCheck, p model.Problem) {
	switch {
	case p.Setting == "interval" || p.Setting == "timeout":
		c.errorf(lineOf(v.Setting("timeout"), v.Line), "virtual %s: timeout %d is not a number of seconds of at least 1", show(v.Name), v.Timeout)
	case p.Setting == "rise":
		c.errorf(lineOf(v.Setting("reentry"), v.Line), "virtual %s: reentry %d over timeout %d makes %d passes before a server comes back; lvsctl allows at most %d", show(v.Name), v.Reentry, v.Timeout, hc.Rise, model.MaxCheckCount)
	case p.Setting == "program":
		// The program is not empty (see check), so it is not absolute.
		first := strings.Fields(v.SendProgram.Arg())[0]
		c.errorf(lineOf(v.Setting("send_program"), v.Line), "send_program %s is not an absolute path; lvsctl runs it without a shell or PATH search, so write the full path", quote.Excerpt(first))
	case p.Setting == "expect_regex" && p.Err != nil:
		c.errorf(lineOf(v.Setting("expect"), v.Line), "expect %s is not a regular expression lvsctl can use (use_regex = 1): %s", quote.Excerpt(v.Expect.Arg()), shorten(p.Err.Error()))
	default:
		c.errorf(v.Line, "virtual %s: health check: %s", show(v.Name), shorten(quote.Clip(p.Msg)))
	}
}

// nannyUnescape decodes the escapes nanny understood in send and expect:
// \r, \n, \t and \\. Other backslashes stay as they are.
func nannyUnescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			switch s[i+1] {
			case 'r':
				b.WriteByte('\r')
				i++
				continue
			case 'n':
				b.WriteByte('\n')
				i++
				continue
			case 't':
				b.WriteByte('\t')
				i++
				continue
			case '\\':
				b.WriteByte('\\')
				i++
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func (c *converter) inactiveVirtual(v *Virtual) {
	what := "address " + addrOrZero(v.Address).String()
	if v.FWMark != 0 {
		what = fmt.Sprintf("fwmark %d", v.FWMark)
	}
	n := 0
	for _, s := range v.Servers {
		if s.Active {
			n++
		}
	}
	c.ann.Footer = append(c.ann.Footer, texts(v.Comments)...)
	for _, s := range v.Settings {
		c.ann.Footer = append(c.ann.Footer, texts(s.Comments)...)
	}
	for _, s := range v.Servers {
		c.ann.Footer = append(c.ann.Footer, texts(s.Comments)...)
		for _, set := range s.Settings {
			c.ann.Footer = append(c.ann.Footer, texts(set.Comments)...)
		}
		c.ann.Footer = append(c.ann.Footer, texts(s.EndComments)...)
	}
	c.ann.Footer = append(c.ann.Footer, texts(v.EndComments)...)
	c.ann.Footer = append(c.ann.Footer, fmt.Sprintf("# NOTE: virtual %s (line %d, %s, port %d, %d active servers) is inactive (active = 0); piranha did not run it, so it is not converted.",
		v.Name, v.Line, what, v.Port, n))
}
