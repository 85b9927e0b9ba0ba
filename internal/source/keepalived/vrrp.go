package keepalived

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/lvsctl/lvsctl/internal/model"
)

// A vrrpInstance is a vrrp_instance as read: what lvsctl's pulse can take
// from it, and the lines to note.
type vrrpInstance struct {
	n        *Node
	name     string
	master   bool
	stateSet bool
	iface    string
	src      netip.Addr
	peers    []netip.Addr
	priority int
	advert   time.Duration
	preempt  bool
	active   string // notify_master
	inactive string // notify_backup
	vips     []vipEntry
	sync     *model.SyncDaemon
	notes    []pending
}

type vipEntry struct {
	n      *Node
	addr   netip.Addr
	bits   int
	device string
}

// vrrpNotes explain the vrrp_instance keywords lvsctl's pulse has no
// equivalent for.
var vrrpNotes = func() map[string]string {
	m := map[string]string{}
	add := func(why string, keys ...string) {
		for _, k := range keys {
			m[k] = why
		}
	}
	add("tracks an object for VRRP; lvsctl's pulse fails over on lost heartbeats only (and, with monitor_links, on its links).",
		"track_interface", "track_script", "track_file", "track_process", "track_bfd", "dont_track_primary", "track_src_ip")
	add("concerns VRRP's virtual MAC or IPvlan; lvsctl's pulse moves the VIPs with gratuitous ARP / unsolicited NA instead.",
		"use_vmac", "use_vmac_addr", "vmac_xmit_base", "use_ipvlan", "vmac_garp_intvl")
	add("tunes VRRP's packets or timers; lvsctl's pulse has its own authenticated heartbeat, so it has no equivalent.",
		"unicast_fault_no_peer", "check_unicast_src", "old_unicast_checksum", "native_ipv6", "mcast_dst_ip", "unicast_ttl",
		"version", "v3_checksum_as_v2", "accept", "no_accept", "skip_check_adv_addr", "strict_mode",
		"down_timer_adverts", "timer_expired_backup", "thread_timer_expired", "lower_prio_no_advert", "higher_prio_send_advert",
		"owner_ignore_adverts", "kernel_rx_buf_size", "linkbeat_use_polling", "debug", "vrf", "notify_priority_changes",
		"notify_master_rx_lower_pri")
	add("is a fixed delay before preempting; lvsctl's pulse has none to set: a preempting primary waits until its own health checks have settled (every real server probed since its start, at most (max(rise, fall) + 1) × (interval + timeout)).",
		"preempt_delay")
	add("sets VRRP's gratuitous ARP timing; lvsctl's pulse sends its own on takeover.",
		"garp_master_delay", "garp_master_refresh", "garp_master_repeat", "garp_master_refresh_repeat",
		"garp_lower_prio_delay", "garp_lower_prio_repeat", "garp_extra_if")
	add("adds more than the service VIPs on takeover; lvsctl's pulse moves the vip of each virtual server only: add these with the system's network configuration.",
		"virtual_ipaddress_excluded", "virtual_routes", "virtual_rules", "promote_secondaries", "no_virtual_ipaddress")
	add("is a script keepalived runs on a VRRP state change lvsctl's pulse has no hook for (it has active_cmd and inactive_cmd).",
		"notify_fault", "notify_stop", "notify_deleted", "notify")
	add(smtpAlertNote, "smtp_alert")
	add("identifies the VRRP router; lvsctl's pulse pair is identified by its addresses and heartbeat key, so it has no equivalent.", "virtual_router_id")
	return m
}()

