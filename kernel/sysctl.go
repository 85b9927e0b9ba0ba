package kernel

import (
	"github.com/lvsctl/lvsctl/internal/netns"
	"github.com/lvsctl/lvsctl/internal/sysctl"
	"github.com/lvsctl/lvsctl/lvs"
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
		v, err = sysctl.Read(lvs.SysctlPath(name))
		return err
	})
	return v, err
}

// SetSysctl writes value to a kernel setting of the handle's network
// namespace (see [IPVS.Sysctl]). Only settings under /proc/sys/net can be
// reached.
func (h *IPVS) SetSysctl(name, value string) error {
	return netns.Do(h.netns, func() error { return sysctl.Write(lvs.SysctlPath(name), value) })
}
