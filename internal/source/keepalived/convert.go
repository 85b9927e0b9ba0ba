package keepalived

import (
	"cmp"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/lvs"
)

// Config returns the configuration f means: the IPVS table keepalived's
// checker builds from it at start (every real server up), with the health
// checks, sorry servers, VIPs and the failover pair beside it. It is what
// config.Parse returns for the HCL [File.Convert] writes.
func (f *File) Config() (*model.Config, []Note, error) {
	cfg, _, notes, err := f.Convert()
	return cfg, notes, err
}

// Convert returns the configuration f means (see [File.Config]), the
// annotations to write it with config.Write (the file's comments, and a
// "# NOTE:" for each setting that is not carried or is carried
// differently), and the same notes as values.
func (f *File) Convert() (*model.Config, *model.Annotations, []Note, error) {
	c := &conv{f: f, ann: &model.Annotations{RealOrder: map[string][]string{}}, groups: map[string]*Node{}, usedGroups: map[string]bool{},
		names: map[string]bool{}, keys: map[lvs.ServiceKey]Pos{}}
	c.cfg = &model.Config{Table: &lvs.Table{}}
	c.ann.Header = []string{"# Converted from " + filepath.Base(f.Name) + " (keepalived) by lvsctl convert."}
	for _, n := range f.Notes {
		c.noteAt(n.Pos, n.Msg)
		c.notes[len(c.notes)-1].Missing = n.Missing
	}
	for _, n := range f.Nodes {
		if n.Key() == "virtual_server_group" {
			c.group(n)
		}
	}
	for _, n := range f.Nodes {
		c.top(n)
	}
	for _, n := range f.Nodes {
		if n.Key() == "virtual_server_group" && len(n.Words) > 1 && !c.usedGroups[n.Words[1].Text] {
			c.note(n, "is used by no virtual_server group line; keepalived builds nothing from it, and neither does lvsctl.")
			c.comments(n, true)
		}
	}
	c.vrrpFinish()
	c.ann.Footer = append(c.ann.Footer, f.Trailing...)
	if len(c.errs) > 0 {
		slices.SortStableFunc(c.errs, func(a, b *Error) int {
			if a.File != b.File {
				return 0
			}
			return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
		})
		es := capped(c.errs)
		withSource(es, f.srcs)
		return nil, nil, nil, es
	}
	// keepalived left net.ipv4.ip_forward to the admin; lvsctl plans what
	// NAT needs by itself, as for every configuration.
	model.SetSysctls(c.cfg.Table, nil, false)
	c.cfg.Table.Normalize()
	if ps := c.cfg.Table.Validate(); len(ps) > 0 {
		// The checks above should have caught each; this is the last
		// line of defence, at the service's line.
		for _, p := range ps {
			at := Pos{File: f.Name}
			if p.Service >= 0 && p.Service < len(c.order) {
				at = c.order[p.Service]
			}
			c.errorf(at, "%s", p.Msg)
		}
		es := capped(c.errs)
		withSource(es, f.srcs)
		return nil, nil, nil, es
	}
	for name, st := range c.cfg.Services {
		if st.IsZero() {
			delete(c.cfg.Services, name)
		}
	}
	if len(c.cfg.Services) == 0 {
		c.cfg.Services = nil
	}
	return c.cfg, c.ann, c.notes, nil
}

type conv struct {
	f      *File
	cfg    *model.Config
	ann    *model.Annotations
	notes  []Note
	errs   Errors
	groups map[string]*Node
	// usedGroups are the groups a virtual_server uses, by name.
	usedGroups map[string]bool
	names      map[string]bool
	keys       map[lvs.ServiceKey]Pos
	order      []Pos // the line of each service of the table, in order
	vrrp       []*vrrpInstance
	sync       *model.SyncDaemon
	syncAt     Pos
	// vips are the services by address, for the VIPs of vrrp_instance.
	vips map[netip.Addr][]string
	// dests counts the real servers of the table, against MaxDests.
	dests   int
	tooMany bool
}

