//go:build linux

package kernel

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"

	"github.com/lvsctl/lvsctl/internal/ipvstest"
	"golang.org/x/sys/unix"
)

// The socket layer is exercised against the generic-netlink controller,
// which every Linux kernel has, so that it is tested where IPVS is missing.

func rawConn(t *testing.T, nsPath string) *conn {
	t.Helper()
	fd, err := socketIn(nsPath)
	if err != nil {
		t.Fatal(err)
	}
	c := &conn{fd: fd, rbuf: make([]byte, 1<<17)}
	t.Cleanup(func() { c.close() })
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		t.Fatal(err)
	}
	_ = unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_CAP_ACK, 1)
	_ = unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_EXT_ACK, 1)
	return c
}

func TestConnControllerRequests(t *testing.T) {
	c := rawConn(t, "")
	id, err := c.resolveFamily("nlctrl")
	if err != nil || id != unix.GENL_ID_CTRL {
		t.Fatalf("resolving nlctrl: %d, %v", id, err)
	}
	if _, err := c.resolveFamily("lvsnofamily"); !errors.Is(err, ErrNoIPVS) {
		t.Errorf("resolving a missing family: %v, want ErrNoIPVS", err)
	}

	// A dump of every family: several messages, then NLMSG_DONE.
	var m msgBuf
	seq := c.nextSeq()
	m.begin(unix.GENL_ID_CTRL, nlmFRequest|nlmFDump, seq, unix.CTRL_CMD_GETFAMILY)
	m.end()
	names := map[string]bool{}
	err = c.request(m.b, seq, func(body []byte) error {
		p, err := genlPayload(body)
		if err != nil {
			return err
		}
		var a [unix.CTRL_ATTR_FAMILY_NAME + 1][]byte
		if err := parseAttrs(p, a[:]); err != nil {
			return err
		}
		names[getString(a[unix.CTRL_ATTR_FAMILY_NAME])] = true
		return nil
	})
	if err != nil || !names["nlctrl"] {
		t.Errorf("family dump: %v, %d families, nlctrl among them: %v", err, len(names), names["nlctrl"])
	}

	// A batch: three lookups in one write, the middle one failing; each
	// is answered, in order.
	m.reset()
	var first uint32
	for i, name := range []string{"nlctrl", "lvsnofamily", "nlctrl"} {
		seq := c.nextSeq()
		if i == 0 {
			first = seq
		}
		m.begin(unix.GENL_ID_CTRL, nlmFRequest|nlmFAck, seq, unix.CTRL_CMD_GETFAMILY)
		m.str(unix.CTRL_ATTR_FAMILY_NAME, name)
		m.end()
	}
	errs := make([]error, 3)
	if err := c.batch(m.b, first, errs); err != nil {
		t.Fatal(err)
	}
	if errs[0] != nil || !errors.Is(errs[1], syscall.ENOENT) || errs[2] != nil {
		t.Errorf("batch results %v, want nil, ENOENT, nil", errs)
	}
}

func TestConnInNamespace(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("entering a network namespace needs root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("no ip command")
	}
	ns := ipvstest.NewNetns(t)
	c := rawConn(t, "/run/netns/"+ns)
	if id, err := c.resolveFamily("nlctrl"); err != nil || id != unix.GENL_ID_CTRL {
		t.Errorf("resolving nlctrl inside %s: %d, %v", ns, id, err)
	}
	if _, err := socketIn("/proc/self/status"); err == nil {
		t.Errorf("a file that is not a namespace was entered")
	}
}
