// Package ipvsadm reads and writes ipvsadm's text formats: the rules that
// "ipvsadm -S -n" prints and "ipvsadm -R" reads, and the listing of
// "ipvsadm -L -n".
//
// The writers reproduce ipvsadm 1.31 byte for byte, quirks included: its
// sort order (see the comparators in sort.go), the scheduler flag names, the
// options it never saves (thresholds, connection timeouts) and the
// forwarding method Local printed as -g. One deliberate difference: a
// firewall mark of 2^31 or more is printed unsigned, as ipvsadm does since
// the commit after 1.31, because the negative number that 1.31 prints cannot
// be restored. [ParseSave] reads both forms.
//
// Only numeric output (-n) is produced and read: lvsctl never resolves host
// or service names.
package ipvsadm

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/lvsctl/lvsctl/lvs"
)

// WriteSave writes t as "ipvsadm -S -n" prints it: one -A line per
// service followed by one -a line per real server, in ipvsadm's order.
func WriteSave(w io.Writer, t *lvs.Table) error {
	bw := bufio.NewWriter(w)
	for _, s := range sortedServices(t, true) {
		name := ruleServiceName(s.Key)
		fmt.Fprintf(bw, "-A %s -s %s", name, s.Opts.Scheduler)
		if s.Opts.Persistent {
			fmt.Fprintf(bw, " -p %d", s.Opts.Timeout)
			if m, ok := maskString(s.Key.Family, s.Opts.Netmask); ok {
				fmt.Fprintf(bw, " -M %s", m)
			}
		}
		if s.Opts.PE != "" {
			fmt.Fprintf(bw, " --pe %s", s.Opts.PE)
		}
		if s.Opts.OnePacket {
			bw.WriteString(" -o")
		}
		if s.Opts.SchedFlags&lvs.SchedFlagsMask != 0 {
			// For sh and mh a lone flag-3 has no name, and ipvsadm
			// prints "-b " with nothing after it.
			bw.WriteString(" -b " + SchedFlagNames(s.Opts.Scheduler, s.Opts.SchedFlags))
		}
		bw.WriteString("\n")
		for _, d := range s.Dests {
			dname := addrPort(d.Addr)
			fmt.Fprintf(bw, "-a %s -r %s %s -w %d", name, dname, fwdSwitch(d.Opts.Forward), d.Opts.Weight)
			if d.Opts.Forward == lvs.Tunnel {
				switch d.Opts.TunnelType {
				case lvs.GRE:
					fmt.Fprintf(bw, " --tun-type gre %s", tunFlagOption(d.Opts.TunnelFlags))
				case lvs.GUE:
					fmt.Fprintf(bw, " --tun-type gue --tun-port %d %s", d.Opts.TunnelPort, tunFlagOption(d.Opts.TunnelFlags))
				case lvs.IPIP:
					bw.WriteString(" --tun-type ipip")
				}
			}
			bw.WriteString("\n")
		}
	}
	return bw.Flush()
}

// SchedFlagNames returns the scheduler flags as ipvsadm names them for
// sched, comma-separated: "sh-fallback,sh-port" for sh, "mh-fallback,mh-port"
// for mh (which have no name for flag-3), "flag-1,flag-2,flag-3" otherwise
// (see [lvs.SchedFlags.IpvsadmNames]).
func SchedFlagNames(sched string, f lvs.SchedFlags) string {
	return strings.Join(f.IpvsadmNames(sched), ",")
}

// ruleServiceName is the service as -S names it: "-t 10.0.0.2:80",
// "--sctp-service [2001:db8::2]:80", "-f 3" or "-f 3 -6".
func ruleServiceName(k lvs.ServiceKey) string {
	if k.IsFWMark() {
		if k.Family == lvs.IPv6 {
			return fmt.Sprintf("-f %d -6", k.FWMark)
		}
		return fmt.Sprintf("-f %d", k.FWMark)
	}
	opt := "--xxx-service"
	if o := k.Protocol.IpvsadmOption(); o.Long != "" {
		opt = o.String()
	}
	return opt + " " + addrPort(k.AddrPort())
}

// addrPort formats like ipvsadm's addrport_to_anyname with FMT_NUMERIC:
// IPv6 in brackets, the port always present.
func addrPort(ap netip.AddrPort) string {
	a := ap.Addr().Unmap()
	if a.Is4() {
		return fmt.Sprintf("%s:%d", a, ap.Port())
	}
	return fmt.Sprintf("[%s]:%d", a, ap.Port())
}

// maskString formats a persistence netmask as ipvsadm does (dotted quad for
// IPv4, a prefix length for IPv6) and reports false for the per-client
// mask, which ipvsadm leaves out.
func maskString(f lvs.Family, bits uint8) (string, bool) {
	if f == lvs.IPv6 {
		if bits == 128 {
			return "", false
		}
		return lvs.FormatNetmask(f, bits), true
	}
	if bits >= 32 {
		return "", false
	}
	return lvs.FormatNetmask(f, bits), true
}

// fwdSwitch is ipvsadm's fwd_switch: Local, which only the kernel sets,
// is saved as -g. An unknown method prints as glibc prints a NULL string.
func fwdSwitch(f lvs.Forward) string {
	if o := f.IpvsadmOption(); o.Long != "" {
		return o.String()
	}
	return "(null)"
}

// checksum is the one checksum option ipvsadm reads tunnel flags as:
// remote checksum offload before checksum before none.
func checksum(f lvs.TunnelFlags) lvs.TunnelFlags {
	switch {
	case f&lvs.TunnelRemCsum != 0:
		return lvs.TunnelRemCsum
	case f&lvs.TunnelCsum != 0:
		return lvs.TunnelCsum
	}
	return 0
}

// tunFlagOption is ipvsadm's tun_flags_opts[flags].
func tunFlagOption(f lvs.TunnelFlags) string {
	return checksum(f).IpvsadmOption().String()
}
