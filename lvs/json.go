package lvs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The JSON form of a Table is what "lvsctl show --json" prints and what
// "lvsctl plan --live FILE" reads. Its names are those of the HCL
// configuration, and its shape is stable: new fields may be added, none
// is renamed or removed.
//
//	{
//	  "services": [
//	    {
//	      "name": "web",                    // optional
//	      "protocol": "tcp",                // address services: protocol
//	      "address": "10.0.0.2:80",         //   and address
//	      "fwmark": 100, "family": "ipv6",  // or a firewall-mark service
//	      "scheduler": "wlc",
//	      "scheduler_flags": ["sh-fallback", "sh-port"],
//	      "persistence": {"timeout": 360, "netmask": "255.255.255.0"},
//	      "pe": "sip",
//	      "one_packet": true,
//	      "stats": {"conns": 0, "in_pkts": 0, ..., "out_bps": 0},
//	      "real_servers": [
//	        {
//	          "name": "real1",
//	          "address": "192.168.10.100:80",
//	          "weight": 1,
//	          "forwarding": "nat",          // nat, dr, tun or local
//	          "upper_threshold": 0, "lower_threshold": 0,
//	          "tunnel_type": "gue", "tunnel_port": 6080, "tunnel_checksum": "csum",
//	          "active_conns": 0, "inactive_conns": 0, "persistent_conns": 0,
//	          "stats": {...}
//	        }
//	      ]
//	    }
//	  ],
//	  "timeouts": {"tcp": 900, "tcp_fin": 120, "udp": 300},
//	  "ignore": {"prefixes": ["10.96.0.0/12"], "fwmarks": [7], "ports": [53]},
//	  "sysctls": [{"name": "net.ipv4.vs.sloppy_tcp", "value": 1}]
//	}
//
// sysctls are the kernel settings read with the table (show reads every
// one lvsctl manages, [Sysctls]); a setting the kernel lacks, or that was
// not read, is not in the list, which is absent from a table read with
// none.
//
// Timeouts are in seconds (0: unknown, or leave as it is). An IPv4
// persistence netmask is a dotted quad and an IPv6 one a prefix length;
// either family also reads a prefix length as a number or "/N". The tunnel
// fields appear only with "forwarding": "tun"; tunnel_checksum is "nocsum",
// "csum" or "remcsum". When reading, scheduler defaults to wlc, weight to
// 1, forwarding to nat, family to ipv4, a persistence timeout to 360, and a
// real server without a port takes the port of its service.

type jsonTable struct {
	Services []jsonService `json:"services"`
	Timeouts jsonTimeouts  `json:"timeouts"`
	Ignore   *jsonIgnore   `json:"ignore,omitempty"`
	Sysctls  []jsonSysctl  `json:"sysctls,omitempty"`
}

type jsonSysctl struct {
	Name  string `json:"name"`
	Value *int64 `json:"value"`
}

type jsonTimeouts struct {
	TCP    int64 `json:"tcp"`
	TCPFin int64 `json:"tcp_fin"`
	UDP    int64 `json:"udp"`
}

type jsonIgnore struct {
	Prefixes []string `json:"prefixes,omitempty"`
	FWMarks  []uint32 `json:"fwmarks,omitempty"`
	Ports    []uint16 `json:"ports,omitempty"`
}

type jsonService struct {
	Name           string           `json:"name,omitempty"`
	Protocol       string           `json:"protocol,omitempty"`
	Address        string           `json:"address,omitempty"`
	FWMark         uint32           `json:"fwmark,omitempty"`
	Family         string           `json:"family,omitempty"`
	Scheduler      string           `json:"scheduler"`
	SchedulerFlags []string         `json:"scheduler_flags,omitempty"`
	Persistence    *jsonPersistence `json:"persistence,omitempty"`
	PE             string           `json:"pe,omitempty"`
	OnePacket      bool             `json:"one_packet,omitempty"`
	Stats          *jsonStats       `json:"stats,omitempty"`
	RealServers    []jsonDest       `json:"real_servers"`
}

type jsonPersistence struct {
	Timeout *uint32         `json:"timeout"`
	Netmask json.RawMessage `json:"netmask,omitempty"`
}

