package kernel

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lvsctl/lvsctl/lvs"
)

// Fixtures are built with these helpers, written apart from msgBuf so that
// a mistake in the encoder is not repeated in the expectations.

func nla(typ uint16, payload ...[]byte) []byte {
	var body []byte
	for _, p := range payload {
		body = append(body, p...)
	}
	b := make([]byte, 4, 4+len(body)+3)
	binary.NativeEndian.PutUint16(b, uint16(4+len(body)))
	binary.NativeEndian.PutUint16(b[2:], typ)
	b = append(b, body...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func u8(v uint8) []byte { return []byte{v} }
func u16(v uint16) []byte {
	return binary.NativeEndian.AppendUint16(nil, v)
}
func u32(v uint32) []byte {
	return binary.NativeEndian.AppendUint32(nil, v)
}
func u64(v uint64) []byte {
	return binary.NativeEndian.AppendUint64(nil, v)
}
func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func cstr(s string) []byte { return append([]byte(s), 0) }

// union returns an address as the kernel dumps it: a 16-byte nf_inet_addr.
func union(s string) []byte {
	a := netip.MustParseAddr(s)
	var b [16]byte
	if a.Is4() {
		v := a.As4()
		copy(b[:], v[:])
	} else {
		b = a.As16()
	}
	return b[:]
}

// genlMsg wraps attributes in a generic-netlink header, as a dump message
// body (without the netlink header).
func genlMsg(cmd uint8, attrs ...[]byte) []byte {
	b := []byte{cmd, 1, 0, 0}
	for _, a := range attrs {
		b = append(b, a...)
	}
	return b
}

// kernelStats returns a stats attribute as ip_vs_genl_fill_stats writes it:
// u32 counters, u64 byte counts each preceded by a PAD attribute.
func kernelStats(typ uint16, s lvs.Stats) []byte {
	return nla(typ,
		nla(statsAttrConns, u32(uint32(s.Conns))),
		nla(statsAttrInPkts, u32(uint32(s.InPkts))),
		nla(statsAttrOutPkts, u32(uint32(s.OutPkts))),
		nla(11 /* PAD */),
		nla(statsAttrInBytes, u64(s.InBytes)),
		nla(11),
		nla(statsAttrOutBytes, u64(s.OutBytes)),
		nla(statsAttrCPS, u32(uint32(s.CPS))),
		nla(statsAttrInPPS, u32(uint32(s.InPPS))),
		nla(statsAttrOutPPS, u32(uint32(s.OutPPS))),
		nla(statsAttrInBPS, u32(uint32(s.InBPS))),
		nla(statsAttrOutBPS, u32(uint32(s.OutBPS))),
	)
}

// kernelStats64 is ip_vs_genl_fill_stats64: every counter u64.
func kernelStats64(typ uint16, s lvs.Stats) []byte {
	var attrs [][]byte
	for i, v := range []uint64{s.Conns, s.InPkts, s.OutPkts, s.InBytes, s.OutBytes, s.CPS, s.InPPS, s.OutPPS, s.InBPS, s.OutBPS} {
		attrs = append(attrs, nla(11), nla(uint16(i+1), u64(v)))
	}
	return nla(typ, attrs...)
}

var bigStats = lvs.Stats{
	Conns: 5_000_000_000, InPkts: 1 << 33, OutPkts: 7, InBytes: 1 << 40, OutBytes: 123456789012,
	CPS: 10, InPPS: 20, OutPPS: 30, InBPS: 1 << 35, OutBPS: 50,
}

func TestDecodeKernelService(t *testing.T) {
	// A persistent sh service with sh-fallback,sh-port and mask
	// 255.255.255.0, as the kernel dumps it: hashed bit set, mask ~0, the
	// address in a 16-byte union, both stats attributes.
	body := genlMsg(cmdNewService, nla(cmdAttrService,
		nla(svcAttrAF, u16(2)),
		nla(svcAttrProtocol, u16(6)),
		nla(svcAttrAddr, union("10.0.0.2")),
		nla(svcAttrPort, be16(443)),
		nla(svcAttrSched, cstr("sh")),
		nla(svcAttrFlags, u32(0x1|0x2|0x8|0x10), u32(0xffffffff)),
		nla(svcAttrTimeout, u32(360)),
		nla(svcAttrNetmask, []byte{255, 255, 255, 0}),
		kernelStats(svcAttrStats, bigStats),
		kernelStats64(svcAttrStats64, bigStats),
	))
	got, err := decodeServiceMsg(body)
	if err != nil {
		t.Fatal(err)
	}
	want := lvs.Service{
		Key: lvs.AddrKey(lvs.TCP, netip.MustParseAddrPort("10.0.0.2:443")),
		Opts: lvs.ServiceOpts{
			Scheduler: "sh", Persistent: true, Timeout: 360, Netmask: 24,
			SchedFlags: lvs.SchedFlag1 | lvs.SchedFlag2,
		},
		Stats: bigStats,
	}
	if d := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); d != "" {
		t.Errorf("decoded service (-want +got):\n%s", d)
	}
}

func TestDecodeKernelServiceIPv6FWMarkPE(t *testing.T) {
	body := genlMsg(cmdNewService, nla(cmdAttrService,
		nla(svcAttrAF, u16(10)),
		nla(svcAttrFWMark, u32(100)),
		nla(svcAttrSched, cstr("rr")),
		nla(svcAttrPEName, cstr("sip")),
		nla(svcAttrFlags, u32(0x1|0x2|0x4), u32(0xffffffff)),
		nla(svcAttrTimeout, u32(60)),
		nla(svcAttrNetmask, u32(64)), // IPv6: a host-order prefix length
		kernelStats(svcAttrStats, lvs.Stats{Conns: 3}),
	))
	got, err := decodeServiceMsg(body)
	if err != nil {
		t.Fatal(err)
	}
	want := lvs.Service{
		Key:   lvs.MarkKey(lvs.IPv6, 100),
		Opts:  lvs.ServiceOpts{Scheduler: "rr", Persistent: true, Timeout: 60, Netmask: 64, PE: "sip", OnePacket: true},
		Stats: lvs.Stats{Conns: 3}, // from the 32-bit stats when there are no 64-bit ones
	}
	if d := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); d != "" {
		t.Errorf("decoded service (-want +got):\n%s", d)
	}
}

