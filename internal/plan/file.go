package plan

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/lvsctl/lvsctl/internal/atomicfile"
	"github.com/lvsctl/lvsctl/internal/regular"
	"github.com/lvsctl/lvsctl/lvs"
)

// FileFormatVersion is the version of the plan file format that WriteFile
// writes and ReadFile reads.
const FileFormatVersion = 1

// fileKind marks a JSON document as an lvsctl plan file.
const fileKind = "lvsctl-plan"

// maxFileSize bounds what ReadFile reads: 256 MiB. A plan takes about
// 1.5 kB per operation, so the cold load of 10,000 services with 4 real
// servers each is 75 MB and 256 MiB holds more than three times that;
// decoding takes a few times the file's size in memory, and a wrong path
// or a hostile file cannot make lvsctl read more.
const maxFileSize = 256 << 20

// A File is a saved plan: the plan, what it was planned for, and the
// fingerprint of the live table it was planned against, so that apply can
// refuse it once the table has changed.
type File struct {
	FormatVersion int       // set by WriteFile
	Version       string    // lvsctl version that made the plan
	Created       time.Time // when the plan was made
	Netns         string    // network namespace, "" for the current one
	// Config is the configuration planned from, an absolute path ("" for
	// plans from elsewhere): apply refuses a plan from another file than
	// the one a running daemon manages the namespace from.
	Config       string
	Fingerprint  string // [Fingerprint] of the live table planned against
	DrainTimeout time.Duration
	// SysctlsRead says that the live table planned against carried the
	// kernel settings of Desired.Sysctls (a plan against the kernel):
	// apply reads them again to check the fingerprint. A plan against a
	// saved table, which has none, leaves the settings alone.
	SysctlsRead bool
	Desired     *lvs.Table
	Plan        Plan
}

// WriteFile saves f at path with mode 0600 (a plan shows the whole
// configuration). It writes a temporary file beside path and renames it, so
// a reader never sees half a plan. It replaces only what [CheckOverwrite]
// allows.
func WriteFile(path string, f *File) error {
	if err := CheckOverwrite(path); err != nil {
		return err
	}
	data, err := json.MarshalIndent(toWireFile(f), "", " ")
	if err != nil {
		return fmt.Errorf("encoding plan: %w", err)
	}
	data = append(data, '\n')

	// The rename replaces a symbolic link created meanwhile instead of
	// following it.
	if err := atomicfile.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("writing plan %s: %w", path, err)
	}
	return nil
}

// CheckOverwrite refuses path as the place of a new plan when something
// is there that a plan must not replace: a symbolic link (the tool runs as
// root, and a link in a shared directory could point anywhere), anything
// but a regular file, and a file that is neither empty nor a plan file
// (told by the kind marker a plan starts with), above all the
// configuration the plan is made from.
func CheckOverwrite(path string) error {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("writing plan: %w", err)
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("%s is a symbolic link: refusing to write a plan through it; give the plan file's real path", path)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("%s exists and is not a regular file: choose another path for the plan", path)
	case fi.Size() == 0:
		return nil
	}
	fh, _, err := regular.Open(path, syscall.O_NOFOLLOW)
	if err != nil {
		return fmt.Errorf("writing plan: %w", err)
	}
	defer fh.Close()
	if !isPlan(io.LimitReader(fh, maxFileSize)) {
		return fmt.Errorf("%s exists and is not an lvsctl plan file: refusing to replace it with a plan; choose another path, such as %s.plan", path, strings.TrimSuffix(path, filepath.Ext(path)))
	}
	return nil
}

// isPlan reads r, a JSON document, until it finds its top-level "kind"
// and tells whether that is a plan file's.
func isPlan(r io.Reader) bool {
	dec := json.NewDecoder(r)
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return false
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return false
		}
		if key == "kind" {
			var kind string
			return dec.Decode(&kind) == nil && kind == fileKind
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return false
		}
	}
	return false
}

// A NotPlanError is a file given as a saved plan that is no plan file.
type NotPlanError struct{ Path string }

func (e *NotPlanError) Error() string {
	return fmt.Sprintf("%s is not an lvsctl plan file (lvsctl plan --out PLANFILE makes those)", e.Path)
}