type jsonDest struct {
	Name            string     `json:"name,omitempty"`
	Address         string     `json:"address"`
	Weight          *int       `json:"weight"`
	Forwarding      string     `json:"forwarding"`
	UpperThreshold  uint32     `json:"upper_threshold"`
	LowerThreshold  uint32     `json:"lower_threshold"`
	TunnelType      string     `json:"tunnel_type,omitempty"`
	TunnelPort      uint16     `json:"tunnel_port,omitempty"`
	TunnelChecksum  string     `json:"tunnel_checksum,omitempty"`
	ActiveConns     uint32     `json:"active_conns"`
	InactiveConns   uint32     `json:"inactive_conns"`
	PersistentConns uint32     `json:"persistent_conns"`
	Stats           *jsonStats `json:"stats,omitempty"`
}

type jsonStats struct {
	Conns    uint64 `json:"conns"`
	InPkts   uint64 `json:"in_pkts"`
	OutPkts  uint64 `json:"out_pkts"`
	InBytes  uint64 `json:"in_bytes"`
	OutBytes uint64 `json:"out_bytes"`
	CPS      uint64 `json:"cps"`
	InPPS    uint64 `json:"in_pps"`
	OutPPS   uint64 `json:"out_pps"`
	InBPS    uint64 `json:"in_bps"`
	OutBPS   uint64 `json:"out_bps"`
}

// MarshalJSON returns t in lvsctl's JSON form, indented, services and
// real servers in table order.
func (t Table) MarshalJSON() ([]byte, error) {
	jt := jsonTable{Services: []jsonService{}, Timeouts: jsonTimeouts{
		TCP: int64(t.Timeouts.TCP / time.Second), TCPFin: int64(t.Timeouts.TCPFin / time.Second), UDP: int64(t.Timeouts.UDP / time.Second),
	}}
	if !t.Ignore.IsZero() {
		ig := &jsonIgnore{FWMarks: t.Ignore.FWMarks, Ports: t.Ignore.Ports}
		for _, p := range t.Ignore.Prefixes {
			ig.Prefixes = append(ig.Prefixes, p.String())
		}
		jt.Ignore = ig
	}
	for _, s := range t.Sysctls {
		// The settings lvsctl manages are integers; the kernel prints
		// them as such.
		if v, err := strconv.ParseInt(s.Value, 10, 64); err == nil {
			jt.Sysctls = append(jt.Sysctls, jsonSysctl{Name: s.Name, Value: &v})
		}
	}
	for _, s := range t.Services {
		js := jsonService{
			Name:        s.Name,
			Scheduler:   s.Opts.Scheduler,
			PE:          s.Opts.PE,
			OnePacket:   s.Opts.OnePacket,
			Stats:       statsJSON(s.Stats),
			RealServers: []jsonDest{},
		}
		if s.Key.IsFWMark() {
			js.FWMark, js.Family = s.Key.FWMark, s.Key.Family.String()
		} else {
			js.Protocol, js.Address = s.Key.Protocol.String(), s.Key.AddrPort().String()
		}
		if s.Opts.SchedFlags != 0 {
			js.SchedulerFlags = s.Opts.SchedFlags.Names(s.Opts.Scheduler)
		}
		if s.Opts.Persistent {
			var mask []byte
			if s.Key.Family == IPv6 {
				mask = strconv.AppendUint(nil, uint64(s.Opts.Netmask), 10)
			} else {
				mask = strconv.AppendQuote(nil, FormatNetmask(IPv4, s.Opts.Netmask))
			}
			timeout := s.Opts.Timeout
			js.Persistence = &jsonPersistence{Timeout: &timeout, Netmask: mask}
		}
		for _, d := range s.Dests {
			w := d.Opts.Weight
			jd := jsonDest{
				Name:            d.Name,
				Address:         d.Addr.String(),
				Weight:          &w,
				Forwarding:      d.Opts.Forward.String(),
				UpperThreshold:  d.Opts.UpperThreshold,
				LowerThreshold:  d.Opts.LowerThreshold,
				ActiveConns:     d.Live.ActiveConns,
				InactiveConns:   d.Live.InactConns,
				PersistentConns: d.Live.PersistConns,
				Stats:           statsJSON(d.Live.Stats),
			}
			if d.Opts.Forward == Tunnel {
				jd.TunnelType = d.Opts.TunnelType.String()
				jd.TunnelPort = d.Opts.TunnelPort
				jd.TunnelChecksum = d.Opts.TunnelFlags.String()
			}
			js.RealServers = append(js.RealServers, jd)
		}
		jt.Services = append(jt.Services, js)
	}
	return json.MarshalIndent(jt, "", "  ")
}

