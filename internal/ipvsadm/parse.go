package ipvsadm

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lvsctl/lvsctl/internal/diag"
	"github.com/lvsctl/lvsctl/internal/quote"
	"github.com/lvsctl/lvsctl/internal/suggest"

	"github.com/lvsctl/lvsctl/lvs"
)

// An Error is a problem at a place in ipvsadm input. Its text is
// "file:line:column: message", with the column of the offending token.
type Error struct {
	File string
	Line int // 1-based
	Col  int // 1-based byte column; 1 when the whole line is meant
	Msg  string
	// Source is the line as written; "" for the problems of the finished
	// table, which ParseSave no longer has the lines of.
	Source string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// Excerpt shows the line of the error with a caret under its column, to
// print under the message; "" when there is nothing to show.
func (e *Error) Excerpt() string {
	if e.Source == "" {
		return ""
	}
	return quote.Source(e.Source, e.Col)
}

// Errors are the errors of one input, in line order; ParseSave returns
// them as its error when there is more than one.
type Errors = diag.Errors[*Error]

// Limits on what ParseSave reads, checked as it reads, so that garbage or
// a hostile file is refused before it costs memory: "ipvsadm -S -n" of a
// director with 10,000 services and 4 real servers each is 2.1 MB, in
// lines of under 100 bytes.
const (
	// MaxLineLength is the longest line, in bytes.
	MaxLineLength = 64 << 10
	// MaxInputSize is the most bytes read.
	MaxInputSize = 64 << 20
	// MaxObjects is the most services and real servers added (-A and -a
	// lines, over the whole input).
	MaxObjects = 1_000_000
	// MaxErrors is how many errors are reported; one more error counts
	// the rest.
	MaxErrors = 50
)

// maxInput and maxObjects are the limits in force; tests lower them.
var maxInput, maxObjects = MaxInputSize, MaxObjects

// maxTimeout is ipvsadm's MAX_TIMEOUT, 31 days, for -p and --set.
const maxTimeout = 86400 * 31

// defaultPersistTimeout is libipvs's IPVS_SVC_PERSISTENT_TIMEOUT, used by
// "-p" without a value (the manual page says 300; the code says 360).
const defaultPersistTimeout = 360

// ParseSave reads ipvsadm rules: what "ipvsadm -S -n" prints and, more
// generally, what "ipvsadm -R" reads. Each line is one command, optionally
// starting with "ipvsadm"; blank lines are skipped and a word starting with
// # comments out the rest of its line. The commands -A, -E, -D, -a, -e,
// -d, -C, -Z and --set are applied in order, as -R would apply them, with
// ipvsadm's options and defaults (weight 1, -g, scheduler wlc, -p without a
// value 360 s, netmask /32 or /128, the real-server port of -g and -i
// forced to the service port unless the service is a firewall mark).
//
// Addresses, ports and netmasks must be numeric (what ipvsadm -S -n
// writes): [Names.ParseSave] reads names too. filename only labels errors.
//
// Every bad line is reported, in one pass: a line with an error is left
// out and the next one read, and a later line about a service or real
// server whose own line was bad is not reported again. At most MaxErrors
// errors are returned, and then one that counts the rest; a limit of the
// input (its size, a line's length, the number of objects) stops the
// reading. Each error is an [*Error]; several are [Errors]. The table
// returned is normalized.
func ParseSave(r io.Reader, filename string) (*lvs.Table, error) {
	return Names{}.ParseSave(r, filename)
}

// ParseLive reads a dump as [ParseSave] does, as the live table it was
// saved from; see [Names.ParseLive].
func ParseLive(r io.Reader, filename string) (*lvs.Table, error) {
	return Names{}.ParseLive(r, filename)
}

// ParseDump reads a dump as [ParseSave] does and also returns what it
// does not carry; see [Names.ParseDump].
func ParseDump(r io.Reader, filename string) (*lvs.Table, lvs.Unknown, error) {
	return Names{}.ParseDump(r, filename)
}

// Names resolve the names a dump saved without -n holds, as ipvsadm does
// when it reads them back: ports by service name (getservbyname, for the
// service's protocol; a firewall-mark service's real servers as TCP, as
// ipvsadm sets TCP for -f), host names to IPv4 addresses (gethostbyname).
// A nil function refuses its kind of name, with an error that says how to
// get a dump without them (ipvsadm -S -n). The zero Names resolve none, as
// the package's functions do.
type Names struct {
	// Port returns the port of a service name for a protocol ("tcp",
	// "udp" or "sctp"), ok false when there is none, and where the names
	// come from (such as /etc/services), for messages.
	Port func(name, proto string) (port uint16, ok bool, from string, err error)
	// Host returns the IPv4 address of a host name.
	Host func(name string) (netip.Addr, error)
}

// ParseSave is [ParseSave] with names resolved by n.
func (n Names) ParseSave(r io.Reader, filename string) (*lvs.Table, error) {
	t, _, err := n.parse(r, filename)
	return t, err
}

// ParseLive reads a dump as [ParseSave] does, as the live table it was
// saved from, with what the dump does not carry marked unknown
// ([lvs.Table.Unknown]) so that the planner leaves it out of the
// comparison instead of planning a change from zero:
//
//   - the connection timeouts, unless a --set line gives them (ipvsadm -S
//     writes none);
//   - the real servers' thresholds, unless some -a or -e line gives -x or
//     -y (ipvsadm -S writes neither, whatever the kernel has);
//   - the tunnel options, when a tunnelled real server has no --tun-type
//     (ipvsadm before 1.30 writes none): then those of every tunnelled
//     real server, as the dump cannot tell them apart.
func (n Names) ParseLive(r io.Reader, filename string) (*lvs.Table, error) {
	t, u, err := n.ParseDump(r, filename)
	if err != nil {
		return nil, err
	}
	t.Forget(u)
	return t, nil
}

// ParseDump reads a dump as [ParseSave] does and also returns what it
// does not carry (see [Names.ParseLive]), without forgetting anything: the
// table has the values the dump writes, for a conversion to say which
// settings it could not take from the dump.
func (n Names) ParseDump(r io.Reader, filename string) (*lvs.Table, lvs.Unknown, error) {
	t, p, err := n.parse(r, filename)
	if err != nil {
		return nil, 0, err
	}
	u := lvs.UnknownTimeoutsOf(t.Timeouts)
	if !p.thresholds {
		u |= lvs.UnknownThresholds
	}
	if p.untypedTunnel {
		u |= lvs.UnknownTunnel
	}
	return t, u, nil
}

func (n Names) parse(r io.Reader, filename string) (*lvs.Table, *parser, error) {
	p := &parser{file: filename, names: n, svcIndex: map[lvs.ServiceKey]int{}, destIndex: map[destKey]int{},
		badSvc: map[string]bool{}, badDest: map[[2]string]bool{}}
	sc := bufio.NewScanner(r)
	// One byte more than the limit, so that a line of exactly
	// MaxLineLength bytes and its newline still fit.
	sc.Buffer(make([]byte, 0, 4096), MaxLineLength+1)
	read := 0
	for sc.Scan() {
		p.line++
		p.text = "" // a line over a limit is not shown
		if len(sc.Bytes()) > MaxLineLength {
			return nil, nil, p.stop(p.longLine())
		}
		if read += len(sc.Bytes()) + 1; read > maxInput {
			return nil, nil, p.stop(p.errAt(1, "the input is larger than %s, the most lvsctl reads (a dump of 10,000 services with 4 real servers each is 2 MB): this is not an ipvsadm dump", quote.Size(maxInput)))
		}
		p.text = sc.Text()
		if err := p.parseLine(p.text); err != nil {
			if p.fatal {
				return nil, nil, p.stop(err)
			}
			p.report(err)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			p.line++
			p.text = ""
			return nil, nil, p.stop(p.longLine())
		}
		return nil, nil, fmt.Errorf("reading %s: %w", filename, err)
	}
	t, err := p.finish()
	return t, p, err
}

// report keeps err, an *Error of the current line, unless it follows from
// an earlier bad line: a command on a service (or real server) whose own
// -A (or -a) line was bad.
func (p *parser) report(err error) {
	e, ok := err.(*Error)
	if !ok {
		e = p.errAt(1, "%v", err)
	}
	if p.consequence {
		p.consequence = false
		return
	}
	if len(p.errs) >= MaxErrors {
		p.moreErrs++
		return
	}
	p.errs = append(p.errs, e)
}

// stop returns the errors found so far and err, which ends the reading.
func (p *parser) stop(err error) error {
	e, ok := err.(*Error)
	if !ok {
		e = p.errAt(1, "%v", err)
	}
	p.errs = append(p.errs, e)
	return p.result()
}

// result returns the errors found: one *Error, or Errors, with one more
// that counts those past MaxErrors.
func (p *parser) result() error {
	es := p.errs
	if p.moreErrs > 0 {
		last := es[len(es)-1]
		es = append(es, &Error{File: p.file, Line: last.Line, Col: 1,
			Msg: fmt.Sprintf("%d more errors not shown (lvsctl shows the first %d); fix these first", p.moreErrs, MaxErrors)})
	}
	if len(es) == 1 {
		return es[0]
	}
	return es
}

func (p *parser) longLine() *Error {
	return p.errAt(1, "line is longer than %d bytes, the most lvsctl reads (ipvsadm -S -n prints lines of under 200): this is not an ipvsadm dump", MaxLineLength)
}

// pos is where something was written.
type pos struct{ line, col int }

// A parsedService is a service as the lines so far leave it. Deleted real
// servers stay in place, marked dead, until finish: deleting from the
// middle of a slice would make a dump that deletes many real servers
// quadratic.
type parsedService struct {
	svc   lvs.Service
	at    pos
	dests []pos  // parallel to svc.Dests
	dead  []bool // parallel to svc.Dests; nil while none is deleted
}

// destKey finds a real server of a service in parser.destIndex.
type destKey struct {
	svc  *parsedService
	addr netip.AddrPort
}

type parser struct {
	file  string
	names Names
	line  int
	text  string // the line being read, for the excerpts of its errors
	// services holds the services in the order they were added; a
	// deleted one is nil until finish, for the same reason as
	// parsedService.dead.
	services  []*parsedService
	svcIndex  map[lvs.ServiceKey]int // into services
	destIndex map[destKey]int        // into the service's Dests
	objects   int                    // services and real servers added
	cmd       command                // the line being read (see scan)
	timeouts  lvs.Timeouts
	setAt     pos
	// What the input says about the settings a dump may lack (see
	// ParseLive): a threshold given on some real server, a tunnelled
	// real server without --tun-type.
	thresholds, untypedTunnel bool

	errs     Errors
	moreErrs int  // errors past MaxErrors
	fatal    bool // a limit was hit: the reading stops
	// badSvc and badDest are the service (and real server) arguments,
	// as written, of -A/-E (and -a/-e) lines that had an error: the
	// errors of later lines about them are consequences, not reported.
	badSvc  map[string]bool
	badDest map[[2]string]bool
	// svcArg and destArg are the arguments of the line being read;
	// consequence marks its error as one.
	svcArg, destArg string
	consequence     bool
}

// errAt returns an error at col of the current line. Quoted input in the
// message is cut to a short excerpt.
func (p *parser) errAt(col int, format string, args ...any) *Error {
	if col < 1 {
		col = 1
	}
	return &Error{File: p.file, Line: p.line, Col: col, Msg: quote.Clip(fmt.Sprintf(format, args...)), Source: p.text}
}

// A token is one blank-separated word of a line.
type token struct {
	text string
	col  int
}

// tokenize splits a line as ipvsadm's config_stream does (on spaces, tabs
// and carriage returns), drops a leading "ipvsadm" and a # comment.
func tokenize(line string) []token {
	var toks []token
	i := 0
	for i < len(line) {
		for i < len(line) && isBlank(line[i]) {
			i++
		}
		if i >= len(line) {
			break
		}
		start := i
		for i < len(line) && !isBlank(line[i]) {
			i++
		}
		if line[start] == '#' {
			break
		}
		toks = append(toks, token{text: line[start:i], col: start + 1})
	}
	if len(toks) > 0 && (toks[0].text == "ipvsadm" || strings.HasSuffix(toks[0].text, "/ipvsadm")) {
		toks = toks[1:]
	}
	return toks
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' }

func (p *parser) parseLine(line string) error {
	toks := tokenize(line)
	if len(toks) == 0 {
		return nil
	}
	p.svcArg, p.destArg = arguments(toks)
	c, err := p.scan(toks)
	if err != nil {
		// The service or real server this line would have added or
		// changed is unknown: what later lines say about it follows.
		switch cmdOf(toks) {
		case cmdAdd, cmdEdit:
			p.badSvc[p.svcArg] = true
		case cmdAddDest, cmdEditDest:
			p.badDest[[2]string{p.svcArg, p.destArg}] = true
		}
		return err
	}
	return p.apply(c)
}

// arguments returns the service and real server arguments of a line as
// written ("" when absent), without checking them.
func arguments(toks []token) (svc, dest string) {
	for i, t := range toks {
		name, val, hasVal := strings.Cut(t.text, "=")
		if !hasVal && i+1 < len(toks) {
			val = toks[i+1].text
		}
		switch name {
		case "-t", "-u", "-f", "--tcp-service", "--udp-service", "--sctp-service", "--fwmark-service":
			svc = name + " " + val
		case "-r", "--real-server":
			dest = val
		}
	}
	return svc, dest
}

// cmdOf returns the command a line starts with, cmdNone when it is not
// one the line's first word names.
func cmdOf(toks []token) cmdKind {
	t := toks[0].text
	var spec *optSpec
	switch {
	case strings.HasPrefix(t, "--"):
		spec = findLong(strings.SplitN(t[2:], "=", 2)[0])
	case strings.HasPrefix(t, "-") && len(t) > 1:
		spec = findShort(t[1])
	}
	if spec == nil {
		return cmdNone
	}
	return spec.cmd
}

// Commands, in ipvsadm's CMD_* order.
type cmdKind int

const (
	cmdNone cmdKind = iota
	cmdAdd
	cmdEdit
	cmdDel
	cmdFlush
	cmdList
	cmdAddDest
	cmdDelDest
	cmdEditDest
	cmdTimeout
	cmdStartDaemon
	cmdStopDaemon
	cmdRestore
	cmdSave
	cmdZero
	cmdHelp
	cmdVersion
)

var cmdNames = [...]string{
	cmdAdd: "add-service", cmdEdit: "edit-service", cmdDel: "delete-service", cmdFlush: "clear",
	cmdList: "list", cmdAddDest: "add-server", cmdDelDest: "delete-server", cmdEditDest: "edit-server",
	cmdTimeout: "set", cmdStartDaemon: "start-daemon", cmdStopDaemon: "stop-daemon",
	cmdRestore: "restore", cmdSave: "save", cmdZero: "zero", cmdHelp: "help", cmdVersion: "version",
}

// Options, in ipvsadm's OPTC_* order (the columns of commands_v_options).
type optID int

const (
	optNumeric optID = iota
	optConnection
	optService
	optScheduler
	optPersistent
	optNetmask
	optServer
	optForward
	optWeight
	optUThreshold
	optLThreshold
	optMcast
	optTimeout
	optDaemon
	optStats
	optRate
	optThresholds
	optPersistentConn
	optNoSort
	optSyncID
	optExact
	optOnePacket
	optPE
	optSchedFlags
	optMcastGroup
	optMcastPort
	optMcastTTL
	optSyncMaxlen
	optTunInfo
	optTunType
	optTunPort
	optTunNoCsum
	optTunCsum
	optTunRemCsum
	numOpts

	// Options that ipvsadm does not record in its option set.
	optIPv6 optID = 100 + iota
	optSort
)

var optNames = [...]string{
	"numeric", "connection", "service-address", "scheduler", "persistent", "netmask",
	"real-server", "forwarding-method", "weight", "u-threshold", "l-threshold",
	"mcast-interface", "timeout", "daemon", "stats", "rate", "thresholds",
	"persistent-conn", "nosort", "syncid", "exact", "ops", "pe", "sched-flags",
	"mcast-group", "mcast-port", "mcast-ttl", "sync-maxlen", "tun-info", "tun-type",
	"tun-port", "tun-nocsum", "tun-csum", "tun-remcsum",
}

// legal is ipvsadm's commands_v_options for the commands a restore file
// may hold: '+' required, 'x' illegal, ' ' optional.
var legal = map[cmdKind]string{
	//               -n -c svc -s -p -M -r fwd -w -x -y mc to dm st rt th pc so si ex op pe -b gr po tt sz ti ty tp nc cs rc
	cmdAdd:      "xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx",
	cmdEdit:     "xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx",
	cmdDel:      "xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	cmdFlush:    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	cmdAddDest:  "xx+xxx+    xxxxxxxxxxxxxxxxxx     ",
	cmdDelDest:  "xx+xxx+xxxxxxxxxxxxxxxxxxxxxxxxxxx",
	cmdEditDest: "xx+xxx+    xxxxxxxxxxxxxxxxxx     ",
	cmdTimeout:  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	cmdZero:     "xx xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
}

type argKind int

const (
	argNone argKind = iota
	argRequired
	argOptional
)

type optSpec struct {
	long  string
	short byte
	arg   argKind
	cmd   cmdKind // for commands
	opt   optID   // for options
	// What the option stands for, if it names a word of lvs.
	proto lvs.Protocol    // -t, -u, --sctp-service
	fwd   lvs.Forward     // -m, -g, -i
	csum  lvs.TunnelFlags // --tun-csum, --tun-remcsum
}

// optSpecs are ipvsadm's options. Those that name a protocol, a
// forwarding method or a tunnel checksum option are spelled as lvs spells
// those words.
var optSpecs = func() []optSpec {
	specs := []optSpec{
		{long: "add-service", short: 'A', cmd: cmdAdd},
		{long: "edit-service", short: 'E', cmd: cmdEdit},
		{long: "delete-service", short: 'D', cmd: cmdDel},
		{long: "clear", short: 'C', cmd: cmdFlush},
		{long: "list", short: 'L', cmd: cmdList},
		{short: 'l', cmd: cmdList},
		{long: "zero", short: 'Z', cmd: cmdZero},
		{long: "add-server", short: 'a', cmd: cmdAddDest},
		{long: "edit-server", short: 'e', cmd: cmdEditDest},
		{long: "delete-server", short: 'd', cmd: cmdDelDest},
		{long: "set", cmd: cmdTimeout},
		{long: "help", short: 'h', cmd: cmdHelp},
		{long: "version", short: 'v', cmd: cmdVersion},
		{long: "restore", short: 'R', cmd: cmdRestore},
		{long: "save", short: 'S', cmd: cmdSave},
		{long: "start-daemon", arg: argRequired, cmd: cmdStartDaemon},
		{long: "stop-daemon", arg: argRequired, cmd: cmdStopDaemon},
		{long: "fwmark-service", short: 'f', arg: argRequired, opt: optService},
		{long: "scheduler", short: 's', arg: argRequired, opt: optScheduler},
		{long: "persistent", short: 'p', arg: argOptional, opt: optPersistent},
		{long: "netmask", short: 'M', arg: argRequired, opt: optNetmask},
		{long: "real-server", short: 'r', arg: argRequired, opt: optServer},
		{long: "weight", short: 'w', arg: argRequired, opt: optWeight},
		{long: "u-threshold", short: 'x', arg: argRequired, opt: optUThreshold},
		{long: "l-threshold", short: 'y', arg: argRequired, opt: optLThreshold},
		{long: "numeric", short: 'n', opt: optNumeric},
		{long: "connection", short: 'c', opt: optConnection},
		{long: "mcast-interface", arg: argRequired, opt: optMcast},
		{long: "syncid", arg: argRequired, opt: optSyncID},
		{long: "timeout", opt: optTimeout},
		{long: "daemon", opt: optDaemon},
		{long: "stats", opt: optStats},
		{long: "rate", opt: optRate},
		{long: "thresholds", opt: optThresholds},
		{long: "persistent-conn", opt: optPersistentConn},
		{long: "nosort", opt: optNoSort},
		{long: "sort", opt: optSort},
		{long: "exact", short: 'X', opt: optExact},
		{long: "ipv6", short: '6', opt: optIPv6},
		{long: "ops", short: 'o', opt: optOnePacket},
		{long: "pe", arg: argRequired, opt: optPE},
		{long: "sched-flags", short: 'b', arg: argRequired, opt: optSchedFlags},
		{long: "mcast-group", arg: argRequired, opt: optMcastGroup},
		{long: "mcast-port", arg: argRequired, opt: optMcastPort},
		{long: "mcast-ttl", arg: argRequired, opt: optMcastTTL},
		{long: "sync-maxlen", arg: argRequired, opt: optSyncMaxlen},
		{long: "tun-info", opt: optTunInfo},
		{long: "tun-type", arg: argRequired, opt: optTunType},
		{long: "tun-port", arg: argRequired, opt: optTunPort},
	}
	for _, p := range lvs.Protocols {
		o := p.IpvsadmOption()
		specs = append(specs, optSpec{long: o.Long, short: o.Short, arg: argRequired, opt: optService, proto: p})
	}
	for _, f := range lvs.Forwards {
		o := f.IpvsadmOption()
		specs = append(specs, optSpec{long: o.Long, short: o.Short, opt: optForward, fwd: f})
	}
	// Each checksum option is a column of the legal table of its own.
	for _, c := range []struct {
		f  lvs.TunnelFlags
		id optID
	}{{0, optTunNoCsum}, {lvs.TunnelCsum, optTunCsum}, {lvs.TunnelRemCsum, optTunRemCsum}} {
		o := c.f.IpvsadmOption()
		specs = append(specs, optSpec{long: o.Long, short: o.Short, opt: c.id, csum: c.f})
	}
	return specs
}()

func findLong(name string) *optSpec {
	for i := range optSpecs {
		if optSpecs[i].long == name {
			return &optSpecs[i]
		}
	}
	return nil
}

// longNames are the long options, for suggestions.
var longNames = sync.OnceValue(func() []string {
	var names []string
	for _, s := range optSpecs {
		if s.long != "" {
			names = append(names, s.long)
		}
	}
	return names
})

func findShort(c byte) *optSpec {
	for i := range optSpecs {
		if optSpecs[i].short == c {
			return &optSpecs[i]
		}
	}
	return nil
}

// An occurrence is one option as written on a line.
type occurrence struct {
	spec     *optSpec
	written  token // the option itself, e.g. "-w" inside "-gw3"
	value    string
	valueCol int
	hasValue bool
}

// command is one line, parsed: ipvsadm's ipvs_command_entry.
type command struct {
	kind    cmdKind
	cmdTok  token
	options uint64
	optAt   [numOpts]token

	// the virtual service
	proto    lvs.Protocol
	addr     netip.Addr
	port     uint16
	fwmark   uint32
	family   lvs.Family
	sched    string
	persist  bool
	timeout  uint32
	netmask  uint8
	pe       string
	ops      bool
	flagsArg string
	flagsCol int
	flags    lvs.SchedFlags

	// the real server
	dAddr    netip.Addr
	dPort    uint16
	dHasPort bool
	fwd      lvs.Forward
	weight   int
	uth, lth uint32
	tunType  lvs.TunnelType
	tunPort  uint16
	tunFlags lvs.TunnelFlags

	args []token // positional arguments (--set values)
}

// splitOptions turns the tokens of a line into option occurrences and
// positional arguments, as popt does: short options may be bundled (-gw 3,
// -w3), long ones take "--name=value" or "--name value", an optional value
// (-p) is the next word only if that does not start with "-", and "--"
// ends the options.
func (p *parser) splitOptions(toks []token) ([]occurrence, []token, error) {
	var occ []occurrence
	var args []token
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t.text == "--":
			args = append(args, toks[i+1:]...)
			return occ, args, nil
		case strings.HasPrefix(t.text, "--"):
			name, val, hasEq := strings.Cut(t.text[2:], "=")
			spec := findLong(name)
			if spec == nil {
				hint := ""
				if s := suggest.Closest(name, longNames()); s != "" {
					hint = fmt.Sprintf("; did you mean --%s?", s)
				}
				return nil, nil, p.errAt(t.col, "unknown option %q%s", "--"+name, hint)
			}
			o := occurrence{spec: spec, written: token{text: "--" + name, col: t.col}}
			switch {
			case hasEq && spec.arg == argNone:
				return nil, nil, p.errAt(t.col, "%s takes no value (found %q)", o.written.text, t.text)
			case hasEq:
				o.value, o.valueCol, o.hasValue = val, t.col+3+len(name), true
			case spec.arg == argRequired:
				if i+1 >= len(toks) {
					return nil, nil, p.errAt(t.col, "%s needs a value", o.written.text)
				}
				i++
				o.value, o.valueCol, o.hasValue = toks[i].text, toks[i].col, true
			case spec.arg == argOptional:
				if i+1 < len(toks) && !strings.HasPrefix(toks[i+1].text, "-") {
					i++
					o.value, o.valueCol, o.hasValue = toks[i].text, toks[i].col, true
				}
			}
			occ = append(occ, o)
		case strings.HasPrefix(t.text, "-") && len(t.text) > 1:
			for j := 1; j < len(t.text); j++ {
				// The first option of a bundle is at its dash, the
				// others at their letter.
				col := t.col + j
				if j == 1 {
					col = t.col
				}
				spec := findShort(t.text[j])
				if spec == nil {
					return nil, nil, p.errAt(col, "unknown option %q", "-"+t.text[j:j+1])
				}
				o := occurrence{spec: spec, written: token{text: "-" + t.text[j:j+1], col: col}}
				if spec.arg != argNone {
					rest := t.text[j+1:]
					switch {
					case rest != "":
						o.value, o.valueCol, o.hasValue = rest, t.col+j+1, true
					case spec.arg == argRequired:
						if i+1 >= len(toks) && spec.opt == optSchedFlags {
							return nil, nil, p.errAt(o.written.col, "-b needs a value (ipvsadm -S prints a bare -b for flag-3 of the sh and mh schedulers, which it cannot name: that flag cannot be restored)")
						}
						if i+1 >= len(toks) {
							return nil, nil, p.errAt(o.written.col, "%s needs a value", o.written.text)
						}
						i++
						o.value, o.valueCol, o.hasValue = toks[i].text, toks[i].col, true
					case i+1 < len(toks) && !strings.HasPrefix(toks[i+1].text, "-"):
						i++
						o.value, o.valueCol, o.hasValue = toks[i].text, toks[i].col, true
					}
					occ = append(occ, o)
					break
				}
				occ = append(occ, o)
			}
		default:
			args = append(args, t)
		}
	}
	return occ, args, nil
}

