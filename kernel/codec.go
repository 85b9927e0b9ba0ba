package kernel

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"net/netip"
	"time"

	"github.com/lvsctl/lvsctl/lvs"
)

// This file turns the model into IPVS generic-netlink attributes and back.
// It is pure: no sockets, so that every byte layout is unit-tested without a
// kernel. The numbers come from include/uapi/linux/ip_vs.h; the byte orders
// from net/netfilter/ipvs/ip_vs_ctl.c (ports and the IPv4 netmask are network
// order, everything else host order).

var ne = binary.NativeEndian

// Generic-netlink framing.
const (
	genlHdrLen   = 4
	nlaHdrLen    = 4
	nlaTypeMask  = 0x3fff // clears NLA_F_NESTED and NLA_F_NET_BYTEORDER
	ipvsGenlName = "IPVS"
	ipvsGenlVer  = 1
)

// IPVS generic-netlink commands.
const (
	cmdNewService = 1
	cmdSetService = 2
	cmdDelService = 3
	cmdGetService = 4
	cmdNewDest    = 5
	cmdSetDest    = 6
	cmdDelDest    = 7
	cmdGetDest    = 8
	cmdNewDaemon  = 9
	cmdDelDaemon  = 10
	cmdGetDaemon  = 11
	cmdSetConfig  = 12
	cmdGetConfig  = 13
)

// First-level attributes.
const (
	cmdAttrService    = 1
	cmdAttrDest       = 2
	cmdAttrDaemon     = 3
	cmdAttrTimeoutTCP = 4
	cmdAttrTimeoutFin = 5
	cmdAttrTimeoutUDP = 6
	cmdAttrMax        = 6
)

// Service attributes (nested in cmdAttrService).
const (
	svcAttrAF       = 1
	svcAttrProtocol = 2
	svcAttrAddr     = 3
	svcAttrPort     = 4
	svcAttrFWMark   = 5
	svcAttrSched    = 6
	svcAttrFlags    = 7
	svcAttrTimeout  = 8
	svcAttrNetmask  = 9
	svcAttrStats    = 10
	svcAttrPEName   = 11
	svcAttrStats64  = 12
	svcAttrMax      = 12
)

// Destination attributes (nested in cmdAttrDest).
const (
	destAttrAddr         = 1
	destAttrPort         = 2
	destAttrFwdMethod    = 3
	destAttrWeight       = 4
	destAttrUThresh      = 5
	destAttrLThresh      = 6
	destAttrActiveConns  = 7
	destAttrInactConns   = 8
	destAttrPersistConns = 9
	destAttrStats        = 10
	destAttrAddrFamily   = 11
	destAttrStats64      = 12
	destAttrTunType      = 13
	destAttrTunPort      = 14
	destAttrTunFlags     = 15
	destAttrMax          = 15
)

// Sync daemon attributes (nested in cmdAttrDaemon).
const (
	daemonAttrState     = 1
	daemonAttrMcastIfn  = 2
	daemonAttrSyncID    = 3
	daemonAttrMaxLen    = 4
	daemonAttrGroup     = 5
	daemonAttrGroup6    = 6
	daemonAttrMcastPort = 7
	daemonAttrMcastTTL  = 8
	daemonAttrMax       = 8
)

// Statistics attributes (nested in the *_STATS and *_STATS64 attributes).
const (
	statsAttrConns    = 1
	statsAttrInPkts   = 2
	statsAttrOutPkts  = 3
	statsAttrInBytes  = 4
	statsAttrOutBytes = 5
	statsAttrCPS      = 6
	statsAttrInPPS    = 7
	statsAttrOutPPS   = 8
	statsAttrInBPS    = 9
	statsAttrOutBPS   = 10
	statsAttrMax      = 10
)

// Service flags as the kernel keeps them.
const (
	svcFlagPersistent = 0x0001
	svcFlagHashed     = 0x0002 // the kernel's own bookkeeping: never sent, stripped when read
	svcFlagOnePacket  = 0x0004
	svcFlagSched1     = 0x0008 // SchedFlag1..3 are shifted by this many bits
	svcFlagSchedShift = 3
	// svcFlagsOwned are the bits lvsctl sets; the mask sent with them leaves
	// any other bit (a future kernel's) as it is.
	svcFlagsOwned = svcFlagPersistent | svcFlagOnePacket | uint32(lvs.SchedFlag1|lvs.SchedFlag2|lvs.SchedFlag3)<<svcFlagSchedShift
)

