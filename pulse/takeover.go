package pulse

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/lvsctl/lvsctl/apply"
	"github.com/lvsctl/lvsctl/config"
	"github.com/lvsctl/lvsctl/health"
	"github.com/lvsctl/lvsctl/lvs"
	"github.com/lvsctl/lvsctl/pulse/vip"
)

// Piranha's gratuitous ARP schedule: send_arp five times, a second apart.
const (
	DefaultARPCount    = 5
	DefaultARPInterval = time.Second
)

// Addresses puts floating addresses on this node and announces them; the
// vip package's functions in production.
type Addresses interface {
	Add(vip.Address) error
	Del(vip.Address) error
	Announce(vip.Address) error
}

// Netlink is Addresses through the vip package, on this process's network
// namespace.
type Netlink struct{}

// Add adds a.
func (Netlink) Add(a vip.Address) error { return vip.Add(a) }

// Del removes a.
func (Netlink) Del(a vip.Address) error { return vip.Del(a) }

// Announce sends one gratuitous ARP or unsolicited neighbour advertisement.
func (Netlink) Announce(a vip.Address) error { return vip.Announce(a) }

// A Syncer switches the kernel's IPVS connection sync daemon between
// master (active node) and backup (standby).
type Syncer interface {
	Sync(master bool) error
}

// Takeover is the production Director: it moves the floating addresses,
// the IPVS table (through apply.Converge, under the apply lock, the one
// path that changes IPVS), the sync daemon, and runs the configured
// commands.
type Takeover struct {
	VIPs  []vip.Address // the virtual servers' addresses and the NAT router's
	Addrs Addresses
	// ARPCount announcements are sent ARPInterval apart after taking over.
	ARPCount    int
	ARPInterval time.Duration

	Kernel   apply.Kernel
	LockPath string
	// Full is the table when active; Empty when standby (no services,
	// the configuration's ignore rules kept, so services others own stay).
	Full, Empty  *lvs.Table
	DrainTimeout time.Duration

	Sync Syncer // nil: no connection sync

	// Health, when set, is check's engine, run only while the node is
	// active: the active table is then Config's with the health laid over
	// it (health.Desired) instead of Full, and every health change goes
	// through the same converge, under the apply lock. Takeover sets its
	// Apply; the caller has already called its Load. Config is the
	// configuration Health was loaded with.
	Health *health.Checker
	Config *config.Config

	// ActiveCmd and InactiveCmd are argv (no shell); empty: none.
	ActiveCmd, InactiveCmd []string
	Log                    io.Writer

	mu       sync.Mutex
	stopARPs context.CancelFunc
	arps     sync.WaitGroup
	// stopHealth ends the running checker and waits for it; nil when
	// none runs. Only Activate and Deactivate touch it, and the Daemon
	// runs those one at a time.
	stopHealth func()
}

// Activate applies the full table, adds the addresses, starts announcing
// them, makes the sync daemon master and runs active_cmd. It goes on past
// a failing step, so that as much as possible works, and returns every
// error.
func (t *Takeover) Activate(ctx context.Context) error {
	var errs []error
	if t.Health != nil {
		// The table goes in with the health known so far (the state file
		// check or an earlier active spell published), so that a real
		// server already down never takes traffic; the checker then
		// keeps it current.
		t.haltHealth()
		errs = append(errs, t.converge(ctx, health.Desired(t.Config, t.Health.States(), t.Health.Policy, time.Now())))
		t.startHealth(ctx)
	} else {
		errs = append(errs, t.converge(ctx, t.Full))
	}
	for _, a := range t.VIPs {
		errs = append(errs, t.Addrs.Add(a))
	}
	t.announce(ctx)
	if t.Sync != nil {
		errs = append(errs, t.Sync.Sync(true))
	}
	errs = append(errs, t.run(ctx, t.ActiveCmd))
	return errors.Join(errs...)
}

// Deactivate stops announcing, removes the addresses, empties the table,
// makes the sync daemon backup and runs inactive_cmd.
func (t *Takeover) Deactivate(ctx context.Context) error {
	t.quiet()
	// The checker stops first: otherwise its next transition would put
	// the table back after it is emptied.
	t.haltHealth()
	var errs []error
	for _, a := range t.VIPs {
		errs = append(errs, t.Addrs.Del(a))
	}
	errs = append(errs, t.converge(ctx, t.Empty))
	if t.Sync != nil {
		errs = append(errs, t.Sync.Sync(false))
	}
	errs = append(errs, t.run(ctx, t.InactiveCmd))
	return errors.Join(errs...)
}

// Reannounce restarts the announcements and re-runs active_cmd.
func (t *Takeover) Reannounce(ctx context.Context) error {
	t.announce(ctx)
	return t.run(ctx, t.ActiveCmd)
}

// startHealth runs the checker until haltHealth.
func (t *Takeover) startHealth(ctx context.Context) {
	t.Health.Apply = t.converge
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = t.Health.Run(ctx, nil)
	}()
	t.stopHealth = func() { cancel(); <-done }
}

// haltHealth stops the checker, if it runs, and waits for it.
func (t *Takeover) haltHealth() {
	if t.stopHealth != nil {
		t.stopHealth()
		t.stopHealth = nil
	}
}

// announce sends the first round at once and the rest in the background.
func (t *Takeover) announce(ctx context.Context) {
	t.quiet()
	n := t.ARPCount
	if n <= 0 {
		n = DefaultARPCount
	}
	every := t.ARPInterval
	if every <= 0 {
		every = DefaultARPInterval
	}
	t.round()
	ctx, cancel := context.WithCancel(ctx)
	t.mu.Lock()
	t.stopARPs = cancel
	t.mu.Unlock()
	t.arps.Add(1)
	go func() {
		defer t.arps.Done()
		tick := time.NewTicker(every)
		defer tick.Stop()
		for i := 1; i < n; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				t.round()
			}
		}
	}()
}

func (t *Takeover) round() {
	for _, a := range t.VIPs {
		if err := t.Addrs.Announce(a); err != nil {
			t.logf("%s", err)
		}
	}
}

// quiet stops the announcements in flight.
func (t *Takeover) quiet() {
	t.mu.Lock()
	if t.stopARPs != nil {
		t.stopARPs()
		t.stopARPs = nil
	}
	t.mu.Unlock()
	t.arps.Wait()
}

func (t *Takeover) converge(ctx context.Context, desired *lvs.Table) error {
	if t.Kernel == nil || desired == nil {
		return nil
	}
	unlock, err := apply.Lock(t.LockPath, 30*time.Second, "pulse")
	if err != nil {
		return err
	}
	defer unlock()
	rep, err := apply.Converge(ctx, t.Kernel, desired, apply.ConvergeOptions{DrainTimeout: t.DrainTimeout})
	if rep != nil {
		if a, c, d := rep.Summary(); a+c+d > 0 {
			t.logf("IPVS table: %d added, %d changed, %d destroyed", a, c, d)
		}
	}
	if err != nil {
		return fmt.Errorf("IPVS table: %w", err)
	}
	return nil
}

// run runs argv without a shell, for at most a minute.
func (t *Takeover) run(ctx context.Context, argv []string) error {
	if len(argv) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
	if len(out) > 0 {
		t.logf("%s: %s", argv[0], strings.TrimSpace(string(out)))
	}
	if err != nil {
		return fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
	}
	return nil
}

func (t *Takeover) logf(format string, args ...any) {
	if t.Log != nil {
		fmt.Fprintf(t.Log, "pulse: "+format+"\n", args...)
	}
}
