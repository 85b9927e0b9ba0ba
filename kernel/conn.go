package kernel

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
)

// recvTimeout bounds the wait for one kernel answer (at least half of it is
// always left), so that a lost answer becomes an error instead of a hang.
const recvTimeout = 10 * time.Second

// recvBuffer is the size of the buffer each answer is read into. The kernel
// sizes the datagrams of a dump by the largest read it has seen, up to
// 32 KiB, so a buffer this large gets a dump in the fewest reads; and no
// answer needs a look at its size before it is read.
const recvBuffer = 64 << 10

// conn carries IPVS requests on a generic-netlink socket
// (github.com/mdlayher/netlink).
type conn struct {
	nl     *netlink.Conn
	family uint16 // the IPVS generic-netlink family id
	seq    uint32
	// deadline is the socket's read deadline: see receive.
	deadline time.Time
}

// newConn sets nl up for IPVS and looks up the IPVS family, which loads
// the ip_vs module where the kernel can. It closes nl when it fails.
func newConn(nl *netlink.Conn) (*conn, error) {
	// The kernel's own explanation of an error where it has one (Linux
	// 4.12); older kernels answer without it. Not NETLINK_CAP_ACK: the
	// library reads a capped extended acknowledgement as truncated.
	_ = nl.SetOption(netlink.ExtendedAcknowledge, true)
	// A batch leaves up to batchChunk answers queued before it reads them;
	// make room for them. Forcing the size needs CAP_NET_ADMIN, which every
	// change to IPVS needs anyway; without it the default buffer only
	// risks losing the answers to a large batch, which batch reports.
	_ = nl.SetReadBuffer(4 << 20)
	_ = nl.SetReadDeadline(time.Now().Add(recvTimeout))
	f, err := genetlink.NewConn(nl).GetFamily(ipvsGenlName)
	if err != nil {
		nl.Close()
		if errors.Is(err, fs.ErrNotExist) {
			return nil, ErrNoIPVS
		}
		return nil, fmt.Errorf("looking up the IPVS netlink family: %w", err)
	}
	if f.ID == 0 {
		nl.Close()
		return nil, fmt.Errorf("looking up the IPVS netlink family: the kernel answered without a family id")
	}
	return &conn{nl: nl, family: f.ID}, nil
}

func (c *conn) close() error { return c.nl.Close() }

func (c *conn) nextSeq() uint32 {
	c.seq++
	if c.seq == 0 {
		c.seq++
	}
	return c.seq
}

// message returns a request to the IPVS family with body, which encode
// wrote: its generic-netlink header and attributes.
func (c *conn) message(flags netlink.HeaderFlags, seq uint32, body []byte) netlink.Message {
	return netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(c.family), Flags: netlink.Request | flags, Sequence: seq},
		Data:   body,
	}
}

// request sends m, a command with netlink.Acknowledge or a netlink.Dump,
// and passes the body of every data message answering it to onData. It
// returns when the kernel acknowledges the command or ends the dump.
func (c *conn) request(m netlink.Message, onData func(body []byte) error) error {
	seq := c.nextSeq()
	m.Header.Sequence = seq
	if _, err := c.nl.Send(m); err != nil {
		return fmt.Errorf("sending to the kernel: %v", err)
	}
	dump := m.Header.Flags&netlink.Dump == netlink.Dump
	var dataErr error
	for {
		msgs, err := c.receive()
		if r, ok := err.(*refusal); ok {
			if r.seq != seq {
				continue // a late answer to an earlier, abandoned request
			}
			return r.err
		}
		if err != nil {
			return err
		}
		// A dump comes whole in one receive, its end (NLMSG_DONE)
		// taken off; a dump of nothing is that end alone.
		ours := dump && len(msgs) == 0
		for _, m := range msgs {
			if m.Header.Sequence != seq {
				continue
			}
			ours = true
			switch m.Header.Type {
			case netlink.Error:
				return dataErr // the acknowledgement of a command
			case netlink.Noop, netlink.Done:
				continue
			}
			if dataErr == nil && onData != nil {
				dataErr = onData(m.Data)
			}
		}
		if dump && ours {
			return dataErr
		}
	}
}

