package health

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/internal/source/config"
	"github.com/lvsctl/lvsctl/lvs"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestStep(t *testing.T) {
	fail := errors.New("connection refused")
	tests := []struct {
		name       string
		rise, fall int
		start      State
		results    string // p = pass, f = fail
		wantDown   bool
		wantTrans  string // one letter per result: . none, u up, d down
		wantReason string // of the last transition, a substring
	}{
		{"healthy stays up", 1, 1, State{}, "ppp", false, "...", ""},
		{"fall 1 goes down at once", 1, 1, State{}, "f", true, "d", "connection refused (1 probe failed in a row, fall 1)"},
		{"fall 3 needs three in a row", 1, 3, State{}, "ffpfff", true, ".....d", "3 probes failed in a row, fall 3"},
		{"a pass resets the fall count", 1, 2, State{}, "fpfp", false, "....", ""},
		{"rise 1 comes back at once", 1, 1, State{Down: true}, "p", false, "u", "1 probe passed in a row (rise 1)"},
		{"rise 3 needs three in a row", 3, 1, State{Down: true}, "ppfppp", false, ".....u", "3 probes passed in a row (rise 3)"},
		{"down stays down while failing", 2, 1, State{Down: true}, "fff", true, "...", ""},
		{"flapping with rise 2 fall 2 never moves", 2, 2, State{}, "fpfpfp", false, "......", ""},
		{"flapping with rise 1 fall 1 follows", 1, 1, State{}, "fpf", true, "dud", "fall 1"},
		{"zero counters mean 1", 0, 0, State{}, "fp", false, "du", "rise 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.start
			var trans strings.Builder
			var last *Transition
			for i, c := range tt.results {
				r := Result{At: t0.Add(time.Duration(i) * time.Second)}
				if c == 'f' {
					r.Err = fail
				}
				var tr *Transition
				s, tr = Step(s, tt.rise, tt.fall, r)
				switch {
				case tr == nil:
					trans.WriteByte('.')
				case tr.Up:
					trans.WriteByte('u')
				default:
					trans.WriteByte('d')
				}
				if tr != nil {
					last = tr
					if tr.At != r.At || s.Since != r.At {
						t.Errorf("transition at %v, since %v; want %v", tr.At, s.Since, r.At)
					}
				}
				if s.Passes != 0 && s.Fails != 0 {
					t.Errorf("both counters set: %+v", s)
				}
			}
			if s.Down != tt.wantDown {
				t.Errorf("down = %v, want %v", s.Down, tt.wantDown)
			}
			if trans.String() != tt.wantTrans {
				t.Errorf("transitions %q, want %q", trans.String(), tt.wantTrans)
			}
			if tt.wantReason != "" && (last == nil || !strings.Contains(last.Reason, tt.wantReason)) {
				t.Errorf("last transition %+v, want reason containing %q", last, tt.wantReason)
			}
		})
	}
}

const desiredSrc = `
virtual_server "web" {
  address      = "10.0.0.1:80"
  sorry_server = "10.0.9.9:8080"
  health_check {
    type = "tcp"
  }
  real_server "a" {
    address = "10.0.1.1"
    weight  = 10
  }
  real_server "b" {
    address = "10.0.1.2"
    weight  = 5
    health_check {
      on_failure = "quiesce"
    }
  }
}

virtual_server "plain" {
  address = "10.0.0.2:53"
  protocol = "udp"
  real_server "x" {
    address = "10.0.2.1"
  }
}
`