func (c *conv) vrrpInstance(n *Node) {
	if !c.args(n, 1, 1) {
		return
	}
	v := &vrrpInstance{n: n, name: n.Words[1].Text, priority: 100, advert: time.Second, preempt: true}
	later := func(k *Node, why string) { v.notes = append(v.notes, pending{k, why}) }
	for _, k := range n.Block {
		key := k.Key()
		switch key {
		case "unicast_peer", "virtual_ipaddress", "authentication":
			if !c.block(k) || !c.args(k, 0, 0) {
				continue
			}
		default:
			if why, ok := vrrpNotes[key]; ok {
				later(k, "is not converted: it "+why)
				continue
			}
			if !c.noBlock(k) {
				continue
			}
		}
		switch key {
		case "state":
			if c.args(k, 1, 1) {
				switch k.Words[1].Text {
				case "MASTER":
					v.master, v.stateSet = true, true
				case "BACKUP":
					v.stateSet = true
				default:
					c.errorf(k.Words[1].Pos, "state is MASTER or BACKUP, not %s", show(k.Words[1].Text))
				}
			}
		case "interface":
			if c.args(k, 1, 1) {
				if err := model.CheckDevice(k.Words[1].Text); err != nil {
					c.errorf(k.Words[1].Pos, "interface: %v", err)
				}
				v.iface = k.Words[1].Text
			}
		case "interfaces", "linkbeat_interfaces":
			later(k, "is not converted: lvsctl's pulse watches no interfaces but its heartbeat's.")
		case "unicast_src_ip":
			if c.args(k, 1, 1) {
				v.src, _ = c.addr(k.Words[1], "unicast_src_ip")
			}
		case "mcast_src_ip":
			if c.args(k, 1, 1) {
				later(k, "is the source of VRRP multicast; lvsctl's pulse talks to its partner's address (unicast), so it is not converted.")
			}
		case "unicast_peer":
			for _, p := range k.Block {
				if a, ok := c.addr(p.Words[0], "unicast_peer"); ok {
					v.peers = append(v.peers, a)
				}
				if len(p.Words) > 1 {
					later(p, "sets options of a VRRP peer (min_ttl, max_ttl); lvsctl's heartbeats have none.")
				}
			}
		case "priority":
			if c.args(k, 1, 1) {
				if p, ok := c.unsigned(k.Words[1], "priority", 1, 255); ok {
					v.priority = int(p)
				}
			}
		case "advert_int":
			if c.args(k, 1, 1) {
				if d, ok := c.timer(k.Words[1], "advert_int", 10*time.Millisecond); ok {
					v.advert = d
				}
			}
		case "nopreempt":
			if c.args(k, 0, 0) {
				v.preempt = false
			}
		case "preempt":
			if c.args(k, 0, 0) {
				v.preempt = true
			}
		case "notify_master", "notify_backup":
			if !c.args(k, 1, -1) {
				continue
			}
			ws := c.commandLine(k)
			if key == "notify_master" {
				v.active = strings.Join(ws, " ")
			} else {
				v.inactive = strings.Join(ws, " ")
			}
		case "virtual_ipaddress":
			for _, e := range k.Block {
				if vip, ok := c.vip(e, v); ok {
					v.vips = append(v.vips, vip)
				}
			}
		case "authentication":
			later(k, "is VRRP's authentication; lvsctl's heartbeats are authenticated with an HMAC key of their own (key_file, default /etc/lvsctl/pulse.key): put the same key file on both directors.")
			for _, a := range k.Block {
				if a.Key() != "auth_type" && a.Key() != "auth_pass" {
					c.errorf(a.Pos(), "%s is not an authentication keyword (auth_type, auth_pass)", show(a.Key()))
				}
			}
		case "lvs_sync_daemon_interface":
			if c.args(k, 1, 1) {
				if err := model.CheckDevice(k.Words[1].Text); err != nil {
					c.errorf(k.Words[1].Pos, "lvs_sync_daemon_interface: %v", err)
				} else {
					v.sync = &model.SyncDaemon{Interface: k.Words[1].Text}
				}
			}
		default:
			c.errorf(k.Pos(), "%s is not a vrrp_instance keyword keepalived has%s", show(key), orManual(suggest(key, vrrpWords)))
		}
	}
	c.vrrp = append(c.vrrp, v)
}

// vip reads one line of virtual_ipaddress: ADDRESS[/PREFIX] [dev DEV]
// [label LABEL] [brd ...] [scope ...] ...
func (c *conv) vip(e *Node, v *vrrpInstance) (vipEntry, bool) {
	vip := vipEntry{n: e, device: v.iface}
	a, bits, hasBits := strings.Cut(e.Words[0].Text, "/")
	ip, ok := c.addr(Token{Text: a, Pos: e.Words[0].Pos}, "virtual_ipaddress")
	if !ok {
		return vip, false
	}
	vip.addr = ip
	if hasBits {
		b, err := strconv.Atoi(bits)
		if err != nil || b < 0 || b > ip.BitLen() {
			c.errorf(e.Words[0].Pos, "virtual_ipaddress %s: the prefix length is a number from 0 to %d", show(e.Words[0].Text), ip.BitLen())
			return vip, false
		}
		if b < ip.BitLen() {
			vip.bits = b
		}
	}
	var other []string
	w := e.Words[1:]
	for i := 0; i < len(w); i++ {
		switch w[i].Text {
		case "dev", "label":
			if i+1 == len(w) {
				c.errorf(w[i].Pos, "%s needs a device name after it", w[i].Text)
				return vip, false
			}
			if err := model.CheckDevice(w[i+1].Text); err != nil {
				c.errorf(w[i+1].Pos, "%s: %v", w[i].Text, err)
				return vip, false
			}
			if w[i].Text == "label" || vip.device == v.iface {
				vip.device = w[i+1].Text
			}
			i++
		case "no_track", "home", "nodad", "noprefixroute":
			other = append(other, w[i].Text)
		default:
			if i+1 < len(w) {
				other = append(other, w[i].Text+" "+w[i+1].Text)
				i++
			} else {
				other = append(other, w[i].Text)
			}
		}
	}
	if vip.device == "" {
		c.errorf(e.Pos(), "virtual_ipaddress %s has no device: give the vrrp_instance an interface, or the address dev DEVICE", show(e.Words[0].Text))
		return vip, false
	}
	if len(other) > 0 {
		v.notes = append(v.notes, pending{e, fmt.Sprintf("%s: lvsctl adds the VIP with its address, netmask and device only.", strings.Join(other, ", "))})
	}
	return vip, true
}

