package pulse

import (
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/apply/applytest"
	"github.com/lvsctl/lvsctl/config"
	"github.com/lvsctl/lvsctl/health"
	"github.com/lvsctl/lvsctl/lvs"
	"github.com/lvsctl/lvsctl/pulse/vip"
)

// addrs is an Addresses that only remembers.
type addrs struct {
	mu   sync.Mutex
	held map[netip.Addr]bool
}

func (a *addrs) Add(v vip.Address) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.held == nil {
		a.held = map[netip.Addr]bool{}
	}
	a.held[v.Addr] = true
	return nil
}

func (a *addrs) Del(v vip.Address) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.held, v.Addr)
	return nil
}

func (a *addrs) Announce(vip.Address) error { return nil }

const healthHCL = `
virtual_server "web" {
  address = "10.0.0.2:80"
  health_check {
    type     = "tcp"
    interval = "20ms"
    timeout  = "10ms"
  }
  real_server "web1" { address = "192.168.10.11" }
  real_server "web2" { address = "192.168.10.12" }
}
`

// dests returns the real servers of the kernel's only service.
func dests(t *testing.T, k *applytest.Kernel) []netip.AddrPort {
	t.Helper()
	tab, err := k.Table()
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Services) != 1 {
		t.Fatalf("kernel has %d services, want 1: %+v", len(tab.Services), tab.Services)
	}
	var out []netip.AddrPort
	for _, d := range tab.Services[0].Dests {
		out = append(out, d.Addr)
	}
	return out
}

func TestTakeoverRunsHealthWhileActive(t *testing.T) {
	cfg := loadHCL(t, healthHCL)
	down := netip.MustParseAddrPort("192.168.10.12:80")
	var probes atomic.Int64
	probe := func(ctx context.Context, hc *config.HealthCheck, a netip.AddrPort) error {
		probes.Add(1)
		if a == down {
			return errors.New("connection refused")
		}
		return nil
	}
	dir := t.TempDir()
	chk := &health.Checker{Probe: probe, StatePath: health.StatePath(dir, "")}
	if err := chk.Load(cfg); err != nil {
		t.Fatal(err)
	}
	k := applytest.New()
	held := &addrs{}
	tk := &Takeover{
		VIPs: VIPs(cfg), Addrs: held, ARPCount: 1, ARPInterval: time.Millisecond,
		Kernel: k, LockPath: filepath.Join(dir, "lock"),
		Full: cfg.Table, Empty: &lvs.Table{Ignore: cfg.Table.Ignore},
		Health: chk, Config: cfg,
	}
	ctx := context.Background()

	if err := tk.Activate(ctx); err != nil {
		t.Fatal(err)
	}
	// Nothing was known down when the node took over: both go in, then
	// the checker finds web2 down and takes it out.
	deadline := time.Now().Add(5 * time.Second)
	for len(dests(t, k)) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("web2 still in rotation after 5s while active: %v (probes: %d)", dests(t, k), probes.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := dests(t, k); got[0] != netip.MustParseAddrPort("192.168.10.11:80") {
		t.Fatalf("kernel keeps %v, want only web1", got)
	}
	f, err := health.ReadState(chk.StatePath)
	if err != nil || f == nil {
		t.Fatalf("health state not published at %s (check's path): %v", chk.StatePath, err)
	}

	if err := tk.Deactivate(ctx); err != nil {
		t.Fatal(err)
	}
	tab, _ := k.Table()
	if len(tab.Services) != 0 {
		t.Fatalf("standby table has services: %+v", tab.Services)
	}
	if len(held.held) != 0 {
		t.Fatalf("standby still holds %v", held.held)
	}
	// Probing has stopped: no probe after Deactivate returns, and the
	// table stays empty.
	n := probes.Load()
	time.Sleep(100 * time.Millisecond)
	if m := probes.Load(); m != n {
		t.Fatalf("%d probes ran on the standby node", m-n)
	}
	if tab, _ := k.Table(); len(tab.Services) != 0 {
		t.Fatalf("the standby table was refilled: %+v", tab.Services)
	}

	// Active again: web2 is known down from the last spell and never
	// enters the table, not even for a moment.
	k.ResetCalls()
	if err := tk.Activate(ctx); err != nil {
		t.Fatal(err)
	}
	defer tk.Deactivate(ctx)
	if got := dests(t, k); len(got) != 1 || got[0] != netip.MustParseAddrPort("192.168.10.11:80") {
		t.Fatalf("on taking over again the kernel has %v, want only web1", got)
	}
	for _, c := range k.Calls() {
		if c.Method == "AddDest" && c.Dest == down {
			t.Fatalf("down real server web2 was put in on takeover: %+v", c)
		}
	}
}