func loadConfig(t testing.TB, src string) *model.Config {
	t.Helper()
	cfg, _, diags := config.Parse([]byte(src), "test.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return cfg
}

var (
	web = lvs.AddrKey(lvs.TCP, netip.MustParseAddrPort("10.0.0.1:80"))
	kA  = Key{web, netip.MustParseAddrPort("10.0.1.1:80")}
	kB  = Key{web, netip.MustParseAddrPort("10.0.1.2:80")}
)

// weights renders a service's real servers as "addr=weight ...".
func weights(t *lvs.Table, k lvs.ServiceKey) string {
	s := t.Service(k)
	if s == nil {
		return "(no service)"
	}
	var b strings.Builder
	for i, d := range s.Dests {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(d.Addr.String() + "=" + itoa(d.Opts.Weight))
	}
	return b.String()
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

func TestDesired(t *testing.T) {
	cfg := loadConfig(t, desiredSrc)
	up := State{}
	down := State{Down: true, Since: t0}
	back := State{Since: t0} // came back at t0
	tests := []struct {
		name   string
		states States
		pol    Policy
		now    time.Time
		want   string
	}{
		{"no state: as configured", nil, Policy{}, t0, "10.0.1.1:80=10 10.0.1.2:80=5"},
		{"all up", States{kA: up, kB: up}, Policy{}, t0, "10.0.1.1:80=10 10.0.1.2:80=5"},
		{"remove on failure", States{kA: down, kB: up}, Policy{}, t0, "10.0.1.2:80=5"},
		{"quiesce on failure", States{kA: up, kB: down}, Policy{}, t0, "10.0.1.1:80=10 10.0.1.2:80=0"},
		{"all down: sorry server", States{kA: down, kB: down}, Policy{}, t0, "10.0.1.2:80=0 10.0.9.9:8080=1"},
		{"below quorum: sorry beside the healthy", States{kA: down, kB: up}, Policy{Quorum: 2}, t0, "10.0.1.2:80=5 10.0.9.9:8080=1"},
		{"quorum met: no sorry", States{kA: up, kB: up}, Policy{Quorum: 2}, t0, "10.0.1.1:80=10 10.0.1.2:80=5"},
		{"ramp starts at 1", States{kA: back, kB: up}, Policy{SlowStart: 10 * time.Second}, t0.Add(time.Nanosecond), "10.0.1.1:80=1 10.0.1.2:80=5"},
		{"ramp halfway", States{kA: back, kB: up}, Policy{SlowStart: 10 * time.Second}, t0.Add(5 * time.Second), "10.0.1.1:80=5 10.0.1.2:80=5"},
		{"ramp done", States{kA: back, kB: up}, Policy{SlowStart: 10 * time.Second}, t0.Add(10 * time.Second), "10.0.1.1:80=10 10.0.1.2:80=5"},
		{"no ramp without slow start", States{kA: back, kB: up}, Policy{}, t0.Add(time.Nanosecond), "10.0.1.1:80=10 10.0.1.2:80=5"},
		{"recovered: sorry leaves", States{kA: back, kB: down}, Policy{}, t0.Add(time.Hour), "10.0.1.1:80=10 10.0.1.2:80=0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := cfg.Table.Clone()
			got := Desired(cfg, tt.states, nil, tt.pol, tt.now)
			if w := weights(got, web); w != tt.want {
				t.Errorf("web = %s\nwant  %s", w, tt.want)
			}
			plain := lvs.AddrKey(lvs.UDP, netip.MustParseAddrPort("10.0.0.2:53"))
			if w := weights(got, plain); w != "10.0.2.1:53=1" {
				t.Errorf("unprobed service changed: %s", w)
			}
			if weights(cfg.Table, web) != weights(before, web) {
				t.Error("Desired changed the configuration's table")
			}
		})
	}
}

func TestDesiredSorryForward(t *testing.T) {
	cfg := loadConfig(t, strings.Replace(desiredSrc, `weight  = 10`, "weight  = 10\n    forwarding = \"dr\"", 1))
	got := Desired(cfg, States{kA: {Down: true}, kB: {Down: true}}, nil, Policy{}, t0)
	d := got.Service(web).Dest(netip.MustParseAddrPort("10.0.9.9:8080"))
	if d == nil || d.Opts.Forward != lvs.Route {
		t.Fatalf("sorry server %+v, want one with the real servers' forwarding (dr)", d)
	}
}

func TestRamping(t *testing.T) {
	pol := Policy{SlowStart: time.Minute}
	st := States{kA: {Since: t0}}
	if !Ramping(st, pol, t0.Add(time.Second)) || Ramping(st, pol, t0.Add(time.Minute)) || Ramping(st, Policy{}, t0) {
		t.Error("Ramping wrong")
	}
	if Ramping(States{kA: {Down: true, Since: t0}}, pol, t0) {
		t.Error("a down server does not ramp")
	}
}

func TestTargets(t *testing.T) {
	cfg := loadConfig(t, desiredSrc)
	ts := Targets(cfg)
	if len(ts) != 2 || ts[0].Key != kA || ts[0].Name != "a" || ts[0].VS != "web" || ts[0].Addr != kA.Dest || ts[1].Check.OnFailure != model.OnFailureQuiesce {
		t.Fatalf("targets %+v", ts)
	}
}
