// Package e2e sends real traffic through lvsctl-managed IPVS: the four-host
// layout of the LVS HOWTO (client, director, two real servers) built from
// network namespaces, for NAT, direct routing and IP tunnelling, in the lab
// VM when this machine's kernel has no IPVS.
package e2e

import (
	"testing"

	"github.com/lvsctl/lvsctl/lab"
)

// TestMain runs the TestKernel... tests in the QEMU lab when this machine's
// kernel has no IPVS (see lab/README.md).
func TestMain(m *testing.M) { lab.TestMain(m) }