// batch sends msgs, commands with the sequence numbers first, first+1,
// ..., in one write, and reads the kernel's answers into errs: nil for a
// command done, the kernel's error otherwise.
//
// Only the last command asks for an acknowledgement. The kernel runs the
// commands of one write in order before the write returns, answers every
// failure whether asked or not, one datagram each, and then the last
// command: once its answer is read, every failure has been. A failure that
// could not be queued (a full receive buffer) makes the kernel drop what
// follows and report ENOBUFS once the queue is read, so a lost answer is
// never taken for a success: batch returns the error instead. Against one
// read per command, this is one read per batch when all goes well.
func (c *conn) batch(msgs []netlink.Message, first uint32, errs []error) error {
	last := first + uint32(len(msgs)-1)
	for i := range msgs {
		msgs[i].Header.Flags = netlink.Request
	}
	msgs[len(msgs)-1].Header.Flags |= netlink.Acknowledge
	if _, err := c.nl.SendMessages(msgs); err != nil {
		return fmt.Errorf("sending to the kernel: %v", err)
	}
	for {
		ms, err := c.receive()
		if r, ok := err.(*refusal); ok {
			if i := r.seq - first; i < uint32(len(errs)) {
				errs[i] = r.err
				if r.seq == last {
					return nil
				}
			}
			continue
		}
		if err != nil {
			return err
		}
		for _, m := range ms {
			if m.Header.Type == netlink.Error && m.Header.Sequence == last {
				return nil
			}
		}
	}
}

// maxErrno is the largest errno the kernel has (MAX_ERRNO).
const maxErrno = 4095

// A refusal is the kernel's error answer to the request seq.
type refusal struct {
	seq uint32
	err *kernelErr
}

func (r *refusal) Error() string { return r.err.Error() }

// receive reads the next answer: one datagram, or a whole dump. An error
// answer from the kernel is a [*refusal]; any other error means answers
// may be lost.
func (c *conn) receive() ([]netlink.Message, error) {
	// Each read may wait recvTimeout/2 to recvTimeout: the deadline is
	// moved only when less than half of it is left, which spares the
	// runtime a timer change on almost every read.
	if now := time.Now(); c.deadline.Sub(now) < recvTimeout/2 {
		c.deadline = now.Add(recvTimeout)
		_ = c.nl.SetReadDeadline(c.deadline)
	}
	msgs, err := c.nl.Receive()
	if err == nil {
		return msgs, nil
	}
	var oe *netlink.OpError
	if errors.As(err, &oe) && oe.Sequence != 0 {
		// An error message: the library gives its sequence number and
		// errno, and the kernel's explanation from the extended
		// acknowledgement. (A failed system call has no sequence number
		// and an *os.SyscallError.)
		if errno, ok := oe.Err.(syscall.Errno); ok {
			if errno == 0 || errno > maxErrno {
				return nil, fmt.Errorf("the kernel answered with netlink error %d, which is no errno", int32(-int(errno)))
			}
			msg, _, _ := strings.Cut(oe.Message, "\x00")
			return nil, &refusal{seq: oe.Sequence, err: &kernelErr{errno: errno, msg: msg}}
		}
	}
	// The errno of a failed read is not passed on (%v): it is not the
	// kernel's answer to an operation, and must not read as one.
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return nil, fmt.Errorf("the kernel did not answer within %s", recvTimeout)
	case errors.Is(err, syscall.ENOBUFS):
		return nil, fmt.Errorf("kernel answers were lost (netlink receive buffer overrun): %v", err)
	}
	return nil, fmt.Errorf("receiving from the kernel: %v", err)
}
