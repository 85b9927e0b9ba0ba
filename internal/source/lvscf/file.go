// Package lvscf reads Red Hat Piranha's lvs.cf (/etc/sysconfig/ha/lvs.cf)
// exactly as piranha's own parser (lvsconfig.c) did, and builds the IPVS
// table that piranha's lvsd would have set up from it.
//
// It is one of lvsctl's configuration sources (see package model):
// [File.Config] gives what the file means as a model.Config, the same one
// the file's conversion to HCL gives, and [File.Convert] adds what
// config.Write needs to write that conversion.
//
// The grammar is piranha's: line oriented, comments only on lines of their
// own, blank-separated tokens with "=" as a token of its own, quoted values
// without escapes, integers read like C's strtol with base 0 (0x10, 010),
// booleans 0 or 1, and blocks `virtual NAME {`, `failover NAME {` and
// `server NAME {` closed by a `}` alone on its line. Piranha's quirks that
// decide what runs are kept: a repeated key keeps its last value, a server
// takes the virtual's port as parsed so far, pmask 255.255.255.255 means
// unset, and primary_private/backup_private are overwritten when
// primary_private is missing.
//
// Where piranha was merely unfriendly, lvscf accepts the line and says so
// with a [Warning]: `key=value` without blanks, trailing `# comments`, and
// blanks after a closing quote. Everything else piranha rejects is an error
// with the file, line, column and piranha's own message.
//
// Two things differ on purpose, because lvsctl must be deterministic and
// work offline: host fields take IPv4 addresses only (piranha also resolved
// names with gethostbyname), and port names come from a built-in table of
// common services instead of the host's /etc/services.
package lvscf

import (
	"net/netip"
	"slices"
)

// A Comment is a comment line of the source, kept so that a conversion can
// carry it over. Text is the line without its leading blanks, "#" included.
type Comment struct {
	Line int
	Text string
}

// A Setting is one `key = value` line as written. A block keeps its settings
// in source order, repeats included, so that a conversion can follow the
// source and carry each setting's comments along.
type Setting struct {
	Key      string
	Line     int
	Col      int       // byte column of the first value, for diagnostics
	Args     []string  // the values after "=", without their quotes
	Comments []Comment // comment lines right before this one
	// Trailing is a `# comment` after the value on the same line, "#"
	// included; "" when there is none.
	Trailing string
}

// Settings are a block's settings in source order.
type Settings []Setting

// Last returns the setting of key in effect, the last one as in piranha, or
// nil when the key is not set.
func (ss Settings) Last(key string) *Setting {
	for i := len(ss) - 1; i >= 0; i-- {
		if ss[i].Key == key {
			return &ss[i]
		}
	}
	return nil
}

// Quoted is a string value that piranha stores with its quote characters
// (send, expect, send_program, start_cmd, stop_cmd).
type Quoted struct {
	Text  string // the value without quotes
	Quote byte   // '"', '\'' or 0 when the value was not quoted
}

// IsSet reports whether the value was given.
func (q Quoted) IsSet() bool { return q.Quote != 0 || q.Text != "" }

// Raw returns the value as piranha stored it: with its quote characters.
func (q Quoted) Raw() string {
	if q.Quote == 0 {
		return q.Text
	}
	return string(q.Quote) + q.Text + string(q.Quote)
}

// Arg returns the argument lvsd handed to nanny: the stored value with one
// leading and one trailing double quote removed. Single quotes stay, as they
// did in piranha. Backslash escapes are left for the checker to decode.
func (q Quoted) Arg() string {
	s := q.Raw()
	if len(s) > 0 && s[0] == '"' {
		s = s[1:]
	}
	if len(s) > 0 && s[len(s)-1] == '"' {
		s = s[:len(s)-1]
	}
	return s
}

// A File is a parsed lvs.cf: the global settings, the virtual server blocks
// and the failover service blocks, with every value piranha would have used
// (defaults filled in) and where each came from.
type File struct {
	Name string // the file name given to Parse, for diagnostics

	Globals
	Settings Settings // global settings in source order

	Virtuals  []*Virtual // `virtual NAME {` blocks in source order
	Failovers []*Virtual // `failover NAME {` blocks in source order

	// TrailingComments are the comment lines after the last setting or
	// block of the file.
	TrailingComments []Comment

	// failed are the global keys whose line had an error (see Load).
	failed map[string]bool
	// lines are the source lines, for the excerpts of diagnostics.
	lines []string
}

// Globals are the settings outside any block, with piranha's defaults.
type Globals struct {
	SerialNo int
	Service  string // "lvs" (default) or "fos"

	Primary        netip.Addr // public address of the primary director
	PrimaryPrivate netip.Addr // private heartbeat address; see Parse for the quirk
	PrimaryShared  string
	Backup         netip.Addr
	BackupPrivate  netip.Addr
	BackupShared   string
	BackupActive   bool

	Heartbeat     bool // parsed, never read by piranha's pulse
	HeartbeatPort int  // default 539
	Keepalive     int  // seconds between heartbeats, default 2
	Deadtime      int  // seconds without heartbeat before failover, default 5

	Network         string     // "nat" (default), "direct" or "tunnel"
	NATRouter       netip.Addr // NAT gateway floating address
	NATRouterDevice string     // its alias device, such as eth1:1
	NATNetmask      netip.Addr // unset when invalid

	DebugLevel   string // default "NONE"; unused by piranha
	RshCommand   string // default "rsh"
	Sync         bool
	Ipvsadm      string // default "/sbin/ipvsadm"
	MonitorLinks int
	ActiveCmd    string
	InactiveCmd  string
	HardShutdown bool // default true

	SyncDaemon bool
	SyncdIface string // default "eth0"
	SyncdID    int

	// Kernel connection timeouts in seconds (ipvsadm --set); 0 leaves the
	// kernel's value unchanged.
	TCPTimeout    int
	TCPFinTimeout int
	UDPTimeout    int

	ReservationConflictAction string // "nothing" or "preempt"; fos only
}