func statsJSON(s Stats) *jsonStats {
	return &jsonStats{s.Conns, s.InPkts, s.OutPkts, s.InBytes, s.OutBytes, s.CPS, s.InPPS, s.OutPPS, s.InBPS, s.OutBPS}
}

func (j *jsonStats) stats() Stats {
	if j == nil {
		return Stats{}
	}
	return Stats{j.Conns, j.InPkts, j.OutPkts, j.InBytes, j.OutBytes, j.CPS, j.InPPS, j.OutPPS, j.InBPS, j.OutBPS}
}

// parseNetmask reads a netmask: a prefix length as a JSON number or as
// "/N", or an IPv4 dotted quad.
func parseNetmask(raw json.RawMessage, f Family) (uint8, error) {
	var n uint8
	if err := json.Unmarshal(raw, &n); err == nil {
		return n, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return 0, fmt.Errorf("netmask %s is neither a prefix length nor a dotted quad", raw)
	}
	if rest, ok := strings.CutPrefix(s, "/"); ok {
		v, err := strconv.ParseUint(rest, 10, 8)
		if err != nil {
			return 0, fmt.Errorf("invalid netmask %q: write a prefix length such as /24", s)
		}
		return uint8(v), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() || f == IPv6 {
		if f == IPv6 {
			return 0, fmt.Errorf("invalid IPv6 netmask %q: write a prefix length such as 64", s)
		}
		return 0, fmt.Errorf("invalid netmask %q: write a dotted quad such as 255.255.255.0", s)
	}
	b := a.As4()
	m := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	ones := uint8(0)
	for ones < 32 && m&(1<<(31-ones)) != 0 {
		ones++
	}
	if ones < 32 && m<<ones != 0 {
		return 0, fmt.Errorf("netmask %q is not contiguous", s)
	}
	return ones, nil
}

// parseAddrPort reads "10.0.0.2:80", "[2001:db8::2]:80", or an address
// without a port (port 0).
func parseAddrPort(s string) (netip.AddrPort, bool, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		if ap.Addr().Zone() != "" {
			return netip.AddrPort{}, false, fmt.Errorf("invalid address %q: an address with a zone cannot be used", s)
		}
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), true, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.AddrPort{}, false, fmt.Errorf("invalid address %q: write 10.0.0.2:80 or [2001:db8::2]:80", s)
	}
	return netip.AddrPortFrom(a.Unmap(), 0), false, nil
}

// UnmarshalJSON reads t from lvsctl's JSON form (see [Table.MarshalJSON]).
// Unknown fields are errors, so that a misspelt name is not silently
// dropped; errors name the place ("line 3, column 7" or
// "services[0].real_servers[1].weight"). The table read is validated and
// normalized; on error t is left unchanged.
func (t *Table) UnmarshalJSON(data []byte) error {
	if err := checkJSONShape(data); err != nil {
		return err
	}
	return t.decodeJSON(data)
}

