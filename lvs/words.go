package lvs

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// The words of the domain — protocols, forwarding methods, tunnel types
// and checksum options, scheduler flags, persistence engines — are
// spelled in the tables of this file and nowhere else: the name that the
// configuration (HCL), lvsctl's JSON and plans use, the other names
// parsers accept, and how ipvsadm writes the word (an option of its
// command line, a column of its listing). The parsers and writers of the
// other packages take their spellings from here, so that a new word, or a
// new spelling of one, is added in one place.

// An IpvsadmOption is an option of ipvsadm's command line: its long name
// and its one-letter short name (0 when it has none).
type IpvsadmOption struct {
	Long  string
	Short byte
}

// String returns the option as "ipvsadm -S" writes it: "-t" when it has a
// short name, else "--sctp-service".
func (o IpvsadmOption) String() string {
	if o.Short != 0 {
		return "-" + string(o.Short)
	}
	return "--" + o.Long
}

// orList joins names as messages list choices: "tcp, udp or sctp".
func orList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// kernelValues lists the n values of an enumeration that the kernel
// numbers from 0, with their names: "0 (nat), 1 (local), 2 (tun) and 3 (dr)".
func kernelValues(n int, name func(int) string) string {
	parts := make([]string, n)
	for i := range n {
		parts[i] = fmt.Sprintf("%d (%s)", i, name(i))
	}
	if n < 2 {
		return strings.Join(parts, "")
	}
	return strings.Join(parts[:n-1], ", ") + " and " + parts[n-1]
}

// Protocols.

var protocolWords = []struct {
	p       Protocol
	name    string        // configuration, JSON, plans
	ipvsadm IpvsadmOption // the option that names a service of this protocol
	list    string        // ipvsadm -L
}{
	{TCP, "tcp", IpvsadmOption{"tcp-service", 't'}, "TCP"},
	{UDP, "udp", IpvsadmOption{"udp-service", 'u'}, "UDP"},
	{SCTP, "sctp", IpvsadmOption{"sctp-service", 0}, "SCTP"},
}

// Protocols are the protocols IPVS balances, in the order messages list
// them.
var Protocols = []Protocol{TCP, UDP, SCTP}

// ProtocolNames are the names of [Protocols]: "tcp", "udp", "sctp".
var ProtocolNames = []string{TCP.String(), UDP.String(), SCTP.String()}

func (p Protocol) String() string {
	for _, w := range protocolWords {
		if w.p == p {
			return w.name
		}
	}
	if p == 0 {
		return ""
	}
	return fmt.Sprintf("proto(%d)", uint16(p))
}

// ParseProtocol parses "tcp", "udp" or "sctp".
func ParseProtocol(s string) (Protocol, error) {
	for _, w := range protocolWords {
		if w.name == s {
			return w.p, nil
		}
	}
	return 0, fmt.Errorf("unknown protocol %q: use %s", s, orList(ProtocolNames))
}

// IpvsadmOption returns the ipvsadm option that names a service of
// protocol p (-t, -u, --sctp-service), or the zero option for a protocol
// IPVS does not balance.
func (p Protocol) IpvsadmOption() IpvsadmOption {
	for _, w := range protocolWords {
		if w.p == p {
			return w.ipvsadm
		}
	}
	return IpvsadmOption{}
}

// IpvsadmListName returns p as "ipvsadm -L" shows it ("TCP"), or "?".
func (p Protocol) IpvsadmListName() string {
	for _, w := range protocolWords {
		if w.p == p {
			return w.list
		}
	}
	return "?"
}

// Forwarding methods.

var forwardWords = [...]struct {
	name    string
	aliases []string      // other names ParseForward accepts
	ipvsadm IpvsadmOption // ipvsadm -a and -e
	list    string        // ipvsadm -L's Forward column
}{
	Masq:   {"nat", []string{"masq", "masquerading"}, IpvsadmOption{"masquerading", 'm'}, "Masq"},
	Local:  {"local", nil, IpvsadmOption{"gatewaying", 'g'}, "Local"}, // ipvsadm saves the kernel's Local as -g
	Tunnel: {"tun", []string{"tunnel", "ipip"}, IpvsadmOption{"ipip", 'i'}, "Tunnel"},
	Route:  {"dr", []string{"route", "direct", "gatewaying"}, IpvsadmOption{"gatewaying", 'g'}, "Route"},
}

// Forwards are the forwarding methods a configuration chooses from, in
// the order messages list them. [Local] is not one: only the kernel sets it.
var Forwards = []Forward{Masq, Route, Tunnel}

// ForwardNames are the names of [Forwards]: "nat", "dr", "tun".
var ForwardNames = []string{Masq.String(), Route.String(), Tunnel.String()}

func (f Forward) String() string {
	if int(f) < len(forwardWords) {
		return forwardWords[f].name
	}
	return fmt.Sprintf("forward(%d)", uint8(f))
}