func (c *conv) errorf(p Pos, format string, args ...any) {
	if len(c.errs) > 10*MaxErrors {
		return
	}
	c.errs = append(c.errs, &Error{Pos: p, Msg: fmt.Sprintf(format, args...)})
}

// where names a place of the file in a note: "line 12", or "conf.d/a.conf
// line 3" for an included file.
func (c *conv) where(p Pos) string {
	if p.File == c.f.Name {
		return fmt.Sprintf("line %d", p.Line)
	}
	return fmt.Sprintf("%s line %d", p.File, p.Line)
}

// note records that the line n is not carried, or carried differently,
// and why; the note is written above path (the top of the file when
// empty).
func (c *conv) note(n *Node, why string, path ...string) {
	c.notes = append(c.notes, Note{Pos: n.Pos(), Msg: words(n) + ": " + why})
	c.ann.Add(fmt.Sprintf("# NOTE: %s (%s) %s", words(n), c.where(n.Pos()), why), path...)
}

// noteAt is note for what is not one line's keyword.
func (c *conv) noteAt(p Pos, msg string, path ...string) {
	c.notes = append(c.notes, Note{Pos: p, Msg: msg})
	c.ann.Add(fmt.Sprintf("# NOTE: %s: %s", c.where(p), msg), path...)
}

// comments carries the comments of n (and of its block's lines, when
// deep) above path.
func (c *conv) comments(n *Node, deep bool, path ...string) {
	for _, t := range n.Comments {
		c.ann.Add(commentLine(t), path...)
	}
	if deep {
		for _, ch := range n.Block {
			c.comments(ch, true, path...)
		}
		for _, t := range n.End {
			c.ann.Add(commentLine(t), path...)
		}
	}
}

// commentLine writes a keepalived comment ("! text" or "# text") as an
// HCL one.
func commentLine(t string) string {
	t = strings.ToValidUTF8(t, "?")
	if strings.HasPrefix(t, "!") {
		return "#" + t[1:]
	}
	return t
}

// topNotes explains the top-level blocks that are not converted.
var topNotes = map[string]string{
	"vrrp_sync_group":       "a sync group keeps VRRP instances in one state together; lvsctl's pulse runs one failover pair, so there is nothing to group.",
	"vrrp_script":           "it is a VRRP tracking script; lvsctl's pulse fails over on lost heartbeats only and runs no tracking scripts.",
	"vrrp_track_process":    "it tracks processes for VRRP; lvsctl's pulse does not.",
	"track_file":            "it is a tracked file for VRRP or the checkers' weights; lvsctl does not track files.",
	"vrrp_track_file":       "it is a tracked file for VRRP; lvsctl does not track files.",
	"track_group":           "it groups tracked objects for VRRP; lvsctl's pulse does not track.",
	"static_ipaddress":      "keepalived adds these addresses at start; lvsctl adds only service VIPs (vip blocks): add them with the system's network configuration.",
	"static_routes":         "keepalived adds these routes at start; lvsctl manages no routes: add them with the system's network configuration.",
	"static_rules":          "keepalived adds these policy rules at start; lvsctl manages no rules: add them with the system's network configuration.",
	"garp_group":            "it sets gratuitous ARP timing per interface; lvsctl's pulse sends its own on takeover.",
	"bfd_instance":          "it is a BFD session; lvsctl runs no BFD.",
	"SSL":                   "it is the client certificate of SSL_GET checks; lvsctl's https checks present no client certificate.",
	"net_namespace":         "it runs keepalived in a network namespace; run lvsctl in it (ip netns exec) instead.",
	"net_namespace_ipvs":    "it names the IPVS namespace; run lvsctl in it (ip netns exec) instead.",
	"namespace_with_ipsets": "it concerns keepalived's ipsets; lvsctl uses none.",
	"instance":              "it names a keepalived instance for its files; lvsctl keeps its state per network namespace.",
	"use_pid_dir":           "it is keepalived's pid file layout; lvsctl has none.",
	"linkbeat_use_polling":  "it is how keepalived watches links; lvsctl's pulse does not watch links (monitor_links aside).",
	"child_wait_time":       "it is keepalived's process supervision; lvsctl's daemons are supervised by systemd.",
}

