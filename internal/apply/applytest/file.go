package applytest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/netip"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/lvsctl/lvsctl/internal/atomicfile"
	"github.com/lvsctl/lvsctl/lvs"
)

// File is the JSON form of a [Kernel], as [Kernel.Save] writes it and
// [Kernel.Load] and [OpenFile] read it. Tests and testscripts may write it by
// hand to stage a kernel; unknown fields are an error, so typos show.
//
//	{
//	  "services": [
//	    {"protocol": "tcp", "address": "10.0.0.2:80", "scheduler": "wlc",
//	     "persistent": true, "timeout": 360, "netmask": 32,
//	     "dests": [{"address": "192.168.10.100:80", "forwarding": "nat", "weight": 1,
//	                "active_conns": 3, "inactive_conns": 1}]},
//	    {"fwmark": 100, "family": "ipv6", "scheduler": "rr"}
//	  ],
//	  "timeouts": {"tcp": 900, "tcp_fin": 120, "udp": 300},
//	  "sysctls": {"net.ipv4.ip_forward": "1"},
//	  "absent_sysctls": ["net.ipv4.vs.sloppy_sctp"],
//	  "missing_schedulers": ["mh"],
//	  "fail": {"after": 2, "errno": "EIO"},
//	  "delay": "100ms",
//	  "calls": 7
//	}
//
// "fail" lets "after" more mutations through and fails the next one with
// the errno named (or with "message" when no errno is given), once; the
// section is then removed. "sysctls" are kernel settings that differ from
// [DefaultSysctls], "absent_sysctls" settings this kernel does not have
// (net.ipv4.vs.* before ip_vs is loaded). "missing_schedulers" are schedulers whose module
// is absent. "delay" slows every mutation down. "calls" counts the mutating
// calls made so far, refused ones included, so a script can check that an
// apply made none.
type File struct {
	Services          []FileService     `json:"services"`
	Timeouts          FileTimeouts      `json:"timeouts"`
	Sysctls           map[string]string `json:"sysctls,omitempty"`
	AbsentSysctls     []string          `json:"absent_sysctls,omitempty"`
	MissingSchedulers []string          `json:"missing_schedulers,omitempty"`
	Fail              *FileFault        `json:"fail,omitempty"`
	Delay             string            `json:"delay,omitempty"`
	Calls             int               `json:"calls"`
}

// FileService is a virtual service in a [File]: either protocol and address
// ("10.0.0.2:80", "[2001:db8::2]:53") or fwmark and family.
type FileService struct {
	Protocol   string     `json:"protocol,omitempty"` // tcp, udp or sctp
	Address    string     `json:"address,omitempty"`
	FWMark     uint32     `json:"fwmark,omitempty"`
	Family     string     `json:"family,omitempty"` // ipv4 (default) or ipv6; fwmark services only
	Scheduler  string     `json:"scheduler"`
	Persistent bool       `json:"persistent,omitempty"`
	Timeout    uint32     `json:"timeout,omitempty"` // seconds
	Netmask    uint8      `json:"netmask,omitempty"` // prefix length
	PE         string     `json:"pe,omitempty"`
	OnePacket  bool       `json:"one_packet,omitempty"`
	SchedFlags uint8      `json:"sched_flags,omitempty"`
	Dests      []FileDest `json:"dests,omitempty"`
}

// FileDest is a real server in a [File], with its connection counters.
type FileDest struct {
	Address        string `json:"address"`
	Forwarding     string `json:"forwarding"` // nat, dr, tun or local
	Weight         int    `json:"weight"`
	UpperThreshold uint32 `json:"upper_threshold,omitempty"`
	LowerThreshold uint32 `json:"lower_threshold,omitempty"`
	TunnelType     string `json:"tunnel_type,omitempty"` // ipip, gue or gre
	TunnelPort     uint16 `json:"tunnel_port,omitempty"`
	TunnelFlags    uint16 `json:"tunnel_flags,omitempty"` // 1 csum, 2 remcsum
	ActiveConns    uint32 `json:"active_conns,omitempty"`
	InactiveConns  uint32 `json:"inactive_conns,omitempty"`
	PersistConns   uint32 `json:"persist_conns,omitempty"`
}

// FileTimeouts are the connection timeouts in seconds; zero or absent
// means the kernel default.
type FileTimeouts struct {
	TCP    int64 `json:"tcp"`
	TCPFin int64 `json:"tcp_fin"`
	UDP    int64 `json:"udp"`
}

// FileFault is a pending failure: the mutation after the next After ones
// fails with Errno (a name such as "EIO" or "ENOENT") or, without one, with
// Message.
type FileFault struct {
	After   int    `json:"after"`
	Errno   string `json:"errno,omitempty"`
	Message string `json:"message,omitempty"`
}

