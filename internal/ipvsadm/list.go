package ipvsadm

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/lvsctl/lvsctl/lvs"
)

// ListOptions select the variant of "ipvsadm -L -n" that [WriteList]
// prints. At most one of Stats, Rate, Thresholds, PersistentConn and
// TunInfo takes effect; when several are set the first in that order wins,
// as in ipvsadm.
type ListOptions struct {
	// Version and Size are the kernel's IPVS version and connection hash
	// table size for the header line; "1.2.1" and 4096 (the kernel's
	// defaults) when empty.
	Version string
	Size    int

	Stats          bool // --stats: Conns InPkts OutPkts InBytes OutBytes
	Rate           bool // --rate: CPS InPPS OutPPS InBPS OutBPS
	Thresholds     bool // --thresholds: Uthreshold Lthreshold ActiveConn InActConn
	PersistentConn bool // --persistent-conn: Weight PersistConn ActiveConn InActConn
	TunInfo        bool // --tun-info: Forward TunnelInfo Weight ActiveConn InActConn
	Exact          bool // --exact: counters in full, not abbreviated with K, M, G, T
	NoSort         bool // --nosort: services and real servers in table order

	// Timeout prints only the connection timeouts line, as
	// "ipvsadm -L --timeout" does.
	Timeout bool
}

// WriteList writes t as "ipvsadm -L -n" with the options o prints it.
func WriteList(w io.Writer, t *lvs.Table, o ListOptions) error {
	bw := bufio.NewWriter(w)
	if o.Timeout {
		fmt.Fprintf(bw, "Timeout (tcp tcpfin udp): %d %d %d\n",
			seconds(t.Timeouts.TCP), seconds(t.Timeouts.TCPFin), seconds(t.Timeouts.UDP))
		return bw.Flush()
	}
	version, size := o.Version, o.Size
	if version == "" {
		version = "1.2.1"
	}
	if size == 0 {
		size = 4096
	}
	fmt.Fprintf(bw, "IP Virtual Server version %s (size=%d)\n", version, size)
	l := lister{w: bw, o: o}
	l.title()
	for _, s := range sortedServices(t, !o.NoSort) {
		l.service(s)
	}
	return bw.Flush()
}

func seconds(d time.Duration) int64 { return int64(d / time.Second) }

type lister struct {
	w *bufio.Writer
	o ListOptions
}

// The format of one listing, in print_title's order of precedence.
const (
	fmtPlain = iota
	fmtStats
	fmtRate
	fmtThresholds
	fmtPersistentConn
	fmtTunInfo
)

func (l *lister) format() int {
	switch {
	case l.o.Stats:
		return fmtStats
	case l.o.Rate:
		return fmtRate
	case l.o.Thresholds:
		return fmtThresholds
	case l.o.PersistentConn:
		return fmtPersistentConn
	case l.o.TunInfo:
		return fmtTunInfo
	}
	return fmtPlain
}

func (l *lister) title() {
	w := l.w
	switch l.format() {
	case fmtStats:
		fmt.Fprintf(w, "%-33s %8s %8s %8s %8s %8s\n  -> RemoteAddress:Port\n",
			"Prot LocalAddress:Port", "Conns", "InPkts", "OutPkts", "InBytes", "OutBytes")
	case fmtRate:
		fmt.Fprintf(w, "%-33s %8s %8s %8s %8s %8s\n  -> RemoteAddress:Port\n",
			"Prot LocalAddress:Port", "CPS", "InPPS", "OutPPS", "InBPS", "OutBPS")
	case fmtThresholds:
		fmt.Fprintf(w, "%-33s %-10s %-10s %-10s %-10s\n  -> RemoteAddress:Port\n",
			"Prot LocalAddress:Port", "Uthreshold", "Lthreshold", "ActiveConn", "InActConn")
	case fmtPersistentConn:
		fmt.Fprintf(w, "%-33s %-9s %-11s %-10s %-10s\n  -> RemoteAddress:Port\n",
			"Prot LocalAddress:Port", "Weight", "PersistConn", "ActiveConn", "InActConn")
	case fmtTunInfo:
		w.WriteString("Prot LocalAddress:Port Scheduler Flags\n" +
			"  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n")
	default:
		w.WriteString("Prot LocalAddress:Port Scheduler Flags\n" +
			"  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n")
	}
}

// listServiceName is the service as -L names it: "TCP  10.0.0.2:80",
// "FWM  3" or "FWM  3 IPv6".
func listServiceName(k lvs.ServiceKey) string {
	if k.IsFWMark() {
		if k.Family == lvs.IPv6 {
			return fmt.Sprintf("FWM  %d IPv6", k.FWMark)
		}
		return fmt.Sprintf("FWM  %d", k.FWMark)
	}
	name := fmt.Sprintf("%-4s %s", k.Protocol.IpvsadmListName(), addrPort(k.AddrPort()))
	// ipvsadm cuts IPv4 names at 33 bytes (they only get that long with
	// host names, which lvsctl never prints).
	if k.Family != lvs.IPv6 && len(name) > 33 {
		name = name[:33]
	}
	return name
}

