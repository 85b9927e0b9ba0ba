package cmd

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/lvsctl/lvsctl/config"
	"github.com/lvsctl/lvsctl/health"
)

// honourHealth lays the health that check published for netns over d's
// table, so that plan and apply keep a down real server out instead of
// fighting check, and says so on w. Without a published state it changes
// nothing.
func honourHealth(env Env, netns string, d *desired, w io.Writer) error {
	if d.cfg == nil || len(d.cfg.Services) == 0 {
		return nil
	}
	path := health.StatePath(env.LockDir, netns)
	f, err := health.ReadState(path)
	if err != nil || f == nil {
		return err
	}
	targets := health.Targets(d.cfg)
	states := f.States(targets)
	d.table = health.Desired(d.cfg, states, f.Policy(), time.Now())
	for _, t := range targets {
		s := states[t.Key]
		if !s.Down {
			continue
		}
		stays := "out"
		if t.Check.OnFailure == config.OnFailureQuiesce {
			stays = "at weight 0"
		}
		since := ""
		if !s.Since.IsZero() {
			since = " since " + s.Since.Local().Format(time.DateTime)
		}
		fmt.Fprintf(w, "Note: virtual_server.%s.real_server.%s (%s) is down according to lvsctl check%s (%s); it stays %s.\n",
			t.VS, t.Name, t.Key.Dest, since, s.Reason, stays)
	}
	for _, s := range d.table.Services {
		st := d.cfg.Settings(s.Name)
		if st != nil && st.SorryServer.IsValid() && s.Dest(st.SorryServer) != nil {
			fmt.Fprintf(w, "Note: virtual_server.%s has too few healthy real servers; its sorry server %s stands in.\n", s.Name, st.SorryServer)
		}
	}
	return nil
}

// showHealth prints, after show's table, the health check published for
// the namespace: each probed real server, up or down, since when and why.
// A missing state prints nothing; an unreadable one only warns, since show
// must work whatever check left behind.
func showHealth(env Env, netns string) {
	f, err := health.ReadState(health.StatePath(env.LockDir, netns))
	if err != nil {
		fmt.Fprintf(env.Stderr, "lvsctl: warning: %s\n", err)
		return
	}
	if f == nil || len(f.RealServers) == 0 {
		return
	}
	fmt.Fprintf(env.Stdout, "\nHealth (published by lvsctl check at %s):\n", f.Updated.Local().Format(time.DateTime))
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	for _, e := range f.RealServers {
		status, since := "up", ""
		if e.Down {
			status = "down"
		}
		if !e.Since.IsZero() {
			since = "since " + e.Since.Local().Format(time.DateTime)
		}
		fmt.Fprintf(tw, "  %s.%s\t%s\t%s\t%s\t%s\n", e.VirtualServer, e.RealServer, e.Address, status, since, e.Reason)
	}
	_ = tw.Flush()
}