// errnos are the errno names a [File] may use.
var errnos = map[string]syscall.Errno{
	"EPERM": syscall.EPERM, "ENOENT": syscall.ENOENT, "ESRCH": syscall.ESRCH,
	"EINTR": syscall.EINTR, "EIO": syscall.EIO, "ENOMEM": syscall.ENOMEM,
	"EACCES": syscall.EACCES, "EBUSY": syscall.EBUSY, "EEXIST": syscall.EEXIST,
	"ENODEV": syscall.ENODEV, "EINVAL": syscall.EINVAL, "ERANGE": syscall.ERANGE,
	"EAGAIN": syscall.EAGAIN, "ENOSYS": syscall.ENOSYS, "ENOPROTOOPT": syscall.ENOPROTOOPT,
	"EPROTONOSUPPORT": syscall.EPROTONOSUPPORT, "EAFNOSUPPORT": syscall.EAFNOSUPPORT,
	"EOPNOTSUPP": syscall.EOPNOTSUPP, "ENOBUFS": syscall.ENOBUFS,
}

func errnoName(e syscall.Errno) (string, bool) {
	for n, v := range errnos {
		if v == e {
			return n, true
		}
	}
	return "", false
}

// Load replaces the kernel's whole state (table, missing schedulers,
// pending fault, delay and call count) with the contents of the JSON file at
// path.
func (k *Kernel) Load(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	f, err := decodeFile(data)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return k.setFile(f, path)
}

// Save writes the kernel's state to path as a [File], mode 0600, replacing
// the file atomically.
func (k *Kernel) Save(path string) error {
	f, err := k.file()
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(data, '\n'), 0o600)
}

func decodeFile(data []byte) (*File, error) {
	var f File
	if len(bytes.TrimSpace(data)) == 0 {
		return &f, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("not a fake kernel file: %w", err)
	}
	return &f, nil
}

// file returns the kernel's state as a File.
func (k *Kernel) file() (*File, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	f := &File{
		Timeouts: FileTimeouts{
			TCP:    int64(k.table.Timeouts.TCP / time.Second),
			TCPFin: int64(k.table.Timeouts.TCPFin / time.Second),
			UDP:    int64(k.table.Timeouts.UDP / time.Second),
		},
		Calls: k.callBase + len(k.calls),
	}
	for n, v := range k.sysctls {
		if d, ok := DefaultSysctls[n]; !ok || d != v {
			if f.Sysctls == nil {
				f.Sysctls = map[string]string{}
			}
			f.Sysctls[n] = v
		}
	}
	for n := range DefaultSysctls {
		if _, ok := k.sysctls[n]; !ok {
			f.AbsentSysctls = append(f.AbsentSysctls, n)
		}
	}
	slices.Sort(f.AbsentSysctls)
	for n := range k.missing {
		f.MissingSchedulers = append(f.MissingSchedulers, n)
	}
	slices.Sort(f.MissingSchedulers)
	if k.failErr != nil {
		ff := &FileFault{After: k.failIn}
		if e, ok := errnoOf(k.failErr); ok {
			if n, ok := errnoName(e); ok {
				ff.Errno = n
			}
		}
		if ff.Errno == "" {
			ff.Message = k.failErr.Error()
		}
		f.Fail = ff
	}
	if k.delay > 0 {
		f.Delay = k.delay.String()
	}
	for _, s := range k.table.Services {
		fsvc := FileService{
			Scheduler: s.Opts.Scheduler, Persistent: s.Opts.Persistent, Timeout: s.Opts.Timeout,
			PE: s.Opts.PE, OnePacket: s.Opts.OnePacket, SchedFlags: uint8(s.Opts.SchedFlags),
		}
		if s.Opts.Persistent {
			fsvc.Netmask = s.Opts.Netmask
		}
		if s.Key.IsFWMark() {
			fsvc.FWMark, fsvc.Family = s.Key.FWMark, s.Key.Family.String()
		} else {
			fsvc.Protocol, fsvc.Address = s.Key.Protocol.String(), s.Key.AddrPort().String()
		}
		for _, d := range s.Dests {
			fd := FileDest{
				Address: d.Addr.String(), Forwarding: d.Opts.Forward.String(), Weight: d.Opts.Weight,
				UpperThreshold: d.Opts.UpperThreshold, LowerThreshold: d.Opts.LowerThreshold,
				TunnelPort: d.Opts.TunnelPort, TunnelFlags: uint16(d.Opts.TunnelFlags),
				ActiveConns: d.Live.ActiveConns, InactiveConns: d.Live.InactConns, PersistConns: d.Live.PersistConns,
			}
			if d.Opts.Forward == lvs.Tunnel {
				fd.TunnelType = d.Opts.TunnelType.String()
			}
			fsvc.Dests = append(fsvc.Dests, fd)
		}
		f.Services = append(f.Services, fsvc)
	}
	return f, nil
}

