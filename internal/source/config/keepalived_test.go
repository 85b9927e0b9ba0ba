package config

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2/hclwrite"

	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/internal/model/modeltest"
)

// The settings keepalived's checkers and virtual servers have, as HCL
// writes them.
const keepalivedSrc = `virtual_server "web" {
  address      = "10.0.0.2:443"
  sorry_server = "192.168.10.9"
  quorum       = 3
  hysteresis   = 1
  health_check {
    type       = "https"
    host       = "www.example.com"
    tls_verify = false
    on_failure = "quiesce"
    alpha      = true
    url {
      path   = "/"
      digest = "9B3A0C85A887A256D6939DA88AABD8CD"
    }
    url {
      path   = "/health"
      host   = "health.example.com"
      status = [204, 200]
    }
    url {
      path   = "/ranges"
      status = ["200-202", 301, "302-304"]
    }
  }
  real_server "a" {
    address = "192.168.10.2"
    weight  = 2
  }
  real_server "b" {
    address = "192.168.10.3"
    health_check {
      url {
        path       = "/status"
        body_regex = "^OK"
      }
    }
  }
  real_server "c" {
    address = "192.168.10.4"
    health_check {
      type    = "exec"
      program = "/usr/lib/lvsctl/weight %h %p"
      dynamic = true
      timeout = "3s"
      alpha   = false
    }
  }
}

virtual_server "mail" {
  address = "10.0.0.3:25"
  health_check {
    type      = "smtp"
    helo_name = "director.example.com"
  }
  real_server "m1" {
    address = "192.168.10.25"
  }
}
`

