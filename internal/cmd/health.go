package cmd

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"text/tabwriter"
	"time"

	"github.com/lvsctl/lvsctl/internal/health"
	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/internal/reconcile"
	"github.com/lvsctl/lvsctl/internal/rundir"
)

// publishedHealth reads the health that check published for netns in the
// state directory (env.StateDir, the command's --state-dir), as it is at
// now: nil when nothing was published. A state that cannot be used — an
// unsafe directory, a truncated or foreign file, a file that no running
// check keeps fresh — is nil too, with a warning on env.Stderr: the
// command goes on as if every real server were up, which is what apply
// would do without check.
func publishedHealth(env Env, netns string, now time.Time) *health.StateFile {
	warn := func(err error) *health.StateFile {
		fmt.Fprintf(env.Stderr, "lvsctl: warning: %s\n", err)
		return nil
	}
	dir, err := rundir.OpenExisting(env.StateDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return warn(fmt.Errorf("health published by lvsctl check not read: %w", err))
	}
	id, err := rundir.Netns(netns)
	if err != nil {
		return warn(fmt.Errorf("health published by lvsctl check not read: %w", err))
	}
	f, err := health.ReadState(dir.HealthPath(id))
	if err != nil {
		return warn(fmt.Errorf("%w (ignored: every real server counts as up)", err))
	}
	if f == nil {
		return nil
	}
	if err := f.Stale(now); err != nil {
		return warn(err)
	}
	return f
}

// honourHealth lays the health that check published for netns over d's
// table (see [reconcile.HonourHealth]), so that plan and apply keep a down
// real server out instead of fighting check, and says so on w. Without a
// usable published state (see publishedHealth) it changes nothing.
func honourHealth(env Env, netns string, d *desired, w io.Writer) {
	if d.cfg == nil || len(d.cfg.Services) == 0 {
		return
	}
	now := time.Now()
	f := publishedHealth(env, netns, now)
	if f == nil {
		return
	}
	h := reconcile.HonourHealth(d.cfg, f, now)
	d.table = h.Table
	for _, s := range h.Down {
		stays := "out"
		if s.Check.OnFailure == model.OnFailureQuiesce {
			stays = "at weight 0"
		}
		since := ""
		if !s.State.Since.IsZero() {
			since = " since " + s.State.Since.Local().Format(time.RFC3339)
		}
		fmt.Fprintf(w, "Note: virtual_server.%s.real_server.%s (%s) is down according to lvsctl check%s (%s); it stays %s.\n",
			s.VS, s.Name, s.Key.Dest, since, s.State.Reason, stays)
	}
	for _, s := range h.Sorry {
		if s.Quorum > 0 {
			fmt.Fprintf(w, "Note: virtual_server.%s has lost its quorum of %d according to lvsctl check; its sorry server %s stands in.\n", s.Service, s.Quorum, s.Addr)
			continue
		}
		fmt.Fprintf(w, "Note: virtual_server.%s has too few healthy real servers; its sorry server %s stands in.\n", s.Service, s.Addr)
	}
}

// showHealth prints, after show's table, the health check published for
// the namespace: each probed real server, up or down, since when and why.
// A missing state prints nothing; an unusable or stale one only warns (see
// publishedHealth), since show must work whatever check left behind.
func showHealth(env Env, netns string) {
	f := publishedHealth(env, netns, time.Now())
	if f == nil || len(f.RealServers) == 0 {
		return
	}
	fmt.Fprintf(env.Stdout, "\nHealth (published by lvsctl check at %s):\n", f.Updated.Local().Format(time.RFC3339))
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	for _, e := range f.RealServers {
		status, since := "up", ""
		if e.Down {
			status = "down"
		}
		if !e.Since.IsZero() {
			since = "since " + e.Since.Local().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "  %s.%s\t%s\t%s\t%s\t%s\n", e.VirtualServer, e.RealServer, e.Address, status, since, e.Reason)
	}
	_ = tw.Flush()
}
