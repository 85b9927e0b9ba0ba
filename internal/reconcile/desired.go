package reconcile

import (
	"net/netip"
	"slices"
	"time"

	"github.com/lvsctl/lvsctl/internal/health"
	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/internal/pulse/vip"
	"github.com/lvsctl/lvsctl/lvs"
)

// Inputs are everything a director's desired state depends on.
type Inputs struct {
	Config *model.Config
	// Failover is a director of a pulse pair: it holds the table and the
	// floating addresses only while Active.
	Failover bool
	Active   bool
	// Health is the real servers' health (nil: everyone is up), laid over
	// the configuration with Policy; Quorums are the quorums the checker
	// judged (nil: judged afresh).
	Health  health.States
	Quorums health.Quorums
	Policy  health.Policy
	Now     time.Time
}

// Desired is what the director should look like.
type Desired struct {
	// Table is the IPVS table to converge to. On a standby director it has
	// no services, and keeps the configuration's ignore rules so that
	// services others own stay.
	Table *lvs.Table
	// Addresses are the floating addresses to hold, in order; the rest of
	// the configured ones are released.
	Addresses []vip.Address
	// Holding says the director serves: table first, then addresses. When
	// false, addresses go first, then the table.
	Holding bool
}

// Compute returns the desired state for in. It is pure.
func Compute(in Inputs) Desired {
	cfg := in.Config
	if in.Failover && !in.Active {
		return Desired{Table: &lvs.Table{Ignore: cfg.Table.Ignore}}
	}
	d := Desired{Holding: true}
	if in.Health != nil {
		d.Table = health.Desired(cfg, in.Health, in.Quorums, in.Policy, in.Now)
	} else {
		d.Table = cfg.Table
	}
	if in.Failover {
		d.Addresses = FloatingAddresses(cfg)
	}
	return d
}

// FloatingAddresses returns the floating addresses of cfg: each virtual server's
// vip, once per address, in name order, then the NAT router's.
func FloatingAddresses(cfg *model.Config) []vip.Address {
	var names []string
	for name := range cfg.Services {
		names = append(names, name)
	}
	slices.Sort(names)
	var out []vip.Address
	seen := map[netip.Addr]bool{}
	add := func(a vip.Address) {
		if !seen[a.Addr] {
			seen[a.Addr] = true
			out = append(out, a)
		}
	}
	for _, name := range names {
		if v := cfg.Services[name].VIP; v != nil {
			add(vip.Address{Addr: v.Address, Device: v.Device, Prefix: v.Netmask})
		}
	}
	if p := cfg.Pulse; p != nil && p.NATRouter != nil {
		add(vip.Address{Addr: p.NATRouter.Address, Device: p.NATRouter.Device, Prefix: p.NATRouter.Netmask})
	}
	return out
}

// settled returns the table the kernel holds once a plan from view to want
// ran without draining: want's services, the services view has that want
// ignores, and view's timeouts with want's set fields over them. Diff of
// settled against want is empty, so the reconciler can keep it as its view
// of the kernel instead of reading the whole table again.
func settled(view, want *lvs.Table) *lvs.Table {
	t := want.Clone()
	if !want.Ignore.IsZero() {
		for _, s := range view.Services {
			if want.Ignore.Matches(s.Key) {
				t.Services = append(t.Services, s)
			}
		}
	}
	t.Timeouts = view.Timeouts
	if want.Timeouts.TCP != 0 {
		t.Timeouts.TCP = want.Timeouts.TCP
	}
	if want.Timeouts.TCPFin != 0 {
		t.Timeouts.TCPFin = want.Timeouts.TCPFin
	}
	if want.Timeouts.UDP != 0 {
		t.Timeouts.UDP = want.Timeouts.UDP
	}
	t.Normalize()
	return t
}