// decodeJSON is UnmarshalJSON after checkJSONShape.
func (t *Table) decodeJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var jt jsonTable
	if err := dec.Decode(&jt); err != nil {
		return jsonError(data, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%s: unexpected data after the table", position(data, dec.InputOffset()-1))
	}
	nt, paths, err := jt.table()
	if err != nil {
		return err
	}
	var errs []error
	problems := nt.Validate()
	for i, p := range problems {
		if i == maxJSONProblems {
			errs = append(errs, fmt.Errorf("and %d more problems", len(problems)-i))
			break
		}
		path := "timeouts"
		switch {
		case p.Service >= 0 && p.Dest >= 0:
			path = fmt.Sprintf("%s.real_servers[%d]", paths[p.Service], p.Dest)
		case p.Service >= 0:
			path = paths[p.Service]
		case p.Field == FieldIgnore:
			path = "ignore"
		}
		if p.Service >= 0 && p.Field != FieldDuplicate {
			path += "." + p.Field
		}
		errs = append(errs, fmt.Errorf("%s: %s", path, p.Msg))
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	nt.Normalize()
	*t = *nt
	return nil
}

// maxJSONProblems is the most problems of the table read that
// [Table.UnmarshalJSON] words; a line says how many more there are.
const maxJSONProblems = 50

// MaxJSONObjects is the most services and real servers, together, that
// [Table.UnmarshalJSON] reads (as many as ipvsadm.ParseSave takes).
const MaxJSONObjects = 1_000_000

// checkJSONShape makes a first pass over a JSON table, before anything is
// decoded, so that no input can make the decoder allocate much more than
// the table it describes: each object in "services" must name an address
// or a fwmark and each in "real_servers" an address (an empty "{}" costs
// three bytes of input, but hundreds of bytes of memory once decoded), and
// there are at most [MaxJSONObjects] of them. The pass allocates only a
// stack as deep as the input nests. It says nothing about input that is
// not valid JSON: the decoder reports that, with its place, before it
// decodes anything.
func checkJSONShape(data []byte) error {
	if !json.Valid(data) {
		return nil
	}
	// What each open array or object is.
	const (
		other    = iota
		table    // the top-level object
		services // its "services" array
		service  // an object in it
		dests    // a service's "real_servers" array
		dest     // an object in it
	)
	type open struct {
		kind    int
		object  bool
		wantKey bool // an object's next string is a key
		n       int  // objects so far in a services or real_servers array
		index   int  // a service's or real server's place in its array
		named   bool // a service or real server has an address or fwmark
	}
	var stack []open
	key := keyOther // the last key read
	objects := 0
	valueEnded := func() {
		if len(stack) > 0 && stack[len(stack)-1].object {
			stack[len(stack)-1].wantKey = true
		}
	}
	for i := 0; i < len(data); {
		switch c := data[i]; c {
		case ' ', '\t', '\n', '\r', ',', ':':
			i++
		case '"':
			end := i + 1
			for data[end] != '"' {
				if data[end] == '\\' {
					end++
				}
				end++
			}
			end++
			if n := len(stack); n > 0 && stack[n-1].wantKey {
				top := &stack[n-1]
				key = jsonKey(data[i:end])
				top.wantKey = false
				if top.kind == service && (key == keyAddress || key == keyFWMark) || top.kind == dest && key == keyAddress {
					top.named = true
				}
			} else {
				valueEnded()
			}
			i = end
		case '{', '[':
			o := open{object: c == '{', wantKey: c == '{'}
			n := len(stack)
			switch {
			case n == 0 && o.object:
				o.kind = table
			case n > 0 && stack[n-1].kind == table && key == keyServices && !o.object:
				o.kind = services
			case n > 0 && stack[n-1].kind == service && key == keyRealServers && !o.object:
				o.kind = dests
			case n > 0 && (stack[n-1].kind == services || stack[n-1].kind == dests) && o.object:
				o.kind, o.index = service, stack[n-1].n
				if stack[n-1].kind == dests {
					o.kind = dest
				}
				stack[n-1].n++
				if objects++; objects > MaxJSONObjects {
					return fmt.Errorf("%s: more than %d services and real servers", position(data, int64(i)), MaxJSONObjects)
				}
			}
			stack = append(stack, o)
			i++
		case '}', ']':
			closed := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			switch {
			case closed.kind == service && !closed.named:
				return fmt.Errorf("services[%d]: a service needs protocol and address, or fwmark", closed.index)
			case closed.kind == dest && !closed.named:
				_, _, err := parseAddrPort("")
				return fmt.Errorf("services[%d].real_servers[%d].address: %v", stack[len(stack)-2].index, closed.index, err)
			}
			valueEnded()
			i++
		default: // a number, true, false or null
			for i < len(data) && !strings.ContainsRune(" \t\n\r,:]}", rune(data[i])) {
				i++
			}
			valueEnded()
		}
	}
	return nil
}

// The keys checkJSONShape looks for.
const (
	keyOther = iota
	keyServices
	keyRealServers
	keyAddress
	keyFWMark
)

// smallestFold is the smallest rune of r's case-fold set, as encoding/json
// folds the non-ASCII runes of names.
func smallestFold(r rune) rune {
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}
		r = r2
	}
}

// jsonKey tells which of the keys checkJSONShape looks for the quoted JSON
// string q is, matched as encoding/json matches field names: unescaped,
// and upper-cased rune by rune.
func jsonKey(q []byte) int {
	if len(q) > 64 {
		return keyOther
	}
	var buf [64]byte
	up := buf[:0]
	for _, c := range q[1 : len(q)-1] {
		if c == '\\' || c >= utf8.RuneSelf {
			// Escapes and non-ASCII runes take the long way: the
			// long s (U+017F) matches S, the Kelvin sign K.
			var s string
			if err := json.Unmarshal(q, &s); err != nil {
				return keyOther
			}
			up = buf[:0]
			for _, r := range s {
				if 'a' <= r && r <= 'z' {
					r -= 'a' - 'A'
				} else if r >= utf8.RuneSelf {
					r = smallestFold(r)
				}
				up = utf8.AppendRune(up, r)
			}
			break
		}
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		up = append(up, c)
	}
	switch string(up) {
	case "SERVICES":
		return keyServices
	case "REAL_SERVERS":
		return keyRealServers
	case "ADDRESS":
		return keyAddress
	case "FWMARK":
		return keyFWMark
	}
	return keyOther
}

