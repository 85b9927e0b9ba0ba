package keepalived

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/lvs"
)

// defaultPersistence is keepalived's persistence timeout when it sets one
// itself (IPVS_SVC_PERSISTENT_TIMEOUT), as ipvsadm -p does.
const defaultPersistence = 360

// defaultDelayLoop is keepalived's delay_loop (KEEPALIVED_DEFAULT_DELAY)
// and defaultConnectTimeout its connect_timeout.
const (
	defaultDelayLoop      = 60 * time.Second
	defaultConnectTimeout = 5 * time.Second
)

// fwdSpec is a forwarding method as lb_kind or lvs_method give it, with
// its tunnel options.
type fwdSpec struct {
	set  bool
	fwd  lvs.Forward
	tun  lvs.TunnelType
	port uint16
	csum lvs.TunnelFlags
}

// timing are the check settings a virtual server passes to its real
// servers and a real server to its checkers; nil is unset.
type timing struct {
	delayLoop, connectTimeout, delayBeforeRetry, warmup *time.Duration
	retry                                               *uint64
	inhibit, alpha                                      *bool
	virtualhost                                         *string
}

// smtpAlertNote is the note on smtp_alert, wherever keepalived takes it.
const smtpAlertNote = "is keepalived's e-mail alert; lvsctl sends no mail (use its logs or metrics for alerting)."

// merged returns t with the unset settings taken from parent.
func (t timing) merged(parent timing) timing {
	pick := func(a, b *time.Duration) *time.Duration {
		if a != nil {
			return a
		}
		return b
	}
	m := timing{
		delayLoop: pick(t.delayLoop, parent.delayLoop), connectTimeout: pick(t.connectTimeout, parent.connectTimeout),
		delayBeforeRetry: pick(t.delayBeforeRetry, parent.delayBeforeRetry), warmup: pick(t.warmup, parent.warmup),
		retry: t.retry, inhibit: t.inhibit, alpha: t.alpha, virtualhost: t.virtualhost,
	}
	if m.retry == nil {
		m.retry = parent.retry
	}
	if m.inhibit == nil {
		m.inhibit = parent.inhibit
	}
	if m.alpha == nil {
		m.alpha = parent.alpha
	}
	if m.virtualhost == nil {
		m.virtualhost = parent.virtualhost
	}
	return m
}

type rsSpec struct {
	n          *Node
	addr       netip.Addr
	port       uint16
	weight     int
	weightSet  bool
	fwd        fwdSpec
	upper      uint32
	lower      uint32
	timing     timing
	checkers   []*Node
	sorry      bool
	inhibitSet bool
	notes      []pending // lines to note once the real server is named
	checked    bool      // checks were read (once for all its services)
	// familyReported: the real server's family was found wrong for one
	// service of its group, and reported once.
	familyReported bool
	portNoted      bool // the port that differs from a group entry's was noted
	checks         []*checkSpec
}

// A pending note: a line, and why it is not carried as it is.
type pending struct {
	n   *Node
	why string
}

type vsSpec struct {
	n        *Node
	what     string // "virtual_server 10.0.0.1 80"
	group    *Node
	fwmark   uint32
	addr     netip.AddrPort
	family   lvs.Family
	opts     lvs.ServiceOpts
	persist  bool
	gran     *Token // persistence_granularity
	proto    lvs.Protocol
	protoSet bool
	fwd      fwdSpec
	weight   int
	timing   timing
	sorry    *rsSpec
	reals    []*rsSpec
	quorum   *Node
	hyst     *Node
	notes    []pending // lines to note once the service is named
	udpNoted bool
}

// A service to build: its key and where it comes from.
type keyAt struct {
	key   lvs.ServiceKey
	pos   Pos
	entry string // the group entry, for a service of a group
	fwm   bool   // a fwmark entry of a group
}