// Names longer than this do not fit the kernel's buffers (IP_VS_SCHEDNAME_MAXLEN,
// IP_VS_IFNAME_MAXLEN, both including the terminating NUL).
const (
	schedNameMax = 15
	ifNameMax    = 15
)

// msgBuf builds the bodies of generic-netlink requests (the part after the
// netlink header, which the netlink library writes), possibly several back
// to back in one buffer.
type msgBuf struct {
	b []byte
}

// begin starts a request body: the generic-netlink header of cmd, to which
// the attributes are appended.
func (m *msgBuf) begin(cmd uint8) { m.b = append(m.b, cmd, ipvsGenlVer, 0, 0) }

// reset empties the buffer, keeping its memory.
func (m *msgBuf) reset() { m.b = m.b[:0] }

func (m *msgBuf) attr(typ uint16, data []byte) {
	m.b = ne.AppendUint16(m.b, uint16(nlaHdrLen+len(data)))
	m.b = ne.AppendUint16(m.b, typ)
	m.b = append(m.b, data...)
	m.pad()
}

func (m *msgBuf) pad() {
	for len(m.b)%4 != 0 {
		m.b = append(m.b, 0)
	}
}

func (m *msgBuf) u8(typ uint16, v uint8) { m.attr(typ, []byte{v}) }

func (m *msgBuf) u16(typ uint16, v uint16) {
	var b [2]byte
	ne.PutUint16(b[:], v)
	m.attr(typ, b[:])
}

func (m *msgBuf) u32(typ uint16, v uint32) {
	var b [4]byte
	ne.PutUint32(b[:], v)
	m.attr(typ, b[:])
}

func (m *msgBuf) be16(typ uint16, v uint16) {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	m.attr(typ, b[:])
}

// str adds a NUL-terminated string.
func (m *msgBuf) str(typ uint16, s string) {
	m.b = ne.AppendUint16(m.b, uint16(nlaHdrLen+len(s)+1))
	m.b = ne.AppendUint16(m.b, typ)
	m.b = append(m.b, s...)
	m.b = append(m.b, 0)
	m.pad()
}

// nest opens a nested attribute; pass the result to endNest.
func (m *msgBuf) nest(typ uint16) int {
	off := len(m.b)
	m.b = ne.AppendUint16(m.b, 0)
	m.b = ne.AppendUint16(m.b, typ)
	return off
}

func (m *msgBuf) endNest(off int) { ne.PutUint16(m.b[off:], uint16(len(m.b)-off)) }

// parseAttrs splits b into attributes and stores each payload at the index of
// its type in out. Types past the end of out (attributes of newer kernels)
// are skipped.
func parseAttrs(b []byte, out [][]byte) error {
	clear(out)
	for len(b) > 0 {
		if len(b) < nlaHdrLen {
			return fmt.Errorf("kernel sent a truncated netlink attribute (%d bytes)", len(b))
		}
		l := int(ne.Uint16(b))
		t := int(ne.Uint16(b[2:]) & nlaTypeMask)
		if l < nlaHdrLen || l > len(b) {
			return fmt.Errorf("kernel sent a netlink attribute of length %d with %d bytes left", l, len(b))
		}
		if t < len(out) {
			out[t] = b[nlaHdrLen:l]
		}
		b = b[min(align4(l), len(b)):]
	}
	return nil
}

func align4(n int) int { return (n + 3) &^ 3 }

// Readers of attribute payloads. A missing or short attribute reads as zero:
// the kernel always sends what these are used for, and older kernels simply
// lack the newer attributes.

func getU8(b []byte) uint8 {
	if len(b) < 1 {
		return 0
	}
	return b[0]
}

func getU16(b []byte) uint16 {
	if len(b) < 2 {
		return 0
	}
	return ne.Uint16(b)
}

func getU32(b []byte) uint32 {
	if len(b) < 4 {
		return 0
	}
	return ne.Uint32(b)
}

func getBE16(b []byte) uint16 {
	if len(b) < 2 {
		return 0
	}
	return binary.BigEndian.Uint16(b)
}

// getUint reads a counter sent as either u32 or u64.
func getUint(b []byte) uint64 {
	switch {
	case len(b) >= 8:
		return ne.Uint64(b)
	case len(b) >= 4:
		return uint64(ne.Uint32(b))
	}
	return 0
}