// ParseForward parses "nat", "dr" or "tun", or one of their other names:
// "masq", "masquerading", "route", "direct", "gatewaying", "tunnel",
// "ipip" (ipvsadm's options and piranha's words). It does not parse
// "local": only the kernel sets [Local].
func ParseForward(s string) (Forward, error) {
	for _, f := range Forwards {
		w := forwardWords[f]
		if w.name == s || slices.Contains(w.aliases, s) {
			return f, nil
		}
	}
	return 0, fmt.Errorf("unknown forwarding method %q: use %s", s, orList(ForwardNames))
}

// IpvsadmOption returns the ipvsadm option for f (-m, -g, -i; -g for
// Local, as ipvsadm saves it), or the zero option for an unknown method.
func (f Forward) IpvsadmOption() IpvsadmOption {
	if int(f) < len(forwardWords) {
		return forwardWords[f].ipvsadm
	}
	return IpvsadmOption{}
}

// IpvsadmListName returns f as ipvsadm -L's Forward column shows it
// ("Masq", "Local", "Tunnel", "Route"), or "(null)" as ipvsadm prints an
// unknown method.
func (f Forward) IpvsadmListName() string {
	if int(f) < len(forwardWords) {
		return forwardWords[f].list
	}
	return "(null)"
}

// Tunnel types. ipvsadm's --tun-type and -L --tun-info use these names too.

var tunnelTypeNames = [...]string{IPIP: "ipip", GUE: "gue", GRE: "gre"}

// TunnelTypes are the tunnel types, in the order messages list them.
var TunnelTypes = []TunnelType{IPIP, GUE, GRE}

// TunnelTypeNames are the names of [TunnelTypes]: "ipip", "gue", "gre".
var TunnelTypeNames = tunnelTypeNames[:]

func (t TunnelType) String() string {
	if int(t) < len(tunnelTypeNames) {
		return tunnelTypeNames[t]
	}
	return fmt.Sprintf("tunnel(%d)", uint8(t))
}

// ParseTunnelType parses "ipip", "gue" or "gre".
func ParseTunnelType(s string) (TunnelType, error) {
	for _, t := range TunnelTypes {
		if tunnelTypeNames[t] == s {
			return t, nil
		}
	}
	return 0, fmt.Errorf("unknown tunnel type %q: use %s", s, orList(TunnelTypeNames))
}

// Tunnel checksum options: the values of TunnelFlags that the kernel has.

type checksumWord struct {
	f       TunnelFlags
	name    string
	ipvsadm IpvsadmOption
	info    string // ipvsadm -L --tun-info
}

var checksumWords = []checksumWord{
	{0, "nocsum", IpvsadmOption{"tun-nocsum", 0}, "-c"},
	{TunnelCsum, "csum", IpvsadmOption{"tun-csum", 0}, "+c"},
	{TunnelRemCsum, "remcsum", IpvsadmOption{"tun-remcsum", 0}, "r+c"},
}

// Checksums are the checksum options of GUE and GRE tunnels, in the order
// messages list them: no checksum, checksum, remote checksum offload.
var Checksums = []TunnelFlags{0, TunnelCsum, TunnelRemCsum}

// ChecksumNames are the names of [Checksums]: "nocsum", "csum", "remcsum".
var ChecksumNames = []string{TunnelFlags(0).String(), TunnelCsum.String(), TunnelRemCsum.String()}

// String returns the checksum option f is ("nocsum", "csum" or
// "remcsum"), or "flags(N)" for a value that is none of them.
func (f TunnelFlags) String() string {
	if w, ok := lookupChecksum(f); ok {
		return w.name
	}
	return fmt.Sprintf("flags(%d)", uint16(f))
}

// IsChecksum reports whether f is one of [Checksums].
func (f TunnelFlags) IsChecksum() bool {
	_, ok := lookupChecksum(f)
	return ok
}

func lookupChecksum(f TunnelFlags) (checksumWord, bool) {
	for _, w := range checksumWords {
		if w.f == f {
			return w, true
		}
	}
	return checksumWord{}, false
}

// ParseChecksum parses "nocsum", "csum" or "remcsum".
func ParseChecksum(s string) (TunnelFlags, error) {
	for _, w := range checksumWords {
		if w.name == s {
			return w.f, nil
		}
	}
	return 0, fmt.Errorf("unknown tunnel checksum %q: use %s", s, orList(ChecksumNames))
}

// IpvsadmOption returns the ipvsadm option for the checksum option f
// (--tun-nocsum, --tun-csum, --tun-remcsum), or the zero option when f is
// not one of [Checksums].
func (f TunnelFlags) IpvsadmOption() IpvsadmOption {
	w, ok := lookupChecksum(f)
	if !ok {
		return IpvsadmOption{}
	}
	return w.ipvsadm
}

// IpvsadmInfo returns the checksum option f as ipvsadm -L --tun-info
// shows it ("-c", "+c", "r+c"), or "" when f is not one of [Checksums].
func (f TunnelFlags) IpvsadmInfo() string {
	w, ok := lookupChecksum(f)
	if !ok {
		return ""
	}
	return w.info
}

// Scheduler flags.

