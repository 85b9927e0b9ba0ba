package plan

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/lvs"
)

func tcp(ap string) lvs.ServiceKey { return lvs.AddrKey(lvs.TCP, netip.MustParseAddrPort(ap)) }
func udp(ap string) lvs.ServiceKey { return lvs.AddrKey(lvs.UDP, netip.MustParseAddrPort(ap)) }

// service builds a service with scheduler wlc and the given destinations.
func service(k lvs.ServiceKey, name string, dests ...lvs.Dest) lvs.Service {
	return lvs.Service{Key: k, Name: name, Opts: lvs.ServiceOpts{Scheduler: "wlc", Netmask: lvs.FullMask(k.Family)}, Dests: dests}
}

// dest builds a NAT destination.
func dest(ap string, weight int) lvs.Dest {
	return lvs.Dest{Addr: netip.MustParseAddrPort(ap), Opts: lvs.DestOpts{Forward: lvs.Masq, Weight: weight}}
}

func named(d lvs.Dest, name string) lvs.Dest { d.Name = name; return d }

func conns(d lvs.Dest, active, inact uint32) lvs.Dest {
	d.Live.ActiveConns, d.Live.InactConns = active, inact
	return d
}

func table(svcs ...lvs.Service) *lvs.Table {
	t := &lvs.Table{Services: svcs}
	t.Normalize()
	return t
}

var kernelTimeouts = lvs.Timeouts{TCP: 900 * time.Second, TCPFin: 120 * time.Second, UDP: 300 * time.Second}

// opString describes an op for failure messages.
func opString(op Op) string {
	switch op.Action {
	case SetTimeouts:
		return fmt.Sprintf("%v %+v -> %+v", op.Action, op.FromTimeouts, op.ToTimeouts)
	case AddService:
		return fmt.Sprintf("%v %v %q %+v", op.Action, op.Service, op.ServiceName, op.To)
	case EditService:
		return fmt.Sprintf("%v %v %+v -> %+v", op.Action, op.Service, op.From, op.To)
	case DeleteService:
		return fmt.Sprintf("%v %v %+v", op.Action, op.Service, op.From)
	case AddDest:
		return fmt.Sprintf("%v %v %v %+v", op.Action, op.Service, op.ToDest.Addr, op.ToDest.Opts)
	case EditDest, DrainDest:
		return fmt.Sprintf("%v %v %v %+v -> %+v", op.Action, op.Service, op.ToDest.Addr, op.FromDest.Opts, op.ToDest.Opts)
	case DeleteDest:
		return fmt.Sprintf("%v %v %v", op.Action, op.Service, op.FromDest.Addr)
	}
	return fmt.Sprintf("%+v", op)
}

func opsString(ops []Op) string {
	var b strings.Builder
	for _, op := range ops {
		b.WriteString("\n\t" + opString(op))
	}
	return b.String()
}

// assertOps fails t unless got has exactly the ops want, in order.
func assertOps(t *testing.T, got, want []Op) {
	t.Helper()
	same := len(got) == len(want)
	for i := 0; same && i < len(got); i++ {
		same = got[i] == want[i]
	}
	if !same {
		t.Errorf("ops:%s\nwant:%s", opsString(got), opsString(want))
	}
}
