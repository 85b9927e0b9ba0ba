// Package applytest provides an in-memory IPVS kernel for tests: a
// state-keeping fake of [apply.Kernel] that refuses what the real kernel
// refuses, with the same errno values, plus fault injection and a JSON file
// form that lets separate processes of a CLI test share one table.
package applytest

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/lvsctl/lvsctl/internal/apply"
	"github.com/lvsctl/lvsctl/lvs"
)

// DefaultTimeouts are the connection timeouts of a fresh kernel
// (ipvsadm -L --timeout: 900 120 300).
var DefaultTimeouts = lvs.Timeouts{TCP: 900 * time.Second, TCPFin: 120 * time.Second, UDP: 300 * time.Second}

// DefaultSysctls are the kernel settings of a fresh network namespace
// with ip_vs loaded: every setting lvsctl manages at its default
// ([lvs.SysctlInfo.Default]: forwarding off, the IPVS knobs as documented).
// [New] starts with them; a setting that is not here does not exist.
var DefaultSysctls = func() map[string]string {
	m := make(map[string]string, len(lvs.Sysctls))
	for _, i := range lvs.Sysctls {
		m[i.Name] = i.Default
	}
	return m
}()

// A Call is one mutating call made to a [Kernel], as recorded by
// [Kernel.Calls] and passed to a fault hook.
type Call struct {
	Method  string // "AddService", "EditService", "DeleteService", "AddDest", "EditDest", "DeleteDest", "SetTimeouts" or "SetSysctl"
	Service lvs.ServiceKey
	Dest    netip.AddrPort // for the *Dest methods
	Sysctl  string         // for SetSysctl: the setting's name
}

func (c Call) String() string {
	switch c.Method {
	case "SetTimeouts":
		return c.Method
	case "SetSysctl":
		return c.Method + " " + c.Sysctl
	}
	if c.Dest.IsValid() {
		return fmt.Sprintf("%s %s %s", c.Method, c.Service, c.Dest)
	}
	return fmt.Sprintf("%s %s", c.Method, c.Service)
}

// Kernel is an in-memory IPVS table that behaves like the kernel's: adding
// an existing service fails with EEXIST, touching a missing service with
// ESRCH, a missing destination with ENOENT, an unavailable scheduler or
// persistence engine with ENOENT, out-of-range destination settings with
// ERANGE or EINVAL, and a real server at a multicast or broadcast address
// with EINVAL, as ip_vs_ctl.c does. A failed call changes nothing.
//
// It makes one call per operation; [Kernel.Batching] makes it batch as the
// production kernel handle does.
//
// It is safe for concurrent use. The zero value is not ready: use [New].
type Kernel struct {
	mu       sync.Mutex
	table    lvs.Table // normalized, without counters for services
	sysctls  map[string]string
	missing  map[string]bool
	calls    []Call
	fault    func(Call) error
	failIn   int   // mutations to let through before failing with failErr
	failErr  error // nil: no pending failure
	delay    time.Duration
	callBase int // calls made before the last Load
}

var _ apply.Kernel = (*Kernel)(nil)

// New returns an empty kernel with the default connection timeouts.
func New() *Kernel {
	return &Kernel{table: lvs.Table{Timeouts: DefaultTimeouts}, sysctls: maps.Clone(DefaultSysctls), missing: map[string]bool{}}
}

// SeedSysctl sets the kernel setting name to value, or with "" removes
// it, as if this kernel did not have it (ip_vs not loaded). It is not a
// mutating call: it does not count in [Kernel.Ops].
func (k *Kernel) SeedSysctl(name, value string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if value == "" {
		delete(k.sysctls, name)
		return
	}
	k.sysctls[name] = value
}

// Sysctl returns the value of the kernel setting name; ENOENT (which is
// fs.ErrNotExist) when this kernel does not have it, as opening its file
// under /proc/sys would.
func (k *Kernel) Sysctl(name string) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.sysctls[name]
	if !ok {
		return "", fmt.Errorf("open /proc/sys/%s: %w", strings.ReplaceAll(name, ".", "/"), syscall.ENOENT)
	}
	return v, nil
}