// top converts one top-level line.
func (c *conv) top(n *Node) {
	switch n.Key() {
	case "global_defs":
		if c.block(n) {
			c.globalDefs(n)
		}
	case "virtual_server_group":
		// Read first (groups may follow their use).
	case "virtual_server":
		if c.block(n) {
			c.virtualServer(n)
		}
	case "vrrp_instance":
		if c.block(n) {
			c.vrrpInstance(n)
		}
	default:
		why, ok := topNotes[n.Key()]
		if !ok {
			c.errorf(n.Pos(), "%s is not a keepalived keyword lvsctl knows at the top level; the top level has global_defs, virtual_server, virtual_server_group, vrrp_instance and keepalived's other blocks%s", show(n.Key()), suggest(n.Key(), topWords))
			return
		}
		c.note(n, "is not converted: "+strings.TrimSuffix(why, ".")+".")
		c.comments(n, true)
	}
}

// globalNotes explain the global_defs keywords by family: every keyword
// keepalived's global parser installs is named here, so that a misspelt
// one is an error.
var globalNotes = func() map[string]string {
	m := map[string]string{}
	add := func(why string, keys ...string) {
		for _, k := range keys {
			m[k] = why
		}
	}
	add("is about keepalived's e-mail alerts; lvsctl sends no mail (use its logs or metrics for alerting).",
		"notification_email_from", "smtp_server", "smtp_helo_name", "smtp_connect_timeout", "notification_email",
		"smtp_alert", "smtp_alert_vrrp", "smtp_alert_checker", "no_email_faults", "no_checker_emails")
	add("names keepalived's processes; lvsctl's daemons are lvsctl pulse and lvsctl check.",
		"process_names", "process_name", "vrrp_process_name", "checker_process_name", "lvs_process_name", "bfd_process_name")
	add("identifies this keepalived in alerts; lvsctl has no equivalent.", "router_id", "lvs_id")
	add("runs a script around keepalived's start or stop; run it from lvsctl's systemd units instead.",
		"startup_script", "startup_script_timeout", "shutdown_script", "shutdown_script_timeout")
	add("tunes VRRP, which lvsctl's pulse replaces; it has no equivalent there.",
		"max_auto_priority", "min_auto_priority_delay", "dynamic_interfaces", "default_interface", "disable_local_igmp",
		"v3_checksum_as_v2", "vrrp_mcast_group4", "vrrp_mcast_group6", "vrrp_garp_master_delay", "vrrp_garp_master_repeat",
		"vrrp_garp_master_refresh", "vrrp_garp_master_refresh_repeat", "vrrp_garp_lower_prio_delay", "vrrp_garp_lower_prio_repeat",
		"vrrp_down_timer_adverts", "vrrp_garp_interval", "vrrp_gna_interval", "vrrp_min_garp", "vrrp_garp_extra_if",
		"vrrp_vmac_garp_intvl", "vrrp_lower_prio_no_advert", "vrrp_higher_prio_send_advert", "vrrp_version", "vrrp_iptables",
		"vrrp_ipsets", "vrrp_check_unicast_src", "vrrp_skip_check_adv_addr", "vrrp_strict", "vrrp_priority", "vrrp_no_swap",
		"vrrp_rt_priority", "vrrp_cpu_affinity", "vrrp_rlimit_rttime", "vrrp_rlimit_rtime", "vrrp_notify_fifo",
		"vrrp_notify_fifo_script", "vrrp_notify_priority_changes", "fifo_write_vrrp_states_on_reload", "vrrp_netlink_cmd_rcv_bufs",
		"vrrp_netlink_cmd_rcv_bufs_force", "vrrp_netlink_monitor_rcv_bufs", "vrrp_netlink_monitor_rcv_bufs_force",
		"vrrp_rx_bufs_policy", "vrrp_rx_bufs_multiplier", "vrrp_startup_delay", "vrrp_delay_after_boot", "log_unknown_vrids",
		"vrrp_owner_ignore_adverts", "vmac_prefix", "vmac_addr_prefix", "vrrp_garp_lower_prio_repeat")
	add("concerns keepalived's nftables or ipsets rules; lvsctl writes no firewall rules.",
		"nftables", "nftables_priority", "nftables_ifindex", "nftables_ipvs", "nftables_ipvs_priority",
		"nftables_ipvs_start_fwmark", "nftables_counters")
	add("is keepalived's notification FIFO; lvsctl publishes health in its state directory and metrics instead.",
		"notify_fifo", "notify_fifo_script", "lvs_notify_fifo", "lvs_notify_fifo_script", "rs_init_notifies")
	add("tunes keepalived's own processes; lvsctl's daemons are tuned by their systemd units.",
		"checker_priority", "checker_no_swap", "checker_rt_priority", "checker_cpu_affinity", "checker_rlimit_rttime",
		"checker_rlimit_rtime", "bfd_priority", "bfd_no_swap", "bfd_rt_priority", "bfd_cpu_affinity", "bfd_rlimit_rttime",
		"bfd_rlimit_rtime", "lvs_netlink_cmd_rcv_bufs", "lvs_netlink_cmd_rcv_bufs_force", "lvs_netlink_monitor_rcv_bufs",
		"lvs_netlink_monitor_rcv_bufs_force", "process_monitor_rcv_bufs", "process_monitor_rcv_bufs_force", "umask",
		"random_seed", "child_wait_time", "set_supplementary_groups", "use_symlink_paths")
	add("is keepalived's SNMP or D-Bus interface; lvsctl exports Prometheus metrics instead.",
		"snmp_socket", "enable_traps", "enable_snmp_vrrp", "enable_snmp_keepalived", "enable_snmp_rfc", "enable_snmp_rfcv2",
		"enable_snmp_rfcv3", "enable_snmp_checker", "snmp_vs_stats_update_interval", "snmp_rs_stats_update_interval",
		"enable_dbus", "dbus_service_name", "dbus_no_interface_name")
	add("sets who runs keepalived's scripts; lvsctl runs check programs and pulse commands as itself, without a shell.",
		"script_user", "enable_script_security")
	add("logs every checker failure; lvsctl check logs each state change.", "checker_log_all_failures")
	add("is keepalived's reload and dump machinery; lvsctl re-reads its configuration on SIGHUP and plans the change.",
		"reload_check_config", "reload_time_file", "reload_repeat", "reload_file", "include_check", "config_save_dir",
		"tmp_config_directory", "data_use_instance", "json_version", "state_dump_file", "stats_dump_file", "json_dump_file")
	add("tells keepalived where iproute2's files are; lvsctl reads none.", "iproute_usr_dir", "iproute_etc_dir")
	add("runs keepalived in a network namespace; run lvsctl in it (ip netns exec) instead.",
		"net_namespace", "net_namespace_ipvs", "namespace_with_ipsets", "instance", "use_pid_dir", "linkbeat_use_polling")
	add("makes keepalived empty the IPVS table at start; lvsctl plans against the whole table and deletes what the configuration does not name, each delete shown in the plan (use an ignore block for services lvsctl must leave alone).",
		"lvs_flush")
	add("makes keepalived empty the IPVS table when it stops; lvsctl leaves the table as it is when a daemon stops, so that traffic goes on.",
		"lvs_flush_on_stop", "lvs_flush_onstop")
	return m
}()