// scan parses one line into a command, checking what ipvsadm's
// parse_options and process_options check.
func (p *parser) scan(toks []token) (*command, error) {
	occ, args, err := p.splitOptions(toks)
	if err != nil {
		return nil, err
	}
	if len(occ) == 0 {
		return nil, p.errAt(toks[0].col, "%q is not a command: a line holds one command such as -A, -a or --set", toks[0].text)
	}
	// One command is reused for every line: it is 1 KB, and nothing
	// keeps it once the line is applied.
	c := &p.cmd
	*c = command{
		weight:  1,
		fwd:     lvs.Route,
		netmask: 32,
		args:    args,
	}
	first := occ[0]
	if first.spec.cmd == cmdNone {
		return nil, p.errAt(first.written.col, "%s comes before the command: start the line with -A, -E, -D, -a, -e, -d, -C, -Z or --set", first.written.text)
	}
	for _, o := range occ {
		if o.spec.cmd != cmdNone {
			if c.kind != cmdNone {
				return nil, p.errAt(o.written.col, "a second command %s: one command per line", o.written.text)
			}
			c.kind, c.cmdTok = o.spec.cmd, o.written
			continue
		}
		if err := p.option(c, o); err != nil {
			return nil, err
		}
	}
	switch c.kind {
	case cmdList, cmdSave, cmdRestore, cmdHelp, cmdVersion:
		return nil, p.errAt(c.cmdTok.col, "%s (%s) changes nothing: a saved table holds -A, -E, -D, -a, -e, -d, -C, -Z and --set lines", c.cmdTok.text, cmdNames[c.kind])
	case cmdStartDaemon, cmdStopDaemon:
		return nil, p.errAt(c.cmdTok.col, "--%s is not part of the IPVS table, and lvsctl does not manage the sync daemon: remove the line", cmdNames[c.kind])
	}
	if err := p.checkOptions(c); err != nil {
		return nil, err
	}
	if c.kind == cmdTimeout {
		if len(c.args) != 3 {
			return nil, p.errAt(c.cmdTok.col, "--set needs three timeouts in seconds: tcp tcpfin udp (0 leaves one as it is)")
		}
	} else if len(c.args) > 0 {
		return nil, p.errAt(c.args[0].col, "unexpected argument %q", c.args[0].text)
	}
	return c, p.check(c)
}