// ReadFile reads a plan saved by [WriteFile] and checks it with
// [File.Validate].
//
// A plan is run with the privileges of whoever applies it, usually root,
// and may have been made by someone else: ReadFile opens path without
// following a symbolic link and refuses anything but a regular file, a
// file owned by another user than root or the effective user, and a file
// that group or others may read or write (WriteFile writes 0600), before
// it reads a byte of it. It reads at most 256 MiB, refuses JSON fields
// and data the format does not have, and refuses a plan whose desired
// table or operations do not pass validation.
func ReadFile(path string) (*File, error) {
	fh, fi, err := regular.Open(path, syscall.O_NOFOLLOW)
	var nr *regular.NotRegularError
	switch {
	case errors.Is(err, syscall.ELOOP):
		return nil, fmt.Errorf("%s is a symbolic link: refusing to read a plan through it; give the plan file's real path", path)
	case errors.As(err, &nr):
		return nil, fmt.Errorf("%v: a plan is the file lvsctl plan --out writes", err)
	case err != nil:
		return nil, regular.Reading(err)
	}
	defer fh.Close()
	if err := checkFileInfo(path, fi, os.Geteuid()); err != nil {
		return nil, err
	}
	data, err := regular.ReadAll(fh, fi, maxFileSize)
	if errors.Is(err, regular.ErrTooLarge) {
		return nil, fmt.Errorf("%s is larger than %d MiB, more than any lvsctl plan: check the path", path, maxFileSize>>20)
	}
	if err != nil {
		return nil, fmt.Errorf("reading plan %s: %w", path, err)
	}
	return decodeFile(data, path)
}

// checkFileInfo refuses a plan file that someone other than root or euid
// could have written, or that is not a regular file.
func checkFileInfo(path string, fi fs.FileInfo, euid int) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file (%s): a plan is the file lvsctl plan --out writes", path, regular.Kind(fi.Mode()))
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != 0 && int(st.Uid) != euid {
		return fmt.Errorf("%s is owned by uid %d, not by root or you (uid %d): apply runs a plan with your privileges, so it runs only a plan that you or root own; make the plan yourself with lvsctl plan --out, or check it and chown it", path, st.Uid, euid)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%s has mode %04o: a plan must not be readable or writable by group or others (lvsctl plan --out writes it 0600), since anyone who can write it can change what apply does; make a new plan, or check it and chmod 600 it", path, perm)
	}
	return nil
}

// decodeFile decodes and validates the content of a plan file; path is
// for messages only.
func decodeFile(data []byte, path string) (*File, error) {
	notPlan := &NotPlanError{Path: path}
	var head struct {
		Kind          string `json:"kind"`
		FormatVersion int    `json:"format_version"`
		Version       string `json:"lvsctl_version"`
	}
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&head); err != nil || head.Kind != fileKind {
		return nil, notPlan
	}
	if head.FormatVersion != FileFormatVersion {
		return nil, fmt.Errorf("%s is a plan of file format %d (made by lvsctl %q); this lvsctl reads format %d: make a new plan with lvsctl plan --out",
			path, head.FormatVersion, head.Version, FileFormatVersion)
	}
	damaged := func(err error) error {
		return fmt.Errorf("%s is a damaged plan file (%v): make a new plan with lvsctl plan --out", path, err)
	}
	var w wireFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return nil, damaged(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, damaged(errors.New("data after the plan"))
	}
	f, err := w.file()
	if err != nil {
		return nil, damaged(err)
	}
	// Validate the desired table as written, so that messages match the
	// file, and again as it is used, in canonical form.
	err = f.Validate()
	if err == nil {
		f.Desired.Normalize()
		err = validateDesired(f.Desired)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w; refusing it: make a new plan with lvsctl plan --out", path, err)
	}
	return f, nil
}

// The wire types below are the plan file format. They mirror the lvs and
// plan types field by field with fixed JSON names and the kernel's numeric
// values for enumerations, so that the format does not change when those
// types gain methods or their Go names change. A field added to the lvs
// types must be added here too: TestFileCarriesEveryField fails until it is.

