package lvscf

import (
	"bytes"
	"cmp"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/lvsctl/lvsctl/lvs"
)

// Table returns the IPVS table that piranha's lvsd would have built from f:
// the connection timeouts of `ipvsadm --set` (0 leaves a timeout unchanged),
// and for each virtual block with active = 1 an `ipvsadm -A` service (-f
// MARK, IPv4, when fwmark is set; otherwise -t or -u VIP:port) with its
// scheduler and persistence (pmask unset means /32), and each of its
// servers with active = 1 as a real server: forwarding from the global
// network key (nat, direct, tunnel), its weight, and its port (for direct
// and tunnel address services the virtual's port, which ipvsadm forces).
//
// Piranha's nanny added each real server only after its first successful
// check, and lvsd added the sorry_server only while no real server was up.
// Health is the check command's business, so this table is the configured
// intent: every active server is in it, and no sorry server. Failover
// blocks have no IPVS part and are left out; a file with service = fos has
// no table at all.
//
// The table is checked with [lvs.Table.Validate]; each problem is reported
// at the line of the setting that causes it. The result is normalized.
func (f *File) Table() (*lvs.Table, error) {
	if f.Service == "fos" {
		line := 0
		if s := f.Setting("service"); s != nil {
			line = s.Line
		}
		return nil, Errors{{File: f.Name, Line: line, Msg: MsgBadArgument,
			Detail: "service = fos runs failover services, which are not IPVS virtual servers; lvsctl builds no IPVS table from this file"}}
	}
	var errs Errors
	fwd := map[string]lvs.Forward{"nat": lvs.Masq, "direct": lvs.Route, "tunnel": lvs.Tunnel}[f.Network]
	t := &lvs.Table{Timeouts: lvs.Timeouts{
		TCP:    time.Duration(f.TCPTimeout) * time.Second,
		TCPFin: time.Duration(f.TCPFinTimeout) * time.Second,
		UDP:    time.Duration(f.UDPTimeout) * time.Second,
	}}
	// origin remembers which blocks each service and destination came from,
	// so that a problem can point at a line.
	type origin struct {
		v       *Virtual
		servers []*Server
	}
	var origins []origin
	for _, v := range f.Virtuals {
		if !v.Active {
			continue
		}
		svc := lvs.Service{Name: v.Name, Opts: lvs.ServiceOpts{Scheduler: v.Scheduler}}
		if v.FWMark != 0 {
			svc.Key = lvs.MarkKey(lvs.IPv4, v.FWMark)
		} else {
			proto := lvs.TCP
			if v.Protocol == "udp" {
				proto = lvs.UDP
			}
			svc.Key = lvs.AddrKey(proto, netip.AddrPortFrom(addrOrZero(v.Address), uint16(v.Port)))
		}
		if v.Persistent > 0 {
			svc.Opts.Persistent = true
			svc.Opts.Timeout = uint32(v.Persistent)
			svc.Opts.Netmask = 32
			if v.PMask.IsValid() {
				bits, ok := maskBits(v.PMask)
				if !ok {
					errs = append(errs, &Error{File: f.Name, Line: lineOf(v.Setting("pmask"), v.Line), Msg: MsgBadNetmask,
						Detail: fmt.Sprintf("virtual %s: pmask %s is not contiguous; lvsctl takes persistence netmasks as prefix lengths (such as 255.255.255.0)", show(v.Name), v.PMask)})
				}
				svc.Opts.Netmask = uint8(bits)
			}
		}
		o := origin{v: v}
		for _, s := range v.Servers {
			if !s.Active {
				continue
			}
			port := s.Port
			if fwd != lvs.Masq && v.FWMark == 0 {
				port = v.Port // ipvsadm -a forces the service port for -g and -i
			}
			svc.Dests = append(svc.Dests, lvs.Dest{
				Addr: netip.AddrPortFrom(addrOrZero(s.Address), uint16(port)),
				Name: s.Name,
				Opts: lvs.DestOpts{Forward: fwd, Weight: s.Weight},
			})
			o.servers = append(o.servers, s)
		}
		t.Services = append(t.Services, svc)
		origins = append(origins, o)
	}
	for _, pr := range t.Validate() {
		line := 0
		where := ""
		switch {
		case pr.Service < 0:
			line = lineOf(f.Setting(timeoutKey(pr.Msg)), 0)
		case pr.Dest < 0:
			o := origins[pr.Service]
			line = lineOf(o.v.Setting(virtualKeyFor(pr.Field, o.v)), o.v.Line)
			where = "virtual " + show(o.v.Name) + ": "
		default:
			o := origins[pr.Service]
			s := o.servers[pr.Dest]
			switch pr.Field {
			case lvs.FieldForwarding:
				line = lineOf(f.Setting("network"), s.Line)
			case lvs.FieldPort:
				// A wrong port is either the server's own or inherited.
				line = lineOf(s.Setting("port"), s.Line)
			default:
				line = lineOf(s.Setting(serverKeyFor(pr.Field)), s.Line)
			}
			where = "virtual " + show(o.v.Name) + ", server " + show(s.Name) + ": "
		}
		errs = append(errs, &Error{File: f.Name, Line: line, Msg: MsgBadArgument, Detail: where + pr.Msg})
	}
	if len(errs) > 0 {
		slices.SortStableFunc(errs, func(a, b *Error) int { return cmp.Compare(a.Line, b.Line) })
		return nil, errs.capped()
	}
	t.Normalize()
	return t, nil
}