func (c *conv) globalDefs(n *Node) {
	c.comments(n, true)
	for _, g := range n.Block {
		switch g.Key() {
		case "lvs_timeouts":
			c.lvsTimeouts(g)
			continue
		case "lvs_sync_daemon":
			c.lvsSyncDaemon(g)
			continue
		}
		why, ok := globalNotes[g.Key()]
		if !ok {
			c.errorf(g.Pos(), "%s is not a global_defs keyword keepalived has%s", show(g.Key()), orManual(suggest(g.Key(), globalWords)))
			continue
		}
		c.note(g, "is not converted: it "+why)
	}
}

// lvsTimeouts reads `lvs_timeouts [tcp N] [tcpfin N] [udp N]` into the
// table's connection timeouts.
func (c *conv) lvsTimeouts(n *Node) {
	if !c.noBlock(n) || !c.args(n, 2, 6) {
		return
	}
	a := n.Args()
	for i := 0; i < len(a); i += 2 {
		if i+1 >= len(a) {
			c.errorf(a[i].Pos, "lvs_timeouts %s needs a number of seconds after it", show(a[i].Text))
			return
		}
		v, ok := c.unsigned(a[i+1], "lvs_timeouts "+a[i].Text, 1, lvs.MaxConnTimeout)
		if !ok {
			continue
		}
		d := time.Duration(v) * time.Second
		switch a[i].Text {
		case "tcp":
			c.cfg.Table.Timeouts.TCP = d
		case "tcpfin":
			c.cfg.Table.Timeouts.TCPFin = d
		case "udp":
			c.cfg.Table.Timeouts.UDP = d
		default:
			c.errorf(a[i].Pos, "lvs_timeouts takes tcp, tcpfin and udp, not %s", show(a[i].Text))
		}
	}
	c.comments(n, false, "timeouts")
}

