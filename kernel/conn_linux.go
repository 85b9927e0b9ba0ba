package kernel

import (
	"errors"
	"fmt"
	"runtime"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// recvTimeout bounds the wait for one kernel answer, so that a lost answer
// becomes an error instead of a hang.
const recvTimeout = 10 * time.Second

// conn is one generic-netlink socket, bound in one network namespace.
type conn struct {
	fd     int
	family uint16 // the IPVS generic-netlink family id
	seq    uint32
	rbuf   []byte
}

// newConn opens a generic-netlink socket in the network namespace at nsPath
// ("" for the caller's own).
func newConn(nsPath string) (*conn, error) {
	fd, err := socketIn(nsPath)
	if err != nil {
		return nil, err
	}
	c := &conn{fd: fd, rbuf: make([]byte, 1<<17)}
	if err := c.setup(); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return c, nil
}

func (c *conn) setup() error {
	if err := unix.Bind(c.fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("binding a netlink socket: %w", err)
	}
	// A batch leaves up to batchChunk answers queued before it reads them;
	// make room for them. SO_RCVBUFFORCE needs CAP_NET_ADMIN, which every
	// change to IPVS needs anyway; without it, the default buffer only
	// shrinks the chunks that fit, and batch handles an overrun.
	if unix.SetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 4<<20) != nil {
		_ = unix.SetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 4<<20)
	}
	// Acknowledgements without a copy of the request, and error strings
	// from the kernel where it has them. Both are optional (Linux 4.3,
	// 4.12): older kernels just answer without them.
	_ = unix.SetsockoptInt(c.fd, unix.SOL_NETLINK, unix.NETLINK_CAP_ACK, 1)
	_ = unix.SetsockoptInt(c.fd, unix.SOL_NETLINK, unix.NETLINK_EXT_ACK, 1)
	tv := unix.NsecToTimeval(recvTimeout.Nanoseconds())
	if err := unix.SetsockoptTimeval(c.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return fmt.Errorf("setting the netlink receive timeout: %w", err)
	}
	id, err := c.resolveFamily(ipvsGenlName)
	if err != nil {
		return err
	}
	c.family = id
	return nil
}

func (c *conn) close() error { return unix.Close(c.fd) }

// socketIn creates the socket inside the namespace at nsPath. A socket keeps
// the namespace it was created in, so only this call needs to enter it; it
// runs on a thread of its own, which is discarded if it cannot go back.
func socketIn(nsPath string) (int, error) {
	if nsPath == "" {
		fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_GENERIC)
		if err != nil {
			return -1, fmt.Errorf("opening a generic netlink socket: %w", err)
		}
		return fd, nil
	}
	type result struct {
		fd  int
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		fd, restored, err := socketInLocked(nsPath)
		if restored {
			runtime.UnlockOSThread()
		}
		ch <- result{fd, err}
	}()
	r := <-ch
	return r.fd, r.err
}

func socketInLocked(nsPath string) (fd int, restored bool, err error) {
	target, err := unix.Open(nsPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, true, fmt.Errorf("opening network namespace %s: %w", nsPath, err)
	}
	defer unix.Close(target)
	self, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, true, fmt.Errorf("opening the current network namespace: %w", err)
	}
	defer unix.Close(self)
	if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
		if errors.Is(err, unix.EINVAL) {
			return -1, true, fmt.Errorf("%s is not a network namespace", nsPath)
		}
		if errors.Is(err, unix.EPERM) {
			return -1, true, fmt.Errorf("entering network namespace %s: %w (run as root)", nsPath, err)
		}
		return -1, true, fmt.Errorf("entering network namespace %s: %w", nsPath, err)
	}
	fd, err = unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_GENERIC)
	if err != nil {
		err = fmt.Errorf("opening a generic netlink socket in %s: %w", nsPath, err)
	}
	restored = unix.Setns(self, unix.CLONE_NEWNET) == nil
	return fd, restored, err
}

