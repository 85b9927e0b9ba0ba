package kernel

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/mdlayher/netlink"

	"github.com/lvsctl/lvsctl/lvs"
)

// The decoders here read what the kernel sends back. The kernel is not
// hostile, but a decoder that panics on a reply it does not expect (a
// newer kernel's, a truncated one) takes lvsctl down with it, so each is
// fuzzed: no panic, allocation bounded by the input, and, where the
// encoder writes what the decoder reads, a round trip that settles.

// Netlink values for building raw replies (include/uapi/linux/netlink.h).
const (
	nlmsgHdrLen   = 16
	nlmsgError    = 2
	nlmsgDone     = 3
	nlmFRequest   = 0x1
	nlmFMulti     = 0x2
	nlmFAck       = 0x4
	nlmFCapped    = 0x100 // the error message carries no copy of the request
	nlmFAckTLVs   = 0x200 // extended acknowledgement attributes follow
	nlmsgerrAttrM = 1     // NLMSGERR_ATTR_MSG: a message string
)

var addrCmp = cmpopts.EquateComparable(netip.Addr{}, netip.AddrPort{})

// Seeds: the replies of the codec tests.
func serviceSeed() []byte {
	return genlMsg(cmdNewService, nla(cmdAttrService,
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
}

func fwmarkServiceSeed() []byte {
	return genlMsg(cmdNewService, nla(cmdAttrService,
		nla(svcAttrAF, u16(10)),
		nla(svcAttrFWMark, u32(100)),
		nla(svcAttrSched, cstr("rr")),
		nla(svcAttrPEName, cstr("sip")),
		nla(svcAttrFlags, u32(0x1|0x2|0x4), u32(0xffffffff)),
		nla(svcAttrTimeout, u32(60)),
		nla(svcAttrNetmask, u32(64)),
		kernelStats(svcAttrStats, lvs.Stats{Conns: 3}),
	))
}

func destSeed() []byte {
	return genlMsg(cmdNewDest, nla(cmdAttrDest,
		nla(destAttrAddr, union("2001:db8::10")),
		nla(destAttrPort, be16(8080)),
		nla(destAttrFwdMethod, u32(2)),
		nla(destAttrWeight, u32(5)),
		nla(destAttrUThresh, u32(100)),
		nla(destAttrLThresh, u32(10)),
		nla(destAttrActiveConns, u32(1)),
		nla(destAttrInactConns, u32(2)),
		nla(destAttrPersistConns, u32(3)),
		nla(destAttrAddrFamily, u16(10)),
		nla(destAttrTunType, u8(1)),
		nla(destAttrTunPort, be16(6080)),
		nla(destAttrTunFlags, u16(1)),
		kernelStats64(destAttrStats64, bigStats),
	))
}

func daemonSeed() []byte {
	return genlMsg(cmdNewDaemon, nla(cmdAttrDaemon,
		nla(daemonAttrState, u32(1)),
		nla(daemonAttrMcastIfn, cstr("eth0")),
		nla(daemonAttrSyncID, u32(7)),
		nla(daemonAttrMaxLen, u16(1400)),
		nla(daemonAttrGroup, []byte{224, 0, 0, 81}),
		nla(daemonAttrMcastPort, u16(8848)),
		nla(daemonAttrMcastTTL, u8(2)),
	))
}

func timeoutsSeed() []byte {
	return genlMsg(cmdSetConfig, nla(cmdAttrTimeoutTCP, u32(900)), nla(cmdAttrTimeoutFin, u32(120)), nla(cmdAttrTimeoutUDP, u32(300)))
}

// nlmsg frames body as one netlink message.
func nlmsg(typ, flags uint16, seq uint32, body []byte) []byte {
	b := ne.AppendUint32(nil, uint32(nlmsgHdrLen+len(body)))
	b = ne.AppendUint16(b, typ)
	b = ne.AppendUint16(b, flags)
	b = ne.AppendUint32(b, seq)
	b = ne.AppendUint32(b, 0)
	b = append(b, body...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// reply is one receive buffer as a dump answers: data messages, then
// NLMSG_DONE; or an error with extended acknowledgement attributes.
func replySeeds() [][]byte {
	ipvs := uint16(0x20)
	var dump []byte
	for _, m := range [][]byte{serviceSeed(), fwmarkServiceSeed(), destSeed(), daemonSeed(), timeoutsSeed()} {
		dump = append(dump, nlmsg(ipvs, nlmFMulti, 7, m)...)
	}
	dump = append(dump, nlmsg(nlmsgDone, nlmFMulti, 7, u32(0))...)
	req := nlmsg(ipvs, nlmFRequest|nlmFAck, 8, genlMsg(cmdNewService))
	ackBody := append(u32(negErrno(syscall.EEXIST)), req[:nlmsgHdrLen]...)
	ackBody = append(ackBody, nla(nlmsgerrAttrM, cstr("Service already exists"))...)
	nack := nlmsg(nlmsgError, nlmFCapped|nlmFAckTLVs, 8, ackBody)
	full := append(u32(negErrno(syscall.ENOENT)), req...)
	full = append(full, nla(nlmsgerrAttrM, cstr("no such service"))...)
	return [][]byte{dump, nack, nlmsg(nlmsgError, nlmFAckTLVs, 9, full), nlmsg(nlmsgError, 0, 10, u32(0))}
}

// negErrno is an errno as a netlink error message carries it.
func negErrno(e syscall.Errno) uint32 { return uint32(-int32(e)) }

// FuzzParseAttrs splits arbitrary bytes into attributes. What it accepts,
// encoded again by msgBuf, reads back the same.
func FuzzParseAttrs(f *testing.F) {
	for _, s := range [][]byte{serviceSeed()[genlHdrLen:], destSeed()[genlHdrLen:], kernelStats(1, bigStats)} {
		f.Add(s, uint8(16))
	}
	f.Fuzz(func(t *testing.T, b []byte, n uint8) {
		out := make([][]byte, int(n%32)+1)
		if err := parseAttrs(b, out); err != nil {
			return
		}
		var m msgBuf
		for typ, p := range out {
			if p != nil {
				m.attr(uint16(typ), p)
			}
		}
		back := make([][]byte, len(out))
		if err := parseAttrs(m.b, back); err != nil {
			t.Fatalf("re-encoded attributes do not parse: %v", err)
		}
		for i := range out {
			if (out[i] == nil) != (back[i] == nil) || !bytes.Equal(out[i], back[i]) {
				t.Fatalf("attribute %d: %x, then %x", i, out[i], back[i])
			}
		}
	})
}

// FuzzDecodeServiceMsg decodes arbitrary service messages. A service it
// reads, written by putService and read again, settles after one round:
// the encoder normalizes (a default scheduler, no timeout without
// persistence, the family of the address), the second round changes
// nothing, and the key and flags survive the first.
func FuzzDecodeServiceMsg(f *testing.F) {
	f.Add(serviceSeed())
	f.Add(fwmarkServiceSeed())
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := decodeServiceMsg(body)
		if err != nil {
			return
		}
		if len(s.Opts.Scheduler) > schedNameMax || len(s.Opts.PE) > schedNameMax {
			return // the encoder is for names the kernel takes
		}
		round := func(s lvs.Service) lvs.Service {
			var m msgBuf
			m.b = []byte{cmdNewService, ipvsGenlVer, 0, 0}
			putService(&m, s.Key, &s.Opts)
			back, err := decodeServiceMsg(m.b)
			if err != nil {
				t.Fatalf("%+v encoded does not decode: %v", s, err)
			}
			return back
		}
		s2 := round(s)
		if s2.Key.FWMark != s.Key.FWMark || s2.Key.Port != s.Key.Port || s2.Key.Protocol != s.Key.Protocol || s2.Key.Addr.Unmap() != s.Key.Addr.Unmap() ||
			s2.Opts.PE != s.Opts.PE || s2.Opts.Persistent != s.Opts.Persistent || s2.Opts.OnePacket != s.Opts.OnePacket || s2.Opts.SchedFlags != s.Opts.SchedFlags {
			t.Fatalf("round trip changed %+v into %+v", s, s2)
		}
		if d := cmp.Diff(s2, round(s2), addrCmp); d != "" {
			t.Fatalf("a second round trip changed the service (-first +second):\n%s", d)
		}
	})
}

// FuzzDecodeDestMsg is FuzzDecodeServiceMsg for real servers, under a
// service of either family.
func FuzzDecodeDestMsg(f *testing.F) {
	f.Add(destSeed(), true)
	f.Add(genlMsg(cmdNewDest, nla(cmdAttrDest, nla(destAttrAddr, union("10.0.0.3")), nla(destAttrPort, be16(80)))), false)
	f.Fuzz(func(t *testing.T, body []byte, v6 bool) {
		fam := lvs.IPv4
		if v6 {
			fam = lvs.IPv6
		}
		d, err := decodeDestMsg(body, fam)
		if err != nil {
			return
		}
		round := func(d lvs.Dest) lvs.Dest {
			var m msgBuf
			m.b = []byte{cmdNewDest, ipvsGenlVer, 0, 0}
			putDest(&m, d.Addr, &d.Opts)
			back, err := decodeDestMsg(m.b, fam)
			if err != nil {
				t.Fatalf("%+v encoded does not decode: %v", d, err)
			}
			return back
		}
		d2 := round(d)
		if d2.Addr.Port() != d.Addr.Port() || d2.Addr.Addr().Unmap() != d.Addr.Addr().Unmap() || d2.Opts.Weight != d.Opts.Weight ||
			d2.Opts.Forward != d.Opts.Forward || d2.Opts.UpperThreshold != d.Opts.UpperThreshold || d2.Opts.LowerThreshold != d.Opts.LowerThreshold {
			t.Fatalf("round trip changed %+v into %+v", d, d2)
		}
		if diff := cmp.Diff(d2, round(d2), addrCmp); diff != "" {
			t.Fatalf("a second round trip changed the real server (-first +second):\n%s", diff)
		}
	})
}

// FuzzDecodeDaemonMsg is FuzzDecodeServiceMsg for sync daemons.
func FuzzDecodeDaemonMsg(f *testing.F) {
	f.Add(daemonSeed())
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := decodeDaemonMsg(body)
		if err != nil || len(c.Interface) > ifNameMax {
			return
		}
		round := func(c DaemonConfig) DaemonConfig {
			var m msgBuf
			m.b = []byte{cmdNewDaemon, ipvsGenlVer, 0, 0}
			putDaemon(&m, c, true)
			back, err := decodeDaemonMsg(m.b)
			if err != nil {
				t.Fatalf("%+v encoded does not decode: %v", c, err)
			}
			return back
		}
		c2 := round(c)
		if c2.State != c.State || c2.Interface != c.Interface || c2.SyncID != c.SyncID || c2.MaxLen != c.MaxLen || c2.Port != c.Port || c2.TTL != c.TTL ||
			c2.Group.Unmap() != c.Group.Unmap() {
			t.Fatalf("round trip changed %+v into %+v", c, c2)
		}
		if d := cmp.Diff(c2, round(c2), addrCmp); d != "" {
			t.Fatalf("a second round trip changed the daemon (-first +second):\n%s", d)
		}
	})
}

