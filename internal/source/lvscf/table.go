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
// Active virtual blocks that share a fwmark (Red Hat's HTTP and HTTPS on
// one mark) make one service, with the first block's settings: lvsd's
// `ipvsadm -A -f MARK` for a later block failed, as the service existed.
// Unlike lvsd, which then started no nanny for the later block's servers
// and so never added them, lvsctl adds them to the service; a server that
// is one of the service's real servers already (the same address and
// port, or in direct routing and tunnelling the same address, as those
// keep the packet's port) is not added twice. Parse warns about each such
// merge.
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
	t, errs := f.table()
	if len(errs) > 0 {
		return nil, capped(errs)
	}
	return t, nil
}

// table builds the table and returns it with the errors found, sorted by
// line, uncapped; problems that follow from a line that had an error of
// its own are left out (see place). The table is normalized even when it
// has errors, so that the conversion can go on to find its own; it is nil
// only for service = fos.
func (f *File) table() (*lvs.Table, Errors) {
	if f.Service == "fos" {
		at := f.at("service", place{})
		return nil, Errors{{File: f.Name, Line: at.line, Col: at.col, Msg: MsgBadArgument,
			Detail: "service = fos runs failover services, which are not IPVS virtual servers; lvsctl builds no IPVS table from this file"}}
	}
	var errs Errors
	add := func(at place, msg, detail string) {
		if !at.bad {
			errs = append(errs, &Error{File: f.Name, Line: at.line, Col: at.col, Msg: msg, Detail: detail})
		}
	}
	fwd := f.forward()
	t := &lvs.Table{Timeouts: lvs.Timeouts{
		TCP:    time.Duration(f.TCPTimeout) * time.Second,
		TCPFin: time.Duration(f.TCPFinTimeout) * time.Second,
		UDP:    time.Duration(f.UDPTimeout) * time.Second,
	}}
	layouts := f.layout()
	for _, l := range layouts {
		v := l.v
		svc := lvs.Service{Name: v.Name, Key: key(v), Opts: lvs.ServiceOpts{Scheduler: v.Scheduler}}
		if v.Persistent > 0 {
			svc.Opts.Persistent = true
			svc.Opts.Timeout = uint32(v.Persistent)
			svc.Opts.Netmask = 32
			if v.PMask.IsValid() {
				bits, ok := maskBits(v.PMask)
				if !ok {
					add(v.at("pmask"), MsgBadNetmask,
						fmt.Sprintf("virtual %s: pmask %s is not contiguous; lvsctl takes persistence netmasks as prefix lengths (such as 255.255.255.0)", show(v.Name), v.PMask))
				}
				svc.Opts.Netmask = uint8(bits)
			}
		}
		for _, m := range l.dests {
			svc.Dests = append(svc.Dests, lvs.Dest{
				Addr: f.destAddr(m.v, m.s),
				Name: m.s.Name,
				Opts: lvs.DestOpts{Forward: fwd, Weight: m.s.Weight},
			})
		}
		t.Services = append(t.Services, svc)
	}
	for _, pr := range t.Validate() {
		var at place
		where := ""
		switch {
		case pr.Service < 0:
			at = f.at(timeoutKey(pr.Msg), place{})
		case pr.Dest < 0:
			v := layouts[pr.Service].v
			at = v.at(virtualKeyFor(pr.Field))
			where = "virtual " + show(v.Name) + ": "
		default:
			m := layouts[pr.Service].dests[pr.Dest]
			switch pr.Field {
			case lvs.FieldForwarding:
				at = f.at("network", m.s.at(""))
			case lvs.FieldPort:
				// A wrong port is either the server's own or inherited.
				at = m.s.at("port")
			default:
				at = m.s.at(serverKeyFor(pr.Field))
			}
			where = "virtual " + show(m.v.Name) + ", server " + show(m.s.Name) + ": "
		}
		add(at, MsgBadArgument, where+pr.Msg)
	}
	slices.SortStableFunc(errs, func(a, b *Error) int { return cmp.Compare(a.Line, b.Line) })
	t.Normalize()
	return t, errs
}

// forward is the forwarding method of every real server (network).
func (f *File) forward() lvs.Forward {
	return map[string]lvs.Forward{"nat": lvs.Masq, "direct": lvs.Route, "tunnel": lvs.Tunnel}[f.Network]
}

// destAddr is the real server address the table gives server s of v:
// ipvsadm -a forces the service port for -g and -i, except in a fwmark
// service.
func (f *File) destAddr(v *Virtual, s *Server) netip.AddrPort {
	port := s.Port
	if f.forward() != lvs.Masq && v.FWMark == 0 {
		port = v.Port
	}
	return netip.AddrPortFrom(addrOrZero(s.Address), uint16(port))
}

// A member is an active server and the virtual block it is written in.
type member struct {
	v *Virtual
	s *Server
}

// A layout is one service of the table: the active virtual blocks that
// make it (one, or all those that share a fwmark; v is the first, whose
// settings the service has), its real servers in order, and the servers of
// later blocks that are real servers of it already.
type layout struct {
	v      *Virtual
	blocks []*Virtual
	dests  []member
	dups   []dup
}

// A dup is a server of a later block sharing a fwmark that is the
// service's real server dests[of] already.
type dup struct {
	member
	of int
}

// layout returns the services of the table in file order (see Table).
func (f *File) layout() []layout {
	var ls []layout
	byMark := map[uint32]int{}
	fwd := f.forward()
	for _, v := range f.Virtuals {
		if !v.Active {
			continue
		}
		i, merged := byMark[v.FWMark]
		if v.FWMark == 0 || !merged {
			if v.FWMark != 0 {
				byMark[v.FWMark] = len(ls)
			}
			i = len(ls)
			ls = append(ls, layout{v: v})
		}
		l := &ls[i]
		l.blocks = append(l.blocks, v)
		// The servers already in the service, by address (direct
		// routing and tunnelling keep the packet's port) or by address
		// and port (NAT sends to the server's port).
		seen := map[netip.AddrPort]int{}
		if merged {
			for j, m := range l.dests {
				seen[f.sameKey(fwd, f.destAddr(m.v, m.s))] = j
			}
		}
		for _, s := range v.Servers {
			if !s.Active {
				continue
			}
			if merged {
				if j, ok := seen[f.sameKey(fwd, f.destAddr(v, s))]; ok {
					l.dups = append(l.dups, dup{member{v, s}, j})
					continue
				}
			}
			l.dests = append(l.dests, member{v, s})
		}
	}
	return ls
}

// sameKey is what makes two servers of a fwmark service one real server.
func (f *File) sameKey(fwd lvs.Forward, a netip.AddrPort) netip.AddrPort {
	if fwd == lvs.Masq {
		return a
	}
	return netip.AddrPortFrom(a.Addr(), 0)
}

func addrOrZero(a netip.Addr) netip.Addr {
	if a.IsValid() {
		return a
	}
	// Piranha's default for a missing address is 0.0.0.0, which Validate
	// then refuses with a clear message.
	return netip.IPv4Unspecified()
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

func virtualKeyFor(field string) string {
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
