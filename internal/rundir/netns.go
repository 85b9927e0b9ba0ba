package rundir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"

	"github.com/lvsctl/lvsctl/internal/netns"
)

// NetnsID identifies a network namespace: the device and inode of its
// namespace file (nsfs), which the kernel keeps for as long as the
// namespace lives.
//
// State is keyed by this identity rather than by the spelling of --netns
// because one namespace has many names: "ip netns exec web lvsctl apply",
// "lvsctl apply --netns web" and "lvsctl apply --netns /run/netns/web" all
// work on the same IPVS table and must take the same lock and read the
// same health, while two namespaces must never share them whatever their
// names ("a.b" and "a_b" once did).
//
// A namespace that is deleted and created again is a new namespace, with
// a new identity (its inode may be reused later, which is why readers of
// published health also check its age).
type NetnsID struct{ Dev, Ino uint64 }

// String is the identity as a file name part: "netns-4-4026531840".
func (id NetnsID) String() string { return fmt.Sprintf("netns-%d-%d", id.Dev, id.Ino) }

// NetnsPath returns the namespace file for netns: "" for the calling
// thread's own namespace, a value with a slash as the path it is, and any
// other value as a name under /run/netns, as "ip netns" keeps them. It is
// [netns.Path], the rule the kernel handle opens namespaces by too.
func NetnsPath(name string) (string, error) { return netns.Path(name) }

// Netns returns the identity of network namespace netns, spelled as for
// [NetnsPath]: "" is this thread's namespace (/proc/thread-self/ns/net).
func Netns(netns string) (NetnsID, error) {
	path, err := NetnsPath(netns)
	if err != nil {
		return NetnsID{}, err
	}
	if path == "" {
		path = "/proc/thread-self/ns/net"
		if _, err := os.Stat(path); err != nil {
			path = "/proc/self/ns/net" // before Linux 3.17
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && netns != "" && !strings.Contains(netns, "/") {
			return NetnsID{}, fmt.Errorf("network namespace %q does not exist (no %s; see ip netns list)", netns, path)
		}
		return NetnsID{}, fmt.Errorf("network namespace: %w", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return NetnsID{}, fmt.Errorf("network namespace %s: no device and inode", path)
	}
	var sfs syscall.Statfs_t
	if err := syscall.Statfs(path, &sfs); err != nil {
		return NetnsID{}, fmt.Errorf("network namespace: %w", &fs.PathError{Op: "statfs", Path: path, Err: err})
	}
	// nsfs; proc before Linux 3.19 kept namespace files itself.
	const nsfsMagic, procMagic = 0x6e736673, 0x9fa0
	if sfs.Type != nsfsMagic && sfs.Type != procMagic {
		return NetnsID{}, fmt.Errorf("%s is not a network namespace (not a namespace file: was it created by ip netns add, and is it still mounted?)", path)
	}
	return NetnsID{Dev: uint64(st.Dev), Ino: uint64(st.Ino)}, nil
}
