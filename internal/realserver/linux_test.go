//go:build linux

package realserver

import (
	"maps"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/lvsctl/lvsctl/internal/ipvstest"
	"github.com/lvsctl/lvsctl/internal/netns"
)

// The real system, in a network namespace of its own, as
// "lvsctl realserver --netns" runs it: Prepare changes that namespace and
// nothing of the test's own, and Undo puts it back as it was.
func TestLinuxInNetns(t *testing.T) {
	ipvstest.RequireNetns(t)
	name := ipvstest.NewNetns(t)
	path, err := netns.Path(name)
	if err != nil {
		t.Fatal(err)
	}
	vip := netip.MustParseAddr("192.0.2.77")
	sysctls := []string{"all/arp_ignore", "all/arp_announce", "lo/arp_ignore", "lo/arp_announce"}
	read := func(ns string) map[string]string {
		t.Helper()
		m := map[string]string{}
		for _, s := range sysctls {
			p := "/proc/sys/net/ipv4/conf/" + s
			if ns == "" {
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				m[s] = strings.TrimSpace(string(b))
			} else {
				m[s] = strings.TrimSpace(ipvstest.InNetns(t, ns, "cat", p))
			}
		}
		m["lo addresses"] = loAddrs(t, ns)
		return m
	}
	host, before := read(""), read(name)

	st := &State{}
	err = netns.Do(path, func() error {
		_, err := Prepare(Linux{}, st, DR, []netip.Addr{vip})
		return err
	})
	if err != nil {
		t.Fatalf("Prepare in %s: %v", name, err)
	}
	in := read(name)
	if !strings.Contains(in["lo addresses"], "192.0.2.77/32") {
		t.Errorf("lo in %s has %q, want the VIP 192.0.2.77/32", name, in["lo addresses"])
	}
	if in["all/arp_ignore"] != "1" || in["all/arp_announce"] != "2" {
		t.Errorf("ARP sysctls in %s after Prepare: %v", name, in)
	}
	if got := read(""); !maps.Equal(got, host) {
		t.Errorf("Prepare in %s changed the test's own namespace:\n before %v\n after  %v", name, host, got)
	}

	err = netns.Do(path, func() error {
		_, _, err := Undo(Linux{}, st, nil)
		return err
	})
	if err != nil {
		t.Fatalf("Undo in %s: %v", name, err)
	}
	if got := read(name); !maps.Equal(got, before) {
		t.Errorf("Undo in %s did not restore it:\n before %v\n after  %v", name, before, got)
	}
}

// loAddrs is the IPv4 addresses of lo, in namespace ns ("" for this one).
func loAddrs(t *testing.T, ns string) string {
	t.Helper()
	args := []string{"-4", "-o", "addr", "show", "dev", "lo"}
	if ns != "" {
		args = append([]string{"-n", ns}, args...)
	}
	out, err := exec.Command(ipvstest.IPCommand(t), args...).Output()
	if err != nil {
		t.Fatalf("ip %s: %v", strings.Join(args, " "), err)
	}
	var as []string
	for _, l := range strings.Split(string(out), "\n") {
		if i := strings.Index(l, "inet "); i >= 0 {
			as = append(as, strings.Fields(l[i:])[1])
		}
	}
	return strings.Join(as, " ")
}