// option records one option, as ipvsadm's parse_options does.
func (p *parser) option(c *command, o occurrence) error {
	id := o.spec.opt
	if id < numOpts {
		if c.options&(1<<id) != 0 {
			return p.errAt(o.written.col, "%s given twice (%s)", o.written.text, optNames[id])
		}
		c.options |= 1 << id
		c.optAt[id] = o.written
	}
	switch id {
	case optService:
		return p.serviceAddress(c, o)
	case optServer:
		return p.serverAddress(c, o)
	case optScheduler, optPersistent, optNetmask, optIPv6, optOnePacket, optPE, optSchedFlags:
		return p.serviceOption(c, o)
	case optForward, optWeight, optUThreshold, optLThreshold, optTunType, optTunPort, optTunNoCsum, optTunCsum, optTunRemCsum:
		return p.serverOption(c, o)
	}
	// -n is what a dump is written with; --sort is ipvsadm's default.
	return nil
}

// serviceAddress reads the virtual service of -t, -u, --sctp-service or
// -f.
func (p *parser) serviceAddress(c *command, o occurrence) error {
	if o.spec.proto == 0 {
		m, err := p.fwmark(o.value, o.valueCol)
		if err != nil {
			return err
		}
		c.fwmark, c.family = m, lvs.IPv4
		return nil
	}
	a, port, _, err := p.addrPort(o.value, o.valueCol, "virtual service", o.spec.proto)
	if err != nil {
		return err
	}
	c.proto, c.addr, c.port, c.family = o.spec.proto, a, port, lvs.FamilyOf(a)
	if c.family == lvs.IPv6 {
		c.netmask = 128
	}
	return nil
}