type wireFile struct {
	Kind          string     `json:"kind"`
	FormatVersion int        `json:"format_version"`
	Version       string     `json:"lvsctl_version"`
	Created       time.Time  `json:"created"`
	Netns         string     `json:"netns"`
	Config        string     `json:"config,omitempty"`
	Fingerprint   string     `json:"fingerprint"`
	DrainTimeout  int64      `json:"drain_timeout_ns"`
	SysctlsRead   bool       `json:"sysctls_read"`
	Desired       *wireTable `json:"desired"`
	Plan          wirePlan   `json:"plan"`
}

type wireTable struct {
	Services []wireService `json:"services"`
	Timeouts wireTimeouts  `json:"timeouts"`
	Ignore   wireIgnore    `json:"ignore"`
	Sysctls  []wireSysctl  `json:"sysctls"`
}

type wireSysctl struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Reason string `json:"reason,omitempty"`
}

type wireTimeouts struct {
	TCP    int64 `json:"tcp_ns"`
	TCPFin int64 `json:"tcp_fin_ns"`
	UDP    int64 `json:"udp_ns"`
}

type wireIgnore struct {
	Prefixes []netip.Prefix `json:"prefixes"`
	FWMarks  []uint32       `json:"fwmarks"`
	Ports    []uint16       `json:"ports"`
}

type wireKey struct {
	Family   uint16     `json:"family"`
	Protocol uint16     `json:"protocol"`
	Addr     netip.Addr `json:"addr"`
	Port     uint16     `json:"port"`
	FWMark   uint32     `json:"fwmark"`
}

type wireServiceOpts struct {
	Scheduler  string `json:"scheduler"`
	Persistent bool   `json:"persistent"`
	Timeout    uint32 `json:"timeout"`
	Netmask    uint8  `json:"netmask"`
	PE         string `json:"pe"`
	OnePacket  bool   `json:"one_packet"`
	SchedFlags uint8  `json:"sched_flags"`
}

type wireDestOpts struct {
	Forward        uint8  `json:"forward"`
	Weight         int    `json:"weight"`
	UpperThreshold uint32 `json:"upper_threshold"`
	LowerThreshold uint32 `json:"lower_threshold"`
	TunnelType     uint8  `json:"tunnel_type"`
	TunnelPort     uint16 `json:"tunnel_port"`
	TunnelFlags    uint16 `json:"tunnel_flags"`
}

// wireDest keeps connection numbers (a drain's display needs them) but
// not traffic counters, which no plan uses.
type wireDest struct {
	Addr         netip.AddrPort `json:"addr"`
	Name         string         `json:"name,omitempty"`
	Opts         wireDestOpts   `json:"opts"`
	ActiveConns  uint32         `json:"active_conns,omitempty"`
	InactConns   uint32         `json:"inact_conns,omitempty"`
	PersistConns uint32         `json:"persist_conns,omitempty"`
}

type wireService struct {
	Key   wireKey         `json:"key"`
	Name  string          `json:"name,omitempty"`
	Opts  wireServiceOpts `json:"opts"`
	Dests []wireDest      `json:"dests"`
}

type wireOp struct {
	Action       Action          `json:"action"`
	Service      wireKey         `json:"service"`
	ServiceName  string          `json:"service_name,omitempty"`
	From         wireServiceOpts `json:"from"`
	To           wireServiceOpts `json:"to"`
	FromDest     wireDest        `json:"from_dest"`
	ToDest       wireDest        `json:"to_dest"`
	FromTimeouts wireTimeouts    `json:"from_timeouts"`
	ToTimeouts   wireTimeouts    `json:"to_timeouts"`
	FromSysctl   wireSysctl      `json:"from_sysctl"`
	ToSysctl     wireSysctl      `json:"to_sysctl"`
}

type wireListed struct {
	Service     wireKey  `json:"service"`
	ServiceName string   `json:"service_name,omitempty"`
	Dest        wireDest `json:"dest"`
}

type wirePlan struct {
	Ops     []wireOp     `json:"ops"`
	Waiting []wireListed `json:"waiting"`
	Dropped []wireListed `json:"dropped"`
	// Unknown is Plan.Unknown: what the live table planned against did
	// not have. Older files have none, which is "knew everything".
	Unknown uint8 `json:"live_unknown,omitempty"`
}

