package lab

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// Guest paths of the programs the lab installs. Tests and scripts may rely on
// them (see README.md).
const (
	GuestBusybox = "/bin/busybox"
	GuestIP      = "/usr/sbin/ip"
	GuestIPVSAdm = "/usr/sbin/ipvsadm"
)

// hostProgram returns the first of the paths that exists and is not busybox.
func hostProgram(what string, paths ...string) (string, error) {
	for _, p := range paths {
		real, err := filepath.EvalSymlinks(p)
		if err != nil || filepath.Base(real) == "busybox" {
			continue
		}
		if st, err := os.Stat(real); err == nil && st.Mode().IsRegular() {
			return real, nil
		}
	}
	return "", fmt.Errorf("%s not found (looked at %s)", what, strings.Join(paths, ", "))
}

// hostPrograms are the host files the lab copies into every VM.
type hostPrograms struct {
	busybox, ip, ipvsadm string
}

func findHostPrograms() (hostPrograms, error) {
	var h hostPrograms
	var errs []string
	var err error
	if h.busybox, err = findBusybox(); err != nil {
		errs = append(errs, err.Error())
	}
	if h.ip, err = hostProgram("iproute2's ip (package iproute2)", "/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"); err != nil {
		errs = append(errs, err.Error())
	}
	if h.ipvsadm, err = hostProgram("ipvsadm (package ipvsadm)", "/usr/sbin/ipvsadm", "/sbin/ipvsadm"); err != nil {
		errs = append(errs, err.Error())
	}
	if len(errs) > 0 {
		return h, fmt.Errorf("%s; install them with: apt-get install busybox-static iproute2 ipvsadm", strings.Join(errs, "; "))
	}
	return h, nil
}

func findBusybox() (string, error) {
	for _, p := range []string{"/bin/busybox", "/usr/bin/busybox"} {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			return real, nil
		}
	}
	return "", fmt.Errorf("busybox not found (package busybox-static)")
}

// busyboxApplets asks busybox where its applets live ("bin/sh",
// "usr/bin/nc", ...). busybox itself and ip are left out: a link named
// busybox pointing at busybox makes every applet fail with ELOOP, and the
// lab's ip is iproute2's.
func busyboxApplets(busybox string) ([]string, error) {
	out, err := exec.Command(busybox, "--list-full").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --list-full: %w", busybox, err)
	}
	var applets []string
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || path.Base(line) == "busybox" || path.Base(line) == "ip" {
			continue
		}
		applets = append(applets, "/"+strings.TrimPrefix(line, "/"))
	}
	if len(applets) == 0 {
		return nil, fmt.Errorf("%s --list-full listed no applets", busybox)
	}
	return applets, nil
}

// addExecutable puts a host executable at guest, with the shared libraries
// it needs at their host paths.
func (t fsTree) addExecutable(guest, host string, mode fs.FileMode) error {
	libs, err := sharedLibraries(host)
	if err != nil {
		return err
	}
	t.hostFile(guest, host, mode)
	for _, lib := range libs {
		if _, ok := t[lib]; !ok {
			t.hostFile(lib, lib, 0o755)
		}
	}
	return nil
}

// addHostPath copies a host file or directory tree to guest. Executables
// bring their shared libraries along.
func (t fsTree) addHostPath(guest, host string) error {
	guest, err := cleanGuest(guest)
	if err != nil {
		return err
	}
	st, err := os.Stat(host)
	if err != nil {
		return fmt.Errorf("file for the VM: %w", err)
	}
	if !st.IsDir() {
		return t.addFile(guest, host, st)
	}
	return filepath.WalkDir(host, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("file for the VM: %w", err)
		}
		rel, _ := filepath.Rel(host, p)
		g := path.Join(guest, filepath.ToSlash(rel))
		switch {
		case d.IsDir():
			t.dir(g)
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			t.symlink(g, target)
		case d.Type().IsRegular():
			info, err := d.Info()
			if err != nil {
				return err
			}
			return t.addFile(g, p, info)
		}
		return nil // sockets, fifos and devices stay behind
	})
}

func (t fsTree) addFile(guest, host string, st fs.FileInfo) error {
	if !st.Mode().IsRegular() {
		return fmt.Errorf("file for the VM: %s is not a regular file or directory", host)
	}
	if st.Mode().Perm()&0o111 != 0 {
		return t.addExecutable(guest, host, st.Mode())
	}
	t.hostFile(guest, host, st.Mode())
	return nil
}

