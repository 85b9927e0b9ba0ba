package kernel

import (
	"errors"
	"slices"
	"sync"
	"syscall"
	"testing"

	"github.com/mdlayher/netlink"
	"github.com/mdlayher/netlink/nltest"
)

// The transport is tested against a fake kernel on
// github.com/mdlayher/netlink/nltest, which stands in for the socket: it
// answers the generic-netlink controller's family lookup and hands every
// IPVS request to a test's handler.

// fakeFamily is the IPVS family id the fake kernel gives out.
const fakeFamily = 0x24

// The generic-netlink controller's values (linux/genetlink.h), spelled out
// so that the fake builds everywhere.
const (
	genlIDCtrl         = 0x10
	ctrlCmdNewFamily   = 1
	ctrlAttrFamilyID   = 1
	ctrlAttrFamilyName = 2
	ctrlAttrVersion    = 3
)

// errNoAnswer is what a read gets when the fake kernel has nothing more to
// say: a real socket would time out.
var errNoAnswer = errors.New("fake kernel: no answer")

// A fakeKernel answers requests, on as many sockets as are opened to it.
// Each answer is one datagram, delivered by one read, as the kernel sends
// them: an acknowledgement each, a dump in several parts.
type fakeKernel struct {
	mu     sync.Mutex
	handle func(req netlink.Message) [][]netlink.Message
	sends  int               // writes: one per Send or SendMessages
	reqs   []netlink.Message // IPVS requests, in order
	conns  int               // sockets opened
	noIPVS bool              // the controller knows no IPVS family
}

// dialFake returns a handle on a fake kernel whose IPVS requests handle
// answers; handle may be nil for a kernel without answers. The handle's
// second socket, for reading large tables, goes to the same fake.
func dialFake(t testing.TB, handle func(req netlink.Message) [][]netlink.Message) (*IPVS, *fakeKernel) {
	t.Helper()
	f := &fakeKernel{handle: handle}
	c, err := newConn(f.dial())
	if err != nil {
		t.Fatal(err)
	}
	return &IPVS{c: c, dialReader: func() (*conn, error) { return newConn(f.dial()) }}, f
}

// dial opens a socket to f: an nltest connection whose function gets the
// requests when they are sent, and nil when a read finds nothing left from
// the last write.
func (f *fakeKernel) dial() *netlink.Conn {
	f.mu.Lock()
	f.conns++
	f.mu.Unlock()
	var queue [][]netlink.Message
	return nltest.Dial(func(reqs []netlink.Message) ([]netlink.Message, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if reqs != nil {
			f.sends++
			for _, req := range reqs {
				queue = append(queue, f.answer(req)...)
			}
		}
		if len(queue) == 0 {
			return nil, errNoAnswer
		}
		d := queue[0]
		queue = queue[1:]
		return d, nil
	})
}

func (f *fakeKernel) answer(req netlink.Message) [][]netlink.Message {
	if req.Header.Type == genlIDCtrl {
		return f.family(req)
	}
	f.reqs = append(f.reqs, req)
	if f.handle == nil {
		return nil
	}
	ds := f.handle(req)
	if req.Header.Flags&netlink.Acknowledge == 0 {
		// As the kernel does: no acknowledgement unless asked, but every
		// error.
		ds = slices.DeleteFunc(ds, func(d []netlink.Message) bool {
			return len(d) == 1 && d[0].Header.Type == netlink.Error && ne.Uint32(d[0].Data) == 0
		})
	}
	return ds
}

// family answers CTRL_CMD_GETFAMILY.
func (f *fakeKernel) family(req netlink.Message) [][]netlink.Message {
	ad, err := netlink.NewAttributeDecoder(req.Data[genlHdrLen:])
	if err != nil {
		panic(err)
	}
	name := ""
	for ad.Next() {
		if ad.Type() == ctrlAttrFamilyName {
			name = ad.String()
		}
	}
	if name != ipvsGenlName || f.noIPVS {
		return [][]netlink.Message{{nack(req, syscall.ENOENT, "")}}
	}
	attrs := nltest.MustMarshalAttributes([]netlink.Attribute{
		{Type: ctrlAttrFamilyID, Data: u16(fakeFamily)},
		{Type: ctrlAttrFamilyName, Data: cstr(ipvsGenlName)},
		{Type: ctrlAttrVersion, Data: u32(ipvsGenlVer)},
	})
	return [][]netlink.Message{{reply(req, 0, append([]byte{ctrlCmdNewFamily, 2, 0, 0}, attrs...))}}
}

// reply is a message answering req.
func reply(req netlink.Message, flags netlink.HeaderFlags, body []byte) netlink.Message {
	return netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(fakeFamily), Flags: flags, Sequence: req.Header.Sequence, PID: req.Header.PID},
		Data:   body,
	}
}

// ack acknowledges req.
func ack(req netlink.Message) netlink.Message {
	h, _ := netlink.Message{Header: req.Header}.MarshalBinary()
	m := reply(req, 0, append(u32(0), h[:16]...))
	m.Header.Type = netlink.Error
	m.Header.Flags = netlink.Capped // an acknowledgement never carries the request
	return m
}

// nack refuses req with errno, as the kernel does with
// NETLINK_EXT_ACK set: the whole request, then the kernel's message.
func nack(req netlink.Message, errno syscall.Errno, msg string) netlink.Message {
	req.Header.Length = uint32(16 + len(req.Data))
	b, err := req.MarshalBinary()
	if err != nil {
		panic(err)
	}
	m := reply(req, 0, append(u32(uint32(-int32(errno))), b...))
	m.Header.Type = netlink.Error
	if msg != "" {
		m.Header.Flags = netlink.AcknowledgeTLVs
		m.Data = append(m.Data, nla(nlmsgerrAttrM, cstr(msg))...)
	}
	return m
}

// dumpOf answers a dump request with bodies, split into datagrams of at
// most per messages, the last one ending the dump.
func dumpOf(req netlink.Message, per int, bodies ...[]byte) [][]netlink.Message {
	var ds [][]netlink.Message
	var d []netlink.Message
	for _, b := range bodies {
		d = append(d, reply(req, netlink.Multi, b))
		if len(d) == per {
			ds, d = append(ds, d), nil
		}
	}
	done := reply(req, netlink.Multi, u32(0))
	done.Header.Type = netlink.Done
	return append(ds, append(d, done))
}

// cmdOf returns the IPVS command of a request.
func cmdOf(req netlink.Message) uint8 { return req.Data[0] }