// SetSysctl writes value to the kernel setting name: ENOENT when this
// kernel does not have it, EINVAL for a value that is not a decimal
// integer (the kernel's proc_dointvec refuses it so).
func (k *Kernel) SetSysctl(name, value string) error {
	return k.mutate(Call{Method: "SetSysctl", Sysctl: name}, func() error {
		if _, ok := k.sysctls[name]; !ok {
			return syscall.ENOENT
		}
		if _, err := strconv.ParseInt(value, 10, 32); err != nil {
			return syscall.EINVAL
		}
		k.sysctls[name] = value
		return nil
	})
}

// Seed replaces the whole table with a normalized copy of t, counters
// included. Zero timeouts in t keep the kernel defaults. Seed is not a
// mutating call: it does not count in [Kernel.Ops].
func (k *Kernel) Seed(t *lvs.Table) {
	c := t.Clone()
	c.Normalize()
	c.Ignore = lvs.Ignore{}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.table = *c
	k.table.Timeouts = mergeTimeouts(DefaultTimeouts, c.Timeouts)
}

// SetMissingSchedulers makes the named schedulers unavailable, as if their
// ip_vs_<name> modules were not installed: adding or editing a service to use
// one fails with ENOENT.
func (k *Kernel) SetMissingSchedulers(names ...string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.missing = map[string]bool{}
	for _, n := range names {
		k.missing[n] = true
	}
}

// FailAfter lets the next n mutating calls through and makes the one after
// fail with err, once, without changing anything. A nil err cancels a
// pending failure.
func (k *Kernel) FailAfter(n int, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.failIn, k.failErr = n, err
}

// SetFault installs a hook called before every mutating call; a non-nil
// result fails that call without changing anything. A nil f removes it.
func (k *Kernel) SetFault(f func(Call) error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.fault = f
}

// SetDelay makes every mutating call take at least d, so that tests can
// interrupt an apply or contend for its lock while it runs.
func (k *Kernel) SetDelay(d time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.delay = d
}

// SetConns sets the connection counters of a destination, which only
// traffic changes in a real kernel; drain tests use it.
func (k *Kernel) SetConns(key lvs.ServiceKey, addr netip.AddrPort, active, inactive uint32) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	s := k.table.Service(key)
	if s == nil {
		return fmt.Errorf("set connections: no service %s: %w", key, syscall.ESRCH)
	}
	d := s.Dest(normAddrPort(addr))
	if d == nil {
		return fmt.Errorf("set connections: no real server %s in %s: %w", addr, key, syscall.ENOENT)
	}
	d.Live.ActiveConns, d.Live.InactConns = active, inactive
	return nil
}

// Ops returns the number of mutating calls made so far, refused ones
// included.
func (k *Kernel) Ops() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.callBase + len(k.calls)
}

// Calls returns the mutating calls made so far, in order.
func (k *Kernel) Calls() []Call {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.calls)
}

// ResetCalls forgets the recorded calls, so that [Kernel.Ops] counts from 0.
func (k *Kernel) ResetCalls() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.calls, k.callBase = nil, 0
}

// Table returns a normalized deep copy of the table, with the destinations'
// counters and the connection timeouts.
func (k *Kernel) Table() (*lvs.Table, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.table.Clone(), nil
}

// AddService adds s.Key with s.Opts; s.Dests are ignored, as in the kernel.
func (k *Kernel) AddService(s lvs.Service) error {
	return k.mutate(Call{Method: "AddService", Service: s.Key}, func() error {
		key := normKey(s.Key)
		if k.table.Service(key) != nil {
			return syscall.EEXIST
		}
		if err := checkServiceKey(key); err != nil {
			return err
		}
		opts := s.Opts
		if err := k.checkServiceOpts(key, opts); err != nil {
			return err
		}
		k.table.Services = append(k.table.Services, lvs.Service{Key: key, Opts: opts})
		k.table.Normalize()
		return nil
	})
}

// EditService changes the options of the existing service s.Key.
func (k *Kernel) EditService(s lvs.Service) error {
	return k.mutate(Call{Method: "EditService", Service: s.Key}, func() error {
		svc := k.table.Service(normKey(s.Key))
		if svc == nil {
			return syscall.ESRCH
		}
		if err := k.checkServiceOpts(svc.Key, s.Opts); err != nil {
			return err
		}
		svc.Opts = s.Opts
		k.table.Normalize()
		return nil
	})
}

