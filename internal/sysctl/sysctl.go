// Package sysctl reads and writes kernel settings through /proc/sys, in
// the network namespace of the calling thread: the net/ subtree shows the
// namespace of the thread that opens a file, so run these inside
// [github.com/lvsctl/lvsctl/internal/netns.Do] to work on another one.
// Only settings under /proc/sys/net are reached, and a name is checked
// before its file is opened, symbolic links included: callers pass names
// from saved state and plans that root reads back.
package sysctl

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// procSysNet is the only subtree a name may lead to.
const procSysNet = "/proc/sys/net"

// Read returns the value of the setting whose file is /proc/sys/NAME
// ("net/ipv4/ip_forward"), without the trailing newline. An error that
// wraps fs.ErrNotExist says the kernel has no such setting here.
func Read(name string) (string, error) {
	p, err := file(name)
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %w", Dotted(name), err)
	}
	f, err := os.OpenFile(p, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %w", Dotted(name), err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %w", Dotted(name), err)
	}
	return strings.TrimSpace(string(b)), nil
}

// Write writes value to /proc/sys/NAME. An error that wraps
// fs.ErrNotExist says the kernel has no such setting here.
func Write(name, value string) error {
	p, err := file(name)
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", Dotted(name), err)
	}
	f, err := os.OpenFile(p, os.O_WRONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", Dotted(name), err)
	}
	if _, err := f.WriteString(value + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("cannot write %s = %s: %w", Dotted(name), value, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("cannot write %s = %s: %w", Dotted(name), value, err)
	}
	return nil
}

// Dotted writes a /proc/sys path the way sysctl(8) names it.
func Dotted(name string) string { return strings.ReplaceAll(name, "/", ".") }

// file is the file of setting name, symbolic links resolved, once
// [Resolve] accepts it; a missing one is its unresolved path, so that
// opening it says it is missing.
func file(name string) (string, error) {
	p, err := Resolve("/proc/sys", name)
	if err != nil {
		return "", err
	}
	if p == "" {
		p = filepath.Join("/proc/sys", name)
	}
	return p, nil
}

// CheckPath refuses a sysctl name that is not a clean relative path
// under /proc/sys/net.
func CheckPath(name string) error {
	switch {
	case name == "":
		return errors.New("empty sysctl name")
	case len(name) > 256:
		return fmt.Errorf("a %d-byte sysctl name", len(name))
	case strings.HasPrefix(name, "/"), path.Clean(name) != name:
		return errors.New("not a clean relative sysctl name")
	case strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return errors.New("a sysctl name with control characters")
	}
	if full := path.Join("/proc/sys", name); !strings.HasPrefix(full, procSysNet+"/") {
		return fmt.Errorf("%s is not under %s", full, procSysNet)
	}
	return nil
}

// Resolve checks sysctl name against the sysctl tree at root
// (/proc/sys): the name must pass [CheckPath], and its file must stay
// under root/net once symbolic links are resolved. It returns that
// resolved file, or "" when the file does not exist (a device gone since)
// and what exists of its path is inside root/net.
func Resolve(root, name string) (string, error) {
	if err := CheckPath(name); err != nil {
		return "", err
	}
	r, err := filepath.EvalSymlinks(root)
	if err != nil {
		return "", err
	}
	inside := filepath.Join(r, "net")
	for p := filepath.Join(root, name); ; p = filepath.Dir(p) {
		rp, err := filepath.EvalSymlinks(p)
		if errors.Is(err, fs.ErrNotExist) && len(p) > len(root) {
			continue
		}
		if err != nil {
			return "", err
		}
		if rp != inside && !strings.HasPrefix(rp, inside+string(filepath.Separator)) {
			return "", fmt.Errorf("%s resolves to %s, outside %s", filepath.Join(root, name), rp, filepath.Join(root, "net"))
		}
		if p != filepath.Join(root, name) {
			return "", nil
		}
		return rp, nil
	}
}
