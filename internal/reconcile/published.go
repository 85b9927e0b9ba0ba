package reconcile

import (
	"net/netip"
	"time"

	"github.com/lvsctl/lvsctl/internal/health"
	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/lvs"
)

// Honoured is the desired table of a one-shot command (plan, apply) that
// honours the health a daemon published, and what that health changed.
type Honoured struct {
	Table *lvs.Table
	// Down are the probed real servers that are down, in the order of
	// [health.Targets]: out of Table, or in it at weight 0 when their
	// check says on_failure = "quiesce".
	Down []DownServer
	// Sorry are the virtual servers whose sorry server stands in for too
	// few healthy real servers, in Table's order.
	Sorry []SorryServer
}

// DownServer is a real server that the published health has down.
type DownServer struct {
	health.Target
	State health.State
}

// SorryServer is a virtual server (by its name) served by its sorry
// server.
type SorryServer struct {
	Service string
	Addr    netip.AddrPort
	// Quorum is the virtual server's own quorum, which it lost; 0 when
	// the sorry server stands in for too few healthy real servers.
	Quorum int
}

// HonourHealth lays the health f that lvsctl check (or pulse) published
// over cfg, at now, as their reconciler does ([Compute]), so that plan and
// apply keep a down real server out instead of fighting the daemon. f must
// be usable: read, and not stale at now. It is pure.
func HonourHealth(cfg *model.Config, f *health.StateFile, now time.Time) Honoured {
	targets := health.Targets(cfg)
	states := f.States(targets)
	h := Honoured{Table: Compute(Inputs{Config: cfg, Health: states, Quorums: f.Quorums(cfg), Policy: f.Policy(), Now: now}).Table}
	for _, t := range targets {
		if s := states[t.Key]; s.Down {
			h.Down = append(h.Down, DownServer{Target: t, State: s})
		}
	}
	for _, s := range h.Table.Services {
		st := cfg.Settings(s.Name)
		if st != nil && st.SorryServer.IsValid() && s.Dest(st.SorryServer) != nil {
			h.Sorry = append(h.Sorry, SorryServer{Service: s.Name, Addr: st.SorryServer, Quorum: st.Quorum})
		}
	}
	return h
}