func defaultGlobals() Globals {
	return Globals{
		Service:       "lvs",
		HeartbeatPort: 539,
		Keepalive:     2,
		Deadtime:      5,
		Network:       "nat",
		DebugLevel:    "NONE",
		RshCommand:    "rsh",
		Ipvsadm:       "/sbin/ipvsadm",
		HardShutdown:  true,
		SyncdIface:    "eth0",
	}
}

// A Virtual is a `virtual NAME {` block, or a `failover NAME {` block, which
// piranha parses with the same routine and the same keys.
type Virtual struct {
	Name        string
	Failover    bool
	Line        int       // line of the `virtual NAME {` header
	EndLine     int       // line of the closing `}`
	Comments    []Comment // comment lines right before the header
	EndComments []Comment // comment lines right before the closing `}`
	// Trailing and EndTrailing are `# comments` after the header's { and
	// after the closing }, "" when there are none.
	Trailing, EndTrailing string
	Settings              Settings
	nameCol               int             // byte column of NAME in the header
	failed                map[string]bool // keys whose line had an error

	Active      bool
	Address     netip.Addr // the virtual IP (unset when not given)
	Device      string     // its alias device, such as eth0:1
	VIPNetmask  netip.Addr // unset when not given
	SorryServer netip.Addr // unset when not given
	FWMark      uint32
	Protocol    string     // "tcp" (default) or "udp"
	Port        int        // default 80
	Scheduler   string     // default "wlc"
	Persistent  int        // persistence timeout in seconds; 0 = none
	PMask       netip.Addr // unset for 255.255.255.255 and 0.0.0.0, as in piranha

	Send          Quoted
	Expect        Quoted
	UseRegex      bool
	SendProgram   Quoted
	LoadMonitor   string
	Timeout       int // default 10
	Reentry       int // default 180
	QuiesceServer bool
	ClientMonitor string // default "/usr/sbin/nanny"
	StartCmd      Quoted
	StopCmd       Quoted
	Master        netip.Addr
	Dirs          []string
	DirsSet       bool

	Servers []*Server
}

func newVirtual(name string, failover bool, line int) *Virtual {
	return &Virtual{
		Name:          name,
		Failover:      failover,
		failed:        map[string]bool{},
		Line:          line,
		Protocol:      "tcp",
		Port:          80,
		Scheduler:     "wlc",
		Timeout:       10,
		Reentry:       180,
		ClientMonitor: "/usr/sbin/nanny",
	}
}

// Kind returns "virtual" or "failover", the block's keyword.
func (v *Virtual) Kind() string {
	if v.Failover {
		return "failover"
	}
	return "virtual"
}

// Setting returns the setting of key in effect (the last one), or nil.
func (v *Virtual) Setting(key string) *Setting { return v.Settings.Last(key) }

// A Server is a `server NAME {` block: a real server.
type Server struct {
	Name        string
	Line        int
	EndLine     int
	Comments    []Comment
	EndComments []Comment
	// Trailing and EndTrailing are as in [Virtual].
	Trailing, EndTrailing string
	Settings              Settings
	nameCol               int
	failed                map[string]bool

	Address netip.Addr
	Active  bool
	Weight  int // default 1
	// Port defaults to the virtual's port as parsed when the server block
	// started (piranha's order quirk); PortInherited says it was not given.
	Port          int
	PortInherited bool
}

// Setting returns the setting of key in effect (the last one), or nil.
func (s *Server) Setting(key string) *Setting { return s.Settings.Last(key) }

// Setting returns the global setting of key in effect (the last one), or nil.
func (f *File) Setting(key string) *Setting { return f.Settings.Last(key) }

// ActiveVirtuals returns the virtual blocks with active = 1, the ones lvsd
// starts.
func (f *File) ActiveVirtuals() []*Virtual {
	return slices.DeleteFunc(slices.Clone(f.Virtuals), func(v *Virtual) bool { return !v.Active })
}

// A place is where a problem is reported: a line and a column of the file.
// bad says that a line of the key the problem follows from had an error of
// its own, so that the problem is a consequence and is not reported.
type place struct {
	line, col int
	bad       bool
}

func placeOf(s *Setting, failed map[string]bool, key string, line, col int) place {
	if s != nil {
		return place{s.Line, s.Col, failed[key]}
	}
	return place{line, col, failed[key]}
}

// at is the place of the setting of key in effect, or of the header.
func (v *Virtual) at(key string) place {
	return placeOf(v.Setting(key), v.failed, key, v.Line, v.nameCol)
}

// at is the place of the setting of key in effect, or of the header.
func (s *Server) at(key string) place {
	return placeOf(s.Setting(key), s.failed, key, s.Line, s.nameCol)
}

// at is the place of the global setting of key in effect, or fallback.
func (f *File) at(key string, fallback place) place {
	if s := f.Setting(key); s != nil {
		return place{s.Line, s.Col, f.failed[key]}
	}
	fallback.bad = fallback.bad || f.failed[key]
	return fallback
}