// FuzzKernelReply feeds an arbitrary receive buffer to the transport as
// the answer to each kind of request, through the netlink library's reading
// of it (nltest stands in for the socket): data messages go through the
// decoders, acknowledgements and errors through the library's extended
// acknowledgement parsing. Whatever the bytes, a request ends, with an
// error or without, and a kernel error carries a real errno.
func FuzzKernelReply(f *testing.F) {
	for _, s := range replySeeds() {
		f.Add(s)
	}
	f.Add(hugeAckSeed())
	f.Fuzz(func(t *testing.T, b []byte) {
		replies, _ := messages(b) // what a read yields, up to where it stops
		if len(replies) == 0 {
			return
		}
		answer := func(req netlink.Message) [][]netlink.Message {
			d := make([]netlink.Message, len(replies))
			for i, m := range replies {
				m.Header.Sequence = req.Header.Sequence // each answers this request
				d[i] = m
			}
			return [][]netlink.Message{d}
		}
		checkErr := func(err error) {
			var ke *kernelErr
			if errors.As(err, &ke) && (ke.errno <= 0 || strings.ContainsRune(ke.msg, 0)) {
				t.Fatalf("kernel error: errno %d, message %q", ke.errno, ke.msg)
			}
		}
		h, _ := dialFake(t, answer)
		_, err := h.Table()
		checkErr(err)
		_, err = h.Daemons()
		checkErr(err)
		checkErr(h.DeleteService(lvs.MarkKey(lvs.IPv4, 1)))

		// A batch of three, each answered with the whole buffer.
		h, _ = dialFake(t, answer)
		cs := []Change{{Kind: DeleteService, Service: lvs.MarkKey(lvs.IPv4, 1)}, {Kind: DeleteService, Service: lvs.MarkKey(lvs.IPv4, 2)}, {Kind: DeleteService, Service: lvs.MarkKey(lvs.IPv4, 3)}}
		if errs := h.Batch(cs); errs != nil {
			if len(errs) != len(cs) {
				t.Fatalf("%d errors for %d changes", len(errs), len(cs))
			}
			for _, err := range errs {
				checkErr(err)
			}
		}
	})
}

