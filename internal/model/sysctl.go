package model

import "github.com/lvsctl/lvsctl/lvs"

// SetSysctls sets t.Sysctls to the kernel settings a configuration owns:
// named, those its sysctl block names, and, unless forwardingUnmanaged,
// those t's forwarding needs ([lvs.NeededSysctls]: net.ipv4.ip_forward for
// IPv4 NAT, net.ipv6.conf.all.forwarding for IPv6 NAT), which every
// configuration source gets without asking, since no LVS-NAT director
// works without them. A sysctl block cannot name those, so the two never
// overlap. Every other setting of the namespace is left alone. Call it on
// a table whose services are complete.
func SetSysctls(t *lvs.Table, named []lvs.Sysctl, forwardingUnmanaged bool) {
	ss := append([]lvs.Sysctl(nil), named...)
	if !forwardingUnmanaged {
		ss = append(ss, lvs.NeededSysctls(t)...)
	}
	lvs.SortSysctls(ss)
	t.Sysctls = ss
}
