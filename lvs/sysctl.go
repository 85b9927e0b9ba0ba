package lvs

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// A Sysctl is a kernel setting of the director's network namespace that a
// table depends on, named as sysctl(8) names it ("net.ipv4.ip_forward"),
// with its value as the kernel prints it ("1").
//
// In a desired table, Sysctls are the settings the table owns: those the
// configuration names and those its forwarding needs ([NeededSysctls]);
// every other setting is left alone. In a live table they are the values
// read for those names, and Value is "" for a setting this kernel does not
// have (net.ipv4.vs.* before ip_vs is loaded, or a knob newer than the
// kernel). A live table without an entry for a name has not been read for
// it (a saved ipvsadm dump): the planner then leaves that setting alone.
type Sysctl struct {
	Name  string
	Value string
	// Reason says why a desired setting is there although the
	// configuration does not name it ("IPv4 NAT"); "" for a setting the
	// configuration names. For display only: it is not compared.
	Reason string
}

// SysctlInfo describes a kernel setting lvsctl manages: its name, the key
// that names it in a configuration's sysctl block, and the values lvsctl
// accepts for it.
type SysctlInfo struct {
	Name     string // "net.ipv4.vs.sloppy_tcp"
	Key      string // "sloppy_tcp"; "" for a setting the configuration cannot name
	Min, Max int64
	// Default is the value of a fresh network namespace with ip_vs
	// loaded, as the kernel documents it (ipvs-sysctl.rst) and Linux 6.1
	// has it: what a director has unless someone set it.
	Default string
}

// SysctlPath returns the file under /proc/sys of a setting named as
// sysctl(8) names it: "net/ipv4/ip_forward". The settings lvsctl manages
// have no dots of their own (no device names).
func SysctlPath(name string) string { return strings.ReplaceAll(name, ".", "/") }

// The forwarding settings a NAT director needs (see [NeededSysctls]).
const (
	SysctlIPv4Forward = "net.ipv4.ip_forward"
	SysctlIPv6Forward = "net.ipv6.conf.all.forwarding"
)

// Sysctls are the kernel settings lvsctl manages, sorted by name.
//
// The IPVS knobs (net.ipv4.vs.*, Documentation/networking/ipvs-sysctl.rst)
// are those operators set by hand on a director. The kernel reads most of
// them with proc_dointvec and takes any integer, treating every non-zero
// value as "on"; lvsctl accepts only 0 and 1 for those, so that the value
// it writes is the value it reads back and a plan settles. The ranges it
// narrows to are the documented ones: conn_reuse_mode is a bitmap of two
// bits (1: reschedule on port reuse when safe, 2: in FIN_WAIT too), and
// sync_retries is 0..3 (proc_dointvec_minmax), sync_version 0..1
// (proc_do_sync_mode refuses others with EINVAL).
//
// The defense knobs (drop_entry, drop_packet, secure_tcp) are left out on
// purpose: in their automatic modes the kernel itself flips them between 1
// and 2 as memory runs short, so a plan would never settle on them. So
// are est_cpulist and est_nice (Linux 6.2 and later; not numbers, or per
// host rather than per namespace) and sync_threshold (two numbers).
var Sysctls = []SysctlInfo{
	{Name: SysctlIPv4Forward, Min: 0, Max: 1, Default: "0"},
	{Name: "net.ipv4.vs.backup_only", Key: "backup_only", Min: 0, Max: 1, Default: "0"},
	{Name: "net.ipv4.vs.conn_reuse_mode", Key: "conn_reuse_mode", Min: 0, Max: 3, Default: "1"},
	{Name: "net.ipv4.vs.conntrack", Key: "conntrack", Min: 0, Max: 1, Default: "0"},
	{Name: "net.ipv4.vs.expire_nodest_conn", Key: "expire_nodest_conn", Min: 0, Max: 1, Default: "0"},
	{Name: "net.ipv4.vs.expire_quiescent_template", Key: "expire_quiescent_template", Min: 0, Max: 1, Default: "0"},
	{Name: "net.ipv4.vs.ignore_tunneled", Key: "ignore_tunneled", Min: 0, Max: 1, Default: "0"},
	{Name: "net.ipv4.vs.nat_icmp_send", Key: "nat_icmp_send", Min: 0, Max: 1, Default: "0"},
	{Name: "net.ipv4.vs.pmtu_disc", Key: "pmtu_disc", Min: 0, Max: 1, Default: "1"},
	{Name: "net.ipv4.vs.run_estimation", Key: "run_estimation", Min: 0, Max: 1, Default: "1"},
	{Name: "net.ipv4.vs.schedule_icmp", Key: "schedule_icmp", Min: 0, Max: 1, Default: "0"},
	{Name: "net.ipv4.vs.sloppy_sctp", Key: "sloppy_sctp", Min: 0, Max: 1, Default: "0"},
	{Name: "net.ipv4.vs.sloppy_tcp", Key: "sloppy_tcp", Min: 0, Max: 1, Default: "0"},
	{Name: "net.ipv4.vs.snat_reroute", Key: "snat_reroute", Min: 0, Max: 1, Default: "1"},
	{Name: "net.ipv4.vs.sync_persist_mode", Key: "sync_persist_mode", Min: 0, Max: 1, Default: "0"},
	{Name: "net.ipv4.vs.sync_retries", Key: "sync_retries", Min: 0, Max: 3, Default: "0"},
	{Name: "net.ipv4.vs.sync_version", Key: "sync_version", Min: 0, Max: 1, Default: "1"},
	{Name: SysctlIPv6Forward, Min: 0, Max: 1, Default: "0"},
}