// DeleteService deletes a service and, with it, its destinations.
func (k *Kernel) DeleteService(key lvs.ServiceKey) error {
	return k.mutate(Call{Method: "DeleteService", Service: key}, func() error {
		key = normKey(key)
		i := slices.IndexFunc(k.table.Services, func(s lvs.Service) bool { return s.Key == key })
		if i < 0 {
			return syscall.ESRCH
		}
		k.table.Services = slices.Delete(k.table.Services, i, i+1)
		return nil
	})
}

// AddDest adds a destination to an existing service.
func (k *Kernel) AddDest(key lvs.ServiceKey, d lvs.Dest) error {
	return k.mutate(Call{Method: "AddDest", Service: key, Dest: d.Addr}, func() error {
		svc := k.table.Service(normKey(key))
		if svc == nil {
			return syscall.ESRCH
		}
		addr := normAddrPort(d.Addr)
		if err := checkDest(svc, addr, d.Opts); err != nil {
			return err
		}
		if svc.Dest(addr) != nil {
			return syscall.EEXIST
		}
		if !unicast(addr.Addr()) {
			return syscall.EINVAL
		}
		svc.Dests = append(svc.Dests, lvs.Dest{Addr: addr, Opts: d.Opts})
		k.table.Normalize()
		return nil
	})
}

// EditDest changes the settings of an existing destination; its counters
// stay.
func (k *Kernel) EditDest(key lvs.ServiceKey, d lvs.Dest) error {
	return k.mutate(Call{Method: "EditDest", Service: key, Dest: d.Addr}, func() error {
		svc := k.table.Service(normKey(key))
		if svc == nil {
			return syscall.ESRCH
		}
		addr := normAddrPort(d.Addr)
		if err := checkDest(svc, addr, d.Opts); err != nil {
			return err
		}
		cur := svc.Dest(addr)
		if cur == nil {
			return syscall.ENOENT
		}
		cur.Opts = d.Opts
		k.table.Normalize()
		return nil
	})
}

// DeleteDest deletes a destination.
func (k *Kernel) DeleteDest(key lvs.ServiceKey, addr netip.AddrPort) error {
	return k.mutate(Call{Method: "DeleteDest", Service: key, Dest: addr}, func() error {
		svc := k.table.Service(normKey(key))
		if svc == nil {
			return syscall.ESRCH
		}
		addr = normAddrPort(addr)
		i := slices.IndexFunc(svc.Dests, func(d lvs.Dest) bool { return d.Addr == addr })
		if i < 0 {
			return syscall.ENOENT
		}
		svc.Dests = slices.Delete(svc.Dests, i, i+1)
		return nil
	})
}

// SetTimeouts sets the connection timeouts; a zero field is left as is.
// Negative values fail with EINVAL, as in ip_vs_set_timeout.
func (k *Kernel) SetTimeouts(t lvs.Timeouts) error {
	return k.mutate(Call{Method: "SetTimeouts"}, func() error {
		for _, d := range []time.Duration{t.TCP, t.TCPFin, t.UDP} {
			if d < 0 || d > time.Duration(1<<31-1)*time.Second/100 {
				return syscall.EINVAL
			}
		}
		k.table.Timeouts = mergeTimeouts(k.table.Timeouts, t)
		return nil
	})
}

// mutate records c, applies the pending fault, the hook and the delay, and
// runs f under the lock. Errors are wrapped so that errors.Is finds the errno
// and the text names the call, like a netlink library's.
func (k *Kernel) mutate(c Call, f func() error) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.calls = append(k.calls, c)
	if k.delay > 0 {
		// Sleeping under the lock is intended: the kernel serializes IPVS
		// changes too (__ip_vs_mutex).
		time.Sleep(k.delay)
	}
	if k.failErr != nil {
		if k.failIn == 0 {
			err := k.failErr
			k.failErr = nil
			return fmt.Errorf("%s: %w", c, err)
		}
		k.failIn--
	}
	if k.fault != nil {
		if err := k.fault(c); err != nil {
			return fmt.Errorf("%s: %w", c, err)
		}
	}
	if err := f(); err != nil {
		return fmt.Errorf("%s: %w", c, err)
	}
	return nil
}