func (jt *jsonTable) table() (*Table, []string, error) {
	t := &Table{}
	for i, v := range []int64{jt.Timeouts.TCP, jt.Timeouts.TCPFin, jt.Timeouts.UDP} {
		if v < 0 || v > 1<<31 {
			return nil, nil, fmt.Errorf("timeouts: %s must be between 0 and 2147483648 seconds, not %d", [...]string{"tcp", "tcp_fin", "udp"}[i], v)
		}
	}
	t.Timeouts = Timeouts{
		TCP:    time.Duration(jt.Timeouts.TCP) * time.Second,
		TCPFin: time.Duration(jt.Timeouts.TCPFin) * time.Second,
		UDP:    time.Duration(jt.Timeouts.UDP) * time.Second,
	}
	if ig := jt.Ignore; ig != nil {
		for i, s := range ig.Prefixes {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, nil, fmt.Errorf("ignore.prefixes[%d]: invalid prefix %q: write 10.96.0.0/12 or 2001:db8::/32", i, s)
			}
			t.Ignore.Prefixes = append(t.Ignore.Prefixes, p.Masked())
		}
		t.Ignore.FWMarks, t.Ignore.Ports = ig.FWMarks, ig.Ports
	}
	for i, js := range jt.Sysctls {
		if _, ok := LookupSysctl(js.Name); !ok {
			return nil, nil, fmt.Errorf("sysctls[%d].name: %q is not a kernel setting lvsctl manages", i, js.Name)
		}
		if js.Value == nil {
			return nil, nil, fmt.Errorf("sysctls[%d].value: missing: write the value %s has, a number", i, js.Name)
		}
		if _, dup := t.Sysctl(js.Name); dup {
			return nil, nil, fmt.Errorf("sysctls[%d]: %s is in the list twice", i, js.Name)
		}
		t.Sysctls = append(t.Sysctls, Sysctl{Name: js.Name, Value: strconv.FormatInt(*js.Value, 10)})
	}
	SortSysctls(t.Sysctls)
	paths := make([]string, len(jt.Services))
	if len(jt.Services) > 0 {
		t.Services = make([]Service, 0, len(jt.Services))
	}
	for i := range jt.Services {
		paths[i] = fmt.Sprintf("services[%d]", i)
		s, err := jt.Services[i].service(paths[i])
		if err != nil {
			return nil, nil, err
		}
		t.Services = append(t.Services, s)
	}
	return t, paths, nil
}

func (js *jsonService) service(path string) (Service, error) {
	s := Service{Name: js.Name, Stats: js.Stats.stats()}
	fail := func(field, format string, args ...any) (Service, error) {
		return Service{}, fmt.Errorf("%s.%s: %s", path, field, fmt.Sprintf(format, args...))
	}
	switch {
	case js.FWMark != 0 && (js.Address != "" || js.Protocol != ""):
		return fail("fwmark", "a service has either fwmark or protocol and address, not both")
	case js.FWMark != 0:
		f := IPv4
		switch js.Family {
		case "", "ipv4":
		case "ipv6":
			f = IPv6
		default:
			return fail("family", "unknown family %q: use ipv4 or ipv6", js.Family)
		}
		s.Key = MarkKey(f, js.FWMark)
	case js.Address == "":
		return Service{}, fmt.Errorf("%s: a service needs protocol and address, or fwmark", path)
	default:
		ap, _, err := parseAddrPort(js.Address)
		if err != nil {
			return fail("address", "%v", err)
		}
		if js.Protocol == "" {
			return fail("protocol", "missing: use %s", orList(ProtocolNames))
		}
		proto, err := ParseProtocol(js.Protocol)
		if err != nil {
			return fail("protocol", "%v", err)
		}
		s.Key = AddrKey(proto, ap)
		if js.Family != "" && js.Family != s.Key.Family.String() {
			return fail("family", "%q does not match the address %s", js.Family, js.Address)
		}
	}
	s.Opts = ServiceOpts{Scheduler: js.Scheduler, PE: js.PE, OnePacket: js.OnePacket, Netmask: FullMask(s.Key.Family)}
	sched := js.Scheduler
	if sched == "" {
		sched = "wlc"
	}
	for _, name := range js.SchedulerFlags {
		f, err := ParseSchedFlag(sched, name)
		if err != nil {
			return fail("scheduler_flags", "%v", err)
		}
		s.Opts.SchedFlags |= f
	}
	if p := js.Persistence; p != nil {
		// As with ipvsadm -p, a persistence without a timeout lasts 360s.
		s.Opts.Persistent, s.Opts.Timeout = true, 360
		if p.Timeout != nil {
			s.Opts.Timeout = *p.Timeout
		}
		if len(p.Netmask) > 0 && string(p.Netmask) != "null" {
			m, err := parseNetmask(p.Netmask, s.Key.Family)
			if err != nil {
				return fail("persistence.netmask", "%v", err)
			}
			s.Opts.Netmask = m
		}
	}
	if len(js.RealServers) > 0 {
		s.Dests = make([]Dest, 0, len(js.RealServers))
	}
	for j := range js.RealServers {
		d, err := js.RealServers[j].dest(s.Key)
		if err != nil {
			return Service{}, fmt.Errorf("%s.real_servers[%d].%v", path, j, err)
		}
		s.Dests = append(s.Dests, d)
	}
	return s, nil
}

