package config

import (
	"bytes"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/lvsctl/lvsctl/internal/ipvsadm"
	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/internal/model/modeltest"
	"github.com/lvsctl/lvsctl/lvs"
)

const extrasSrc = `pulse {
  primary         = "10.0.0.10"
  backup          = "10.0.0.11"
  primary_private = "192.168.0.10"
  backup_private  = "192.168.0.11"
  heartbeat_port  = 1050
  keepalive       = "500ms"
  deadtime        = "2s"
  monitor_links   = true
  active_cmd      = "/etc/lvsctl/up.sh --fast"
  preempt         = true
  key_file        = "/etc/lvsctl/pair.key"
  nat_router {
    address = "192.168.10.1"
    device  = "eth1:1"
    netmask = "255.255.255.0"
  }
  sync_daemon {
    interface = "eth1"
    id        = 9
  }
}

virtual_server "web" {
  address      = "10.0.0.2:80"
  sorry_server = "127.0.0.1:8080"
  vip {
    device  = "eth0:1"
    netmask = "24"
  }
  health_check {
    type       = "send_expect"
    send       = "GET / HTTP/1.0\r\n\r\n"
    expect     = "HTTP"
    interval   = "6s"
    timeout    = "2s"
    rise       = 3
    fall       = 2
    on_failure = "quiesce"
  }
  real_server "a" {
    address = "192.168.10.2"
    health_check {
      type   = "https"
      path   = "/health"
      status = [204, 200]
      tls_verify = false
    }
  }
  real_server "b" {
    address = "192.168.10.3:8080"
    health_check {
      interval = "10s"
    }
  }
  real_server "c" {
    address = "192.168.10.4"
  }
}

virtual_server "dns" {
  fwmark = 53
  vip {
    address = "10.0.0.53"
    device  = "eth0"
  }
  health_check {
    type       = "dns"
    protocol   = "udp"
    query_name = "example.com"
    query_type = "AAAA"
    port       = 53
  }
  real_server "ns1" {
    address = "192.168.10.53"
    health_check {
      type    = "exec"
      program = "/usr/lib/lvsctl/check-dns %h %p"
      expect  = "OK"
    }
  }
}
`

func TestExtrasParse(t *testing.T) {
	cfg, _, diags := Parse([]byte(extrasSrc), "x.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	p := cfg.Pulse
	if p == nil || p.Keepalive != 500*time.Millisecond || p.Deadtime != 2*time.Second || !p.BackupActive || !p.Preempt ||
		p.NATRouter.Netmask != 24 || p.SyncDaemon.ID != 9 || p.KeyFile != "/etc/lvsctl/pair.key" || p.HeartbeatPort != 1050 {
		t.Errorf("pulse = %+v", p)
	}
	web := cfg.Settings("web")
	if web.SorryServer.String() != "127.0.0.1:8080" || web.VIP.Address.String() != "10.0.0.2" || web.VIP.Netmask != 24 {
		t.Errorf("web = %+v %+v", web, web.VIP)
	}
	a, b, c := web.RealServers["a"], web.RealServers["b"], web.RealServers["c"]
	if ap, ok := a.Probe.(model.HTTPSProbe); !ok || !slices.Equal(ap.Status, []int{200, 204}) || ap.TLSVerify || a.Interval != 6*time.Second || a.Rise != 3 || ap.Method != "GET" {
		t.Errorf("a = %+v: want https, inheriting the common attributes only", a)
	}
	if bp, ok := b.Probe.(model.SendExpectProbe); !ok || bp.Send != "GET / HTTP/1.0\r\n\r\n" || b.Interval != 10*time.Second || b.Timeout != 2*time.Second {
		t.Errorf("b = %+v: want the virtual's check with interval 10s and its timeout", b)
	}
	if c != web.HealthCheck || c.Fall != 2 || c.OnFailure != model.OnFailureQuiesce {
		t.Errorf("c = %+v: want the virtual's check", c)
	}
	dns := cfg.Settings("dns")
	if p := dns.HealthCheck.Probe.(model.DNSProbe); p.Protocol != lvs.UDP || p.QueryName != "example.com" {
		t.Errorf("dns probe = %+v: want UDP, not the fwmark service's default TCP", p)
	}
	if dns.VIP.Address.String() != "10.0.0.53" || dns.HealthCheck.Probe.(model.DNSProbe).QueryType != "AAAA" || dns.RealServers["ns1"].Port != 53 || dns.RealServers["ns1"].Probe.(model.ExecProbe).Expect != "OK" {
		t.Errorf("dns = %+v", dns)
	}
}

// Writing a configuration and parsing it again gives it back.
func TestExtrasWriteRoundTrip(t *testing.T) {
	cfg, _, diags := Parse([]byte(extrasSrc), "x.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var b bytes.Buffer
	ann := &model.Annotations{Order: []string{"web"}}
	ann.Add("# on the web", "virtual_server", "web")
	ann.Add("gone with its default", "virtual_server", "web", "scheduler")
	ann.Add("a real comment", "virtual_server", "web", "real_server", "b", "weight")
	ann.Add("top", "nowhere")
	if err := Write(&b, cfg, ann); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	back, _, diags := Parse(b.Bytes(), "y.hcl")
	if diags.HasErrors() {
		t.Fatalf("%v\n%s", diags, out)
	}
	if d := cmp.Diff(cfg, back, modeltest.CmpOptions...); d != "" {
		t.Fatalf("round trip (-want +got):\n%s\n%s", d, out)
	}
	for _, want := range []string{"# top\n", "# on the web\n# gone with its default\nvirtual_server \"web\"", "  # a real comment\n  real_server \"b\"", `interval = "10s"`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, `"web"`) > strings.Index(out, `"dns"`) {
		t.Errorf("Order not followed:\n%s", out)
	}
	if strings.Contains(out, "wlc") || strings.Contains(out, "fall       = 1") {
		t.Errorf("defaults written:\n%s", out)
	}
}

// webWith is a virtual server "web" with one real server, and inner
// added to its body.
func webWith(inner string) string {
	return "virtual_server \"web\" {\n  address = \"10.0.0.2:80\"\n" + inner + "\n  real_server \"r1\" {\n    address = \"192.168.10.100:80\"\n  }\n}\n"
}

// A ruleCase is a source with errors: want lists them as errorsOf does.
type ruleCase struct {
	name, src string
	want      []string
}

// checkRules parses each case's source and wants exactly its errors, and
// no configuration.
func checkRules(t *testing.T, cases []ruleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _, diags := Parse([]byte(tc.src), "x.hcl")
			if got := errorsOf(diags); !slices.Equal(got, tc.want) {
				t.Errorf("errors = %q, want %q\n%s", got, tc.want, diags)
			}
			if cfg != nil {
				t.Errorf("a configuration with errors yielded settings")
			}
		})
	}
}