// getString reads a NUL-terminated string.
func getString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// addrBytes returns an address as the kernel reads it: 4 bytes for IPv4,
// 16 for IPv6 (the kernel zero-fills its 16-byte union).
func addrBytes(a netip.Addr) []byte {
	a = a.Unmap()
	if a.Is4() {
		b := a.As4()
		return b[:]
	}
	b := a.As16()
	return b[:]
}

// getAddr reads an address of family f. The kernel sends a 16-byte union
// for both families, IPv4 in its first 4 bytes.
func getAddr(b []byte, f lvs.Family) (netip.Addr, error) {
	switch f {
	case lvs.IPv4:
		if len(b) >= 4 {
			return netip.AddrFrom4([4]byte(b[:4])), nil
		}
	case lvs.IPv6:
		if len(b) >= 16 {
			return netip.AddrFrom16([16]byte(b[:16])), nil
		}
	default:
		return netip.Addr{}, fmt.Errorf("kernel sent address family %d, which lvsctl does not know", uint16(f))
	}
	return netip.Addr{}, fmt.Errorf("kernel sent a %d-byte %s address", len(b), f)
}

// serviceFamily returns the family to send for k: the address decides for
// address services; a firewall-mark service without one is IPv4, as in ipvsadm.
func serviceFamily(k lvs.ServiceKey) lvs.Family {
	if !k.IsFWMark() && k.Addr.IsValid() {
		return lvs.FamilyOf(k.Addr.Unmap())
	}
	if k.Family == 0 {
		return lvs.IPv4
	}
	return k.Family
}

// netmaskBytes encodes a persistence netmask. The kernel keeps an IPv4
// netmask as a network-order mask and an IPv6 one as a host-order prefix
// length, in the same 32-bit attribute.
func netmaskBytes(f lvs.Family, prefix uint8) []byte {
	var b [4]byte
	if f == lvs.IPv6 {
		ne.PutUint32(b[:], uint32(prefix))
		return b[:]
	}
	var mask uint32
	if prefix > 0 {
		mask = ^uint32(0) << (32 - min(prefix, 32))
	}
	binary.BigEndian.PutUint32(b[:], mask)
	return b[:]
}

// netmaskPrefix decodes what netmaskBytes encodes. A non-contiguous IPv4
// mask (possible with ipvsadm -M 255.0.255.0) reads as its leading ones.
func netmaskPrefix(f lvs.Family, b []byte) uint8 {
	if len(b) < 4 {
		return lvs.FullMask(f)
	}
	if f == lvs.IPv6 {
		return uint8(min(ne.Uint32(b), 128))
	}
	return uint8(bits.LeadingZeros32(^binary.BigEndian.Uint32(b)))
}

// svcFlags returns the kernel flags for o.
func svcFlags(o lvs.ServiceOpts) uint32 {
	var f uint32
	if o.Persistent {
		f |= svcFlagPersistent
	}
	if o.OnePacket {
		f |= svcFlagOnePacket
	}
	f |= uint32(o.SchedFlags&(lvs.SchedFlag1|lvs.SchedFlag2|lvs.SchedFlag3)) << svcFlagSchedShift
	return f
}

// putServiceKey adds the attributes that identify a service.
func putServiceKey(m *msgBuf, k lvs.ServiceKey) {
	f := serviceFamily(k)
	m.u16(svcAttrAF, uint16(f))
	if k.IsFWMark() {
		m.u32(svcAttrFWMark, k.FWMark)
		return
	}
	m.u16(svcAttrProtocol, uint16(k.Protocol))
	m.attr(svcAttrAddr, addrBytes(k.Addr))
	m.be16(svcAttrPort, k.Port)
}

// putService adds a service attribute: the key alone, or with its options
// when full (add and edit need them all).
func putService(m *msgBuf, k lvs.ServiceKey, o *lvs.ServiceOpts) {
	off := m.nest(cmdAttrService)
	putServiceKey(m, k)
	if o != nil {
		f := serviceFamily(k)
		sched := o.Scheduler
		if sched == "" {
			sched = "wlc"
		}
		m.str(svcAttrSched, sched)
		if o.PE != "" {
			m.str(svcAttrPEName, o.PE)
		}
		var flags [8]byte
		ne.PutUint32(flags[:], svcFlags(*o))
		ne.PutUint32(flags[4:], svcFlagsOwned)
		m.attr(svcAttrFlags, flags[:])
		// The kernel refuses an IPv6 prefix of 0, and keeps whatever it
		// is given for a service that is not persistent: send "per
		// client" then, as ipvsadm does, so that tables compare equal.
		timeout, mask := o.Timeout, o.Netmask
		if !o.Persistent {
			timeout, mask = 0, lvs.FullMask(f)
		}
		m.u32(svcAttrTimeout, timeout)
		m.attr(svcAttrNetmask, netmaskBytes(f, mask))
	}
	m.endNest(off)
}

