//go:build linux

package kernel

import (
	"errors"
	"os"
	"syscall"
	"testing"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/lvsctl/lvsctl/internal/ipvstest"
)

// The transport is also exercised against the generic-netlink controller,
// which every Linux kernel has, so that it is tested on a real socket where
// IPVS is missing.

// ctrlConn returns a conn whose requests go to the controller, in the
// network namespace at nsPath.
func ctrlConn(t *testing.T, nsPath string) *conn {
	t.Helper()
	nl, err := dialNetlink(nsPath)
	if err != nil {
		t.Fatal(err)
	}
	_ = nl.SetOption(netlink.ExtendedAcknowledge, true)
	c := &conn{nl: nl, family: unix.GENL_ID_CTRL}
	t.Cleanup(func() { c.close() })
	return c
}

// lookup is the body of a CTRL_CMD_GETFAMILY request for name.
func lookup(name string) []byte {
	var m msgBuf
	m.begin(unix.CTRL_CMD_GETFAMILY)
	m.str(unix.CTRL_ATTR_FAMILY_NAME, name)
	return m.b
}

func TestConnControllerRequests(t *testing.T) {
	c := ctrlConn(t, "")

	// A lookup with an acknowledgement: the answer, then the ack.
	var id uint16
	err := c.request(c.message(netlink.Acknowledge, 0, lookup("nlctrl")), func(body []byte) error {
		var a [unix.CTRL_ATTR_FAMILY_NAME + 1][]byte
		if err := parseAttrs(body[genlHdrLen:], a[:]); err != nil {
			return err
		}
		id = getU16(a[unix.CTRL_ATTR_FAMILY_ID])
		return nil
	})
	if err != nil || id != unix.GENL_ID_CTRL {
		t.Fatalf("looking up nlctrl: id %d, %v", id, err)
	}
	err = c.request(c.message(netlink.Acknowledge, 0, lookup("lvsnofamily")), nil)
	var ke *kernelErr
	if !errors.As(err, &ke) || ke.errno != syscall.ENOENT {
		t.Errorf("looking up a missing family: %v, want the kernel's ENOENT", err)
	}

	// A dump of every family: several messages, then NLMSG_DONE.
	var m msgBuf
	m.begin(unix.CTRL_CMD_GETFAMILY)
	names := map[string]bool{}
	err = c.request(c.message(netlink.Dump, 0, m.b), func(body []byte) error {
		var a [unix.CTRL_ATTR_FAMILY_NAME + 1][]byte
		if err := parseAttrs(body[genlHdrLen:], a[:]); err != nil {
			return err
		}
		names[getString(a[unix.CTRL_ATTR_FAMILY_NAME])] = true
		return nil
	})
	if err != nil || !names["nlctrl"] || len(names) < 2 {
		t.Errorf("family dump: %v, %d families, nlctrl among them: %v", err, len(names), names["nlctrl"])
	}

	// A batch: three lookups in one write, the middle one failing; each
	// is answered, in order.
	first := c.nextSeq()
	msgs := []netlink.Message{c.message(netlink.Acknowledge, first, lookup("nlctrl"))}
	for _, name := range []string{"lvsnofamily", "nlctrl"} {
		msgs = append(msgs, c.message(netlink.Acknowledge, c.nextSeq(), lookup(name)))
	}
	errs := make([]error, 3)
	if err := c.batch(msgs, first, errs); err != nil {
		t.Fatal(err)
	}
	if errs[0] != nil || !errors.Is(errs[1], syscall.ENOENT) || errs[2] != nil {
		t.Errorf("batch results %v, want nil, ENOENT, nil", errs)
	}
	// The lookups answer with data before their acknowledgements; the
	// batch read past it, and the next request is not confused by it.
	if err := c.request(c.message(netlink.Acknowledge, 0, lookup("nlctrl")), nil); err != nil {
		t.Errorf("a request after the batch: %v", err)
	}
}

// requireNetns skips a test that needs to create network namespaces where
// it cannot: without root, or without iproute2. Under CI=true it fails
// instead: CI has both.
func requireNetns(t *testing.T) {
	t.Helper()
	skip := t.Skipf
	if os.Getenv("CI") == "true" {
		skip = t.Fatalf
	}
	if os.Geteuid() != 0 {
		skip("creating and entering a network namespace needs root")
	}
	for _, p := range []string{"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"} {
		if _, err := os.Stat(p); err == nil {
			return
		}
	}
	skip("no ip command (iproute2)")
}

func TestConnInNamespace(t *testing.T) {
	requireNetns(t)
	ns := ipvstest.NewNetns(t) // fails the test when the namespace cannot be made
	path := "/run/netns/" + ns
	c := ctrlConn(t, path)
	if err := c.request(c.message(netlink.Acknowledge, 0, lookup("nlctrl")), nil); err != nil {
		t.Errorf("looking up nlctrl inside %s: %v", ns, err)
	}
	// The socket is in the namespace asked for, not in this thread's.
	raw, err := c.nl.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var sockNS int
	var ierr error
	if err := raw.Control(func(fd uintptr) { sockNS, ierr = unix.IoctlRetInt(int(fd), unix.SIOCGSKNS) }); err != nil || ierr != nil {
		t.Fatalf("SIOCGSKNS: %v %v", err, ierr)
	}
	defer unix.Close(sockNS)
	var got, want unix.Stat_t
	if err := unix.Fstat(sockNS, &got); err != nil {
		t.Fatal(err)
	}
	if err := unix.Stat(path, &want); err != nil {
		t.Fatal(err)
	}
	if got.Ino != want.Ino || got.Dev != want.Dev {
		t.Errorf("the socket is in namespace %d:%d, want %s (%d:%d)", got.Dev, got.Ino, path, want.Dev, want.Ino)
	}

	if _, err := dialNetlink("/proc/self/status"); err == nil || err.Error() != "/proc/self/status is not a network namespace" {
		t.Errorf("a file that is not a namespace: %v", err)
	}
}