func TestExtrasRules(t *testing.T) {
	checkRules(t, []ruleCase{
		{"missing type", webWith("  health_check {\n    send = \"x\"\n  }"), []string{"3:3 Missing health check type"}},
		{"bad type", webWith("  health_check {\n    type = \"htpp\"\n  }"), []string{"4:12 Invalid health check type"}},
		{"attr of another type", webWith("  health_check {\n    type = \"tcp\"\n    path = \"/\"\n  }"), []string{"5:12 Attribute not used by this check"}},
		{"nothing to expect", webWith("  health_check {\n    type = \"send_expect\"\n  }"), []string{"3:3 Nothing to send or expect"}},
		{"both expects", webWith("  health_check {\n    type = \"send_expect\"\n    expect = \"a\"\n    expect_regex = \"b\"\n  }"), []string{"6:20 Conflicting expectations"}},
		{"bad regex", webWith("  health_check {\n    type = \"send_expect\"\n    expect_regex = \"a(\"\n  }"), []string{"5:20 Invalid regular expression"}},
		{"relative program", webWith("  health_check {\n    type = \"exec\"\n    program = \"check %h\"\n  }"), []string{"5:15 Program path not absolute"}},
		{"timeout over interval", webWith("  health_check {\n    type = \"tcp\"\n    interval = \"2s\"\n    timeout = \"3s\"\n  }"), []string{"6:15 Health check timeout too long"}},
		{"bad rise", webWith("  health_check {\n    type = \"tcp\"\n    rise = 0\n  }"), []string{"5:12 Invalid rise"}},
		{"bad on_failure", webWith("  health_check {\n    type = \"tcp\"\n    on_failure = \"quiese\"\n  }"), []string{"5:18 Invalid on_failure"}},
		{"bad status", webWith("  health_check {\n    type = \"http\"\n    status = [200, 999]\n  }"), []string{"5:20 Invalid HTTP status"}},
		{"dns without name", webWith("  health_check {\n    type = \"dns\"\n  }"), []string{"3:3 Missing DNS query name"}},
		{"dns bad protocol", webWith("  health_check {\n    type = \"dns\"\n    query_name = \"a\"\n    protocol = \"sctp\"\n  }"), []string{"6:16 Invalid health check protocol"}},
		{"protocol of another type", webWith("  health_check {\n    type = \"http\"\n    protocol = \"tcp\"\n  }"), []string{"5:16 Attribute not used by this check"}},
		{"bad status element", webWith("  health_check {\n    type = \"http\"\n    status = [999, 200, 99]\n  }"), []string{"5:15 Invalid HTTP status", "5:25 Invalid HTTP status"}},
		{"misspelt attribute", webWith("  health_check {\n    type = \"tcp\"\n    intervl = \"2s\"\n  }"), []string{"5:5 Unsupported argument"}},
		{"override without a port", "virtual_server \"m\" {\n  fwmark = 1\n  real_server \"r\" {\n    address = \"192.168.0.1\"\n    health_check {\n      type = \"dns\"\n      query_name = \"a\"\n    }\n  }\n}\n", []string{"5:5 Health check without a port"}},
		{"sorry family", webWith("  sorry_server = \"[2001:db8::1]:80\""), []string{"3:18 Invalid sorry server"}},
		{"sorry is a real server", webWith("  sorry_server = \"192.168.10.100\""), []string{"3:18 Invalid sorry server"}},
		{"vip without device", webWith("  vip {\n  }"), []string{"3:3 Missing device"}},
		{"vip other address", webWith("  vip {\n    address = \"10.0.0.3\"\n    device = \"eth0:1\"\n  }"), []string{"4:15 Conflicting VIP address"}},
		{"vip bad device", webWith("  vip {\n    device = \"eth0 1\"\n  }"), []string{"4:14 Invalid device"}},
		{"fwmark vip without address", "virtual_server \"m\" {\n  fwmark = 1\n  vip {\n    device = \"eth0\"\n  }\n}\n", []string{"3:3 Missing VIP address"}},
		{"fwmark check without port", "virtual_server \"m\" {\n  fwmark = 1\n  health_check {\n    type = \"tcp\"\n  }\n  real_server \"r\" {\n    address = \"192.168.0.1\"\n  }\n}\n", []string{"3:3 Health check without a port"}},
		{"pulse without primary", "pulse {\n  backup = \"10.0.0.2\"\n}\n", []string{"1:1 Missing primary"}},
		{"pulse same address", "pulse {\n  primary = \"10.0.0.1\"\n  backup = \"10.0.0.1\"\n}\n", []string{"3:12 Invalid backup address"}},
		{"pulse deadtime", "pulse {\n  primary = \"10.0.0.1\"\n  backup = \"10.0.0.2\"\n  keepalive = \"5s\"\n  deadtime = \"5s\"\n}\n", []string{"5:14 Deadtime not longer than keepalive"}},
		{"pulse one private", "pulse {\n  primary = \"10.0.0.1\"\n  primary_private = \"10.1.0.1\"\n}\n", []string{"3:21 Incomplete private heartbeat path"}},
		{"pulse backup_active alone", "pulse {\n  primary = \"10.0.0.1\"\n  backup_active = true\n}\n", []string{"3:19 Backup without an address"}},
		{"pulse port", "pulse {\n  primary = \"10.0.0.1\"\n  heartbeat_port = 0\n}\n", []string{"3:20 Invalid heartbeat port"}},
		{"pulse key file", "pulse {\n  primary = \"10.0.0.1\"\n  key_file = \"pulse.key\"\n}\n", []string{"3:14 Key file path not absolute"}},
		{"nat router", "pulse {\n  primary = \"10.0.0.1\"\n  nat_router {\n    device = \"eth1:1\"\n  }\n}\n", []string{"3:3 Missing NAT router address"}},
		{"sync id", "pulse {\n  primary = \"10.0.0.1\"\n  sync_daemon {\n    interface = \"eth1\"\n    id = 256\n  }\n}\n", []string{"5:10 Invalid sync id"}},
	})
}