func toWireFile(f *File) wireFile {
	w := wireFile{
		Kind: fileKind, FormatVersion: FileFormatVersion, Version: f.Version, Created: f.Created,
		Netns: f.Netns, Config: f.Config, Fingerprint: f.Fingerprint, DrainTimeout: int64(f.DrainTimeout),
		SysctlsRead: f.SysctlsRead,
		Plan:        wirePlan{Ops: []wireOp{}, Waiting: []wireListed{}, Dropped: []wireListed{}, Unknown: uint8(f.Plan.Unknown)},
	}
	if f.Desired != nil {
		t := toWireTable(f.Desired)
		w.Desired = &t
	}
	for _, op := range f.Plan.Ops {
		w.Plan.Ops = append(w.Plan.Ops, wireOp{
			Action: op.Action, Service: toWireKey(op.Service), ServiceName: op.ServiceName,
			From: toWireServiceOpts(op.From), To: toWireServiceOpts(op.To),
			FromDest: toWireDest(op.FromDest), ToDest: toWireDest(op.ToDest),
			FromTimeouts: toWireTimeouts(op.FromTimeouts), ToTimeouts: toWireTimeouts(op.ToTimeouts),
			FromSysctl: wireSysctl(op.FromSysctl), ToSysctl: wireSysctl(op.ToSysctl),
		})
	}
	for _, wt := range f.Plan.Waiting {
		w.Plan.Waiting = append(w.Plan.Waiting, wireListed{toWireKey(wt.Service), wt.ServiceName, toWireDest(wt.Dest)})
	}
	for _, d := range f.Plan.Dropped {
		w.Plan.Dropped = append(w.Plan.Dropped, wireListed{toWireKey(d.Service), d.ServiceName, toWireDest(d.Dest)})
	}
	return w
}

func (w *wireFile) file() (*File, error) {
	f := &File{
		FormatVersion: w.FormatVersion, Version: w.Version, Created: w.Created, Netns: w.Netns,
		Config: w.Config, Fingerprint: w.Fingerprint, DrainTimeout: time.Duration(w.DrainTimeout),
		SysctlsRead: w.SysctlsRead,
	}
	if w.Desired == nil {
		return nil, errors.New("no desired table")
	}
	f.Desired = w.Desired.table()
	f.Plan.Unknown = lvs.Unknown(w.Plan.Unknown)
	if f.Plan.Unknown&^lvs.UnknownAll != 0 {
		return nil, fmt.Errorf("live_unknown %d has bits that name no setting", w.Plan.Unknown)
	}
	for _, op := range w.Plan.Ops {
		if op.Action < SetSysctl || op.Action > DeleteService {
			return nil, fmt.Errorf("unknown action %d", op.Action)
		}
		f.Plan.Ops = append(f.Plan.Ops, Op{
			Action: op.Action, Service: op.Service.key(), ServiceName: op.ServiceName,
			From: op.From.opts(), To: op.To.opts(),
			FromDest: op.FromDest.dest(), ToDest: op.ToDest.dest(),
			FromTimeouts: op.FromTimeouts.timeouts(), ToTimeouts: op.ToTimeouts.timeouts(),
			FromSysctl: lvs.Sysctl(op.FromSysctl), ToSysctl: lvs.Sysctl(op.ToSysctl),
		})
	}
	for _, wt := range w.Plan.Waiting {
		f.Plan.Waiting = append(f.Plan.Waiting, Waiting{wt.Service.key(), wt.ServiceName, wt.Dest.dest()})
	}
	for _, d := range w.Plan.Dropped {
		f.Plan.Dropped = append(f.Plan.Dropped, Dropped{d.Service.key(), d.ServiceName, d.Dest.dest()})
	}
	return f, nil
}

