package lab

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
)

// Mode bits of the cpio "newc" format (the kernel's initramfs format).
const (
	cpioDir     = 0o040000
	cpioRegular = 0o100000
	cpioSymlink = 0o120000
	cpioCharDev = 0o020000
)

// fsEntry is one file of the initramfs. Exactly one of HostPath, Data and
// Link is set for files and symlinks; directories and devices have none.
type fsEntry struct {
	Mode     uint32 // type and permission bits, as in cpio
	HostPath string // contents come from this host file
	Data     []byte // or from here
	Link     string // symlink target
	Major    uint32 // device numbers of a device node
	Minor    uint32
}

// fsTree is the initramfs being assembled: guest path -> entry. A later
// entry for the same path replaces the earlier one.
type fsTree map[string]fsEntry

func cleanGuest(p string) (string, error) {
	if !path.IsAbs(p) {
		return "", fmt.Errorf("guest path %q is not absolute", p)
	}
	p = path.Clean(p)
	if p == "/" {
		return "", fmt.Errorf("guest path %q names the root directory", p)
	}
	return p, nil
}

func (t fsTree) dir(p string) {
	t[path.Clean(p)] = fsEntry{Mode: cpioDir | 0o755}
}

func (t fsTree) data(p string, mode uint32, data []byte) {
	t[path.Clean(p)] = fsEntry{Mode: cpioRegular | mode, Data: data}
}

func (t fsTree) symlink(p, target string) {
	t[path.Clean(p)] = fsEntry{Mode: cpioSymlink | 0o777, Link: target}
}

func (t fsTree) hostFile(p, host string, mode fs.FileMode) {
	t[path.Clean(p)] = fsEntry{Mode: cpioRegular | uint32(mode.Perm()), HostPath: host}
}

func (t fsTree) charDev(p string, major, minor uint32) {
	t[path.Clean(p)] = fsEntry{Mode: cpioCharDev | 0o600, Major: major, Minor: minor}
}

// writeCpio writes the tree as an uncompressed newc archive: every parent
// directory before its contents, in a stable order. Uncompressed because
// the kernel unpacks it faster than it would decompress it, and the archive
// only lives for one boot.
func (t fsTree) writeCpio(w io.Writer) error {
	all := map[string]fsEntry{}
	for p, e := range t {
		all[p] = e
		for d := path.Dir(p); d != "/"; d = path.Dir(d) {
			if _, ok := all[d]; !ok {
				if _, ok := t[d]; !ok {
					all[d] = fsEntry{Mode: cpioDir | 0o755}
				}
			}
		}
	}
	names := make([]string, 0, len(all))
	for p := range all {
		if d := path.Dir(p); d != "/" {
			if pe := all[d]; pe.Mode&0o170000 != cpioDir {
				return fmt.Errorf("initramfs: %s is inside %s, which is not a directory", p, d)
			}
		}
		names = append(names, p)
	}
	// A directory's path is a prefix of its contents' paths, so sorting
	// puts every directory before what it holds, as the kernel needs.
	slices.Sort(names)

	bw := bufio.NewWriterSize(w, 1<<20)
	cw := &cpioWriter{w: bw}
	for i, p := range names {
		if err := cw.entry(uint32(i+1), strings.TrimPrefix(p, "/"), all[p]); err != nil {
			return err
		}
	}
	if err := cw.header(0, "TRAILER!!!", 0, 0, 0, 0, 1); err != nil {
		return err
	}
	if err := cw.pad(); err != nil {
		return err
	}
	return bw.Flush()
}

type cpioWriter struct {
	w   io.Writer
	off int64
}

func (c *cpioWriter) write(b []byte) error {
	n, err := c.w.Write(b)
	c.off += int64(n)
	return err
}

func (c *cpioWriter) pad() error {
	if r := c.off % 4; r != 0 {
		return c.write(make([]byte, 4-r))
	}
	return nil
}

func (c *cpioWriter) header(ino uint32, name string, mode uint32, size int64, major, minor, nlink uint32) error {
	if size > 0xffffffff {
		return fmt.Errorf("initramfs: %s is %d bytes, more than cpio can hold", name, size)
	}
	h := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		ino, mode, 0, 0, nlink, 0, size, 0, 0, major, minor, len(name)+1, 0)
	if err := c.write([]byte(h + name + "\x00")); err != nil {
		return err
	}
	return c.pad()
}

func (c *cpioWriter) entry(ino uint32, name string, e fsEntry) error {
	switch e.Mode & 0o170000 {
	case cpioDir:
		return c.header(ino, name, e.Mode, 0, 0, 0, 2)
	case cpioCharDev:
		return c.header(ino, name, e.Mode, 0, e.Major, e.Minor, 1)
	case cpioSymlink:
		if err := c.header(ino, name, e.Mode, int64(len(e.Link)), 0, 0, 1); err != nil {
			return err
		}
		if err := c.write([]byte(e.Link)); err != nil {
			return err
		}
		return c.pad()
	case cpioRegular:
		if e.HostPath == "" {
			if err := c.header(ino, name, e.Mode, int64(len(e.Data)), 0, 0, 1); err != nil {
				return err
			}
			if err := c.write(e.Data); err != nil {
				return err
			}
			return c.pad()
		}
		f, err := os.Open(e.HostPath)
		if err != nil {
			return fmt.Errorf("initramfs: /%s: %w", name, err)
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return fmt.Errorf("initramfs: /%s: %w", name, err)
		}
		if !st.Mode().IsRegular() {
			return fmt.Errorf("initramfs: /%s: %s is not a regular file", name, e.HostPath)
		}
		if err := c.header(ino, name, e.Mode, st.Size(), 0, 0, 1); err != nil {
			return err
		}
		n, err := io.Copy(writerFunc(c.write), io.LimitReader(f, st.Size()))
		if err != nil {
			return fmt.Errorf("initramfs: /%s: %w", name, err)
		}
		if n != st.Size() {
			return fmt.Errorf("initramfs: %s shrank while being copied (%d of %d bytes)", e.HostPath, n, st.Size())
		}
		return c.pad()
	}
	return fmt.Errorf("initramfs: /%s: unsupported file mode %o", name, e.Mode)
}

type writerFunc func([]byte) error

func (f writerFunc) Write(b []byte) (int, error) {
	if err := f(b); err != nil {
		return 0, err
	}
	return len(b), nil
}