// serverAddress reads the real server of -r.
func (p *parser) serverAddress(c *command, o occurrence) error {
	// ipvsadm reads a real server's port name for the protocol of the
	// service given before it on the line: TCP for -f.
	proto := c.proto
	if c.fwmark != 0 {
		proto = lvs.TCP
	}
	a, port, hasPort, err := p.addrPort(o.value, o.valueCol, "real server", proto)
	if err != nil {
		return err
	}
	c.dAddr, c.dPort, c.dHasPort = a, port, hasPort
	if !hasPort {
		// ipvsadm copies the virtual port as it stands at this point.
		c.dPort = c.port
	}
	return nil
}

// serviceOption records an option of the virtual service.
func (p *parser) serviceOption(c *command, o occurrence) error {
	v, vcol := o.value, o.valueCol
	switch o.spec.opt {
	case optScheduler:
		if !slices.Contains(lvs.Schedulers, v) {
			hint := ""
			if s := suggest.Closest(v, lvs.Schedulers); s != "" {
				hint = fmt.Sprintf("; did you mean %s?", s)
			}
			return p.errAt(vcol, "unknown scheduler %q: the kernel has %s%s", v, strings.Join(lvs.Schedulers, ", "), hint)
		}
		c.sched = v
	case optPersistent:
		c.persist, c.timeout = true, defaultPersistTimeout
		if o.hasValue {
			n, err := p.number(v, vcol, 1, maxTimeout, "persistence timeout", "seconds from 1 to 2678400 (31 days)")
			if err != nil {
				return err
			}
			c.timeout = uint32(n)
		}
	case optNetmask:
		m, err := p.netmask(v, vcol, c.family)
		if err != nil {
			return err
		}
		c.netmask = m
	case optIPv6:
		if c.fwmark == 0 {
			return p.errAt(o.written.col, "-6 belongs after -f MARK: it makes a firewall-mark service IPv6 (the address tells the family of other services)")
		}
		c.family, c.netmask = lvs.IPv6, 128
	case optOnePacket:
		c.ops = true
	case optPE:
		if err := lvs.CheckPE(v); err != nil {
			return p.errAt(vcol, "%v", err)
		}
		c.pe = v
	case optSchedFlags:
		// Read once the scheduler is known (see check).
		c.flagsArg, c.flagsCol = v, vcol
	}
	return nil
}