// deadtime not above keepalive is an error only where pulse fails over on
// it: with a backup that runs. Without one it is a warning.
func TestPulseDeadtimeAlone(t *testing.T) {
	for _, src := range []string{
		"pulse {\n  primary = \"10.0.0.1\"\n  keepalive = \"5s\"\n  deadtime = \"5s\"\n}\n",
		"pulse {\n  primary = \"10.0.0.1\"\n  backup = \"10.0.0.2\"\n  backup_active = false\n  keepalive = \"5s\"\n  deadtime = \"5s\"\n}\n",
	} {
		cfg, _, diags := Parse([]byte(src), "x.hcl")
		if diags.HasErrors() || cfg == nil || cfg.Pulse.Deadtime != 5*time.Second {
			t.Fatalf("%s: %v", src, diags)
		}
		if len(diags) != 1 || diags[0].Severity != hcl.DiagWarning || !strings.Contains(diags[0].Detail, "No backup runs") {
			t.Errorf("%s: diagnostics %v, want one warning", src, diags)
		}
	}
}

// ipvsadm dumps of random tables convert to HCL that gives the table back.
func TestFromTableRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for i := range 300 {
		want := randomTable(r)
		var dump bytes.Buffer
		if err := ipvsadm.WriteSave(&dump, want); err != nil {
			t.Fatal(err)
		}
		parsed, err := ipvsadm.ParseSave(bytes.NewReader(dump.Bytes()), "dump")
		if err != nil {
			t.Fatalf("%d: %v\n%s", i, err, dump.String())
		}
		var out bytes.Buffer
		cfg := model.FromTable(parsed)
		if err := Write(&out, cfg, nil); err != nil {
			t.Fatal(err)
		}
		back, _, diags := Parse(out.Bytes(), "converted.hcl")
		if diags.HasErrors() {
			t.Fatalf("%d: %v\n%s\n%s", i, diags, dump.String(), out.String())
		}
		// The dump's table, with the sysctls its NAT real servers need,
		// which the HCL gives without naming them.
		if d := cmp.Diff(cfg.Table, back.Table, modeltest.CmpOptions[0], cmpopts.IgnoreFields(lvs.Service{}, "Name"), cmpopts.IgnoreFields(lvs.Dest{}, "Name")); d != "" {
			t.Fatalf("%d: (-dump +hcl):\n%s\n%s\n%s", i, d, dump.String(), out.String())
		}
		for _, s := range back.Table.Services {
			if s.Name != model.ServiceName(s.Key) {
				t.Errorf("service %s named %q", s.Key, s.Name)
			}
		}
	}
}

