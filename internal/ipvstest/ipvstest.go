// Package ipvstest gates tests that need a real kernel with IPVS, and gives
// each one a network namespace of its own.
//
// Such tests skip where the kernel has no IPVS (a development machine) and
// fail instead when LVSCTL_REQUIRE_IPVS=1 is set (the QEMU lab sets it), so
// that a kernel test can never silently skip where it is meant to run.
package ipvstest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// RequireEnv is the environment variable that turns skips into failures.
const RequireEnv = "LVSCTL_REQUIRE_IPVS"

// Require skips t unless it runs as root on a kernel with IPVS. With
// LVSCTL_REQUIRE_IPVS=1 it fails t instead of skipping.
func Require(t testing.TB) {
	t.Helper()
	if reason := missing(); reason != "" {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("%s, and %s=1 requires a kernel with IPVS", reason, RequireEnv)
			return
		}
		t.Skipf("skipped: %s (set %s=1 to make this a failure)", reason, RequireEnv)
	}
}

// missing says why IPVS tests cannot run here, or "" when they can.
func missing() string {
	if os.Geteuid() != 0 {
		return "IPVS tests need root"
	}
	if ipvsLoaded() {
		return ""
	}
	// The module may be there but not loaded; load it as ipvsadm's users
	// would. A failure is reported below through the missing proc file.
	out, err := exec.Command("modprobe", "ip_vs").CombinedOutput()
	if ipvsLoaded() {
		return ""
	}
	if err != nil {
		return fmt.Sprintf("this kernel has no IPVS (no /proc/net/ip_vs; modprobe ip_vs: %v %s)", err, strings.TrimSpace(string(out)))
	}
	return "this kernel has no IPVS (no /proc/net/ip_vs after modprobe ip_vs)"
}

func ipvsLoaded() bool {
	_, err := os.Stat("/proc/net/ip_vs")
	return err == nil
}

var netnsSeq atomic.Int64

// NewNetns creates a network namespace with "ip netns add", brings its
// loopback up, and returns its name; the namespace is deleted when t ends.
// Call [Require] first. The loopback matters to IPVS: with no address at
// all, the kernel refuses every IPv4 real server with EINVAL.
func NewNetns(t testing.TB) string {
	t.Helper()
	ip := IPCommand(t)
	name := fmt.Sprintf("lvsctl-test-%d-%d", os.Getpid(), netnsSeq.Add(1))
	if out, err := exec.Command(ip, "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", name, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command(ip, "netns", "delete", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns delete %s: %v: %s", name, err, out)
		}
	})
	if out, err := exec.Command(ip, "-n", name, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("ip -n %s link set lo up: %v: %s", name, err, out)
	}
	return name
}

// IPCommand returns the path of an iproute2 "ip" that has netns support.
// A busybox "ip" earlier in PATH lacks it, so the usual iproute2 places are
// tried first.
func IPCommand(t testing.TB) string {
	t.Helper()
	p, tried := ipCommand()
	if p == "" {
		t.Fatalf("no iproute2 ip command found (tried %s); network namespace tests need it", strings.Join(tried, ", "))
	}
	return p
}

// ipCommand is [IPCommand]: the command, or "" and the places tried.
func ipCommand() (string, []string) {
	candidates := []string{"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"}
	if p, err := exec.LookPath("ip"); err == nil {
		candidates = append(candidates, p)
	}
	for _, p := range candidates {
		real, err := filepath.EvalSymlinks(p)
		if err != nil || filepath.Base(real) == "busybox" {
			continue
		}
		return p, nil
	}
	return "", candidates
}

// CIEnv is the environment variable that makes [RequireNetns] fail rather
// than skip when it is "true", as CI systems set it.
const CIEnv = "CI"

// RequireNetns skips t unless it can create and enter network namespaces
// (root, and iproute2 for [NewNetns]); it needs no IPVS. Under CI=true,
// where both are there, it fails t instead, so that a namespace test never
// silently skips in CI.
func RequireNetns(t testing.TB) {
	t.Helper()
	reason := ""
	if os.Geteuid() != 0 {
		reason = "creating and entering a network namespace needs root"
	} else if p, tried := ipCommand(); p == "" {
		reason = fmt.Sprintf("no iproute2 ip command (tried %s)", strings.Join(tried, ", "))
	}
	switch {
	case reason == "":
	case os.Getenv(CIEnv) == "true":
		t.Fatalf("%s, and %s=true requires it", reason, CIEnv)
	default:
		t.Skipf("skipped: %s", reason)
	}
}

// HasWitness reports whether the command name (ipvsadm, the independent
// witness of what the kernel holds) is here. Where it is not, the caller
// leaves its cross-check out, with a line in the log; under CI=true or
// LVSCTL_REQUIRE_IPVS=1, where the lab always has it, t fails instead, so
// that a check is never dropped silently.
func HasWitness(t testing.TB, name string) bool {
	t.Helper()
	if _, err := exec.LookPath(name); err == nil {
		return true
	}
	if os.Getenv(CIEnv) == "true" || os.Getenv(RequireEnv) == "1" {
		t.Fatalf("no %s here to cross-check the kernel with, and %s=true or %s=1 requires it", name, CIEnv, RequireEnv)
	}
	t.Logf("no %s here: the cross-check with it is left out", name)
	return false
}

// InNetns runs a command inside the named namespace ("ip netns exec") and
// returns its standard output; it fails t if the command fails.
func InNetns(t testing.TB, netns string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(IPCommand(t), append([]string{"netns", "exec", netns, name}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ip netns exec %s %s %s: %v: %s", netns, name, strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}