// SysctlKeys are the keys of a configuration's sysctl block, sorted.
var SysctlKeys = func() []string {
	var ks []string
	for _, i := range Sysctls {
		if i.Key != "" {
			ks = append(ks, i.Key)
		}
	}
	slices.Sort(ks)
	return ks
}()

// LookupSysctl returns what lvsctl knows of the setting name
// ("net.ipv4.vs.sloppy_tcp").
func LookupSysctl(name string) (SysctlInfo, bool) {
	for _, i := range Sysctls {
		if i.Name == name {
			return i, true
		}
	}
	return SysctlInfo{}, false
}

// LookupSysctlKey returns the setting a sysctl block's key names.
func LookupSysctlKey(key string) (SysctlInfo, bool) {
	for _, i := range Sysctls {
		if i.Key != "" && i.Key == key {
			return i, true
		}
	}
	return SysctlInfo{}, false
}

// ValidateSysctl checks a desired setting: a name lvsctl manages and a
// decimal value in its range. The name is never a path: lvsctl writes only
// the files of [Sysctls], whatever a saved plan says.
func ValidateSysctl(s Sysctl) error {
	info, ok := LookupSysctl(s.Name)
	if !ok {
		return fmt.Errorf("%q is not a kernel setting lvsctl manages", s.Name)
	}
	v, err := strconv.ParseInt(s.Value, 10, 64)
	if err != nil || strconv.FormatInt(v, 10) != s.Value {
		return fmt.Errorf("%s: value %q is not a decimal integer", s.Name, s.Value)
	}
	if v < info.Min || v > info.Max {
		return fmt.Errorf("%s: value %d is out of range %d..%d", s.Name, v, info.Min, info.Max)
	}
	return nil
}

// NeededSysctls returns the settings that t's forwarding needs on the
// director, with the reason for each.
//
// LVS-NAT rewrites the replies of the real servers, which send them to
// the client through the director as their gateway: to the director they
// are packets to forward, not to deliver. IPVS catches them in the
// netfilter FORWARD hook (ip_vs_reply4 and ip_vs_reply6), which the kernel
// reaches only when forwarding is on: with net.ipv4.ip_forward=0
// ip_route_input sends them to ip_error, and with
// net.ipv6.conf.all.forwarding=0 ip6_forward drops them before the hook
// (it checks devconf_all->forwarding first). The requests need nothing:
// they are for the VIP, a local address. DR and TUN replies bypass the
// director, and a local real server is delivered to, so only NAT real
// servers count, per address family of the service (a fwmark service's
// family says which). Writing net.ipv4.ip_forward sets forwarding on every
// interface too (devinet_sysctl_forward), and net.ipv6.conf.all.forwarding
// likewise for IPv6, which makes the host a router: it then ignores router
// advertisements on interfaces whose accept_ra is not 2.
func NeededSysctls(t *Table) []Sysctl {
	var v4, v6 bool
	for _, s := range t.Services {
		if t.Ignore.IsZero() || !t.Ignore.Matches(s.Key) {
			for _, d := range s.Dests {
				if d.Opts.Forward == Masq {
					v4 = v4 || s.Key.Family == IPv4
					v6 = v6 || s.Key.Family == IPv6
				}
			}
		}
	}
	var out []Sysctl
	if v4 {
		out = append(out, Sysctl{Name: SysctlIPv4Forward, Value: "1", Reason: "IPv4 NAT"})
	}
	if v6 {
		out = append(out, Sysctl{Name: SysctlIPv6Forward, Value: "1", Reason: "IPv6 NAT"})
	}
	return out
}

// SortSysctls sorts ss by name.
func SortSysctls(ss []Sysctl) {
	slices.SortFunc(ss, func(a, b Sysctl) int { return cmp.Compare(a.Name, b.Name) })
}

// Sysctl returns the setting named name in t, and whether t has it.
func (t *Table) Sysctl(name string) (Sysctl, bool) {
	for _, s := range t.Sysctls {
		if s.Name == name {
			return s, true
		}
	}
	return Sysctl{}, false
}
