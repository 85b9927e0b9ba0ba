package kernel

import (
	"strings"

	"github.com/lvsctl/lvsctl/internal/netns"
	"github.com/lvsctl/lvsctl/internal/sysctl"
)

// Sysctl returns the value of a kernel setting of the handle's network
// namespace, named as sysctl(8) names it ("net.ipv4.vs.sloppy_tcp"), read
// from its file under /proc/sys/net in that namespace (the net/ subtree
// is per namespace). An error that wraps fs.ErrNotExist says the kernel
// has no such setting there: the net.ipv4.vs.* settings exist once ip_vs
// is loaded, which opening the handle does where the kernel can.
func (h *IPVS) Sysctl(name string) (string, error) {
	var v string
	err := netns.Do(h.netns, func() (err error) {
		v, err = sysctl.Read(sysctlPath(name))
		return err
	})
	return v, err
}

// SetSysctl writes value to a kernel setting of the handle's network
// namespace (see [IPVS.Sysctl]). Only settings under /proc/sys/net can be
// reached.
func (h *IPVS) SetSysctl(name, value string) error {
	return netns.Do(h.netns, func() error { return sysctl.Write(sysctlPath(name), value) })
}

// sysctlPath is the file under /proc/sys of a dotted name. The names
// lvsctl manages have no dots of their own (no device names).
func sysctlPath(name string) string { return strings.ReplaceAll(name, ".", "/") }
