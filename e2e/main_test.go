// Package e2e sends real traffic through lvsctl-managed IPVS: the four-host
// layout of the LVS HOWTO (client, director, two real servers) built from
// network namespaces, for NAT, direct routing and IP tunnelling, in the lab
// VM when this machine's kernel has no IPVS.
package e2e

import (
	"os"
	"testing"

	"github.com/lvsctl/lvsctl/internal/lab"
)

// helpers are the roles this test binary plays when a test re-executes it
// inside a network namespace (ip netns exec) with LVSCTL_E2E_HELPER set to
// a key: a long-running lvsctl whose sockets, addresses and IPVS table must
// all be that namespace's. Each returns the exit status.
var helpers = map[string]func() int{}

// TestMain runs the TestKernel... tests in the QEMU lab when this machine's
// kernel has no IPVS (see internal/lab/README.md).
func TestMain(m *testing.M) {
	if name := os.Getenv("LVSCTL_E2E_HELPER"); name != "" {
		if h, ok := helpers[name]; ok {
			os.Exit(h())
		}
		os.Stderr.WriteString("e2e: no helper " + name + "\n")
		os.Exit(2)
	}
	lab.TestMain(m)
}