// serverOption records an option of the real server.
func (p *parser) serverOption(c *command, o occurrence) error {
	v, vcol := o.value, o.valueCol
	switch id := o.spec.opt; id {
	case optForward:
		c.fwd = o.spec.fwd
	case optWeight:
		n, err := p.number(v, vcol, 0, 65535, "weight", "a whole number from 0 to 65535")
		if err != nil {
			return err
		}
		c.weight = int(n)
	case optUThreshold, optLThreshold:
		n, err := p.number(v, vcol, 0, 1<<31-1, optNames[id], "a number of connections from 0 (no limit) to 2147483647")
		if err != nil {
			return err
		}
		if id == optUThreshold {
			c.uth = uint32(n)
		} else {
			c.lth = uint32(n)
		}
	case optTunType:
		t, err := lvs.ParseTunnelType(v)
		if err != nil {
			return p.errAt(vcol, "%v", err)
		}
		c.tunType = t
	case optTunPort:
		n, err := p.number(v, vcol, 1, 65535, "tunnel port", "a UDP port from 1 to 65535")
		if err != nil {
			return err
		}
		c.tunPort = uint16(n)
	case optTunNoCsum, optTunCsum, optTunRemCsum:
		c.tunFlags |= o.spec.csum
	}
	return nil
}

