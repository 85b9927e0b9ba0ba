package reconcile

import (
	"net/netip"
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/internal/health"
	"github.com/lvsctl/lvsctl/internal/source/config"
)

const sorryHCL = `
virtual_server "web" {
  address      = "10.0.0.1:80"
  sorry_server = "127.0.0.3:8080"
  health_check {
    type = "tcp"
  }
  real_server "real1" {
    address = "127.0.0.1:80"
  }
  real_server "real2" {
    address = "127.0.0.2:80"
    health_check {
      type       = "tcp"
      on_failure = "quiesce"
    }
  }
}
`

func TestHonourHealth(t *testing.T) {
	cfg, _, diags := config.Parse([]byte(sorryHCL), "lvsctl.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	targets := health.Targets(cfg)
	states := health.States{}
	for _, tg := range targets {
		states[tg.Key] = health.State{Down: true, Since: now.Add(-time.Minute), Reason: "connection refused"}
	}
	f := health.NewStateFile(targets, states, nil, health.Policy{Quorum: 1}, now)

	h := HonourHealth(cfg, f, now)
	if len(h.Down) != 2 || h.Down[0].Name != "real1" || h.Down[1].Name != "real2" || h.Down[1].State.Reason != "connection refused" {
		t.Errorf("Down = %+v, want real1 and real2", h.Down)
	}
	sorry := netip.MustParseAddrPort("127.0.0.3:8080")
	if len(h.Sorry) != 1 || h.Sorry[0] != (SorryServer{Service: "web", Addr: sorry}) {
		t.Errorf("Sorry = %+v, want web's 127.0.0.3:8080", h.Sorry)
	}
	want := health.Desired(cfg, states, nil, f.Policy(), now)
	if len(h.Table.Services) != 1 || len(h.Table.Services[0].Dests) != len(want.Services[0].Dests) {
		t.Fatalf("table %+v, want %+v", h.Table, want)
	}
	// real1 is out, real2 quiesced at weight 0, the sorry server in.
	s := h.Table.Services[0]
	if s.Dest(netip.MustParseAddrPort("127.0.0.1:80")) != nil || s.Dest(sorry) == nil {
		t.Errorf("table %+v: want real1 out and the sorry server in", s)
	}
	if d := s.Dest(netip.MustParseAddrPort("127.0.0.2:80")); d == nil || d.Opts.Weight != 0 {
		t.Errorf("real2 %+v, want it quiesced at weight 0", d)
	}
	if len(cfg.Table.Services[0].Dests) != 2 {
		t.Error("HonourHealth changed the configuration's table")
	}

	// All up: the configuration's table, nothing to say.
	f = health.NewStateFile(targets, health.States{}, nil, health.Policy{Quorum: 1}, now)
	h = HonourHealth(cfg, f, now)
	if len(h.Down) != 0 || len(h.Sorry) != 0 || len(h.Table.Services[0].Dests) != 2 {
		t.Errorf("all up: %+v", h)
	}
}

// A quorum with hysteresis depends on what it was: plan and apply take
// that from what check published, not from a judgement of their own.
func TestHonourHealthQuorum(t *testing.T) {
	cfg, _, diags := config.Parse([]byte(`
virtual_server "web" {
  address      = "10.0.0.1:80"
  sorry_server = "127.0.0.3:8080"
  quorum       = 2
  hysteresis   = 1
  health_check {
    type = "tcp"
  }
  real_server "real1" {
    address = "127.0.0.1:80"
  }
  real_server "real2" {
    address = "127.0.0.2:80"
  }
}
`), "lvsctl.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	targets := health.Targets(cfg)
	web := cfg.Table.Services[0].Key
	sorry := netip.MustParseAddrPort("127.0.0.3:8080")
	real1Down := health.States{targets[0].Key: {Down: true}}
	for _, tc := range []struct {
		name    string
		states  health.States
		quorums health.Quorums
		sorry   bool
		dests   int
	}{
		// 1 >= 2-1: held, as check judged it.
		{"held in the band", real1Down, health.Quorums{web: false}, false, 1},
		// 2 < 2+1: lost until the sum reaches 3, as check judged it.
		{"lost in the band", health.States{}, health.Quorums{web: true}, true, 1},
		// Nothing published: judged as at start, 1 < 3.
		{"not published", real1Down, nil, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := health.NewStateFile(targets, tc.states, tc.quorums, health.Policy{}, now)
			h := HonourHealth(cfg, f, now)
			s := h.Table.Services[0]
			if (s.Dest(sorry) != nil) != tc.sorry || len(s.Dests) != tc.dests {
				t.Errorf("table %+v: want the sorry server %v, %d real servers", s.Dests, tc.sorry, tc.dests)
			}
			if tc.sorry && (len(h.Sorry) != 1 || h.Sorry[0].Quorum != 2) {
				t.Errorf("Sorry = %+v, want web's lost quorum of 2", h.Sorry)
			}
		})
	}
}
