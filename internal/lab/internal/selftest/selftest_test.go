package selftest

import (
	"os"
	"strings"
	"testing"

	"github.com/lvsctl/lvsctl/internal/ipvstest"
	"github.com/lvsctl/lvsctl/internal/lab"
)

func TestMain(m *testing.M) { lab.TestMain(m) }

// TestKernelIPVS adds a service in a fresh namespace and reads it back the
// way an administrator would.
func TestKernelIPVS(t *testing.T) {
	ipvstest.Require(t)
	ns := ipvstest.NewNetns(t)
	// The kernel takes only real servers it can route to as unicast.
	ip := ipvstest.IPCommand(t)
	ipvstest.InNetns(t, ns, ip, "link", "add", "d0", "type", "dummy")
	ipvstest.InNetns(t, ns, ip, "addr", "add", "192.168.10.1/24", "dev", "d0")
	ipvstest.InNetns(t, ns, ip, "link", "set", "d0", "up")
	ipvstest.InNetns(t, ns, "ipvsadm", "-A", "-t", "10.0.0.2:80", "-s", "wrr")
	ipvstest.InNetns(t, ns, "ipvsadm", "-a", "-t", "10.0.0.2:80", "-r", "192.168.10.100:80", "-m", "-w", "3")
	got := ipvstest.InNetns(t, ns, "ipvsadm", "-S", "-n")
	want := "-A -t 10.0.0.2:80 -s wrr\n-a -t 10.0.0.2:80 -r 192.168.10.100:80 -m -w 3\n"
	if got != want {
		t.Errorf("ipvsadm -S -n in namespace %s:\n%s\nwant:\n%s", ns, got, want)
	}
}

// TestKernelSourceTree checks that the test runs in its package directory
// with testdata/ next to it, wherever it runs.
func TestKernelSourceTree(t *testing.T) {
	ipvstest.Require(t)
	b, err := os.ReadFile("testdata/marker.txt")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(b)); got != "the sources came along" {
		t.Errorf("testdata/marker.txt = %q", got)
	}
}