// schedFlagWords are the names of the scheduler flags, as the
// configuration, JSON, plans and ipvsadm's -b write them, in the order
// messages list them: the generic names of the raw bits, then the names
// some schedulers give them, each scheduler's in bit order.
var schedFlagWords = []struct {
	name  string
	sched string // the scheduler the name belongs to; "" for any
	flag  SchedFlags
}{
	{"flag-1", "", SchedFlag1},
	{"flag-2", "", SchedFlag2},
	{"flag-3", "", SchedFlag3},
	{"sh-fallback", "sh", SchedFlag1},
	{"sh-port", "sh", SchedFlag2},
	{"mh-fallback", "mh", SchedFlag1},
	{"mh-port", "mh", SchedFlag2},
}

// SchedFlagNames are the names of the scheduler flags: "flag-1",
// "flag-2", "flag-3", then the scheduler's own names "sh-fallback",
// "sh-port", "mh-fallback", "mh-port".
var SchedFlagNames = func() []string {
	names := make([]string, len(schedFlagWords))
	for i, w := range schedFlagWords {
		names[i] = w.name
	}
	return names
}()

// LookupSchedFlag returns the flag called name and the scheduler the name
// belongs to ("" for the generic names flag-1, flag-2 and flag-3).
func LookupSchedFlag(name string) (f SchedFlags, sched string, ok bool) {
	for _, w := range schedFlagWords {
		if w.name == name {
			return w.flag, w.sched, true
		}
	}
	return 0, "", false
}

// ParseSchedFlag parses the name of a scheduler flag of scheduler sched,
// as ipvsadm -b does: a generic name, or one of sched's own names.
func ParseSchedFlag(sched, name string) (SchedFlags, error) {
	f, owner, ok := LookupSchedFlag(name)
	switch {
	case !ok:
		return 0, fmt.Errorf("unknown scheduler flag %q: use %s", name, orList(SchedFlagNames))
	case owner != "" && owner != sched:
		return 0, fmt.Errorf("scheduler flag %q is for the %s scheduler, not %s", name, owner, sched)
	}
	return f, nil
}

// schedFlagName returns the name of flag that belongs to sched: its own
// name for flag, or the generic one when sched is "" or has none.
func schedFlagName(sched string, flag SchedFlags) string {
	generic := ""
	for _, w := range schedFlagWords {
		switch {
		case w.flag != flag:
		case w.sched == "":
			generic = w.name
		case w.sched == sched:
			return w.name
		}
	}
	return generic
}

// ownsFlagNames reports whether sched has names of its own for flags.
func ownsFlagNames(sched string) bool {
	for _, w := range schedFlagWords {
		if sched != "" && w.sched == sched {
			return true
		}
	}
	return false
}

// Names returns the names of the flags of f for scheduler sched, as the
// configuration, JSON and plans write them, lowest bit first: sched's own
// name for a flag it names ("sh-fallback"), else the generic one
// ("flag-3"). Bits beyond [SchedFlagsMask] are left out.
func (f SchedFlags) Names(sched string) []string {
	var names []string
	for _, flag := range []SchedFlags{SchedFlag1, SchedFlag2, SchedFlag3} {
		if f&flag != 0 {
			names = append(names, schedFlagName(sched, flag))
		}
	}
	return names
}

// IpvsadmNames returns the names of the flags of f as ipvsadm 1.31 writes
// them for scheduler sched (-S's -b, -L's parentheses): like [SchedFlags.Names],
// except that a scheduler that names flags of its own (sh, mh) shows only
// those, so that its flag-3 is not shown at all.
func (f SchedFlags) IpvsadmNames(sched string) []string {
	if !ownsFlagNames(sched) {
		return f.Names(sched)
	}
	var names []string
	for _, w := range schedFlagWords {
		if w.sched == sched && f&w.flag != 0 {
			names = append(names, w.name)
		}
	}
	return names
}

// Persistence engines.

// PersistenceEngines are the kernel's persistence engines (ip_vs_pe_<name>.ko).
var PersistenceEngines = []string{"sip"}

// CheckPE returns an error unless name is one of [PersistenceEngines].
func CheckPE(name string) error {
	if len(name) <= MaxPENameLen && slices.Contains(PersistenceEngines, name) {
		return nil
	}
	has := orList(PersistenceEngines)
	if len(PersistenceEngines) == 1 {
		has = "only " + has
	}
	return fmt.Errorf("unknown persistence engine %q: the kernel has %s", name, has)
}

// Netmasks.

// FormatNetmask writes a persistence netmask, a prefix length, as the
// configuration, plans and ipvsadm write it: a dotted quad for IPv4
// ("255.255.255.0"; a length above 32 is written as 32), the prefix length
// for IPv6 ("64").
func FormatNetmask(f Family, bits uint8) string {
	if f == IPv6 {
		return strconv.Itoa(int(bits))
	}
	var m uint32
	if bits > 0 {
		m = ^uint32(0) << (32 - min(uint32(bits), 32))
	}
	return fmt.Sprintf("%d.%d.%d.%d", m>>24, m>>16&0xff, m>>8&0xff, m&0xff)
}