func addrOrZero(a netip.Addr) netip.Addr {
	if a.IsValid() {
		return a
	}
	// Piranha's default for a missing address is 0.0.0.0, which Validate
	// then refuses with a clear message.
	return netip.IPv4Unspecified()
}

func lineOf(s *Setting, fallback int) int {
	if s != nil {
		return s.Line
	}
	return fallback
}

func timeoutKey(msg string) string {
	switch {
	case strings.Contains(msg, "tcp_fin"):
		return "tcpfin_timeout"
	case strings.Contains(msg, "udp"):
		return "udp_timeout"
	}
	return "tcp_timeout"
}

func virtualKeyFor(field string, v *Virtual) string {
	switch field {
	case lvs.FieldAddress:
		return "address"
	case lvs.FieldPort:
		return "port"
	case lvs.FieldProtocol:
		return "protocol"
	case lvs.FieldFWMark, lvs.FieldFamily:
		return "fwmark"
	case lvs.FieldScheduler:
		return "scheduler"
	case lvs.FieldTimeout:
		return "persistent"
	case lvs.FieldNetmask:
		return "pmask"
	}
	return "" // the block header
}

func serverKeyFor(field string) string {
	switch field {
	case lvs.FieldAddress:
		return "address"
	case lvs.FieldWeight:
		return "weight"
	}
	return ""
}

// knownGlobals are the global keys that mark a file as an lvs.cf.
var knownGlobals = map[string]bool{
	"serial_no": true, "service": true, "primary": true, "primary_private": true,
	"primary_shared": true, "backup": true, "backup_private": true,
	"backup_shared": true, "backup_active": true, "heartbeat": true,
	"heartbeat_port": true, "keepalive": true, "deadtime": true, "network": true,
	"nat_router": true, "nat_nmask": true, "debug_level": true,
	"rsh_command": true, "sync": true, "ipvsadm": true, "monitor_links": true,
	"active_cmd": true, "inactive_cmd": true, "hard_shutdown": true,
	"syncdaemon": true, "syncd_iface": true, "syncd_id": true,
	"tcp_timeout": true, "tcpfin_timeout": true, "udp_timeout": true,
	"reservation_conflict_action": true,
}

// Detect reports whether a file is an lvs.cf rather than lvsctl's HCL: by
// its name (lvs.cf or *.cf), or by its first line that is neither blank nor
// a comment, which must be a known global setting (`serial_no = 70`,
// `service = lvs`, also written `key=value`) or a `virtual NAME {` or
// `failover NAME {` header with an unquoted name (HCL quotes its labels and
// has no such top-level keys). It reads no further than that line, and
// takes no file whose first such line is longer than MaxLineLength.
func Detect(name string, content []byte) bool {
	base := filepath.Base(name)
	if base == "lvs.cf" || strings.HasSuffix(base, ".cf") {
		return true
	}
	// Line by line up to the first setting, without splitting the whole
	// file: it may be anything, of any size.
	for rest := content; len(rest) > 0; {
		i := bytes.IndexAny(rest, "\r\n")
		line := rest
		if i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		if len(line) > MaxLineLength {
			return false
		}
		ln := lexLine(name, 0, string(line))
		if ln.err != nil {
			return false
		}
		if ln.comment != "" || len(ln.toks) == 0 {
			continue
		}
		toks := ln.toks
		switch k := toks[0]; {
		case k.quote != 0:
			return false
		case k.text == "virtual" || k.text == "failover":
			return len(toks) >= 3 && toks[1].quote == 0 && toks[2].text == "{"
		case knownGlobals[k.text]:
			return len(toks) >= 3 && toks[1].text == "="
		}
		return false
	}
	return false
}
