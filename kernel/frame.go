package kernel

import (
	"fmt"
	"syscall"
)

// Netlink framing of what the kernel sends back. The values are the
// kernel's (include/uapi/linux/netlink.h), spelled out so that this file
// builds and is tested everywhere.
const (
	nlmsgError    = 2
	nlmFCapped    = 0x100 // the error message carries no copy of the request
	nlmFAckTLVs   = 0x200 // extended acknowledgement attributes follow
	nlmsgerrAttrM = 1     // NLMSGERR_ATTR_MSG: a message string
)

// msgHeader is a netlink message header.
type msgHeader struct {
	len   uint32
	typ   uint16
	flags uint16
	seq   uint32
}

// eachMsg calls fn for every netlink message in b, with the body that
// follows its header, until fn returns false.
func eachMsg(b []byte, fn func(h msgHeader, body []byte) bool) error {
	for len(b) >= nlmsgHdrLen {
		h := msgHeader{
			len:   ne.Uint32(b),
			typ:   ne.Uint16(b[4:]),
			flags: ne.Uint16(b[6:]),
			seq:   ne.Uint32(b[8:]),
		}
		// Compared as uint64: where int is 32 bits, int(h.len) of a
		// length past 2^31 would be negative and pass.
		if h.len < nlmsgHdrLen || uint64(h.len) > uint64(len(b)) {
			return fmt.Errorf("kernel sent a netlink message of length %d with %d bytes left", h.len, len(b))
		}
		if !fn(h, b[nlmsgHdrLen:h.len]) {
			return nil
		}
		b = b[min(align4(int(h.len)), len(b)):]
	}
	return nil
}

// kernelErr is an errno from the kernel, with the kernel's own explanation
// when it gave one (extended acknowledgements).
type kernelErr struct {
	errno syscall.Errno
	msg   string
}

func (e *kernelErr) Error() string {
	if e.msg != "" {
		return e.errno.Error() + " (" + e.msg + ")"
	}
	return e.errno.Error()
}

func (e *kernelErr) Unwrap() error { return e.errno }

// ackError reads an NLMSG_ERROR body: nil for an acknowledgement, the
// errno otherwise.
func ackError(h msgHeader, body []byte) error {
	if len(body) < 4 {
		return fmt.Errorf("kernel sent a truncated netlink error message")
	}
	errno := -int32(ne.Uint32(body))
	if errno == 0 {
		return nil
	}
	if errno < 0 {
		return fmt.Errorf("kernel sent netlink error %d", -errno)
	}
	e := &kernelErr{errno: syscall.Errno(errno)}
	if h.flags&nlmFAckTLVs != 0 && len(body) >= 4+nlmsgHdrLen {
		// The error code is followed by the request's header, and by the
		// whole request unless the acknowledgement is capped.
		off := 4 + nlmsgHdrLen
		if h.flags&nlmFCapped == 0 {
			off = len(body) + 1 // a request longer than the body: no attributes
			if l := uint64(ne.Uint32(body[4:])); l <= uint64(len(body)) {
				off = 4 + align4(int(l))
			}
		}
		if off <= len(body) {
			var a [nlmsgerrAttrM + 1][]byte
			if parseAttrs(body[off:], a[:]) == nil {
				e.msg = getString(a[nlmsgerrAttrM])
			}
		}
	}
	return e
}