// decodeService reads the payload of a service attribute.
func decodeService(b []byte) (lvs.Service, error) {
	var a [svcAttrMax + 1][]byte
	if err := parseAttrs(b, a[:]); err != nil {
		return lvs.Service{}, err
	}
	var s lvs.Service
	f := lvs.Family(getU16(a[svcAttrAF]))
	s.Key.Family = f
	if a[svcAttrFWMark] != nil && getU32(a[svcAttrFWMark]) != 0 {
		s.Key.FWMark = getU32(a[svcAttrFWMark])
	} else {
		addr, err := getAddr(a[svcAttrAddr], f)
		if err != nil {
			return s, fmt.Errorf("reading a service: %w", err)
		}
		s.Key.Addr = addr
		s.Key.Protocol = lvs.Protocol(getU16(a[svcAttrProtocol]))
		s.Key.Port = getBE16(a[svcAttrPort])
	}
	s.Opts.Scheduler = getString(a[svcAttrSched])
	s.Opts.PE = getString(a[svcAttrPEName])
	flags := getU32(a[svcAttrFlags]) &^ svcFlagHashed
	s.Opts.Persistent = flags&svcFlagPersistent != 0
	s.Opts.OnePacket = flags&svcFlagOnePacket != 0
	s.Opts.SchedFlags = lvs.SchedFlags(flags>>svcFlagSchedShift) & (lvs.SchedFlag1 | lvs.SchedFlag2 | lvs.SchedFlag3)
	s.Opts.Timeout = getU32(a[svcAttrTimeout])
	s.Opts.Netmask = netmaskPrefix(f, a[svcAttrNetmask])
	s.Stats = decodeStats(a[svcAttrStats64], a[svcAttrStats])
	return s, nil
}

// decodeStats reads the 64-bit statistics, or the older 32-bit ones when the
// kernel (before 4.1) sends no IPVS_*_ATTR_STATS64.
func decodeStats(b64, b32 []byte) lvs.Stats {
	b := b64
	if b == nil {
		b = b32
	}
	var a [statsAttrMax + 1][]byte
	if b == nil || parseAttrs(b, a[:]) != nil {
		return lvs.Stats{}
	}
	return lvs.Stats{
		Conns:    getUint(a[statsAttrConns]),
		InPkts:   getUint(a[statsAttrInPkts]),
		OutPkts:  getUint(a[statsAttrOutPkts]),
		InBytes:  getUint(a[statsAttrInBytes]),
		OutBytes: getUint(a[statsAttrOutBytes]),
		CPS:      getUint(a[statsAttrCPS]),
		InPPS:    getUint(a[statsAttrInPPS]),
		OutPPS:   getUint(a[statsAttrOutPPS]),
		InBPS:    getUint(a[statsAttrInBPS]),
		OutBPS:   getUint(a[statsAttrOutBPS]),
	}
}

// putDest adds a destination attribute: its address alone (for delete), or
// with its options when full.
func putDest(m *msgBuf, addr netip.AddrPort, o *lvs.DestOpts) {
	off := m.nest(cmdAttrDest)
	a := addr.Addr().Unmap()
	m.attr(destAttrAddr, addrBytes(a))
	m.be16(destAttrPort, addr.Port())
	// The family tells the kernel how to read the address: without it a
	// destination takes the service's family, and an IPv6 real server
	// behind an IPv4 tunnel service could not be named.
	m.u16(destAttrAddrFamily, uint16(lvs.FamilyOf(a)))
	if o != nil {
		m.u32(destAttrFwdMethod, uint32(o.Forward))
		m.u32(destAttrWeight, uint32(o.Weight))
		m.u32(destAttrUThresh, o.UpperThreshold)
		m.u32(destAttrLThresh, o.LowerThreshold)
		// Only tunnels carry tunnel settings; the kernel resets them to
		// zero when they are absent, and kernels before 5.2 ignore them.
		if o.Forward == lvs.Tunnel {
			m.u8(destAttrTunType, uint8(o.TunnelType))
			m.be16(destAttrTunPort, o.TunnelPort)
			m.u16(destAttrTunFlags, uint16(o.TunnelFlags))
		}
	}
	m.endNest(off)
}