func (jd *jsonDest) dest(k ServiceKey) (Dest, error) {
	ap, hasPort, err := parseAddrPort(jd.Address)
	if err != nil {
		return Dest{}, fmt.Errorf("address: %v", err)
	}
	if !hasPort {
		ap = netip.AddrPortFrom(ap.Addr(), k.Port)
	}
	d := Dest{Addr: ap, Name: jd.Name, Opts: DestOpts{
		Weight:         1,
		UpperThreshold: jd.UpperThreshold,
		LowerThreshold: jd.LowerThreshold,
	}, Live: DestLive{
		ActiveConns:  jd.ActiveConns,
		InactConns:   jd.InactiveConns,
		PersistConns: jd.PersistentConns,
		Stats:        jd.Stats.stats(),
	}}
	if jd.Weight != nil {
		d.Opts.Weight = *jd.Weight
	}
	switch jd.Forwarding {
	case "":
	case Local.String():
		d.Opts.Forward = Local
	default:
		if d.Opts.Forward, err = ParseForward(jd.Forwarding); err != nil {
			return Dest{}, fmt.Errorf("forwarding: %v", err)
		}
	}
	if jd.TunnelType != "" || jd.TunnelPort != 0 || jd.TunnelChecksum != "" {
		if d.Opts.Forward != Tunnel {
			return Dest{}, fmt.Errorf("tunnel_type: tunnel settings need \"forwarding\": \"tun\"")
		}
		if jd.TunnelType != "" {
			if d.Opts.TunnelType, err = ParseTunnelType(jd.TunnelType); err != nil {
				return Dest{}, fmt.Errorf("tunnel_type: %v", err)
			}
		}
		d.Opts.TunnelPort = jd.TunnelPort
		switch jd.TunnelChecksum {
		case "", "none":
		default:
			if d.Opts.TunnelFlags, err = ParseChecksum(jd.TunnelChecksum); err != nil {
				return Dest{}, fmt.Errorf("tunnel_checksum: %v", err)
			}
		}
	}
	return d, nil
}

// jsonError turns a decoding error into one that says where.
func jsonError(data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		// Offsets count the bytes read, the offending one included.
		return fmt.Errorf("%s: %s", position(data, syn.Offset-1), strings.TrimPrefix(syn.Error(), "json: "))
	case errors.As(err, &typ):
		return fmt.Errorf("%s: %s: a %s cannot be a %s", position(data, typ.Offset-1), typ.Field, typ.Value, typ.Type)
	case errors.Is(err, io.EOF):
		return errors.New("empty input: expected a JSON table such as {\"services\": []}")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("unexpected end of input: the JSON table is cut short")
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	// The decoder does not say where an unknown field is: point at the
	// first place its quoted name appears.
	if name, ok := strings.CutPrefix(msg, "unknown field "); ok {
		if i := bytes.Index(data, []byte(name)); i >= 0 {
			return fmt.Errorf("%s: %s: check the spelling", position(data, int64(i)), msg)
		}
	}
	return errors.New(msg)
}

// position returns "line L, column C" for a byte offset into data.
func position(data []byte, off int64) string {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	line, col := 1, 1
	for _, b := range data[:off] {
		if b == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return fmt.Sprintf("line %d, column %d", line, col)
}