// checkOptions is ipvsadm's generic_opt_check.
func (p *parser) checkOptions(c *command) error {
	row := legal[c.kind]
	cmd := fmt.Sprintf("%s (%s)", c.cmdTok.text, cmdNames[c.kind])
	for j := range numOpts {
		given := c.options&(1<<j) != 0
		switch {
		case given && row[j] == 'x':
			return p.errAt(c.optAt[j].col, "%s (%s) cannot be used with %s", c.optAt[j].text, optNames[j], cmd)
		case !given && row[j] == '+' && j == optService:
			return p.errAt(c.cmdTok.col, "%s needs a virtual service: -t, -u or --sctp-service ADDRESS:PORT, or -f MARK", cmd)
		case !given && row[j] == '+' && j == optServer:
			return p.errAt(c.cmdTok.col, "%s needs a real server: -r ADDRESS[:PORT]", cmd)
		}
	}
	return nil
}

// check is the rest of ipvsadm's process_options and parse_options:
// defaults and the checks it makes before calling the kernel.
func (p *parser) check(c *command) error {
	switch c.kind {
	case cmdAdd, cmdEdit:
		svcCol := c.optAt[optService].col
		if c.fwmark == 0 && c.port == 0 && !c.persist {
			return p.errAt(svcCol, "port 0 (all ports) needs persistence: add -p [TIMEOUT]")
		}
		if c.ops && c.fwmark == 0 && c.proto != lvs.UDP {
			return p.errAt(c.optAt[optOnePacket].col, "one-packet scheduling (-o) is only for UDP and firewall-mark services")
		}
		if c.sched == "" {
			c.sched = "wlc"
		}
		if c.flagsArg != "" {
			if err := p.schedFlags(c); err != nil {
				return err
			}
		}
	case cmdAddDest, cmdEditDest:
		if c.fwmark == 0 && (c.fwd == lvs.Tunnel || c.fwd == lvs.Route) {
			c.dPort = c.port
		}
		if lvs.FamilyOf(c.dAddr) != c.family && c.fwd != lvs.Tunnel {
			return p.errAt(c.optAt[optServer].col, "real server %s is %s but the service is %s: mixing families works only with tunnelling (-i)", c.dAddr, lvs.FamilyOf(c.dAddr), c.family)
		}
		if c.fwd != lvs.Tunnel {
			for _, id := range []optID{optTunType, optTunPort, optTunNoCsum, optTunCsum, optTunRemCsum} {
				if c.options&(1<<id) != 0 {
					return p.errAt(c.optAt[id].col, "%s needs tunnelling: add -i", c.optAt[id].text)
				}
			}
		}
		return p.tunnelOptions(c)
	}
	return nil
}

// tunnelOptions is ipvsadm's tunnel_opt_check.
func (p *parser) tunnelOptions(c *command) error {
	type rule struct {
		id   optID
		mode byte // '+' required, 'x' illegal, '1' one of
	}
	var rules []rule
	switch c.tunType {
	case lvs.IPIP:
		rules = []rule{{optTunPort, 'x'}, {optTunNoCsum, 'x'}, {optTunCsum, 'x'}, {optTunRemCsum, 'x'}}
	case lvs.GUE:
		rules = []rule{{optTunPort, '+'}, {optTunNoCsum, '1'}, {optTunCsum, '1'}, {optTunRemCsum, '1'}}
	case lvs.GRE:
		rules = []rule{{optTunPort, 'x'}, {optTunNoCsum, '1'}, {optTunCsum, '1'}, {optTunRemCsum, 'x'}}
	}
	var first optID = -1
	for _, r := range rules {
		given := c.options&(1<<r.id) != 0
		switch {
		case !given && r.mode == '+':
			return p.errAt(c.optAt[optTunType].col, "a %s tunnel needs --tun-port (the UDP port the real server decapsulates on)", c.tunType)
		case given && r.mode == 'x':
			return p.errAt(c.optAt[r.id].col, "--%s does not apply to %s tunnels", optNames[r.id], c.tunType)
		case given && r.mode == '1' && first >= 0:
			return p.errAt(c.optAt[r.id].col, "--%s conflicts with --%s: choose one checksum option", optNames[r.id], optNames[first])
		case given && r.mode == '1':
			first = r.id
		}
	}
	return nil
}

// schedFlags is ipvsadm's parse_sched_flags.
func (p *parser) schedFlags(c *command) error {
	var f lvs.SchedFlags
	col := c.flagsCol
	seen := false
	for _, name := range strings.Split(c.flagsArg, ",") {
		if name == "" {
			col++
			continue
		}
		seen = true
		flag, err := lvs.ParseSchedFlag(c.sched, name)
		if err != nil {
			return p.errAt(col, "%v", err)
		}
		f |= flag
		col += len(name) + 1
	}
	if !seen {
		return p.errAt(c.flagsCol, "-b needs scheduler flags, such as sh-fallback,sh-port")
	}
	c.flags = f
	return nil
}

// number parses a decimal number in [min, max] as ipvsadm's
// string_to_number does.
func (p *parser) number(s string, col int, min, max int64, what, want string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < min || n > max {
		return 0, p.errAt(col, "invalid %s %q: %s", what, s, want)
	}
	return n, nil
}

// fwmark parses a firewall mark. ipvsadm 1.31 saves marks of 2^31 and
// more as negative numbers, so those are read back as the same 32 bits.
func (p *parser) fwmark(s string, col int) (uint32, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	switch {
	case err != nil || n == 0 || n > 1<<32-1 || n < -(1<<31):
		return 0, p.errAt(col, "invalid firewall mark %q: a number from 1 to 4294967295", s)
	case n < 0:
		return uint32(int32(n)), nil
	}
	return uint32(n), nil
}