// messages splits b into netlink messages as the netlink library does with
// what it reads: each message is its own Message.UnmarshalBinary.
func messages(b []byte) ([]netlink.Message, error) {
	var ms []netlink.Message
	err := eachMessage(b, func(m netlink.Message) { ms = append(ms, m) })
	return ms, err
}

func eachMessage(b []byte, fn func(netlink.Message)) error {
	for len(b) >= nlmsgHdrLen {
		l := uint64(ne.Uint32(b))
		n := (l + 3) &^ 3
		if l < nlmsgHdrLen || n > uint64(len(b)) {
			return fmt.Errorf("a netlink message of length %d with %d bytes left", l, len(b))
		}
		var m netlink.Message
		if err := m.UnmarshalBinary(b[:n]); err != nil {
			return err
		}
		fn(m)
		b = b[n:]
	}
	return nil
}

// readReply decodes every message of b with every decoder.
func readReply(t *testing.T, b []byte) (n int) {
	_ = eachMessage(b, func(m netlink.Message) {
		n++
		switch m.Header.Type {
		case nlmsgError, nlmsgDone:
			return
		}
		_, _ = decodeServiceMsg(m.Data)
		_, _ = decodeDestMsg(m.Data, lvs.IPv4)
		_, _ = decodeDestMsg(m.Data, lvs.IPv6)
		_, _ = decodeTimeouts(m.Data)
		_, _ = decodeDaemonMsg(m.Data)
	})
	return n
}