func (k *Kernel) checkServiceOpts(key lvs.ServiceKey, o lvs.ServiceOpts) error {
	// The kernel loads ip_vs_<scheduler> on demand; an unknown or absent
	// module is ENOENT ("Scheduler module ip_vs_%s not found").
	if !slices.Contains(lvs.Schedulers, o.Scheduler) || k.missing[o.Scheduler] {
		return syscall.ENOENT
	}
	if o.PE != "" && o.PE != "sip" {
		return syscall.ENOENT
	}
	if key.Family == lvs.IPv6 && o.Persistent && (o.Netmask < 1 || o.Netmask > 128) {
		return syscall.EINVAL
	}
	if key.Family == lvs.IPv4 && o.Persistent && o.Netmask > 32 {
		return syscall.EINVAL
	}
	return nil
}

func checkServiceKey(key lvs.ServiceKey) error {
	if key.Family != lvs.IPv4 && key.Family != lvs.IPv6 {
		return syscall.EAFNOSUPPORT
	}
	if key.IsFWMark() {
		return nil
	}
	if !key.Addr.IsValid() {
		return syscall.EINVAL
	}
	switch key.Protocol {
	case lvs.TCP, lvs.UDP, lvs.SCTP:
		return nil
	}
	return syscall.EPROTONOSUPPORT
}

// checkDest applies ip_vs_add_dest's and ip_vs_edit_dest's checks.
func checkDest(svc *lvs.Service, addr netip.AddrPort, o lvs.DestOpts) error {
	if !addr.Addr().IsValid() || addr.Addr().IsUnspecified() {
		return syscall.EINVAL
	}
	if o.Weight < 0 || o.Weight > 1<<31-1 {
		return syscall.ERANGE
	}
	if o.LowerThreshold > o.UpperThreshold {
		return syscall.ERANGE
	}
	switch o.Forward {
	case lvs.Masq, lvs.Local, lvs.Tunnel, lvs.Route:
	default:
		return syscall.EINVAL
	}
	if o.Forward == lvs.Tunnel && o.TunnelType == lvs.GUE && o.TunnelPort == 0 {
		return syscall.EINVAL
	}
	// A destination of another family than its service works only when
	// tunnelled (ip_vs_genl_parse_dest).
	if lvs.FamilyOf(addr.Addr()) != svc.Key.Family && o.Forward != lvs.Tunnel {
		return syscall.EINVAL
	}
	return nil
}

// unicast reports whether a new destination may have address a
// (ip_vs_new_dest): for IPv4 inet_addr_type must say local or unicast, so
// multicast, 0.0.0.0/8 and 255.255.255.255 are refused; for IPv6 it must be
// a unicast address that is not link-local (unless it is one of the
// namespace's own, which this kernel does not know of).
func unicast(a netip.Addr) bool {
	if a.Is4() {
		b := a.As4()
		return !a.IsMulticast() && b[0] != 0 && a != netip.AddrFrom4([4]byte{255, 255, 255, 255})
	}
	return !a.IsMulticast() && !a.IsUnspecified() && !a.IsLinkLocalUnicast()
}

func mergeTimeouts(cur, t lvs.Timeouts) lvs.Timeouts {
	if t.TCP > 0 {
		cur.TCP = t.TCP.Truncate(time.Second)
	}
	if t.TCPFin > 0 {
		cur.TCPFin = t.TCPFin.Truncate(time.Second)
	}
	if t.UDP > 0 {
		cur.UDP = t.UDP.Truncate(time.Second)
	}
	return cur
}

func normKey(k lvs.ServiceKey) lvs.ServiceKey {
	if k.IsFWMark() {
		k.Protocol, k.Addr, k.Port = 0, netip.Addr{}, 0
		return k
	}
	k.Addr = k.Addr.Unmap()
	if k.Addr.IsValid() {
		k.Family = lvs.FamilyOf(k.Addr)
	}
	return k
}

func normAddrPort(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}

// errnoOf returns the errno in err, if any.
func errnoOf(err error) (syscall.Errno, bool) {
	var e syscall.Errno
	ok := errors.As(err, &e)
	return e, ok
}