func (l *lister) service(s lvs.Service) {
	w := l.w
	name := listServiceName(s.Key)
	f := l.format()
	switch f {
	case fmtStats:
		fmt.Fprintf(w, "%-33s", name)
		l.largenums(s.Stats.Conns, s.Stats.InPkts, s.Stats.OutPkts, s.Stats.InBytes, s.Stats.OutBytes)
	case fmtRate:
		fmt.Fprintf(w, "%-33s", name)
		l.largenums(s.Stats.CPS, s.Stats.InPPS, s.Stats.OutPPS, s.Stats.InBPS, s.Stats.OutBPS)
	default:
		fmt.Fprintf(w, "%s %s", name, s.Opts.Scheduler)
		if s.Opts.SchedFlags&lvs.SchedFlagsMask != 0 {
			fmt.Fprintf(w, " (%s)", SchedFlagNames(s.Opts.Scheduler, s.Opts.SchedFlags))
		}
		if s.Opts.Persistent {
			fmt.Fprintf(w, " persistent %d", s.Opts.Timeout)
			if m, ok := maskString(s.Key.Family, s.Opts.Netmask); ok {
				fmt.Fprintf(w, " mask %s", m)
			}
			if s.Opts.PE != "" {
				fmt.Fprintf(w, " pe %s", s.Opts.PE)
			}
		}
		if s.Opts.OnePacket {
			w.WriteString(" ops")
		}
	}
	w.WriteString("\n")

	for _, d := range s.Dests {
		dname := addrPort(d.Addr)
		if d.Addr.Addr().Unmap().Is4() && len(dname) > 28 {
			dname = dname[:28]
		}
		lv := d.Live
		switch f {
		case fmtStats:
			fmt.Fprintf(w, "  -> %-28s", dname)
			l.largenums(lv.Stats.Conns, lv.Stats.InPkts, lv.Stats.OutPkts, lv.Stats.InBytes, lv.Stats.OutBytes)
			w.WriteString("\n")
		case fmtRate:
			fmt.Fprintf(w, "  -> %-28s %8d %8d %8d", dname, lv.Stats.CPS, lv.Stats.InPPS, lv.Stats.OutPPS)
			l.largenums(lv.Stats.InBPS, lv.Stats.OutBPS)
			w.WriteString("\n")
		case fmtThresholds:
			fmt.Fprintf(w, "  -> %-28s %-10d %-10d %-10d %-10d\n", dname,
				d.Opts.UpperThreshold, d.Opts.LowerThreshold, lv.ActiveConns, lv.InactConns)
		case fmtPersistentConn:
			fmt.Fprintf(w, "  -> %-28s %-9d %-11d %-10d %-10d\n", dname,
				d.Opts.Weight, lv.PersistConns, lv.ActiveConns, lv.InactConns)
		case fmtTunInfo:
			fmt.Fprintf(w, "  -> %-28s %-7s %-13s %-6d %-10d %-10d\n", dname,
				d.Opts.Forward.IpvsadmListName(), tunInfo(d.Opts), d.Opts.Weight, lv.ActiveConns, lv.InactConns)
		default:
			fmt.Fprintf(w, "  -> %-28s %-7s %-6d %-10d %-10d\n", dname,
				d.Opts.Forward.IpvsadmListName(), d.Opts.Weight, lv.ActiveConns, lv.InactConns)
		}
	}
}

func (l *lister) largenums(vs ...uint64) {
	for _, v := range vs {
		l.w.WriteString(largenum(v, l.o.Exact))
	}
}

// largenum is ipvsadm's print_largenum: a right-aligned field of at least
// nine columns, abbreviated to thousands (K), millions (M), billions (G) or
// trillions (T) from 100 million on unless exact.
func largenum(i uint64, exact bool) string {
	if exact {
		s := strconv.FormatUint(i, 10)
		width := len(s) + 1
		if len(s) <= 8 {
			width = 9
		}
		return fmt.Sprintf("%*s", width, s)
	}
	switch {
	case i < 100000000:
		return fmt.Sprintf("%9d", i)
	case i < 1000000000:
		return fmt.Sprintf("%8dK", i/1000)
	case i < 100000000000:
		return fmt.Sprintf("%8dM", i/1000000)
	case i < 100000000000000:
		return fmt.Sprintf("%8dG", i/1000000000)
	}
	return fmt.Sprintf("%8dT", i/1000000000000)
}

// tunInfo is ipvsadm's fwd_tun_info, "n/a" for what is not a tunnel:
// "ipip", "gue:6080:+c", "gre:-c".
func tunInfo(o lvs.DestOpts) string {
	if o.Forward != lvs.Tunnel {
		return "n/a"
	}
	flags := checksum(o.TunnelFlags).IpvsadmInfo()
	switch o.TunnelType {
	case lvs.IPIP:
		return o.TunnelType.String()
	case lvs.GUE:
		return fmt.Sprintf("%s:%d:%s", o.TunnelType, o.TunnelPort, flags)
	case lvs.GRE:
		return o.TunnelType.String() + ":" + flags
	}
	return "n/a"
}