func TestDecodeKernelDest(t *testing.T) {
	// An IPv6 GUE real server behind an IPv4 service, with counters.
	body := genlMsg(cmdNewDest, nla(cmdAttrDest,
		nla(destAttrAddr, union("2001:db8::5")),
		nla(destAttrPort, be16(80)),
		nla(destAttrFwdMethod, u32(2)),
		nla(destAttrWeight, u32(65535)),
		nla(destAttrTunType, u8(1)),
		nla(destAttrTunPort, be16(6080)),
		nla(destAttrTunFlags, u16(2)),
		nla(destAttrUThresh, u32(100)),
		nla(destAttrLThresh, u32(10)),
		nla(destAttrActiveConns, u32(4)),
		nla(destAttrInactConns, u32(5)),
		nla(destAttrPersistConns, u32(6)),
		nla(destAttrAddrFamily, u16(10)),
		kernelStats(destAttrStats, bigStats),
		kernelStats64(destAttrStats64, bigStats),
	))
	got, err := decodeDestMsg(body, lvs.IPv4)
	if err != nil {
		t.Fatal(err)
	}
	want := lvs.Dest{
		Addr: netip.MustParseAddrPort("[2001:db8::5]:80"),
		Opts: lvs.DestOpts{
			Forward: lvs.Tunnel, Weight: 65535, UpperThreshold: 100, LowerThreshold: 10,
			TunnelType: lvs.GUE, TunnelPort: 6080, TunnelFlags: lvs.TunnelRemCsum,
		},
		Live: lvs.DestLive{ActiveConns: 4, InactConns: 5, PersistConns: 6, Stats: bigStats},
	}
	if d := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })); d != "" {
		t.Errorf("decoded real server (-want +got):\n%s", d)
	}
}

