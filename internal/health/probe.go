package health

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/lvsctl/lvsctl/internal/model"
)

// maxReply bounds what a probe reads from a real server, so a server that
// streams forever cannot make the checker grow.
const maxReply = 64 << 10

// A prober runs the probes of one type: each probe type of the model has
// one, in a file of its own (tcp.go, http.go, ...), registered with
// [register].
type prober struct {
	probe func(ctx context.Context, hc *model.HealthCheck, addr netip.AddrPort) error
	// late says what a probe that ran out of time did not do ("no
	// answer"), for the error that says so.
	late func(hc *model.HealthCheck) string
}

// probers holds the prober of each probe type, by type name.
var probers = map[string]prober{}

// register makes probe the prober of the probe type P. late, if not nil,
// words a probe that ran out of time; nil words it as "no answer".
func register[P model.Probe](probe func(ctx context.Context, p P, hc *model.HealthCheck, addr netip.AddrPort) error, late func(p P) string) {
	var zero P
	pr := prober{
		probe: func(ctx context.Context, hc *model.HealthCheck, addr netip.AddrPort) error {
			return probe(ctx, hc.Probe.(P), hc, addr)
		},
		late: func(*model.HealthCheck) string { return "no answer" },
	}
	if late != nil {
		pr.late = func(hc *model.HealthCheck) string { return late(hc.Probe.(P)) }
	}
	probers[zero.Type()] = pr
}

// Probe runs the check hc once against addr and returns nil when it passes,
// or an error saying what was wrong. It gives up after hc.Timeout (or when
// ctx ends, whichever is first).
func Probe(ctx context.Context, hc *model.HealthCheck, addr netip.AddrPort) error {
	pr, ok := probers[hc.Type()]
	if !ok {
		return fmt.Errorf("unknown health check type %q", hc.Type())
	}
	if hc.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, hc.Timeout)
		defer cancel()
	}
	return timeoutError(ctx, hc, pr, pr.probe(ctx, hc, addr))
}

// timeoutError words a deadline as the check's timeout.
func timeoutError(ctx context.Context, hc *model.HealthCheck, pr prober, err error) error {
	if err == nil {
		return nil
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() || ctx.Err() == context.DeadlineExceeded {
		if hc.Timeout > 0 {
			return fmt.Errorf("%s within the %s timeout", pr.late(hc), hc.Timeout)
		}
		return errors.New("no answer before the deadline")
	}
	return err
}

// weightKey is the context key of where a probe that sets the real
// server's weight (a dynamic exec check) reports it: a context value, so
// that it passes through whatever wraps [Probe] (ProbeIn, a test's fake).
type weightKey struct{}

// withWeight returns ctx with a place for a probe to report a weight, and
// a function that returns what was reported: nil for none.
func withWeight(ctx context.Context) (context.Context, func() *int) {
	var w *int
	return context.WithValue(ctx, weightKey{}, &w), func() *int { return w }
}

// reportWeight reports the weight w for the probe running in ctx.
func reportWeight(ctx context.Context, w int) {
	if slot, ok := ctx.Value(weightKey{}).(**int); ok {
		*slot = &w
	}
}

var dialer net.Dialer

// enterKey is the context key of the function that runs the creation of a
// probe's socket, or the start of its program, in another network
// namespace (see [ProbeIn]).
type enterKey struct{}

// ProbeIn returns a probe like [Probe] whose sockets are opened and whose
// exec programs are started by calling enter, which runs its function in
// another network namespace (the director's, for `check --netns`). A
// socket, once open, stays in the namespace it was made in, so only its
// creation needs to be there.
func ProbeIn(enter func(func() error) error) func(context.Context, *model.HealthCheck, netip.AddrPort) error {
	return func(ctx context.Context, hc *model.HealthCheck, addr netip.AddrPort) error {
		return Probe(context.WithValue(ctx, enterKey{}, enter), hc, addr)
	}
}

// inNamespace runs f through the enter function of ctx, if any.
func inNamespace(ctx context.Context, f func() error) error {
	if enter, ok := ctx.Value(enterKey{}).(func(func() error) error); ok {
		return enter(f)
	}
	return f()
}

func dial(ctx context.Context, network string, addr netip.AddrPort) (net.Conn, error) {
	var c net.Conn
	err := inNamespace(ctx, func() (err error) {
		c, err = dialer.DialContext(ctx, network, addr.String())
		return err
	})
	if err != nil {
		var oe *net.OpError
		if errors.As(err, &oe) && oe.Err != nil {
			return nil, fmt.Errorf("connect to %s: %w", addr, oe.Err)
		}
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	return c, nil
}