// TestDecodeReplyBounded reads a mebibyte of the replies that make the
// decoders work hardest per byte: the smallest messages, and messages of
// the most and longest strings. What they allocate stays within a small
// multiple of the input.
func TestDecodeReplyBounded(t *testing.T) {
	const size = 1 << 20
	var tiny []byte
	for len(tiny) < size {
		tiny = append(tiny, nlmsg(0x20, 0, 1, nil)...)
	}
	var long []byte
	for len(long) < size {
		s := []byte(strings.Repeat("x", 30000))
		long = append(long, nlmsg(0x20, 0, 1, genlMsg(cmdNewService, nla(cmdAttrService,
			nla(svcAttrFWMark, u32(1)), nla(svcAttrSched, s), nla(svcAttrPEName, s))))...)
	}
	var many []byte
	for len(many) < size {
		attrs := [][]byte{}
		for range 1000 {
			attrs = append(attrs, nla(svcAttrSched, cstr("wlc")), nla(svcAttrPEName, cstr("sip")), nla(svcAttrFWMark, u32(1)))
		}
		many = append(many, nlmsg(0x20, 0, 1, genlMsg(cmdNewService, nla(cmdAttrService, attrs...)))...)
	}
	for name, b := range map[string][]byte{"tiny": tiny, "long strings": long, "many attributes": many} {
		var n int
		alloc := allocated(func() { n = readReply(t, b) })
		if raceEnabled {
			continue // the race detector's own allocations count too
		}
		// Five decoders fail on each tiny message, each with its own
		// error: about 300 bytes for 16.
		if limit := uint64(32 * len(b)); alloc > limit {
			t.Errorf("%s: reading %d bytes allocated %d, more than %d", name, len(b), alloc, limit)
		}
		t.Logf("%s: %d messages, %d bytes in, %d allocated", name, n, len(b), alloc)
	}
}