// buildTree assembles the initramfs but for /init: busybox and its applets,
// iproute2's ip, ipvsadm, the kernel modules and their index, and the
// caller's files last, so that they win.
func buildTree(k *Kernel, progs hostPrograms, steps []loadStep, depLines []string, files map[string]string) (fsTree, error) {
	t := fsTree{}
	for _, d := range []string{"/proc", "/sys", "/dev", "/tmp", "/run", "/root", "/etc", "/var", "/usr/local/bin", "/mnt"} {
		t.dir(d)
	}
	t.symlink("/var/run", "/run")
	t.symlink("/var/tmp", "/tmp")
	// The kernel opens /dev/console for /init's output before /init could
	// mount devtmpfs.
	t.charDev("/dev/console", 5, 1)
	t.charDev("/dev/null", 1, 3)
	t.data("/etc/passwd", 0o644, []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"))
	t.data("/etc/group", 0o644, []byte("root:x:0:\nnogroup:x:65534:\n"))
	t.data("/etc/hosts", 0o644, []byte("127.0.0.1 localhost lab\n::1 localhost ip6-localhost\n"))

	if err := t.addExecutable(GuestBusybox, progs.busybox, 0o755); err != nil {
		return nil, err
	}
	applets, err := busyboxApplets(progs.busybox)
	if err != nil {
		return nil, err
	}
	for _, a := range applets {
		t.symlink(a, GuestBusybox)
	}
	if err := t.addExecutable(GuestIP, progs.ip, 0o755); err != nil {
		return nil, err
	}
	t.symlink("/sbin/ip", GuestIP)
	t.symlink("/bin/ip", GuestIP)
	if err := t.addExecutable(GuestIPVSAdm, progs.ipvsadm, 0o755); err != nil {
		return nil, err
	}

	modDir := "/lib/modules/" + k.Version
	var list bytes.Buffer
	for _, s := range steps {
		t.hostFile(path.Join(modDir, s.Path), filepath.Join(k.Modules, filepath.FromSlash(s.Path)), 0o644)
		kind := "hard"
		if s.Soft {
			kind = "soft"
		}
		fmt.Fprintf(&list, "%s %s %s\n", kind, s.Name, path.Join(modDir, s.Path))
	}
	t.data("/etc/lab/modules", 0o644, list.Bytes())
	t.data(path.Join(modDir, "modules.dep"), 0o644, []byte(strings.Join(depLines, "\n")+"\n"))

	keys := make([]string, 0, len(files))
	for g := range files {
		keys = append(keys, g)
	}
	slices.Sort(keys)
	for _, g := range keys {
		if err := t.addHostPath(g, files[g]); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// moduleDepLines returns the lines of the kernel's modules.dep that concern
// the modules in the initramfs, so that modprobe works in the guest.
func moduleDepLines(k *Kernel, steps []loadStep) ([]string, error) {
	want := map[string]bool{}
	for _, s := range steps {
		want[s.Path] = true
	}
	f, err := os.Open(filepath.Join(k.Modules, "modules.dep"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		mod, _, ok := strings.Cut(sc.Text(), ":")
		if ok && want[strings.TrimSpace(mod)] {
			lines = append(lines, sc.Text())
		}
	}
	return lines, sc.Err()
}

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// shellQuote quotes s for sh so that it stays one word, byte for byte.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// initScript is /init: it prepares the machine, loads the modules, runs the
// command and reports its status between markers that carry a per-boot
// nonce, so no output of the command can fake them.
func initScript(nonce, dir string, env, command []string) ([]byte, error) {
	if len(command) == 0 {
		return nil, fmt.Errorf("no command to run in the VM")
	}
	if dir == "" {
		dir = "/"
	}
	var b strings.Builder
	b.WriteString(`#!/bin/sh
# /init of the lvsctl lab, generated for one boot.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
# The initramfs root is already in RAM and writable: no tmpfs over /tmp or
# /run, which would hide files copied there (a checkout under /tmp, say).
mkdir -p /tmp /run/netns /run/lab
chmod 1777 /tmp
exec </dev/null >/dev/console 2>&1
echo ` + beginMarker + nonce + `
while read kind name file; do
	[ -d /sys/module/$name ] && continue
	if ! msg=$(insmod $file 2>&1); then
		if [ $kind = hard ]; then
			echo "lab: module $name did not load: $msg"
			echo "$name: $msg" >>/run/lab/modules.failed
		else
			echo "lab: soft dependency $name did not load (harmless if another module provides it): $msg"
		fi
	fi
done </etc/lab/modules
hostname lab
/usr/sbin/ip link set lo up
export HOME=/root TMPDIR=/tmp LVSCTL_IN_VM=1 LVSCTL_REQUIRE_IPVS=1
`)
	for _, kv := range env {
		name, _, ok := strings.Cut(kv, "=")
		if !ok || !envNameRE.MatchString(name) {
			return nil, fmt.Errorf("environment entry %q: want NAME=value with a NAME of letters, digits and underscores", kv)
		}
		b.WriteString("export " + shellQuote(kv) + "\n")
	}
	// A directory missing in the guest is reported as exit status 125,
	// like env(1) and chroot(1) do for their own failures.
	b.WriteString("if cd " + shellQuote(dir) + "; then\n\t")
	for i, arg := range command {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(shellQuote(arg))
	}
	b.WriteString("\n\tcode=$?\nelse\n\techo " + shellQuote("lab: no directory "+dir+" in the VM") + "\n\tcode=125\nfi\n")
	b.WriteString("echo " + exitMarker + nonce + "=$code\nsync\npoweroff -f\n")
	return []byte(b.String()), nil
}

// resolveCommand turns a bare command name into the path of the file that
// PATH finds in the guest tree. The init script is run by busybox sh, which
// would otherwise run its own applet of that name (its "ip" has no netns)
// even where PATH has a real program first. Names that only busybox
// provides stay bare, and run as applets.
func (t fsTree) resolveCommand(name string) string {
	if strings.Contains(name, "/") {
		return name
	}
	for _, dir := range []string{"/usr/sbin", "/usr/bin", "/sbin", "/bin"} {
		p := path.Join(dir, name)
		e, ok := t[p]
		if !ok {
			continue
		}
		if e.Mode&0o170000 == cpioSymlink && e.Link == GuestBusybox {
			return name
		}
		return p
	}
	return name
}

// Markers the init script prints on the serial console.
const (
	beginMarker = "LVSCTL-LAB-BEGIN-"
	exitMarker  = "LVSCTL-LAB-EXIT-"
)
