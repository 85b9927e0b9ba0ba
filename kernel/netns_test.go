package kernel_test

import (
	"testing"

	"github.com/lvsctl/lvsctl/internal/rundir"
	"github.com/lvsctl/lvsctl/kernel"
)

// TestNetnsPathAgrees: the namespace that Open enters is the one whose
// identity keys lvsctl's state (the apply lock, published health). kernel
// keeps the rule itself, as it imports nothing of lvsctl but the model, so
// the two spellings of it must agree.
func TestNetnsPathAgrees(t *testing.T) {
	for _, ns := range []string{"", "blue", "a.b", "a_b", "/run/netns/blue", "/proc/1/ns/net", "./rel", ".", "..", "-", "x/"} {
		kp, kerr := kernel.NetnsPath(ns)
		rp, rerr := rundir.NetnsPath(ns)
		if kp != rp || (kerr == nil) != (rerr == nil) {
			t.Errorf("%q: kernel.NetnsPath = %q, %v; rundir.NetnsPath = %q, %v", ns, kp, kerr, rp, rerr)
		}
	}
}