// allocated returns how many bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// hugeAckSeed is an error whose copy of the request claims a length past
// 2^31, which must not become a negative offset where int is 32 bits.
func hugeAckSeed() []byte {
	body := append(u32(negErrno(syscall.ENOENT)), nlmsg(0x20, 0, 1, nil)...)
	ne.PutUint32(body[4:], 0xfffffffd)
	body = append(body, nla(nlmsgerrAttrM, cstr("x"))...)
	return nlmsg(nlmsgError, nlmFAckTLVs, 1, body)
}

// TestDecodeReplyHugeLengths: lengths past 2^31 in a message header or in
// the copy of the request inside an acknowledgement are refused, not turned
// into negative offsets.
func TestDecodeReplyHugeLengths(t *testing.T) {
	msg := nlmsg(0x20, 0, 1, genlMsg(cmdNewService))
	ne.PutUint32(msg, 0xfffffff0)
	if ms, err := messages(msg); err == nil || len(ms) != 0 {
		t.Errorf("a message of 4 GB passed: %d messages, %v", len(ms), err)
	}
	h, _ := dialFake(t, func(req netlink.Message) [][]netlink.Message {
		ms, err := messages(hugeAckSeed())
		if err != nil {
			t.Fatal(err)
		}
		ms[0].Header.Sequence = req.Header.Sequence
		return [][]netlink.Message{ms}
	})
	// The library reads the errno even when the copy is bogus; whichever
	// way, the error says that the change failed.
	if err := h.DeleteService(lvs.MarkKey(lvs.IPv4, 1)); err == nil {
		t.Errorf("a refusal with a bogus request length read as success")
	}
}

// FuzzDecodeInfoMsg: the answer to IPVS_CMD_GET_INFO never panics, and a
// version attribute always reads as three numbers.
func FuzzDecodeInfoMsg(f *testing.F) {
	var m msgBuf
	m.begin(cmdGetInfo)
	m.u32(infoAttrVersion, 0x010201)
	m.u32(infoAttrConnTabSize, 4096)
	f.Add(m.b)
	f.Add([]byte{cmdGetInfo, 1, 0, 0})
	f.Add([]byte{cmdGetInfo, 1, 0, 0, 5, 0, 1, 0, 7})
	f.Fuzz(func(t *testing.T, body []byte) {
		info, err := decodeInfoMsg(body)
		if err == nil && info.Version != "" && strings.Count(info.Version, ".") != 2 {
			t.Errorf("version %q", info.Version)
		}
	})
}

func TestDecodeInfoMsg(t *testing.T) {
	var m msgBuf
	m.begin(cmdGetInfo)
	m.u32(infoAttrVersion, 0x010201)
	m.u32(infoAttrConnTabSize, 4096)
	info, err := decodeInfoMsg(m.b)
	if err != nil || info != (Info{Version: "1.2.1", ConnTabSize: 4096}) {
		t.Errorf("%+v, %v", info, err)
	}
}
