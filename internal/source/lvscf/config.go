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
	cfg, ann, errs := f.convert()
	if len(errs) > 0 {
		return nil, nil, capped(errs)
	}
	return cfg, ann, nil
}

// convert is Convert with the errors of the table and of the conversion
// sorted by line and uncapped; problems that follow from a line that had
// an error of its own are left out (see place).
func (f *File) convert() (*model.Config, *model.Annotations, Errors) {
	t, errs := f.table()
	if t == nil {
		return nil, nil, errs
	}
	// piranha left net.ipv4.ip_forward to /etc/sysctl.conf; lvsctl plans
	// what NAT needs by itself, as for every configuration.
	model.SetSysctls(t, nil, false)
	// A table with errors is converted all the same, to find the
	// conversion's errors in the same pass.
	c := &converter{f: f, ann: &model.Annotations{RealOrder: map[string][]string{}}}
	cfg := &model.Config{Table: t}
	c.ann.Header = []string{"# Converted from " + filepath.Base(f.Name) + " by lvsctl convert."}
	layouts := f.layout()
	c.names(t, layouts)
	c.globals()
	for _, s := range lvs.NeededSysctls(t) {
		c.note(fmt.Sprintf("lvsctl sets %s = %s itself, as %s needs it (piranha left it to /etc/sysctl.conf); to keep it there, add sysctl { manage_forwarding = false }.", s.Name, s.Value, s.Reason))
	}
	cfg.Pulse = c.pulse()
	next := 0 // the next layout, in file order as the active blocks
	for _, v := range f.Virtuals {
		if !v.Active {
			c.inactiveVirtual(v)
			continue
		}
		if next == len(layouts) || layouts[next].v != v {
			continue // a later block of a shared fwmark: see service
		}
		l := layouts[next]
		next++
		st := c.service(l, t)
		if st != nil {
			if cfg.Services == nil {
				cfg.Services = map[string]*model.ServiceSettings{}
			}
			cfg.Services[c.vname[v]] = st
		}
	}
	for _, v := range f.Failovers {
		c.ann.Footer = append(c.ann.Footer, texts(v.Comments)...)
		c.ann.Footer = append(c.ann.Footer, trailing(v.Trailing)...)
		c.ann.Footer = append(c.ann.Footer, fmt.Sprintf("# NOTE: failover %s (line %d) is a piranha failover service (fos): lvsctl runs no services, so it is not converted.", v.Name, v.Line))
	}
	c.ann.Footer = append(c.ann.Footer, texts(f.TrailingComments)...)
	if errs = append(errs, c.errs...); len(errs) > 0 {
		slices.SortStableFunc(errs, func(a, b *Error) int { return cmp.Compare(a.Line, b.Line) })
		return nil, nil, errs
	}
	return cfg, c.ann, nil
}

type converter struct {
	f     *File
	ann   *model.Annotations
	errs  Errors
	vname map[*Virtual]string
	sname map[*Server]string
	first map[*Virtual]*Virtual // the first block of each block's service
}