// randomTable returns a random table that the kernel would take.
func randomTable(r *rand.Rand) *lvs.Table {
	t := &lvs.Table{}
	seen := map[lvs.ServiceKey]bool{}
	addr := func(f lvs.Family) netip.Addr {
		if f == lvs.IPv6 {
			var b [16]byte
			b[0], b[1], b[15] = 0x20, 0x01, byte(1+r.IntN(250))
			return netip.AddrFrom16(b)
		}
		return netip.AddrFrom4([4]byte{10, byte(r.IntN(3)), 0, byte(1 + r.IntN(250))})
	}
	for range r.IntN(6) {
		fam := []lvs.Family{lvs.IPv4, lvs.IPv4, lvs.IPv6}[r.IntN(3)]
		var s lvs.Service
		if r.IntN(4) == 0 {
			s.Key = lvs.MarkKey(fam, uint32(1+r.IntN(1000)))
		} else {
			s.Key = lvs.AddrKey([]lvs.Protocol{lvs.TCP, lvs.UDP, lvs.SCTP}[r.IntN(3)], netip.AddrPortFrom(addr(fam), uint16([]int{80, 443, 53}[r.IntN(3)])))
		}
		if seen[s.Key] {
			continue
		}
		seen[s.Key] = true
		s.Opts.Scheduler = lvs.Schedulers[r.IntN(len(lvs.Schedulers))]
		if s.Opts.Scheduler == "sh" || s.Opts.Scheduler == "mh" {
			s.Opts.SchedFlags = lvs.SchedFlags(r.IntN(4))
		}
		if r.IntN(2) == 0 {
			s.Opts.Persistent = true
			s.Opts.Timeout = uint32(1 + r.IntN(10000))
			s.Opts.Netmask = lvs.FullMask(fam) - uint8(r.IntN(9))
		}
		dseen := map[netip.AddrPort]bool{}
		fwd := []lvs.Forward{lvs.Masq, lvs.Route, lvs.Tunnel}[r.IntN(3)]
		for range r.IntN(5) {
			var d lvs.Dest
			d.Opts.Forward = fwd
			if r.IntN(4) == 0 {
				d.Opts.Forward = lvs.Masq
			}
			port := s.Key.Port
			if d.Opts.Forward == lvs.Masq || s.Key.IsFWMark() {
				port = uint16([]int{0, 80, 8080}[r.IntN(3)])
				if !s.Key.IsFWMark() && port == 0 {
					port = s.Key.Port
				}
			}
			d.Addr = netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 168, 1, byte(1 + r.IntN(250))}), port)
			if fam == lvs.IPv6 {
				d.Addr = netip.AddrPortFrom(addr(fam), port)
			}
			d.Opts.Weight = []int{0, 1, 5, 100}[r.IntN(4)]
			if d.Opts.Forward == lvs.Tunnel && r.IntN(2) == 0 {
				d.Opts.TunnelType = lvs.GUE
				d.Opts.TunnelPort = 6080
				d.Opts.TunnelFlags = lvs.TunnelCsum
			}
			if dseen[d.Addr] {
				continue
			}
			dseen[d.Addr] = true
			s.Dests = append(s.Dests, d)
		}
		t.Services = append(t.Services, s)
	}
	t.Normalize()
	return t
}
