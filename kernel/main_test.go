package kernel

import (
	"testing"

	"github.com/lvsctl/lvsctl/internal/lab"
)

// TestMain runs the TestKernel... tests in the QEMU lab when this machine's
// kernel has no IPVS (see internal/lab/README.md).
func TestMain(m *testing.M) { lab.TestMain(m) }
