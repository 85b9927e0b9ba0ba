package cmd

import (
	"errors"
	"fmt"
	"strings"
	"syscall"

	"github.com/lvsctl/lvsctl/internal/apply"
	"github.com/lvsctl/lvsctl/internal/netns"
	"github.com/lvsctl/lvsctl/internal/plan"
)

// A network namespace whose loopback was never brought up has no IPv4
// address and no local routing table, and the kernel then refuses every
// IPv4 real server with EINVAL, whatever its forwarding method: IPVS asks
// the routing table whether the address is a unicast one (inet_addr_type),
// and with no table the answer is no. An IPv6 real server, or one added
// once any IPv4 address exists, is accepted. Found in the lab on Linux
// 6.1; TestKernelScripts's loopback_down.txtar shows it.

// loState is what loopbackHint needs to know about a network namespace.
type loState struct {
	loUp      bool // lo is up
	hasIPv4   bool // some interface has an IPv4 address
	available bool // the namespace could be looked at
}

// withLoopbackHint adds to err, the failure of an apply in network
// namespace ns, that the namespace's loopback is down when that is why the
// kernel refused an IPv4 real server; look reads the namespace's state.
func withLoopbackHint(err error, ns string, look func(ns string) loState) error {
	if cause := loopbackCause(err, ns, look); cause != "" {
		return fmt.Errorf("%w\nlvsctl: the cause: %s", err, cause)
	}
	return err
}

// loopbackExplainer is withLoopbackHint for a daemon's log, where an error
// is one line: the reconciler's Explain.
func loopbackExplainer(ns string) func(error) error {
	return func(err error) error {
		if cause := loopbackCause(err, ns, lookLoopback); cause != "" {
			return fmt.Errorf("%w; the cause: %s", err, cause)
		}
		return err
	}
}

// loopbackCause is the sentence that says the loopback of network
// namespace ns is why the kernel refused the real server of err, or "".
func loopbackCause(err error, ns string, look func(ns string) loState) string {
	var oe *apply.OpError
	if !errors.As(err, &oe) || !errors.Is(err, syscall.EINVAL) {
		return ""
	}
	if a := oe.Op.Action; a != plan.AddDest && a != plan.EditDest || !oe.Op.ToDest.Addr.Addr().Unmap().Is4() {
		return ""
	}
	st := look(ns)
	if !st.available || st.loUp || st.hasIPv4 {
		return ""
	}
	where, cmd := "this network namespace", "ip link set lo up"
	switch {
	case strings.Contains(ns, "/"):
		where, cmd = "network namespace "+ns, "nsenter --net="+ns+" ip link set lo up"
	case ns != "":
		where, cmd = "network namespace "+ns, "ip -n "+ns+" link set lo up"
	}
	return fmt.Sprintf("%s has its loopback (lo) down and no IPv4 address, and the kernel refuses every IPv4 real server there; bring lo up with: %s", where, cmd)
}

// lookLoopback reads lo's state and whether any IPv4 address exists in
// network namespace ns ("" for this one).
func lookLoopback(ns string) loState {
	path, err := netns.Path(ns)
	if err != nil {
		return loState{}
	}
	var st loState
	if err := netns.Do(path, func() error {
		var err error
		st, err = readLoopback()
		return err
	}); err != nil {
		return loState{}
	}
	return st
}