// decodeDest reads the payload of a destination attribute. svcFamily is the
// family of its service, used by kernels (before 3.18) that do not say the
// destination's own.
func decodeDest(b []byte, svcFamily lvs.Family) (lvs.Dest, error) {
	var a [destAttrMax + 1][]byte
	if err := parseAttrs(b, a[:]); err != nil {
		return lvs.Dest{}, err
	}
	var d lvs.Dest
	f := svcFamily
	if a[destAttrAddrFamily] != nil {
		f = lvs.Family(getU16(a[destAttrAddrFamily]))
	}
	addr, err := getAddr(a[destAttrAddr], f)
	if err != nil {
		return d, fmt.Errorf("reading a real server: %w", err)
	}
	d.Addr = netip.AddrPortFrom(addr, getBE16(a[destAttrPort]))
	d.Opts.Forward = lvs.Forward(getU32(a[destAttrFwdMethod]) & 0x7)
	d.Opts.Weight = int(int32(getU32(a[destAttrWeight])))
	d.Opts.UpperThreshold = getU32(a[destAttrUThresh])
	d.Opts.LowerThreshold = getU32(a[destAttrLThresh])
	d.Opts.TunnelType = lvs.TunnelType(getU8(a[destAttrTunType]))
	d.Opts.TunnelPort = getBE16(a[destAttrTunPort])
	d.Opts.TunnelFlags = lvs.TunnelFlags(getU16(a[destAttrTunFlags]))
	d.Live.ActiveConns = getU32(a[destAttrActiveConns])
	d.Live.InactConns = getU32(a[destAttrInactConns])
	d.Live.PersistConns = getU32(a[destAttrPersistConns])
	d.Live.Stats = decodeStats(a[destAttrStats64], a[destAttrStats])
	return d, nil
}

// genlPayload returns the attributes of a generic-netlink message body
// (the part after the netlink header).
func genlPayload(b []byte) ([]byte, error) {
	if len(b) < genlHdrLen {
		return nil, fmt.Errorf("kernel sent a %d-byte generic netlink message", len(b))
	}
	return b[genlHdrLen:], nil
}

// decodeServiceMsg reads one message of a service dump.
func decodeServiceMsg(body []byte) (lvs.Service, error) {
	p, err := genlPayload(body)
	if err != nil {
		return lvs.Service{}, err
	}
	var a [cmdAttrMax + 1][]byte
	if err := parseAttrs(p, a[:]); err != nil {
		return lvs.Service{}, err
	}
	if a[cmdAttrService] == nil {
		return lvs.Service{}, fmt.Errorf("kernel sent a service message without a service")
	}
	return decodeService(a[cmdAttrService])
}

// decodeDestMsg reads one message of a destination dump.
func decodeDestMsg(body []byte, svcFamily lvs.Family) (lvs.Dest, error) {
	p, err := genlPayload(body)
	if err != nil {
		return lvs.Dest{}, err
	}
	var a [cmdAttrMax + 1][]byte
	if err := parseAttrs(p, a[:]); err != nil {
		return lvs.Dest{}, err
	}
	if a[cmdAttrDest] == nil {
		return lvs.Dest{}, fmt.Errorf("kernel sent a real-server message without a real server")
	}
	return decodeDest(a[cmdAttrDest], svcFamily)
}

// putTimeouts adds the timeouts that are set; a zero one is left out, which
// the kernel reads as "unchanged".
func putTimeouts(m *msgBuf, t lvs.Timeouts) {
	for _, x := range []struct {
		typ uint16
		d   time.Duration
	}{{cmdAttrTimeoutTCP, t.TCP}, {cmdAttrTimeoutFin, t.TCPFin}, {cmdAttrTimeoutUDP, t.UDP}} {
		if x.d > 0 {
			m.u32(x.typ, uint32(x.d/time.Second))
		}
	}
}

// decodeTimeouts reads the answer to IPVS_CMD_GET_CONFIG.
func decodeTimeouts(body []byte) (lvs.Timeouts, error) {
	p, err := genlPayload(body)
	if err != nil {
		return lvs.Timeouts{}, err
	}
	var a [cmdAttrMax + 1][]byte
	if err := parseAttrs(p, a[:]); err != nil {
		return lvs.Timeouts{}, err
	}
	return lvs.Timeouts{
		TCP:    time.Duration(getU32(a[cmdAttrTimeoutTCP])) * time.Second,
		TCPFin: time.Duration(getU32(a[cmdAttrTimeoutFin])) * time.Second,
		UDP:    time.Duration(getU32(a[cmdAttrTimeoutUDP])) * time.Second,
	}, nil
}