func (c *conv) virtualServer(n *Node) {
	if !c.args(n, 1, 2) {
		return
	}
	if t := n.Words[1].Text; len(n.Words) == 2 && (t == "group" || t == "fwmark") {
		c.args(n, 2, 2) // reports the missing name or mark
		return
	}
	vs := &vsSpec{n: n, weight: 1, what: words(&Node{Words: n.Words})}
	a := n.Args()
	switch a[0].Text {
	case "group":
		g, ok := c.groups[a[1].Text]
		if !ok {
			c.errorf(a[1].Pos, "virtual_server_group %s is not declared; declare it with virtual_server_group %s { ADDRESS PORT ... }", show(a[1].Text), show(a[1].Text))
			return
		}
		vs.group = g
		c.usedGroups[a[1].Text] = true
	case "fwmark":
		v, ok := c.unsigned(a[1], "fwmark", 1, 1<<32-1)
		if !ok {
			return
		}
		vs.fwmark = uint32(v)
	default:
		ip, ok := c.addr(a[0], "virtual_server address")
		if !ok {
			return
		}
		var p uint16
		if len(a) > 1 { // keepalived reads a missing port as 0
			if p, ok = c.port(a[1], "virtual_server port"); !ok {
				return
			}
		}
		vs.addr = netip.AddrPortFrom(ip, p)
		vs.family = lvs.FamilyOf(ip)
	}
	later := func(n *Node, why string) { vs.notes = append(vs.notes, pending{n, why}) }
	for _, k := range n.Block {
		c.vsKey(vs, k, later)
	}
	keys := c.expand(vs)
	if len(c.errs) > 0 || len(keys) == 0 {
		return
	}
	if len(vs.reals) == 0 {
		c.note(n, "has no real servers, and keepalived ignores a virtual server without any (\"has no real servers - ignoring\"); it is not converted.")
		c.comments(n, true)
		return
	}
	c.buildServices(vs, keys)
}