// vrrpFinish makes the pulse block from the vrrp_instances that name two
// directors, and gives the virtual servers their VIPs.
func (c *conv) vrrpFinish() {
	var pair *vrrpInstance
	for _, v := range c.vrrp {
		why := ""
		switch {
		case len(v.peers) == 0:
			why = "uses VRRP multicast: lvsctl's pulse talks to its partner's address, which a multicast instance does not name. Add unicast_src_ip and unicast_peer, or write the pulse block by hand."
		case len(v.peers) > 1:
			why = fmt.Sprintf("has %d unicast peers: lvsctl's pulse is a pair of directors, and a group of %d cannot be carried over. Write the pulse block by hand for two of them.", len(v.peers), len(v.peers)+1)
		case !v.src.IsValid():
			why = "has no unicast_src_ip: lvsctl's pulse needs both directors' addresses, and keepalived takes this one from the interface, which lvsctl cannot see here. Add unicast_src_ip."
		case v.src == v.peers[0]:
			why = "has the same address in unicast_src_ip and unicast_peer."
		case pair != nil && (pair.src != v.src || pair.peers[0] != v.peers[0]):
			why = fmt.Sprintf("pairs other directors than vrrp_instance %s (%s): lvsctl's pulse is one pair.", pair.name, c.where(pair.n.Pos()))
		case pair != nil && pair.master != v.master:
			why = fmt.Sprintf("is %s while vrrp_instance %s is %s: lvsctl's pulse makes one director active for every service, so instances that split the services between the directors are not carried. The pair is written as vrrp_instance %s has it.", state(v.master), pair.name, state(pair.master), pair.name)
		}
		for _, p := range v.notes {
			c.note(p.n, p.why, "pulse")
		}
		c.comments(v.n, true, "pulse")
		if why != "" {
			c.note(v.n, "is not converted, nor are its settings (state, priority, advert_int, nopreempt, notify scripts...): it "+why, "pulse")
			continue
		}
		if pair == nil {
			pair = v
		}
	}
	if pair == nil {
		if c.sync != nil {
			c.noteAt(c.syncAt, "lvs_sync_daemon is not converted: lvsctl runs the sync daemon from its pulse, and there is no director pair here.")
		}
		for _, v := range c.vrrp {
			for _, e := range v.vips {
				c.noteAt(e.n.Pos(), fmt.Sprintf("the VIP %s of vrrp_instance %s is not converted: there is no director pair to move it.", e.addr, v.name))
			}
		}
		return
	}
	p := model.DefaultPulse()
	if pair.master {
		p.Primary, p.Backup = pair.src, pair.peers[0]
	} else {
		p.Primary, p.Backup = pair.peers[0], pair.src
	}
	p.BackupActive = true
	p.Keepalive = pair.advert
	// VRRP's master down interval: three adverts and the skew time,
	// (256 - priority) / 256 of one.
	p.Deadtime = 3*pair.advert + pair.advert*time.Duration(256-pair.priority)/256
	p.Preempt = pair.preempt
	p.ActiveCmd, p.InactiveCmd = pair.active, pair.inactive
	p.SyncDaemon = pair.sync
	if c.sync != nil {
		p.SyncDaemon = c.sync
	}
	where := "MASTER"
	if !pair.master {
		where = "BACKUP"
		if !pair.stateSet {
			where = "BACKUP (keepalived's default state)"
		}
	}
	c.noteAt(pair.n.Pos(), fmt.Sprintf("vrrp_instance %s is read on the director %s, which is %s here: primary is the MASTER's address, backup the other. Use this file on both directors; lvsctl's pulse tells them apart by their addresses. The deadtime is VRRP's master down interval (3 adverts and the skew time at priority %d); heartbeats are lvsctl's own, not VRRP, so both directors must run lvsctl pulse.", pair.name, pair.src, where, pair.priority), "pulse")
	c.cfg.Pulse = &p
	for _, v := range c.vrrp {
		if v != pair && (v.src != pair.src || len(v.peers) != 1 || v.peers[0] != pair.peers[0] || v.master != pair.master) {
			for _, e := range v.vips {
				c.noteAt(e.n.Pos(), fmt.Sprintf("the VIP %s of vrrp_instance %s is not converted: that instance is not the director pair's.", e.addr, v.name))
			}
			continue
		}
		for _, e := range v.vips {
			names := c.vips[e.addr]
			if len(names) == 0 {
				c.noteAt(e.n.Pos(), fmt.Sprintf("the VIP %s is not the address of a virtual server: lvsctl's pulse moves the vip of each virtual server only; add this address with the system's network configuration, or as the vip of a fwmark virtual server.", e.addr))
				continue
			}
			for _, name := range names {
				st := c.cfg.Services[name]
				st.VIP = &model.VIP{Address: e.addr, Device: e.device, Netmask: e.bits}
				c.comments(e.n, false, "virtual_server", name, "vip")
			}
		}
	}
}

func state(master bool) string {
	if master {
		return "MASTER"
	}
	return "BACKUP"
}