// resolveFamily asks the generic-netlink controller for a family's id. The
// kernel loads the family's module on this request when it can.
func (c *conn) resolveFamily(name string) (uint16, error) {
	var m msgBuf
	seq := c.nextSeq()
	m.begin(unix.GENL_ID_CTRL, unix.NLM_F_REQUEST|unix.NLM_F_ACK, seq, unix.CTRL_CMD_GETFAMILY)
	m.str(unix.CTRL_ATTR_FAMILY_NAME, name)
	m.end()
	var id uint16
	err := c.request(m.b, seq, func(body []byte) error {
		p, err := genlPayload(body)
		if err != nil {
			return err
		}
		var a [unix.CTRL_ATTR_FAMILY_NAME + 1][]byte
		if err := parseAttrs(p, a[:]); err != nil {
			return err
		}
		id = getU16(a[unix.CTRL_ATTR_FAMILY_ID])
		return nil
	})
	if errors.Is(err, unix.ENOENT) {
		return 0, ErrNoIPVS
	}
	if err != nil {
		return 0, fmt.Errorf("looking up the IPVS netlink family: %w", err)
	}
	if id == 0 {
		return 0, fmt.Errorf("looking up the IPVS netlink family: the kernel answered without a family id")
	}
	return id, nil
}

func (c *conn) nextSeq() uint32 {
	c.seq++
	if c.seq == 0 {
		c.seq++
	}
	return c.seq
}

// request sends one request (a command with NLM_F_ACK, or a dump) and
// passes every data message answering it to onData. It returns when the
// kernel acknowledges the command or ends the dump.
func (c *conn) request(req []byte, seq uint32, onData func(body []byte) error) error {
	if err := c.send(req); err != nil {
		return err
	}
	var dataErr error
	for {
		n, err := c.recv()
		if err != nil {
			return err
		}
		done := false
		ferr := eachMsg(c.rbuf[:n], func(h msgHeader, body []byte) bool {
			if h.seq != seq {
				return true // a late answer to an earlier, abandoned request
			}
			switch h.typ {
			case unix.NLMSG_ERROR:
				if e := ackError(h, body); e != nil && dataErr == nil {
					dataErr = e
				}
				done = true
				return false
			case unix.NLMSG_DONE:
				if len(body) >= 4 {
					if errno := -int32(ne.Uint32(body)); errno > 0 {
						dataErr = syscall.Errno(errno)
					}
				}
				done = true
				return false
			case unix.NLMSG_NOOP:
				return true
			}
			if dataErr == nil && onData != nil {
				dataErr = onData(body)
			}
			return true
		})
		if ferr != nil {
			return ferr
		}
		if done {
			return dataErr
		}
	}
}

// batch sends the n commands in req, which carry the sequence numbers
// first..first+n-1 and NLM_F_ACK, in one write, then collects their n
// acknowledgements into errs (nil for success). The kernel runs the commands
// in order and answers each, whether an earlier one failed or not.
func (c *conn) batch(req []byte, first uint32, errs []error) error {
	if err := c.send(req); err != nil {
		return err
	}
	left := len(errs)
	for left > 0 {
		n, err := c.recv()
		if err != nil {
			return err
		}
		ferr := eachMsg(c.rbuf[:n], func(h msgHeader, body []byte) bool {
			i := int(h.seq - first)
			if h.typ != unix.NLMSG_ERROR || i < 0 || i >= len(errs) {
				return true
			}
			errs[i] = ackError(h, body)
			left--
			return true
		})
		if ferr != nil {
			return ferr
		}
	}
	return nil
}

// send writes to the kernel: a netlink socket's default destination is
// port 0, the kernel.
func (c *conn) send(b []byte) error {
	for {
		_, err := unix.Write(c.fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("sending to the kernel: %w", err)
		}
		return nil
	}
}

func (c *conn) recv() (int, error) {
	for {
		n, _, err := unix.Recvfrom(c.fd, c.rbuf, 0)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return 0, fmt.Errorf("the kernel did not answer within %s", recvTimeout)
		case err == unix.ENOBUFS:
			return 0, fmt.Errorf("kernel answers were lost (netlink receive buffer overrun): %w", err)
		case err != nil:
			return 0, fmt.Errorf("receiving from the kernel: %w", err)
		}
		return n, nil
	}
}