// vsKey reads one line of a virtual_server block; later defers a note to
// when the service is named.
func (c *conv) vsKey(vs *vsSpec, k *Node, later func(*Node, string)) bool {
	key := k.Key()
	if key != "real_server" && key != "sorry_server" && !c.noBlock(k) {
		return false
	}
	flag := func() bool { return c.args(k, 0, 0) }
	switch key {
	case "real_server":
		if rs := c.realServer(vs, k); rs != nil {
			vs.reals = append(vs.reals, rs)
		}
	case "lb_algo", "lvs_sched":
		if !c.args(k, 1, 1) {
			return false
		}
		s := k.Words[1].Text
		if !slices.Contains(lvs.Schedulers, s) {
			c.errorf(k.Words[1].Pos, "%s %s is not a scheduler; keepalived and the kernel have %s", key, show(s), strings.Join(lvs.Schedulers, ", "))
			return false
		}
		vs.opts.Scheduler = s
	case "ops":
		if flag() {
			vs.opts.OnePacket = true
		}
	case "flag-1", "flag-2", "flag-3", "sh-port", "sh-fallback", "mh-port", "mh-fallback":
		if !flag() {
			return false
		}
		f, owner, _ := lvs.LookupSchedFlag(key)
		switch {
		case owner != "" && vs.opts.Scheduler != owner:
			sched := owner
			later(k, fmt.Sprintf("applies to the %s scheduler only, and the scheduler is %s here (so far in the block); keepalived ignores it, and so does lvsctl.", sched, orDefault(vs.opts.Scheduler, "wlc")))
		default:
			vs.opts.SchedFlags |= f
		}
	case "nat_mask":
		if c.args(k, 1, 1) {
			later(k, "is keepalived 1.x's, which put it in no IPVS rule (keepalived 2 dropped it); the table is the same without it.")
		}
	case "hashed":
		if flag() {
			later(k, "is the kernel's internal hashed flag, which keepalived cannot set; it is not converted.")
		}
	case "lb_kind", "lvs_method":
		c.forwarding(k, &vs.fwd)
	case "persistence_timeout":
		if !c.args(k, 0, 1) {
			return false
		}
		vs.persist, vs.opts.Timeout = true, defaultPersistence
		if len(k.Words) == 2 {
			v, ok := c.unsigned(k.Words[1], "persistence_timeout", 1, lvs.MaxPersistTimeout)
			if !ok {
				return false
			}
			vs.opts.Timeout = uint32(v)
		}
	case "persistence_granularity":
		if c.args(k, 1, 1) {
			vs.gran = &k.Words[1]
			if !vs.persist {
				// keepalived's pgr_handler sets the default timeout.
				vs.persist, vs.opts.Timeout = true, defaultPersistence
			}
		}
	case "persistence_engine":
		if c.args(k, 1, 1) {
			if err := lvs.CheckPE(k.Words[1].Text); err != nil {
				c.errorf(k.Words[1].Pos, "persistence_engine: %v", err)
				return false
			}
			vs.opts.PE = k.Words[1].Text
		}
	case "protocol":
		if !c.args(k, 1, 1) {
			return false
		}
		switch strings.ToUpper(k.Words[1].Text) {
		case "TCP":
			vs.proto = lvs.TCP
		case "UDP":
			vs.proto = lvs.UDP
		case "SCTP":
			vs.proto = lvs.SCTP
		default:
			c.errorf(k.Words[1].Pos, "protocol %s is not one keepalived knows: TCP, UDP or SCTP", show(k.Words[1].Text))
			return false
		}
		vs.protoSet = true
	case "ip_family":
		if !c.args(k, 1, 1) {
			return false
		}
		switch k.Words[1].Text {
		case "inet":
			vs.family = lvs.IPv4
		case "inet6":
			vs.family = lvs.IPv6
		default:
			c.errorf(k.Words[1].Pos, "ip_family is inet or inet6, not %s", show(k.Words[1].Text))
			return false
		}
		if vs.addr.IsValid() && vs.family != lvs.FamilyOf(vs.addr.Addr()) {
			c.errorf(k.Words[1].Pos, "ip_family %s conflicts with the virtual server's address %s", k.Words[1].Text, vs.addr.Addr())
		}
	case "weight":
		if c.args(k, 1, 1) {
			if v, ok := c.unsigned(k.Words[1], "weight", 1, lvs.MaxWeight); ok {
				vs.weight = int(v)
			}
		}
	case "sorry_server":
		if !c.args(k, 1, 2) {
			return false
		}
		rs := c.serverAddr(k, vs)
		if rs == nil {
			return false
		}
		rs.sorry = true
		rs.fwd = vs.fwd
		vs.sorry = rs
		if k.HasBlock {
			c.errorf(k.Pos(), "sorry_server takes no block")
		}
	case "sorry_server_inhibit":
		if !flag() {
			return false
		}
		if vs.sorry == nil {
			later(k, "comes before or without sorry_server; keepalived ignores it, and so does lvsctl.")
		} else {
			vs.sorry.inhibitSet = true
		}
	case "sorry_server_lvs_method":
		if vs.sorry == nil {
			later(k, "comes before or without sorry_server; keepalived ignores it, and so does lvsctl.")
		} else {
			c.forwarding(k, &vs.sorry.fwd)
		}
	case "quorum":
		if c.args(k, 1, 1) {
			if _, ok := c.unsigned(k.Words[1], "quorum", 1, 1<<32-1); ok {
				vs.quorum = k
			}
		}
	case "hysteresis":
		if c.args(k, 1, 1) {
			if _, ok := c.unsigned(k.Words[1], "hysteresis", 0, 1<<32-1); ok {
				vs.hyst = k
			}
		}
	case "alpha":
		if flag() {
			t := true
			vs.timing.alpha = &t
		}
	case "inhibit_on_failure":
		if flag() {
			t := true
			vs.timing.inhibit = &t
		}
	case "omega":
		if flag() {
			later(k, "runs quorum_down when keepalived stops; lvsctl runs no quorum scripts, so it is not converted.")
		}
	case "quorum_up", "quorum_down":
		if c.args(k, 1, -1) {
			later(k, "is a script keepalived runs when the quorum is gained or lost; lvsctl runs no quorum scripts (watch its health metrics instead), so it is not converted.")
		}
	case "ha_suspend":
		if flag() {
			later(k, "suspends the checks while the VIP is not on this director; lvsctl check probes on both directors, which keeps the backup's view of the real servers current; it is not converted.")
		}
	case "smtp_alert":
		if c.args(k, 0, 1) {
			later(k, smtpAlertNote)
		}
	case "snmp_name":
		if c.args(k, 1, 1) {
			later(k, "names the service in keepalived's SNMP tree; lvsctl names it in its metrics by the virtual_server block's name.")
		}
	default:
		if c.timingKey(k, &vs.timing, later) {
			return true
		}
		c.errorf(k.Pos(), "%s is not a virtual_server keyword keepalived has%s", show(key), orManual(suggest(key, vsWords)))
		return false
	}
	return true
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// timingKey reads a check setting a virtual or real server gives its
// checkers; it reports false for other keywords.
func (c *conv) timingKey(k *Node, t *timing, later func(*Node, string)) bool {
	dur := func(dst **time.Duration, lo time.Duration) {
		if c.args(k, 1, 1) {
			if d, ok := c.timer(k.Words[1], k.Key(), lo); ok {
				*dst = &d
			}
		}
	}
	switch k.Key() {
	case "delay_loop":
		dur(&t.delayLoop, time.Microsecond)
	case "connect_timeout":
		dur(&t.connectTimeout, time.Microsecond)
	case "delay_before_retry":
		dur(&t.delayBeforeRetry, 0)
		later(k, "is the wait before a failed check is tried again; lvsctl probes at the interval (delay_loop) only, so a real server goes out after retry+1 failed probes an interval apart, not delay_before_retry apart.")
	case "warmup":
		dur(&t.warmup, 0)
		later(k, "delays the first check by a random time up to it; lvsctl spreads its first probes itself, so it is not converted.")
	case "retry", "nb_get_retry":
		if c.args(k, 1, 1) {
			if v, ok := c.unsigned(k.Words[1], k.Key(), 1, model.MaxCheckCount-1); ok {
				t.retry = &v
			}
		}
	case "virtualhost":
		if c.args(k, 1, 1) {
			s := k.Words[1].Text
			t.virtualhost = &s
		}
	case "alpha":
		if v, ok := c.boolArg(k); ok && c.args(k, 0, 1) {
			t.alpha = &v
		}
	case "inhibit_on_failure":
		if v, ok := c.boolArg(k); ok && c.args(k, 0, 1) {
			t.inhibit = &v
		}
	default:
		return false
	}
	return true
}

// forwarding reads `lb_kind NAT|DR|TUN [type ipip|gue|gre] [port N]
// [csum|nocsum|remcsum]` as keepalived's svr_forwarding_handler does.
func (c *conv) forwarding(k *Node, f *fwdSpec) {
	if !c.args(k, 1, -1) {
		return
	}
	nf := fwdSpec{set: true}
	switch k.Words[1].Text {
	case "NAT":
		nf.fwd = lvs.Masq
	case "DR":
		nf.fwd = lvs.Route
	case "TUN":
		nf.fwd = lvs.Tunnel
	default:
		c.errorf(k.Words[1].Pos, "%s %s is not a forwarding method: keepalived has NAT, DR and TUN (in capitals)", k.Key(), show(k.Words[1].Text))
		return
	}
	a := k.Words[2:]
	for i := 0; i < len(a); i++ {
		if nf.fwd != lvs.Tunnel {
			c.errorf(a[i].Pos, "%s %s takes no options; tunnel options go with TUN", k.Key(), k.Words[1].Text)
			return
		}
		switch a[i].Text {
		case "type":
			if i+1 == len(a) {
				c.errorf(a[i].Pos, "type needs ipip, gue or gre after it")
				return
			}
			i++
			switch a[i].Text {
			case "ipip":
				nf.tun = lvs.IPIP
			case "gue":
				nf.tun = lvs.GUE
			case "gre":
				nf.tun = lvs.GRE
			default:
				c.errorf(a[i].Pos, "tunnel type %s is not ipip, gue or gre", show(a[i].Text))
				return
			}
		case "port":
			if i+1 == len(a) {
				c.errorf(a[i].Pos, "port needs the GUE port after it")
				return
			}
			i++
			v, ok := c.unsigned(a[i], "gue tunnel port", 1, 65535)
			if !ok {
				return
			}
			nf.port = uint16(v)
		case "nocsum":
			nf.csum = 0
		case "csum":
			nf.csum = lvs.TunnelCsum
		case "remcsum":
			nf.csum = lvs.TunnelRemCsum
		default:
			c.errorf(a[i].Pos, "%s is not a tunnel option: keepalived takes type, port, csum, nocsum and remcsum", show(a[i].Text))
			return
		}
	}
	switch {
	case (nf.tun == lvs.GUE) != (nf.port != 0):
		c.errorf(k.Pos(), "gue tunnels need port, and other tunnels cannot have one (as keepalived says)")
		return
	case nf.tun == lvs.IPIP && nf.csum != 0:
		c.errorf(k.Pos(), "ipip tunnels have no checksum option")
		return
	case nf.tun == lvs.GRE && nf.csum == lvs.TunnelRemCsum:
		c.errorf(k.Pos(), "gre tunnels have no remote checksum option (remcsum is for gue)")
		return
	}
	*f = nf
}

// serverAddr reads the address and optional port of a real or sorry
// server line.
func (c *conv) serverAddr(k *Node, vs *vsSpec) *rsSpec {
	a := k.Args()
	ip, ok := c.addr(a[0], k.Key()+" address")
	if !ok {
		return nil
	}
	rs := &rsSpec{n: k, addr: ip, weight: 1}
	if len(a) > 1 {
		p, ok := c.port(a[1], k.Key()+" port")
		if !ok {
			return nil
		}
		rs.port = p
	}
	return rs
}

func (c *conv) realServer(vs *vsSpec, k *Node) *rsSpec {
	if !c.args(k, 1, 2) {
		return nil
	}
	rs := c.serverAddr(k, vs)
	if rs == nil {
		return nil
	}
	// keepalived gives a real server the forwarding method of its virtual
	// server as it stands when the real server starts.
	rs.fwd = vs.fwd
	later := func(n *Node, why string) { rs.notes = append(rs.notes, pending{n, why}) }
	for _, r := range k.Block {
		key := r.Key()
		if isChecker(key) {
			rs.checkers = append(rs.checkers, r)
			continue
		}
		if !c.noBlock(r) {
			continue
		}
		switch key {
		case "weight":
			if c.args(r, 1, 1) {
				if v, ok := c.unsigned(r.Words[1], "weight", 0, lvs.MaxWeight); ok {
					rs.weight, rs.weightSet = int(v), true
				}
			}
		case "lvs_method":
			c.forwarding(r, &rs.fwd)
		case "uthreshold", "lthreshold":
			if c.args(r, 1, 1) {
				if v, ok := c.unsigned(r.Words[1], key, 0, lvs.MaxThreshold); ok {
					if key == "uthreshold" {
						rs.upper = uint32(v)
					} else {
						rs.lower = uint32(v)
					}
				}
			}
		case "notify_up", "notify_down":
			if c.args(r, 1, -1) {
				later(r, "is a script keepalived runs when the real server goes up or down; lvsctl runs none (watch its health metrics or logs instead), so it is not converted.")
			}
		case "smtp_alert":
			if c.args(r, 0, 1) {
				later(r, smtpAlertNote)
			}
		case "snmp_name":
			if c.args(r, 1, 1) {
				later(r, "names the real server in keepalived's SNMP tree; lvsctl names it in its metrics by the real_server block's name.")
			}
		default:
			if c.timingKey(r, &rs.timing, later) {
				continue
			}
			c.errorf(r.Pos(), "%s is not a real_server keyword keepalived has%s", show(key), orManual(suggest(key, rsWords)))
		}
	}
	return rs
}