// lvsSyncDaemon reads `lvs_sync_daemon IFACE VRRP_INSTANCE [id N] ...`:
// the connection sync daemon, master on the VRRP master and backup on the
// backup, as pulse runs it.
func (c *conv) lvsSyncDaemon(n *Node) {
	if !c.noBlock(n) || !c.args(n, 2, -1) {
		return
	}
	a := n.Args()
	if err := model.CheckDevice(a[0].Text); err != nil {
		c.errorf(a[0].Pos, "lvs_sync_daemon: %v", err)
		return
	}
	sd := &model.SyncDaemon{Interface: a[0].Text}
	var ignored []string
	for i := 2; i < len(a); i++ {
		switch a[i].Text {
		case "id":
			if i+1 >= len(a) {
				c.errorf(a[i].Pos, "lvs_sync_daemon id needs a sync id from 0 to 255")
				return
			}
			v, ok := c.unsigned(a[i+1], "lvs_sync_daemon id", 0, 255)
			if !ok {
				return
			}
			sd.ID = uint8(v)
			i++
		case "maxlen", "port", "ttl", "group":
			if i+1 >= len(a) {
				c.errorf(a[i].Pos, "lvs_sync_daemon %s needs a value", a[i].Text)
				return
			}
			ignored = append(ignored, a[i].Text+" "+a[i+1].Text)
			i++
		default:
			c.errorf(a[i].Pos, "lvs_sync_daemon takes id, maxlen, port, ttl and group after the interface and the VRRP instance, not %s", show(a[i].Text))
			return
		}
	}
	c.sync, c.syncAt = sd, n.Pos()
	if len(ignored) > 0 {
		c.note(n, fmt.Sprintf("%s: lvsctl's sync daemon takes the interface and the id only, with the kernel's defaults for the rest.", strings.Join(ignored, ", ")))
	}
	c.comments(n, false)
}

// group reads a virtual_server_group: its entries are read where a
// virtual_server uses the group.
func (c *conv) group(n *Node) {
	if !c.block(n) || !c.args(n, 1, 1) {
		return
	}
	name := n.Words[1].Text
	if prev, dup := c.groups[name]; dup {
		c.errorf(n.Words[1].Pos, "virtual_server_group %s is declared twice (first at %s); keepalived would use one and drop the other, so give each its own name", show(name), prev.Pos())
		return
	}
	c.groups[name] = n
}