// setFile replaces the kernel's state with f; name is for errors.
func (k *Kernel) setFile(f *File, name string) error {
	t, err := f.table()
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	var failErr error
	if f.Fail != nil {
		switch {
		case f.Fail.Errno != "":
			e, ok := errnos[strings.ToUpper(f.Fail.Errno)]
			if !ok {
				return fmt.Errorf("%s: fail: unknown errno %q: use one of %s", name, f.Fail.Errno, strings.Join(errnoNames(), ", "))
			}
			failErr = e
		case f.Fail.Message != "":
			failErr = errors.New(f.Fail.Message)
		default:
			return fmt.Errorf("%s: fail: give an errno (such as \"EIO\") or a message", name)
		}
		if f.Fail.After < 0 {
			return fmt.Errorf("%s: fail: after must not be negative, not %d", name, f.Fail.After)
		}
	}
	var delay time.Duration
	if f.Delay != "" {
		if delay, err = time.ParseDuration(f.Delay); err != nil {
			return fmt.Errorf("%s: delay: %w", name, err)
		}
	}
	k.Seed(t)
	k.SetMissingSchedulers(f.MissingSchedulers...)
	k.SetDelay(delay)
	k.mu.Lock()
	defer k.mu.Unlock()
	k.failErr, k.failIn = failErr, 0
	if f.Fail != nil {
		k.failIn = f.Fail.After
	}
	k.calls, k.callBase = nil, f.Calls
	k.sysctls = maps.Clone(DefaultSysctls)
	maps.Copy(k.sysctls, f.Sysctls)
	for _, n := range f.AbsentSysctls {
		delete(k.sysctls, n)
	}
	return nil
}

func errnoNames() []string {
	var ns []string
	for n := range errnos {
		ns = append(ns, n)
	}
	slices.Sort(ns)
	return ns
}

// table converts f's services and timeouts to a normalized table.
func (f *File) table() (*lvs.Table, error) {
	t := &lvs.Table{Timeouts: lvs.Timeouts{
		TCP:    time.Duration(f.Timeouts.TCP) * time.Second,
		TCPFin: time.Duration(f.Timeouts.TCPFin) * time.Second,
		UDP:    time.Duration(f.Timeouts.UDP) * time.Second,
	}}
	for i, fsvc := range f.Services {
		s, err := fsvc.service()
		if err != nil {
			return nil, fmt.Errorf("services[%d]: %w", i, err)
		}
		for j, fd := range fsvc.Dests {
			d, err := fd.dest()
			if err != nil {
				return nil, fmt.Errorf("services[%d].dests[%d]: %w", i, j, err)
			}
			s.Dests = append(s.Dests, d)
		}
		t.Services = append(t.Services, s)
	}
	t.Normalize()
	return t, nil
}

func (fs FileService) service() (lvs.Service, error) {
	s := lvs.Service{Opts: lvs.ServiceOpts{
		Scheduler: fs.Scheduler, Persistent: fs.Persistent, Timeout: fs.Timeout, Netmask: fs.Netmask,
		PE: fs.PE, OnePacket: fs.OnePacket, SchedFlags: lvs.SchedFlags(fs.SchedFlags),
	}}
	if fs.FWMark != 0 {
		if fs.Address != "" || fs.Protocol != "" {
			return s, errors.New("give either fwmark or protocol and address, not both")
		}
		fam := lvs.IPv4
		switch fs.Family {
		case "", "ipv4":
		case "ipv6":
			fam = lvs.IPv6
		default:
			return s, fmt.Errorf("unknown family %q: use ipv4 or ipv6", fs.Family)
		}
		s.Key = lvs.MarkKey(fam, fs.FWMark)
	} else {
		proto, err := lvs.ParseProtocol(fs.Protocol)
		if err != nil {
			return s, err
		}
		ap, err := netip.ParseAddrPort(fs.Address)
		if err != nil {
			return s, fmt.Errorf("address: %w", err)
		}
		s.Key = lvs.AddrKey(proto, ap)
	}
	if fs.Persistent && fs.Netmask == 0 {
		s.Opts.Netmask = lvs.FullMask(s.Key.Family)
	}
	return s, nil
}

func (fd FileDest) dest() (lvs.Dest, error) {
	ap, err := netip.ParseAddrPort(fd.Address)
	if err != nil {
		return lvs.Dest{}, fmt.Errorf("address: %w", err)
	}
	d := lvs.Dest{Addr: ap, Opts: lvs.DestOpts{
		Weight: fd.Weight, UpperThreshold: fd.UpperThreshold, LowerThreshold: fd.LowerThreshold,
		TunnelPort: fd.TunnelPort, TunnelFlags: lvs.TunnelFlags(fd.TunnelFlags),
	}, Live: lvs.DestLive{ActiveConns: fd.ActiveConns, InactConns: fd.InactiveConns, PersistConns: fd.PersistConns}}
	if fd.Forwarding == "local" {
		d.Opts.Forward = lvs.Local
	} else if d.Opts.Forward, err = lvs.ParseForward(fd.Forwarding); err != nil {
		return d, err
	}
	if fd.TunnelType != "" {
		if d.Opts.TunnelType, err = lvs.ParseTunnelType(fd.TunnelType); err != nil {
			return d, err
		}
	}
	return d, nil
}

// isNotExist reports whether err says a file is missing.
func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