// errorf reports an error at at, unless it follows from an error of at's
// line.
func (c *converter) errorf(at place, format string, args ...any) {
	if at.bad {
		return
	}
	c.errs = append(c.errs, &Error{File: c.f.Name, Line: at.line, Col: at.col, Msg: MsgBadArgument, Detail: fmt.Sprintf(format, args...)})
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

// setting carries a setting's comments, the lines before it and the one
// after its value, above path: HCL has a place for neither at the end of
// a line that the conversion writes.
func (c *converter) setting(s Setting, path ...string) {
	c.comments(s.Comments, path...)
	c.trailing(s.Trailing, path...)
}

// trailing carries a trailing comment above path.
func (c *converter) trailing(text string, path ...string) {
	if text != "" {
		c.ann.Add(text, path...)
	}
}

func texts(cs []Comment) []string {
	out := make([]string, len(cs))
	for i, cm := range cs {
		out[i] = cm.Text
	}
	return out
}

// trailing is a trailing comment as footer lines.
func trailing(text string) []string {
	if text == "" {
		return nil
	}
	return []string{text}
}

// settingTexts are a setting's comment lines, its trailing comment last.
func settingTexts(s Setting) []string {
	return append(texts(s.Comments), trailing(s.Trailing)...)
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

// names gives each service and real server its HCL label: the lvs.cf name
// of the block (the first block of a shared fwmark), made a valid label
// and unique where needed (piranha allowed two blocks of the same name;
// HCL does not), and renames them in t.
func (c *converter) names(t *lvs.Table, layouts []layout) {
	c.vname, c.sname, c.first = map[*Virtual]string{}, map[*Server]string{}, map[*Virtual]*Virtual{}
	vtaken := map[string]bool{}
	for _, l := range layouts {
		v := l.v
		n := unique(label(v.Name, "virtual"), vtaken)
		for _, b := range l.blocks {
			c.vname[b], c.first[b] = n, v
		}
		if n != v.Name {
			c.note(fmt.Sprintf("virtual %q (line %d) is named %q here: HCL labels must be unique and printable.", v.Name, v.Line, n), "virtual_server", n)
		}
		svc := t.Service(serviceKey(v))
		if svc == nil {
			continue
		}
		svc.Name = n
		// The real servers of svc by address: Table gave each member
		// one, with its name, and Validate allows no address twice.
		// (A scan of svc.Dests per server made a virtual with tens of
		// thousands of servers take seconds.)
		dests := make(map[netip.AddrPort]int, len(svc.Dests))
		for i, d := range svc.Dests {
			if _, dup := dests[d.Addr]; !dup {
				dests[d.Addr] = i
			}
		}
		stak := map[string]bool{}
		var order []string
		for _, m := range l.dests {
			s := m.s
			sn := unique(label(s.Name, "server"), stak)
			c.sname[s] = sn
			order = append(order, sn)
			if sn != s.Name {
				c.note(fmt.Sprintf("server %q (line %d) is named %q here: real server names must be unique within a virtual server and printable.", s.Name, s.Line, sn), "virtual_server", n, "real_server", sn)
			}
			if i, ok := dests[c.f.destAddr(m.v, s)]; ok && svc.Dests[i].Name == s.Name {
				svc.Dests[i].Name = sn
			}
		}
		for _, d := range l.dups {
			c.sname[d.s] = c.sname[l.dests[d.of].s]
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

// serviceKey is key(v) as a normalized table holds it.
func serviceKey(v *Virtual) lvs.ServiceKey {
	k := key(v)
	if k.IsFWMark() {
		k.Protocol, k.Addr, k.Port = 0, netip.Addr{}, 0
	}
	return k
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
		c.setting(s, path...)
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
			c.errorf(f.at("backup", place{}), "backup %s is the primary's address; give each director its own", p.Backup)
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
		c.errorf(f.at("heartbeat_port", place{}), "heartbeat_port %d is not a UDP port from 1 to 65535", f.HeartbeatPort)
	}
	p.HeartbeatPort = uint16(f.HeartbeatPort)
	if f.Keepalive < 1 {
		c.errorf(f.at("keepalive", place{}), "keepalive %d is not a number of seconds of at least 1", f.Keepalive)
	}
	// With a backup that runs, lvsctl's pulse fails over on these values;
	// without one, Parse warns.
	if f.Deadtime <= f.Keepalive && f.Keepalive >= 1 && f.failsOver() {
		at := f.at("deadtime", f.at("keepalive", place{}))
		at.bad = at.bad || f.failed["keepalive"]
		c.errorf(at, "deadtime (%d) must be longer than keepalive (%d): the backup runs (backup_active = 1), and lvsctl's pulse would fail over at a single late heartbeat; set deadtime = %d or more (piranha's defaults are keepalive = 2, deadtime = 5), or lower keepalive",
			f.Deadtime, f.Keepalive, max(2*f.Keepalive+1, f.Keepalive+3))
	}
	p.Keepalive = time.Duration(f.Keepalive) * time.Second
	p.Deadtime = time.Duration(f.Deadtime) * time.Second
	p.MonitorLinks = f.MonitorLinks != 0
	p.ActiveCmd, p.InactiveCmd = strings.TrimSpace(f.ActiveCmd), strings.TrimSpace(f.InactiveCmd)
	c.text(p.ActiveCmd, f.at("active_cmd", place{}))
	c.text(p.InactiveCmd, f.at("inactive_cmd", place{}))
	if f.NATRouter.IsValid() {
		n := &model.NATRouter{Address: f.NATRouter, Device: f.NATRouterDevice}
		c.device(n.Device, f.at("nat_router", place{}))
		n.Netmask = c.mask(f.NATNetmask, f.at("nat_nmask", place{}))
		p.NATRouter = n
	}
	if f.SyncDaemon {
		if f.SyncdID < 0 || f.SyncdID > 255 {
			c.errorf(f.at("syncd_id", place{}), "syncd_id %d is not a sync id from 0 to 255", f.SyncdID)
		}
		c.device(f.SyncdIface, f.at("syncd_iface", place{}))
		p.SyncDaemon = &model.SyncDaemon{Interface: f.SyncdIface, ID: uint8(f.SyncdID)}
		if f.Setting("syncd_iface") == nil {
			c.note("syncd_iface was not set; piranha's default eth0 is written out.", "pulse", "sync_daemon")
		}
	}
	c.note("lvsctl's heartbeats are authenticated (key_file, default /etc/lvsctl/pulse.key) and do not talk to piranha's pulse; set piranha_compat = true only while the partner still runs piranha.", "pulse")
	return &p
}

// text checks that a value can be written in HCL, whose files are UTF-8.
func (c *converter) text(v string, at place) {
	if !utf8.ValidString(v) {
		c.errorf(at, "%s is not valid UTF-8, and lvsctl's configuration is UTF-8 text; write the value in UTF-8", quote.Excerpt(v))
	}
}

func (c *converter) device(name string, at place) {
	if err := model.CheckDevice(name); err != nil {
		c.errorf(at, "%s", shorten(err.Error()))
	}
}

// mask returns a netmask as a prefix length, 0 for none (unset, or
// 0.0.0.0, which piranha's ifconfig call left out).
func (c *converter) mask(m netip.Addr, at place) int {
	if !m.IsValid() || m.IsUnspecified() {
		return 0
	}
	bits, ok := maskBits(m)
	if !ok {
		c.errorf(at, "%s is not a contiguous netmask; write one such as 255.255.255.0", m)
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

// service converts the blocks of l into the settings of their service:
// the first block's VIP, sorry server and health check, and for each real
// server the health check its own block's nanny ran, on the port it
// probed.
func (c *converter) service(l layout, t *lvs.Table) *model.ServiceSettings {
	v := l.v
	vp := []string{"virtual_server", c.vname[v]}
	for _, b := range l.blocks {
		c.blockNotes(b, b == v, vp)
	}
	svc := t.Service(serviceKey(v))
	if svc == nil {
		return nil
	}
	st := &model.ServiceSettings{Key: svc.Key}
	if v.Address.IsValid() && v.Device != "" {
		c.device(v.Device, v.at("address"))
		st.VIP = &model.VIP{Address: v.Address, Device: v.Device, Netmask: c.mask(v.VIPNetmask, v.at("vip_nmask"))}
	}
	for _, b := range l.blocks[1:] {
		if b.Address.IsValid() && b.Address != v.Address {
			c.errorf(b.at("address"), "virtual %s shares fwmark %d with virtual %s (line %d), whose address is %s: lvsctl makes one service of them, which holds one virtual address; give both blocks the same address, or give %s a fwmark of its own",
				show(b.Name), b.FWMark, show(v.Name), v.Line, addrOrNone(v.Address), show(b.Name))
		}
	}
	if v.SorryServer.IsValid() {
		st.SorryServer = netip.AddrPortFrom(v.SorryServer, uint16(v.Port))
		if svc.Key.IsFWMark() && v.Port == 0 {
			st.SorryServer = netip.AddrPortFrom(v.SorryServer, 0)
		}
		for _, d := range svc.Dests {
			if d.Addr == st.SorryServer || d.Addr.Addr() == st.SorryServer.Addr() && svc.Key.IsFWMark() {
				c.errorf(v.at("sorry_server"), "sorry_server %s is also real server %q; the sorry server stands in when every real server is down, so it must be another address", v.SorryServer, quote.Excerpt(d.Name))
			}
		}
	}
	c.checks(l, st, svc, vp)
	c.serverComments(l, vp)
	if st.IsZero() {
		return nil
	}
	return st
}

// blockNotes carries the comments of virtual block b to the virtual_server
// block at vp, with a NOTE for each setting that has no equivalent. first
// says b is the first (or only) block of its service; the settings of a
// later block of a shared fwmark are not the service's, so their comments
// go above the virtual_server block.
func (c *converter) blockNotes(b *Virtual, first bool, vp []string) {
	if !first {
		text := fmt.Sprintf("virtual %s (line %d) shares fwmark %d with this one and is merged into it: its real servers are here, with its health check where they are its own.", b.Name, b.Line, b.FWMark)
		var not []string
		for _, cf := range conflicts(c.first[b], b) {
			not = append(not, fmt.Sprintf("%s %s (this one's: %s)", cf.key, cf.theirs, cf.ours))
		}
		if len(not) > 0 {
			text += " Of its settings, this service does not take " + strings.Join(not, ", ") + "."
		}
		c.note(text, vp...)
	}
	c.comments(b.Comments, vp...)
	c.trailing(b.Trailing, vp...)
	for _, s := range b.Settings {
		if first {
			c.setting(s, append(slices.Clone(vp), virtualPaths[s.Key]...)...)
		} else {
			c.setting(s, vp...)
		}
	}
	prefix := ""
	if !first {
		prefix = "virtual " + b.Name + ": "
	}
	noted := map[string]bool{}
	for _, s := range b.Settings {
		if n, ok := virtualNotes[s.Key]; ok && !noted[s.Key] {
			noted[s.Key] = true
			last := b.Setting(s.Key)
			if s.Key == "load_monitor" && last.Args[0] == "none" {
				continue
			}
			c.note(fmt.Sprintf("%s%s = %s (line %d) %s", prefix, s.Key, strings.Join(last.Args, " "), last.Line, n), vp...)
		}
	}
}

// checks sets the health check of each real server of l: the one its own
// block's nanny ran, probing the port nanny probed. The service's check is
// the first block's; a real server's differs where its block or its port
// does.
func (c *converter) checks(l layout, st *model.ServiceSettings, svc *lvs.Service, vp []string) {
	v := l.v
	hp := append(slices.Clone(vp), "health_check")
	base := c.check(v, svc.Key, hp)
	byBlock := map[*Virtual]*model.HealthCheck{v: base}
	for _, b := range l.blocks[1:] {
		byBlock[b] = c.check(b, svc.Key, vp)
	}
	// nanny probed the server's own port; in direct routing and
	// tunnelling the table has the service's port instead (ipvsadm
	// forces it), so the check names the port where they differ. When
	// every server of the first block differs alike, the service's
	// check does.
	probe := func(m member) uint16 {
		if p := uint16(m.s.Port); p != 0 && p != c.f.destAddr(m.v, m.s).Port() {
			return p
		}
		return 0
	}
	var firsts []member
	for _, m := range l.dests {
		if m.v == v {
			firsts = append(firsts, m)
		}
	}
	if len(firsts) > 0 {
		if p := probe(firsts[0]); p != 0 && !slices.ContainsFunc(firsts, func(m member) bool { return probe(m) != p }) {
			hc := *base
			hc.Port = p
			base = &hc
			byBlock[v] = base
			c.note(fmt.Sprintf("nanny probed the real servers on their port %d (line %d), not the service's port %d that %s forwards to; the health check keeps probing %d.",
				p, c.portLine(firsts[0].s), v.Port, c.forwarding(), p), hp...)
		}
	}
	st.HealthCheck = base
	if len(svc.Dests) == 0 {
		return
	}
	byName := map[string]member{}
	for _, m := range l.dests {
		byName[c.sname[m.s]] = m
	}
	st.RealServers = map[string]*model.HealthCheck{}
	for _, d := range svc.Dests {
		m, ok := byName[d.Name]
		if !ok {
			// Only in a table with errors: two servers of one name
			// and address, which the table reports.
			continue
		}
		hc := byBlock[m.v]
		if p := probe(m); p != hc.Port {
			own := *hc
			own.Port = p
			hc = &own
			c.note(fmt.Sprintf("nanny probed %s on its port %d (line %d), not the service's port %d that %s forwards to; the health check keeps probing %d.",
				m.s.Name, p, c.portLine(m.s), m.v.Port, c.forwarding(), p), append(slices.Clone(vp), "real_server", d.Name, "health_check")...)
		}
		if hc.Equal(base) {
			hc = base
		}
		st.RealServers[d.Name] = hc
		if hc.ValidateTarget(d.Addr, d.Name) != nil {
			c.errorf(m.v.at("port"), "virtual %s: real server %s has port 0, so its health check has no port to probe; set the port", show(m.v.Name), show(m.s.Name))
		}
	}
}

// forwarding names the file's forwarding method in words.
func (c *converter) forwarding() string {
	return map[string]string{"nat": "NAT", "direct": "direct routing", "tunnel": "tunnelling"}[c.f.Network]
}

// portLine is the line that gave s its port: its own port setting, or
// the virtual's, which it inherited.
func (c *converter) portLine(s *Server) int {
	if ps := s.Setting("port"); ps != nil {
		return ps.Line
	}
	return s.Line
}

// serverComments carries the comments of the servers of l's blocks, with
// a NOTE for each inactive one.
func (c *converter) serverComments(l layout, vp []string) {
	for _, b := range l.blocks {
		for _, s := range b.Servers {
			if !s.Active {
				c.note(fmt.Sprintf("server %s (line %d, address %s) is inactive (active = 0); piranha did not run it, so it is not converted. Add a real_server block to run it.",
					s.Name, s.Line, addrOrZero(s.Address)), vp...)
				c.comments(s.Comments, vp...)
				c.trailing(s.Trailing, vp...)
				continue
			}
			rp := append(slices.Clone(vp), "real_server", c.sname[s])
			c.comments(s.Comments, rp...)
			c.trailing(s.Trailing, rp...)
			for _, set := range s.Settings {
				p := map[string]string{"address": "address", "port": "address", "weight": "weight"}[set.Key]
				if p == "" {
					c.setting(set, rp...)
				} else {
					c.setting(set, append(slices.Clone(rp), p)...)
				}
			}
			c.comments(s.EndComments, rp...)
			c.trailing(s.EndTrailing, rp...)
		}
		c.comments(b.EndComments, vp...)
		c.trailing(b.EndTrailing, vp...)
	}
}

// check builds the health check nanny ran for v; its notes go above hp.
func (c *converter) check(v *Virtual, k lvs.ServiceKey, hp []string) *model.HealthCheck {
	proto := model.DefaultCheckProtocol(k)
	if v.Protocol == "udp" {
		proto = lvs.UDP
	}
	prefix := ""
	if hp[len(hp)-1] != "health_check" {
		prefix = "virtual " + v.Name + ": "
	}
	note := func(text string) { c.note(prefix+text, hp...) }
	var probe model.Probe
	var send, expect, program string
	switch {
	case strings.TrimSpace(v.SendProgram.Arg()) != "":
		program = strings.TrimSpace(v.SendProgram.Arg())
		expect = nannyUnescape(v.Expect.Arg())
		probe = model.ExecProbe{Program: program, Expect: expect}
		if expect != "" {
			note("nanny compared the program's output with expect, and no output at all passed; the exec check does the same.")
		}
		if v.Send.IsSet() {
			note(fmt.Sprintf("send (line %d) was ignored by nanny because send_program is set; it is not converted.", v.Setting("send").Line))
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
		note("nanny's default probe for port 80, written out: no send, expect or send_program was set.")
	case v.Protocol == "udp":
		probe = model.SendExpectProbe{Protocol: proto, Expect: "*"}
		note("nanny accepted any reply to a UDP probe with nothing to send or expect.")
	default:
		probe = model.TCPProbe{}
	}
	c.text(send, v.at("send"))
	c.text(expect, v.at("expect"))
	c.text(program, v.at("send_program"))
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
		c.errorf(v.at("timeout"), "virtual %s: timeout %d is not a number of seconds of at least 1", show(v.Name), v.Timeout)
	case p.Setting == "rise":
		c.errorf(v.at("reentry"), "virtual %s: reentry %d over timeout %d makes %d passes before a server comes back; lvsctl allows at most %d", show(v.Name), v.Reentry, v.Timeout, hc.Rise, model.MaxCheckCount)
	case p.Setting == "program":
		// The program is not empty (see check), so it is not absolute.
		first := strings.Fields(v.SendProgram.Arg())[0]
		c.errorf(v.at("send_program"), "send_program %s is not an absolute path; lvsctl runs it without a shell or PATH search, so write the full path", quote.Excerpt(first))
	case p.Setting == "expect_regex" && p.Err != nil:
		c.errorf(v.at("expect"), "expect %s is not a regular expression lvsctl can use (use_regex = 1): %s", quote.Excerpt(v.Expect.Arg()), shorten(p.Err.Error()))
	default:
		c.errorf(v.at(""), "virtual %s: health check: %s", show(v.Name), shorten(quote.Clip(p.Msg)))
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
	c.ann.Footer = append(c.ann.Footer, trailing(v.Trailing)...)
	for _, s := range v.Settings {
		c.ann.Footer = append(c.ann.Footer, settingTexts(s)...)
	}
	for _, s := range v.Servers {
		c.ann.Footer = append(c.ann.Footer, texts(s.Comments)...)
		c.ann.Footer = append(c.ann.Footer, trailing(s.Trailing)...)
		for _, set := range s.Settings {
			c.ann.Footer = append(c.ann.Footer, settingTexts(set)...)
		}
		c.ann.Footer = append(c.ann.Footer, texts(s.EndComments)...)
		c.ann.Footer = append(c.ann.Footer, trailing(s.EndTrailing)...)
	}
	c.ann.Footer = append(c.ann.Footer, texts(v.EndComments)...)
	c.ann.Footer = append(c.ann.Footer, trailing(v.EndTrailing)...)
	c.ann.Footer = append(c.ann.Footer, fmt.Sprintf("# NOTE: virtual %s (line %d, %s, port %d, %d active servers) is inactive (active = 0); piranha did not run it, so it is not converted.",
		v.Name, v.Line, what, v.Port, n))
}
