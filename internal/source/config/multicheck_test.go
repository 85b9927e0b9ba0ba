package config

import (
	"strings"
	"testing"

	"github.com/lvsctl/lvsctl/internal/model"
)

const multiCheckSrc = `virtual_server "web" {
  address = "10.0.0.2:80"
  health_check {
    type     = "tcp"
    interval = "2s"
  }
  real_server "a" {
    address = "192.168.10.100:80"
    health_check {
    }
    health_check {
      type = "http"
      port = 8080
      rise = 2
      url {
        path = "/health"
      }
    }
  }
  real_server "b" {
    address = "192.168.10.101:80"
  }
}
`

// A real server's health_check blocks are all its checks, each merged over
// the virtual server's; Write gives the same file back.
func TestSeveralChecksPerRealServer(t *testing.T) {
	cfg, _, diags := Parse([]byte(multiCheckSrc), "multi.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	st := cfg.Settings("web")
	a, b := st.RealServers["a"], st.RealServers["b"]
	if len(a.More) != 1 || !a.Equal(&model.HealthCheck{Probe: st.HealthCheck.Probe, Interval: st.HealthCheck.Interval, Timeout: st.HealthCheck.Timeout,
		Rise: 1, Fall: 1, OnFailure: model.OnFailureRemove, More: a.More}) {
		t.Fatalf("real server a: %+v, want the virtual server's check and one more", a)
	}
	http := a.More[0]
	if http.Type() != model.CheckHTTP || http.Port != 8080 || http.Rise != 2 || http.Interval.String() != "2s" {
		t.Errorf("the second check: %+v, want http on 8080, rise 2, the virtual server's interval", http)
	}
	if !b.Equal(st.HealthCheck) || len(b.More) != 0 {
		t.Errorf("real server b without blocks: %+v, want the virtual server's check", b)
	}
	out := string(writeCanonical(t, "multi.hcl", cfg, nil))
	// The canonical form: the ports that are the service's left out, an
	// empty block for a check that is the virtual server's.
	want := strings.NewReplacer(`:80"
    health_check {
    }`, `"
    health_check {}`, `192.168.10.101:80`, `192.168.10.101`).Replace(multiCheckSrc)
	if out != want {
		t.Errorf("written:\n%s\nwant:\n%s", out, want)
	}
	back, _, _ := Parse([]byte(out), "back.hcl")
	if !back.Settings("web").RealServers["a"].Equal(a) {
		t.Errorf("the checks do not survive writing and reading")
	}
}

func TestSeveralChecksErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{`virtual_server "web" {
  address = "10.0.0.2:80"
  real_server "a" {
    address = "192.168.10.100:80"
    health_check {
      type = "tcp"
    }
    health_check {
      type       = "tcp"
      port       = 81
      on_failure = "quiesce"
    }
  }
}
`, `x.hcl:11,20-29: Conflicting on_failure; The health_check blocks of real_server "a" say on_failure "remove" and "quiesce"`},
		{`virtual_server "web" {
  address = "10.0.0.2:80"
  real_server "a" {
    address = "192.168.10.100:80"
` + strings.Repeat("    health_check {\n      type = \"tcp\"\n    }\n", model.MaxChecks+1) + `  }
}
`, `x.hcl:53,5-17: Too many health checks; real_server "a" has 17 health_check blocks; a real server has at most 16`},
	} {
		_, _, diags := Parse([]byte(tc.src), "x.hcl")
		if got := diags.Error(); !strings.Contains(got, tc.want) {
			t.Errorf("got %s\nwant %s", got, tc.want)
		}
	}
}