func TestDecodeDestWithoutFamily(t *testing.T) {
	// Kernels before 3.18 send no IPVS_DEST_ATTR_ADDR_FAMILY: the
	// service's family applies.
	body := genlMsg(cmdNewDest, nla(cmdAttrDest,
		nla(destAttrAddr, union("192.168.1.7")),
		nla(destAttrPort, be16(8080)),
		nla(destAttrFwdMethod, u32(0)),
		nla(destAttrWeight, u32(3)),
	))
	got, err := decodeDestMsg(body, lvs.IPv4)
	if err != nil {
		t.Fatal(err)
	}
	if got.Addr != netip.MustParseAddrPort("192.168.1.7:8080") || got.Opts.Forward != lvs.Masq || got.Opts.Weight != 3 {
		t.Errorf("decoded %+v", got)
	}
}

func TestDecodeRejectsMalformed(t *testing.T) {
	for name, body := range map[string][]byte{
		"short genl header": {1, 1},
		"attr overruns":     genlMsg(cmdNewService, []byte{200, 0, 1, 0, 0, 0}),
		"no service":        genlMsg(cmdNewService, nla(cmdAttrDest)),
		"short address": genlMsg(cmdNewService, nla(cmdAttrService,
			nla(svcAttrAF, u16(10)), nla(svcAttrProtocol, u16(6)), nla(svcAttrAddr, []byte{1, 2, 3, 4}), nla(svcAttrPort, be16(1)))),
		"unknown family": genlMsg(cmdNewService, nla(cmdAttrService,
			nla(svcAttrAF, u16(7)), nla(svcAttrProtocol, u16(6)), nla(svcAttrAddr, union("10.0.0.1")), nla(svcAttrPort, be16(1)))),
	} {
		if _, err := decodeServiceMsg(body); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}

// encodeDecode runs an add-service request for s through the encoder and
// reads the service attribute back with the decoder.
func encodeDecodeService(t *testing.T, k lvs.ServiceKey, o lvs.ServiceOpts) lvs.Service {
	t.Helper()
	var m msgBuf
	Change{Kind: AddService, Service: k, Opts: o}.encode(&m)
	if m.b[0] != cmdNewService || m.b[1] != ipvsGenlVer {
		t.Errorf("generic netlink header % x, want command %d version %d", m.b[:genlHdrLen], cmdNewService, ipvsGenlVer)
	}
	got, err := decodeServiceMsg(m.b)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestServiceRoundTrip(t *testing.T) {
	mk := func(s string) lvs.ServiceKey {
		proto, ap, _ := strings.Cut(s, " ")
		p, _ := lvs.ParseProtocol(proto)
		return lvs.AddrKey(p, netip.MustParseAddrPort(ap))
	}
	cases := []struct {
		key  lvs.ServiceKey
		opts lvs.ServiceOpts
	}{
		{mk("tcp 10.0.0.2:80"), lvs.ServiceOpts{Scheduler: "wlc", Netmask: 32}},
		{mk("udp [2001:db8::2]:53"), lvs.ServiceOpts{Scheduler: "rr", Netmask: 128, OnePacket: true}},
		{mk("sctp 10.0.0.3:3868"), lvs.ServiceOpts{Scheduler: "mh", Netmask: 32, SchedFlags: lvs.SchedFlag1 | lvs.SchedFlag2}},
		{mk("tcp 10.0.0.4:0"), lvs.ServiceOpts{Scheduler: "sh", Persistent: true, Timeout: 360, Netmask: 24, SchedFlags: lvs.SchedFlag3}},
		{mk("tcp 10.0.0.4:21"), lvs.ServiceOpts{Scheduler: "lc", Persistent: true, Timeout: 1, Netmask: 0}},
		{mk("udp [2001:db8::9]:5060"), lvs.ServiceOpts{Scheduler: "lblcr", Persistent: true, Timeout: 2678400, Netmask: 64, PE: "sip"}},
		{lvs.MarkKey(lvs.IPv4, 7), lvs.ServiceOpts{Scheduler: "wrr", Netmask: 32}},
		{lvs.MarkKey(lvs.IPv6, 4294967295), lvs.ServiceOpts{Scheduler: "twos", Persistent: true, Timeout: 30, Netmask: 48, OnePacket: true}},
	}
	for _, c := range cases {
		got := encodeDecodeService(t, c.key, c.opts)
		want := lvs.Service{Key: c.key, Opts: c.opts}
		if got.Key != want.Key || got.Opts != want.Opts {
			t.Errorf("%s: round trip\n got %+v %+v\nwant %+v %+v", c.key, got.Key, got.Opts, want.Key, want.Opts)
		}
	}
}

func TestServiceNotPersistentSendsFullMask(t *testing.T) {
	// A desired table that was not normalized may carry a zero netmask
	// for a service that is not persistent. The kernel would refuse /0
	// for IPv6 and keep it for IPv4; "per client" is what is meant.
	for _, k := range []lvs.ServiceKey{
		lvs.AddrKey(lvs.TCP, netip.MustParseAddrPort("10.1.1.1:80")),
		lvs.AddrKey(lvs.TCP, netip.MustParseAddrPort("[2001:db8::1]:80")),
	} {
		got := encodeDecodeService(t, k, lvs.ServiceOpts{Scheduler: "rr", Timeout: 99})
		want := lvs.ServiceOpts{Scheduler: "rr", Netmask: lvs.FullMask(k.Family)}
		if got.Opts != want {
			t.Errorf("%s: got %+v, want %+v", k, got.Opts, want)
		}
	}
}

func TestServiceFlagsAndMask(t *testing.T) {
	var m msgBuf
	putService(&m, lvs.MarkKey(lvs.IPv4, 1), &lvs.ServiceOpts{Persistent: true, Timeout: 5, Netmask: 16, OnePacket: true, SchedFlags: lvs.SchedFlag2})
	var top [cmdAttrMax + 1][]byte
	if err := parseAttrs(m.b, top[:]); err != nil {
		t.Fatal(err)
	}
	var a [svcAttrMax + 1][]byte
	if err := parseAttrs(top[cmdAttrService], a[:]); err != nil {
		t.Fatal(err)
	}
	if flags, mask := ne.Uint32(a[svcAttrFlags]), ne.Uint32(a[svcAttrFlags][4:]); flags != 0x1|0x4|0x10 || mask != 0x3d {
		t.Errorf("flags %#x mask %#x, want 0x15 and 0x3d (never the hashed bit)", flags, mask)
	}
	if got := a[svcAttrNetmask]; string(got) != string([]byte{255, 255, 0, 0}) {
		t.Errorf("IPv4 netmask /16 sent as % x, want ff ff 00 00 (network order)", got)
	}
	if got := getString(a[svcAttrSched]); got != "wlc" {
		t.Errorf("empty scheduler sent as %q, want the kernel default wlc", got)
	}
}

func TestNetmask(t *testing.T) {
	for p := 0; p <= 32; p++ {
		b := netmaskBytes(lvs.IPv4, uint8(p))
		want := ^uint32(0) << (32 - p)
		if p == 0 {
			want = 0
		}
		if binary.BigEndian.Uint32(b) != want {
			t.Errorf("/%d encoded as % x", p, b)
		}
		if got := netmaskPrefix(lvs.IPv4, b); got != uint8(p) {
			t.Errorf("/%d decoded as /%d", p, got)
		}
	}
	for _, p := range []uint8{1, 48, 64, 127, 128} {
		b := netmaskBytes(lvs.IPv6, p)
		if ne.Uint32(b) != uint32(p) {
			t.Errorf("IPv6 /%d encoded as % x", p, b)
		}
		if got := netmaskPrefix(lvs.IPv6, b); got != p {
			t.Errorf("IPv6 /%d decoded as /%d", p, got)
		}
	}
	if got := netmaskPrefix(lvs.IPv4, []byte{255, 0, 255, 0}); got != 8 {
		t.Errorf("non-contiguous 255.0.255.0 decoded as /%d, want its leading ones, 8", got)
	}
}

func TestDestRoundTrip(t *testing.T) {
	cases := []lvs.Dest{
		{Addr: netip.MustParseAddrPort("10.0.0.5:8080"), Opts: lvs.DestOpts{Forward: lvs.Masq, Weight: 1}},
		{Addr: netip.MustParseAddrPort("10.0.0.6:80"), Opts: lvs.DestOpts{Forward: lvs.Route, Weight: 0, UpperThreshold: 1000, LowerThreshold: 750}},
		{Addr: netip.MustParseAddrPort("10.0.0.7:80"), Opts: lvs.DestOpts{Forward: lvs.Tunnel, Weight: 65535}},
		{Addr: netip.MustParseAddrPort("10.0.0.8:80"), Opts: lvs.DestOpts{Forward: lvs.Tunnel, Weight: 2, TunnelType: lvs.GUE, TunnelPort: 6080, TunnelFlags: lvs.TunnelCsum}},
		{Addr: netip.MustParseAddrPort("10.0.0.9:80"), Opts: lvs.DestOpts{Forward: lvs.Tunnel, Weight: 3, TunnelType: lvs.GRE, TunnelFlags: lvs.TunnelCsum}},
		{Addr: netip.MustParseAddrPort("[2001:db8::7]:80"), Opts: lvs.DestOpts{Forward: lvs.Tunnel, Weight: 4, TunnelType: lvs.GUE, TunnelPort: 5555, TunnelFlags: lvs.TunnelRemCsum}},
		{Addr: netip.MustParseAddrPort("127.0.0.1:80"), Opts: lvs.DestOpts{Forward: lvs.Local, Weight: 5}},
	}
	for _, d := range cases {
		var m msgBuf
		Change{Kind: AddDest, Service: lvs.AddrKey(lvs.TCP, netip.MustParseAddrPort("10.0.0.2:80")), Dest: d}.encode(&m)
		got, err := decodeDestMsg(m.b, lvs.IPv4)
		if err != nil {
			t.Fatal(err)
		}
		if got.Addr != d.Addr || got.Opts != d.Opts {
			t.Errorf("round trip of %s\n got %+v\nwant %+v", d.Addr, got.Opts, d.Opts)
		}
	}
}

func TestDestAddressFamilyAlwaysSent(t *testing.T) {
	var m msgBuf
	putDest(&m, netip.MustParseAddrPort("[::ffff:10.0.0.1]:80"), nil)
	var top [cmdAttrMax + 1][]byte
	var a [destAttrMax + 1][]byte
	if err := parseAttrs(m.b, top[:]); err != nil {
		t.Fatal(err)
	}
	if err := parseAttrs(top[cmdAttrDest], a[:]); err != nil {
		t.Fatal(err)
	}
	if f := getU16(a[destAttrAddrFamily]); f != 2 || len(a[destAttrAddr]) != 4 {
		t.Errorf("a mapped IPv4 address is sent as family %d with %d bytes, want 2 and 4", f, len(a[destAttrAddr]))
	}
	if a[destAttrWeight] != nil || a[destAttrTunType] != nil {
		t.Errorf("a delete request carries options")
	}
}

func TestTimeouts(t *testing.T) {
	var m msgBuf
	Change{Kind: SetTimeouts, Timeouts: lvs.Timeouts{TCP: 900 * time.Second, UDP: 300 * time.Second}}.encode(&m)
	var a [cmdAttrMax + 1][]byte
	if err := parseAttrs(m.b[genlHdrLen:], a[:]); err != nil {
		t.Fatal(err)
	}
	if a[cmdAttrTimeoutFin] != nil {
		t.Errorf("a zero tcp_fin timeout is sent; it must be left out (unchanged)")
	}
	got, err := decodeTimeouts(m.b)
	if err != nil {
		t.Fatal(err)
	}
	if want := (lvs.Timeouts{TCP: 900 * time.Second, UDP: 300 * time.Second}); got != want {
		t.Errorf("timeouts %+v, want %+v", got, want)
	}
}

func TestDaemonRoundTrip(t *testing.T) {
	for _, c := range []DaemonConfig{
		{State: DaemonMaster, Interface: "eth0", SyncID: 7},
		{State: DaemonBackup, Interface: "bond0.100", SyncID: 255, MaxLen: 1460, Group: netip.MustParseAddr("239.1.2.3"), Port: 9000, TTL: 3},
		{State: DaemonMaster, Interface: "eth1", Group: netip.MustParseAddr("ff02::81"), Port: 8848, TTL: 1},
	} {
		var m msgBuf
		Change{Kind: StartDaemon, Daemon: c}.encode(&m)
		got, err := decodeDaemonMsg(m.b)
		if err != nil {
			t.Fatal(err)
		}
		if got != c {
			t.Errorf("round trip\n got %+v\nwant %+v", got, c)
		}
	}
	// The kernel's dump of a master daemon with its defaults.
	body := genlMsg(cmdNewDaemon, nla(cmdAttrDaemon,
		nla(daemonAttrState, u32(1)),
		nla(daemonAttrMcastIfn, cstr("veth0")),
		nla(daemonAttrSyncID, u32(9)),
		nla(daemonAttrMaxLen, u16(1472)),
		nla(daemonAttrMcastPort, u16(8848)),
		nla(daemonAttrMcastTTL, u8(1)),
		nla(daemonAttrGroup, []byte{224, 0, 0, 81}),
	))
	got, err := decodeDaemonMsg(body)
	if err != nil {
		t.Fatal(err)
	}
	want := DaemonConfig{State: DaemonMaster, Interface: "veth0", SyncID: 9, MaxLen: 1472, Group: netip.MustParseAddr("224.0.0.81"), Port: 8848, TTL: 1}
	if got != want {
		t.Errorf("kernel daemon\n got %+v\nwant %+v", got, want)
	}
}

func TestDaemonCheck(t *testing.T) {
	for _, c := range []DaemonConfig{
		{State: 3, Interface: "eth0"},
		{State: DaemonMaster},
		{State: DaemonMaster, Interface: "an-interface-name-too-long"},
		{State: DaemonBackup, Interface: "eth0", Group: netip.MustParseAddr("10.0.0.1")},
	} {
		if err := (Change{Kind: StartDaemon, Daemon: c}).Check(); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

func TestNetnsPath(t *testing.T) {
	for in, want := range map[string]string{
		"":                  "",
		"blue":              "/run/netns/blue",
		"/proc/1/ns/net":    "/proc/1/ns/net",
		"./relative/ns/net": "./relative/ns/net",
	} {
		got, err := NetnsPath(in)
		if err != nil || got != want {
			t.Errorf("NetnsPath(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := NetnsPath(".."); err == nil {
		t.Errorf(`NetnsPath("..") accepted`)
	}
}

func TestOpenMissingNamespace(t *testing.T) {
	_, err := Open("lvsctl-no-such-namespace")
	if err == nil || !strings.Contains(err.Error(), `network namespace "lvsctl-no-such-namespace" does not exist`) {
		t.Errorf("Open of a missing namespace: %v", err)
	}
}
