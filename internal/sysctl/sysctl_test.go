package sysctl

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
)

// Reading works in the test's own namespace; a setting the kernel lacks is
// fs.ErrNotExist, named as sysctl(8) names it; nothing outside
// /proc/sys/net is reached.
func TestReadAndRefuse(t *testing.T) {
	v, err := Read("net/ipv4/ip_forward")
	if err != nil || (v != "0" && v != "1") {
		t.Errorf("net/ipv4/ip_forward: %q, %v", v, err)
	}
	_, err = Read("net/ipv4/vs/no_such_knob")
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "net.ipv4.vs.no_such_knob") {
		t.Errorf("a missing setting: %v", err)
	}
	for _, name := range []string{"kernel/core_pattern", "net/../kernel/core_pattern", "/proc/sys/net/ipv4/ip_forward", ""} {
		if err := Write(name, "1"); err == nil {
			t.Errorf("Write(%q) was allowed", name)
		}
		if _, err := Read(name); err == nil {
			t.Errorf("Read(%q) was allowed", name)
		}
	}
}