func TestKeepalivedSettingsParse(t *testing.T) {
	cfg, _, diags := Parse([]byte(keepalivedSrc), "x.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	web := cfg.Settings("web")
	if web.Quorum != 3 || web.Hysteresis != 1 {
		t.Errorf("quorum %d hysteresis %d", web.Quorum, web.Hysteresis)
	}
	a, b, c := web.RealServers["a"], web.RealServers["b"], web.RealServers["c"]
	ap := a.Probe.(model.HTTPSProbe)
	want := []model.HTTPURL{
		{Path: "/", Digest: "9b3a0c85a887a256d6939da88aabd8cd"},
		{Path: "/health", Host: "health.example.com", Status: []int{200, 204}},
		{Path: "/ranges", Status: []int{200, 201, 202, 301, 302, 303, 304}},
	}
	if !a.Alpha || a.OnFailure != model.OnFailureQuiesce || ap.Host != "www.example.com" || ap.TLSVerify || !cmp.Equal(ap.URLs, want) {
		t.Errorf("a = %+v %+v", a, ap)
	}
	// A real server's url blocks replace the virtual server's.
	if bp := b.Probe.(model.HTTPSProbe); len(bp.URLs) != 1 || bp.URLs[0].Path != "/status" || bp.URLs[0].BodyRegex != "^OK" || bp.Host != "www.example.com" || !b.Alpha {
		t.Errorf("b = %+v %+v", b, bp)
	}
	if cp, ok := c.Probe.(model.ExecProbe); !ok || !cp.Dynamic || c.Alpha || c.Timeout.Seconds() != 3 || c.OnFailure != model.OnFailureQuiesce {
		t.Errorf("c = %+v", c)
	}
	if p, ok := cfg.Settings("mail").HealthCheck.Probe.(model.SMTPProbe); !ok || p.HeloName != "director.example.com" {
		t.Errorf("mail = %+v", cfg.Settings("mail").HealthCheck)
	}
}

// HCL written and read again is the configuration written, the url blocks
// and the new settings included, and in hclwrite's layout.
func TestKeepalivedSettingsRoundTrip(t *testing.T) {
	cfg, _, diags := Parse([]byte(keepalivedSrc), "x.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var b bytes.Buffer
	if err := Write(&b, cfg, nil); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if f := hclwrite.Format(b.Bytes()); !bytes.Equal(f, b.Bytes()) {
		t.Errorf("not in hclwrite's layout:\n%s", out)
	}
	back, _, diags := Parse(b.Bytes(), "y.hcl")
	if diags.HasErrors() {
		t.Fatalf("%v\n%s", diags, out)
	}
	if d := cmp.Diff(cfg, back, modeltest.CmpOptions...); d != "" {
		t.Fatalf("round trip (-want +got):\n%s\n%s", d, out)
	}
	for _, want := range []string{"quorum       = 3\n", "hysteresis   = 1\n", "alpha      = true\n", "    url {\n      path   = \"/\"\n      digest = \"9b3a0c85a887a256d6939da88aabd8cd\"\n    }\n",
		"      dynamic = true\n", `status = ["200-202", "301-304"]`, "      alpha   = false\n", `helo_name = "director.example.com"`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Real server a has the virtual server's check: no block of its own.
	if strings.Count(out, "health_check {") != 4 {
		t.Errorf("want 4 health_check blocks:\n%s", out)
	}
	// A configuration built in Go, as the keepalived reader builds it.
	hc := model.DefaultHealthCheck(model.HTTPProbe{Method: "GET", Path: "/", URLs: []model.HTTPURL{{Path: "/a", Status: []int{200, 301}}, {Path: "/b", Digest: "d41d8cd98f00b204e9800998ecf8427e"}}})
	cfg.Services["mail"].HealthCheck = &hc
	cfg.Services["mail"].RealServers["m1"] = &hc
	cfg.Services["mail"].Quorum = 1
	b.Reset()
	if err := Write(&b, cfg, nil); err != nil {
		t.Fatal(err)
	}
	back, _, diags = Parse(b.Bytes(), "z.hcl")
	if diags.HasErrors() {
		t.Fatalf("%v\n%s", diags, b.String())
	}
	if d := cmp.Diff(cfg, back, modeltest.CmpOptions...); d != "" {
		t.Fatalf("round trip (-want +got):\n%s\n%s", d, b.String())
	}
}

func TestKeepalivedSettingsRules(t *testing.T) {
	checkRules(t, []ruleCase{
		{"bad digest", webWith("  health_check {\n    type = \"http\"\n    url {\n      path = \"/\"\n      digest = \"abc\"\n    }\n  }"), []string{"7:16 Invalid digest"}},
		{"url without path", webWith("  health_check {\n    type = \"http\"\n    url {\n      status = [200]\n    }\n  }"), []string{"5:5 Missing url path"}},
		{"url bad status", webWith("  health_check {\n    type = \"http\"\n    url {\n      path = \"/\"\n      status = [200, 700]\n    }\n  }"), []string{"7:16 Invalid HTTP status"}},
		{"second url bad path", webWith("  health_check {\n    type = \"http\"\n    url {\n      path = \"/\"\n    }\n    url {\n      path = \"x\"\n    }\n  }"), []string{"9:14 Invalid HTTP path"}},
		{"path beside urls", webWith("  health_check {\n    type = \"http\"\n    path = \"/\"\n    url {\n      path = \"/\"\n    }\n  }"), []string{"5:12 Setting beside url blocks"}},
		{"url in a tcp check", webWith("  health_check {\n    type = \"tcp\"\n    url {\n      path = \"/\"\n    }\n  }"), []string{"5:5 Attribute not used by this check"}},
		{"misspelt url attribute", webWith("  health_check {\n    type = \"http\"\n    url {\n      pth = \"/\"\n    }\n  }"), []string{"5:5 Missing url path", "6:7 Unsupported argument"}},
		{"url with a label", webWith("  health_check {\n    type = \"http\"\n    url \"x\" {\n      path = \"/\"\n    }\n  }"), []string{"5:9 Extraneous label for url"}},
		{"bad alpha", webWith("  health_check {\n    type = \"tcp\"\n    alpha = \"yes\"\n  }"), []string{"5:14 Unsuitable value type"}},
		{"dynamic with expect", webWith("  health_check {\n    type = \"exec\"\n    program = \"/bin/x\"\n    dynamic = true\n    expect = \"OK\"\n  }"), []string{"6:15 Conflicting exec results"}},
		{"bad helo", webWith("  health_check {\n    type = \"smtp\"\n    helo_name = \"a b\"\n  }"), []string{"5:17 Invalid HELO name"}},
		{"bad quorum", webWith("  quorum = -1"), []string{"3:12 Invalid quorum"}},
		{"backwards range", webWith("  health_check {\n    type = \"http\"\n    status = [200, \"299-200\"]\n  }"), []string{"5:20 Invalid range"}},
		{"not a range", webWith("  health_check {\n    type = \"http\"\n    status = [\"2xx\"]\n  }"), []string{"5:15 Invalid range"}},
		{"huge range", webWith("  health_check {\n    type = \"http\"\n    status = [\"0-99999999\"]\n  }"), []string{"5:15 Invalid range"}},
		{"range past 599", webWith("  health_check {\n    type = \"http\"\n    url {\n      path = \"/\"\n      status = [\"590-610\"]\n    }\n  }"), []string{"7:16 Invalid HTTP status"}},
		{"hysteresis alone", webWith("  hysteresis = 2"), []string{"3:16 Hysteresis without a quorum"}},
	})
}