// netmask parses -M as ipvsadm does for the family known so far: a dotted
// quad for IPv4, a prefix length for IPv6.
func (p *parser) netmask(s string, col int, f lvs.Family) (uint8, error) {
	if f == lvs.IPv6 {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 128 {
			return 0, p.errAt(col, "invalid IPv6 persistence netmask %q: a prefix length from 1 to 128", s)
		}
		return uint8(n), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		hint := ""
		if _, err := strconv.Atoi(s); err == nil {
			hint = fmt.Sprintf(" (ipvsadm would read %q as the address 0.0.0.%s)", s, s)
		}
		return 0, p.errAt(col, "invalid IPv4 persistence netmask %q: write a dotted quad such as 255.255.255.0%s", s, hint)
	}
	b := a.As4()
	m := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	ones := 0
	for ones < 32 && m&(1<<(31-ones)) != 0 {
		ones++
	}
	if ones < 32 && m<<ones != 0 {
		return 0, p.errAt(col, "persistence netmask %s is not contiguous: lvsctl keeps netmasks as prefix lengths", s)
	}
	return uint8(ones), nil
}

// addrPort parses ADDRESS[:PORT] as ipvsadm's parse_service does: IPv6
// in brackets when a port follows, an IPv6 address without brackets has no
// port. Names are resolved with p.names: a port name for proto, a host
// name to an IPv4 address (gethostbyname knows no other).
func (p *parser) addrPort(s string, col int, what string, proto lvs.Protocol) (netip.Addr, uint16, bool, error) {
	host, portStr, hasPort := s, "", false
	portCol := col
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.IndexByte(s, ']')
		if end < 0 || end+1 >= len(s) || s[end+1] != ':' {
			return netip.Addr{}, 0, false, p.errAt(col, "invalid %s %q: write [IPv6]:PORT", what, s)
		}
		host, portStr, hasPort = s[1:end], s[end+2:], true
		portCol = col + end + 2
	default:
		if a, err := netip.ParseAddr(s); err == nil && a.Is6() {
			break
		}
		if i := strings.LastIndexByte(s, ':'); i >= 0 {
			host, portStr, hasPort = s[:i], s[i+1:], true
			portCol = col + i + 1
		}
	}
	a, err := netip.ParseAddr(host)
	switch {
	case err != nil && isDigits(s):
		return netip.Addr{}, 0, false, p.errAt(col, "invalid %s %q: write ADDRESS[:PORT]", what, s)
	case err != nil && isHostName(host) && strings.HasPrefix(s, "["):
		// ipvsadm -S writes an IPv6 address's host name in brackets,
		// and reads it back as an IPv4 name without its port.
		return netip.Addr{}, 0, false, p.errAt(col, "%s %q names an IPv6 host, which ipvsadm cannot read back either; save the table with ipvsadm -S -n", what, s)
	case err != nil && isHostName(host) && p.names.Host == nil:
		return netip.Addr{}, 0, false, p.errAt(col, "%s %q names the host %q: ipvsadm -S without -n writes host names; save the table with ipvsadm -S -n, or pass --resolve to look the names up (the table then depends on what they resolve to now)", what, s, host)
	case err != nil && isHostName(host):
		if a, err = p.names.Host(host); err != nil {
			return netip.Addr{}, 0, false, p.errAt(col, "%s %q: the host name %q does not resolve to an IPv4 address (%v); save the table with ipvsadm -S -n", what, s, host, err)
		}
	case err != nil:
		return netip.Addr{}, 0, false, p.errAt(col, "invalid %s %q: not a numeric IPv4 or IPv6 address", what, s)
	case a.Zone() != "":
		return netip.Addr{}, 0, false, p.errAt(col, "invalid %s %q: an address with a zone cannot be a %s", what, s, what)
	case a.Is4In6():
		return netip.Addr{}, 0, false, p.errAt(col, "invalid %s %q: write the IPv4 address %s instead of the IPv4-mapped form", what, s, a.Unmap())
	case a.Is6() && hasPort && !strings.HasPrefix(s, "["):
		return netip.Addr{}, 0, false, p.errAt(col, "invalid %s %q: write [IPv6]:PORT", what, s)
	}
	if !hasPort {
		return a, 0, false, nil
	}
	n, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		if portStr == "" || isDigits(portStr) {
			return netip.Addr{}, 0, false, p.errAt(portCol, "invalid port %q in %q: a number from 0 to 65535", portStr, s)
		}
		port, err := p.portName(portStr, portCol, s, proto)
		if err != nil {
			return netip.Addr{}, 0, false, err
		}
		return a, port, true, nil
	}
	return a, uint16(n), true, nil
}

// portName resolves the port name of ADDRESS:NAME (in s) for proto, as
// ipvsadm's getservbyname does.
func (p *parser) portName(name string, col int, s string, proto lvs.Protocol) (uint16, error) {
	if p.names.Port == nil {
		return 0, p.errAt(col, "invalid port %q in %q: a service name, which lvsctl does not resolve here; save the table with ipvsadm -S -n", name, s)
	}
	if proto == 0 {
		return 0, p.errAt(col, "port name %q in %q comes before the service's protocol (-t, -u, --sctp-service or -f), which ipvsadm looks it up for; write the service first, or the port number", name, s)
	}
	port, ok, from, err := p.names.Port(name, proto.String())
	switch {
	case err != nil:
		return 0, p.errAt(col, "port name %q in %q: reading the service names: %v", name, s, err)
	case !ok:
		return 0, p.errAt(col, "invalid port %q in %q: %s has no %s service of that name; write the port number", name, s, from, proto)
	}
	return port, nil
}

// isHostName reports whether s may be a host name (RFC 1123 letters,
// digits, hyphens and dots, with a letter somewhere), which ipvsadm would
// have given to gethostbyname.
func isHostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	letter := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			letter = true
		case c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_':
		default:
			return false
		}
	}
	return letter
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// key is the service a command names.
func (c *command) key() lvs.ServiceKey {
	if c.fwmark != 0 {
		return lvs.MarkKey(c.family, c.fwmark)
	}
	return lvs.ServiceKey{Family: c.family, Protocol: c.proto, Addr: c.addr, Port: c.port}
}

// opts are the service options of an -A or -E line. -E replaces every
// option, as ipvsadm sends the whole service to the kernel.
func (c *command) opts() lvs.ServiceOpts {
	o := lvs.ServiceOpts{
		Scheduler:  c.sched,
		Persistent: c.persist,
		Timeout:    c.timeout,
		Netmask:    c.netmask,
		PE:         c.pe,
		OnePacket:  c.ops,
		SchedFlags: c.flags,
	}
	return o
}