func toWireTable(t *lvs.Table) wireTable {
	w := wireTable{
		Services: []wireService{},
		Timeouts: toWireTimeouts(t.Timeouts),
		Ignore:   wireIgnore{Prefixes: t.Ignore.Prefixes, FWMarks: t.Ignore.FWMarks, Ports: t.Ignore.Ports},
		Sysctls:  []wireSysctl{},
	}
	for _, s := range t.Sysctls {
		w.Sysctls = append(w.Sysctls, wireSysctl(s))
	}
	for _, s := range t.Services {
		ws := wireService{Key: toWireKey(s.Key), Name: s.Name, Opts: toWireServiceOpts(s.Opts), Dests: []wireDest{}}
		for _, d := range s.Dests {
			ws.Dests = append(ws.Dests, toWireDest(d))
		}
		w.Services = append(w.Services, ws)
	}
	return w
}

func (w *wireTable) table() *lvs.Table {
	t := &lvs.Table{
		Timeouts: w.Timeouts.timeouts(),
		Ignore:   lvs.Ignore{Prefixes: w.Ignore.Prefixes, FWMarks: w.Ignore.FWMarks, Ports: w.Ignore.Ports},
	}
	for _, s := range w.Sysctls {
		t.Sysctls = append(t.Sysctls, lvs.Sysctl(s))
	}
	for _, ws := range w.Services {
		s := lvs.Service{Key: ws.Key.key(), Name: ws.Name, Opts: ws.Opts.opts()}
		for _, wd := range ws.Dests {
			s.Dests = append(s.Dests, wd.dest())
		}
		t.Services = append(t.Services, s)
	}
	return t
}

func toWireKey(k lvs.ServiceKey) wireKey {
	return wireKey{uint16(k.Family), uint16(k.Protocol), k.Addr, k.Port, k.FWMark}
}

func (w wireKey) key() lvs.ServiceKey {
	return lvs.ServiceKey{Family: lvs.Family(w.Family), Protocol: lvs.Protocol(w.Protocol), Addr: w.Addr, Port: w.Port, FWMark: w.FWMark}
}

func toWireServiceOpts(o lvs.ServiceOpts) wireServiceOpts {
	return wireServiceOpts{o.Scheduler, o.Persistent, o.Timeout, o.Netmask, o.PE, o.OnePacket, uint8(o.SchedFlags)}
}

func (w wireServiceOpts) opts() lvs.ServiceOpts {
	return lvs.ServiceOpts{Scheduler: w.Scheduler, Persistent: w.Persistent, Timeout: w.Timeout, Netmask: w.Netmask,
		PE: w.PE, OnePacket: w.OnePacket, SchedFlags: lvs.SchedFlags(w.SchedFlags)}
}

func toWireTimeouts(t lvs.Timeouts) wireTimeouts {
	return wireTimeouts{int64(t.TCP), int64(t.TCPFin), int64(t.UDP)}
}

func (w wireTimeouts) timeouts() lvs.Timeouts {
	return lvs.Timeouts{TCP: time.Duration(w.TCP), TCPFin: time.Duration(w.TCPFin), UDP: time.Duration(w.UDP)}
}

func toWireDest(d lvs.Dest) wireDest {
	o := d.Opts
	return wireDest{
		Addr: d.Addr, Name: d.Name,
		Opts:        wireDestOpts{uint8(o.Forward), o.Weight, o.UpperThreshold, o.LowerThreshold, uint8(o.TunnelType), o.TunnelPort, uint16(o.TunnelFlags)},
		ActiveConns: d.Live.ActiveConns, InactConns: d.Live.InactConns, PersistConns: d.Live.PersistConns,
	}
}

func (w wireDest) dest() lvs.Dest {
	o := w.Opts
	return lvs.Dest{
		Addr: w.Addr, Name: w.Name,
		Opts: lvs.DestOpts{
			Forward: lvs.Forward(o.Forward), Weight: o.Weight, UpperThreshold: o.UpperThreshold, LowerThreshold: o.LowerThreshold,
			TunnelType: lvs.TunnelType(o.TunnelType), TunnelPort: o.TunnelPort, TunnelFlags: lvs.TunnelFlags(o.TunnelFlags),
		},
		Live: lvs.DestLive{ActiveConns: w.ActiveConns, InactConns: w.InactConns, PersistConns: w.PersistConns},
	}
}