// DaemonState is the role of an IPVS connection-synchronisation daemon.
type DaemonState uint32

const (
	DaemonMaster DaemonState = 1 // IP_VS_STATE_MASTER: sends connection state
	DaemonBackup DaemonState = 2 // IP_VS_STATE_BACKUP: receives it
)

func (s DaemonState) String() string {
	switch s {
	case DaemonMaster:
		return "master"
	case DaemonBackup:
		return "backup"
	}
	return fmt.Sprintf("daemon-state(%d)", uint32(s))
}

// DaemonConfig is one sync daemon (ipvsadm --start-daemon). Zero optional
// fields take the kernel's defaults, and [IPVS.Daemons] reports the values
// in effect.
type DaemonConfig struct {
	State     DaemonState
	Interface string     // multicast interface (--mcast-interface)
	SyncID    uint8      // --syncid
	MaxLen    uint16     // largest sync message payload (--sync-maxlen); 0: from the MTU
	Group     netip.Addr // multicast group (--mcast-group); zero: 224.0.0.81
	Port      uint16     // multicast port (--mcast-port); 0: 8848
	TTL       uint8      // multicast TTL (--mcast-ttl); 0: 1
}

// check reports a daemon configuration the kernel would refuse.
func (c DaemonConfig) check() error {
	if c.State != DaemonMaster && c.State != DaemonBackup {
		return fmt.Errorf("sync daemon state must be master or backup, not %d", uint32(c.State))
	}
	if c.Interface == "" {
		return fmt.Errorf("%s sync daemon needs a multicast interface", c.State)
	}
	if len(c.Interface) > ifNameMax {
		return fmt.Errorf("interface name %q is longer than %d bytes", c.Interface, ifNameMax)
	}
	if c.Group.IsValid() && !c.Group.Unmap().IsMulticast() {
		return fmt.Errorf("sync daemon group %s is not a multicast address", c.Group)
	}
	return nil
}

// putDaemon adds a daemon attribute; with state only when !full (stop).
func putDaemon(m *msgBuf, c DaemonConfig, full bool) {
	off := m.nest(cmdAttrDaemon)
	m.u32(daemonAttrState, uint32(c.State))
	if full {
		m.str(daemonAttrMcastIfn, c.Interface)
		m.u32(daemonAttrSyncID, uint32(c.SyncID))
		if c.MaxLen != 0 {
			m.u16(daemonAttrMaxLen, c.MaxLen)
		}
		if g := c.Group.Unmap(); g.IsValid() {
			if g.Is4() {
				m.attr(daemonAttrGroup, addrBytes(g)) // in_addr: network order
			} else {
				m.attr(daemonAttrGroup6, addrBytes(g))
			}
		}
		if c.Port != 0 {
			m.u16(daemonAttrMcastPort, c.Port) // host order: the kernel swaps it itself
		}
		if c.TTL != 0 {
			m.u8(daemonAttrMcastTTL, c.TTL)
		}
	}
	m.endNest(off)
}

// decodeDaemonMsg reads one message of a daemon dump.
func decodeDaemonMsg(body []byte) (DaemonConfig, error) {
	p, err := genlPayload(body)
	if err != nil {
		return DaemonConfig{}, err
	}
	var top [cmdAttrMax + 1][]byte
	if err := parseAttrs(p, top[:]); err != nil {
		return DaemonConfig{}, err
	}
	var a [daemonAttrMax + 1][]byte
	if err := parseAttrs(top[cmdAttrDaemon], a[:]); err != nil {
		return DaemonConfig{}, err
	}
	c := DaemonConfig{
		State:     DaemonState(getU32(a[daemonAttrState])),
		Interface: getString(a[daemonAttrMcastIfn]),
		SyncID:    uint8(getU32(a[daemonAttrSyncID])),
		MaxLen:    getU16(a[daemonAttrMaxLen]),
		Port:      getU16(a[daemonAttrMcastPort]),
		TTL:       getU8(a[daemonAttrMcastTTL]),
	}
	if g := a[daemonAttrGroup6]; len(g) >= 16 {
		c.Group = netip.AddrFrom16([16]byte(g[:16]))
	} else if g := a[daemonAttrGroup]; len(g) >= 4 {
		c.Group = netip.AddrFrom4([4]byte(g[:4]))
	}
	return c, nil
}