func (c *command) dest() lvs.Dest {
	d := lvs.Dest{
		Addr: netip.AddrPortFrom(c.dAddr, c.dPort),
		Opts: lvs.DestOpts{
			Forward:        c.fwd,
			Weight:         c.weight,
			UpperThreshold: c.uth,
			LowerThreshold: c.lth,
		},
	}
	if c.fwd == lvs.Tunnel {
		d.Opts.TunnelType, d.Opts.TunnelPort, d.Opts.TunnelFlags = c.tunType, c.tunPort, c.tunFlags
	}
	return d
}

// apply carries out one command on the table being built, refusing what
// the kernel would refuse.
func (p *parser) apply(c *command) error {
	at := pos{p.line, c.cmdTok.col}
	svcCol := c.optAt[optService].col
	k := c.key()
	si, exists := p.svcIndex[k]
	switch c.kind {
	case cmdFlush:
		p.services = nil
		p.svcIndex = map[lvs.ServiceKey]int{}
		p.destIndex = map[destKey]int{}
	case cmdTimeout:
		var ds [3]time.Duration
		for i, a := range c.args {
			n, err := p.number(a.text, a.col, 0, maxTimeout, "timeout", "seconds from 0 (leave as it is) to 2678400 (31 days)")
			if err != nil {
				return err
			}
			ds[i] = time.Duration(n) * time.Second
		}
		// 0 leaves a timeout as it was, as in the kernel.
		for i, f := range []*time.Duration{&p.timeouts.TCP, &p.timeouts.TCPFin, &p.timeouts.UDP} {
			if ds[i] != 0 {
				*f = ds[i]
			}
		}
		p.setAt = at
	case cmdZero:
		if c.options&(1<<optService) != 0 && !exists {
			p.consequence = p.badSvc[p.svcArg]
			return p.errAt(svcCol, "-Z: there is no service %s", k)
		}
		// Counters are not part of a saved table: nothing to zero.
	case cmdAdd:
		if exists {
			prev := p.services[si]
			return p.errAt(svcCol, "service %s already exists (added on line %d)", k, prev.at.line)
		}
		if err := p.count(); err != nil {
			return err
		}
		p.svcIndex[k] = len(p.services)
		p.services = append(p.services, &parsedService{svc: lvs.Service{Key: k, Opts: c.opts()}, at: at})
	case cmdEdit:
		if !exists {
			p.consequence = p.badSvc[p.svcArg]
			return p.errAt(svcCol, "-E: there is no service %s (add it with -A first)", k)
		}
		p.services[si].svc.Opts = c.opts()
		p.services[si].at = at
	case cmdDel:
		if !exists {
			p.consequence = p.badSvc[p.svcArg]
			return p.errAt(svcCol, "-D: there is no service %s", k)
		}
		ps := p.services[si]
		for i, d := range ps.svc.Dests {
			if ps.dead == nil || !ps.dead[i] {
				delete(p.destIndex, destKey{ps, d.Addr})
			}
		}
		p.services[si] = nil
		delete(p.svcIndex, k)
	case cmdAddDest, cmdEditDest, cmdDelDest:
		if !exists {
			p.consequence = p.badSvc[p.svcArg]
			return p.errAt(svcCol, "there is no service %s (add it with -A before its real servers)", k)
		}
		ps := p.services[si]
		d := c.dest()
		if c.kind != cmdDelDest {
			p.thresholds = p.thresholds || c.options&(1<<optUThreshold|1<<optLThreshold) != 0
			p.untypedTunnel = p.untypedTunnel || d.Opts.Forward == lvs.Tunnel && c.options&(1<<optTunType) == 0
		}
		dk := destKey{ps, d.Addr}
		di, found := p.destIndex[dk]
		srvCol := c.optAt[optServer].col
		switch {
		case c.kind == cmdAddDest && found:
			return p.errAt(srvCol, "real server %s already exists in %s (added on line %d)", addrPort(d.Addr), k, ps.dests[di].line)
		case c.kind == cmdAddDest:
			if err := p.count(); err != nil {
				return err
			}
			p.destIndex[dk] = len(ps.svc.Dests)
			ps.svc.Dests = append(ps.svc.Dests, d)
			ps.dests = append(ps.dests, at)
			if ps.dead != nil {
				ps.dead = append(ps.dead, false)
			}
		case !found:
			p.consequence = p.badDest[[2]string{p.svcArg, p.destArg}]
			return p.errAt(srvCol, "%s: there is no real server %s in %s", c.cmdTok.text, addrPort(d.Addr), k)
		case c.kind == cmdEditDest:
			ps.svc.Dests[di] = d
			ps.dests[di] = at
		default:
			if ps.dead == nil {
				ps.dead = make([]bool, len(ps.svc.Dests))
			}
			ps.dead[di] = true
			delete(p.destIndex, dk)
		}
	}
	return nil
}

// count counts one more service or real server against MaxObjects.
func (p *parser) count() error {
	if p.objects++; p.objects > maxObjects {
		p.fatal = true
		return p.errAt(1, "more than %d services and real servers, the most lvsctl reads: this is not a director's table", maxObjects)
	}
	return nil
}

// finish validates the table built and normalizes it. Problems point at
// the line that last set the object.
func (p *parser) finish() (*lvs.Table, error) {
	t := &lvs.Table{Timeouts: p.timeouts}
	live := p.services[:0]
	for _, ps := range p.services {
		if ps == nil {
			continue
		}
		if ps.dead != nil {
			// Drop the deleted real servers, keeping the others in order.
			n := 0
			for i := range ps.svc.Dests {
				if !ps.dead[i] {
					ps.svc.Dests[n], ps.dests[n] = ps.svc.Dests[i], ps.dests[i]
					n++
				}
			}
			ps.svc.Dests, ps.dests, ps.dead = ps.svc.Dests[:n:n], ps.dests[:n], nil
		}
		live = append(live, ps)
		t.Services = append(t.Services, ps.svc)
	}
	p.services = live
	for _, pr := range t.Validate() {
		at := p.setAt
		switch {
		case pr.Service >= 0 && pr.Dest >= 0:
			at = p.services[pr.Service].dests[pr.Dest]
		case pr.Service >= 0:
			at = p.services[pr.Service].at
		}
		if at.line == 0 {
			at = pos{1, 1}
		}
		p.report(&Error{File: p.file, Line: at.line, Col: at.col, Msg: pr.Msg})
	}
	if len(p.errs) > 0 {
		slices.SortStableFunc(p.errs, func(a, b *Error) int { return cmp.Compare(a.Line, b.Line) })
		return nil, p.result()
	}
	t.Normalize()
	return t, nil
}
