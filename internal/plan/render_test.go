package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/internal/golden"

	"github.com/lvsctl/lvsctl/lvs"
)

func persistent(s lvs.Service, timeout uint32, mask uint8) lvs.Service {
	s.Opts.Persistent, s.Opts.Timeout, s.Opts.Netmask = true, timeout, mask
	return s
}

func fwd(d lvs.Dest, f lvs.Forward) lvs.Dest { d.Opts.Forward = f; return d }

type scenario struct {
	live, desired *lvs.Table
	opts          Options
}

func scenarios() map[string]scenario {
	web, dns, mark := tcp("10.0.0.2:80"), udp("10.0.0.2:53"), lvs.MarkKey(lvs.IPv6, 100)
	sh := lvs.AddrKey(lvs.SCTP, netip.MustParseAddrPort("[2001:db8::2]:443"))
	real1, real2 := named(dest("192.168.10.100:80", 1), "real1"), named(dest("192.168.10.101:80", 2), "real2")
	gue := named(dest("[2001:db8:1::1]:0", 1), "gue")
	gue.Opts = lvs.DestOpts{Forward: lvs.Tunnel, Weight: 1, TunnelType: lvs.GUE, TunnelPort: 6080, TunnelFlags: lvs.TunnelRemCsum}
	shSvc := service(sh, "shard", named(fwd(dest("[2001:db8:1::2]:443", 10), lvs.Route), "a"))
	shSvc.Opts.Scheduler, shSvc.Opts.SchedFlags = "sh", lvs.SchedFlag1|lvs.SchedFlag2
	markSvc := persistent(service(mark, "marked", gue), 600, 64)
	dnsSvc := service(dns, "dns", named(dest("192.168.10.100:53", 1), "ns1"))
	dnsSvc.Opts.OnePacket = true

	s := map[string]scenario{}
	s["create_all"] = scenario{live: table(), desired: table(persistent(service(web, "web", real1, real2), 360, 32), dnsSvc, markSvc, shSvc)}

	{
		live := table(
			service(web, "", dest("192.168.10.100:80", 1), dest("192.168.10.101:80", 2), dest("192.168.10.102:80", 1)),
			service(dns, "", dest("192.168.10.100:53", 1)),
			service(mark, "", fwd(dest("[2001:db8:1::1]:0", 1), lvs.Route)),
		)
		w := persistent(service(web, "web",
			named(dest("192.168.10.100:80", 3), "real1"),
			named(fwd(dest("192.168.10.101:80", 2), lvs.Route), "real2"),
			named(dest("192.168.10.102:80", 1), "real3")), 360, 24)
		w.Opts.Scheduler, w.Opts.PE = "rr", "sip"
		w.Dests[2].Opts.UpperThreshold, w.Dests[2].Opts.LowerThreshold = 1000, 100
		m := service(mark, "marked", gue)
		m.Opts.Scheduler, m.Opts.SchedFlags = "mh", lvs.SchedFlag2
		s["edit_each_kind"] = scenario{live: live, desired: table(w, dnsSvc, m)}
	}

	s["destroy"] = scenario{
		live: table(
			service(web, "", dest("192.168.10.100:80", 1), dest("192.168.10.101:80", 2)),
			persistent(service(tcp("10.0.0.9:0"), "", fwd(dest("192.168.10.100:0", 1), lvs.Route)), 300, 32),
		),
		desired: table(service(web, "web", real1)),
	}

	s["replace"] = scenario{
		live:    table(service(web, "", dest("192.168.10.100:80", 1), dest("192.168.10.101:80", 2))),
		desired: table(service(web, "web", named(dest("192.168.10.100:8080", 1), "real1"), named(dest("192.168.10.101:8080", 5), "real2"))),
	}

	s["drain"] = scenario{
		live: table(
			service(web, "", dest("192.168.10.100:80", 1), conns(dest("192.168.10.101:80", 2), 12, 3), conns(dest("192.168.10.102:80", 0), 1, 0)),
			service(tcp("10.0.0.9:80"), "", conns(dest("192.168.10.100:80", 0), 0, 1)),
			service(dns, "", conns(dest("192.168.10.100:53", 1), 0, 40)),
		),
		desired: table(service(web, "web", real1)),
		opts:    Options{Drain: true},
	}

	// Nothing to do now but wait for connections to end.
	s["drain_waiting"] = scenario{
		live:    table(service(web, "", dest("192.168.10.100:80", 1), named(conns(dest("192.168.10.101:80", 0), 3, 4), "old"))),
		desired: table(service(web, "web", real1)),
		opts:    Options{Drain: true},
	}

	// A port change under drain: the new one is added, the old one drained.
	s["replace_drain"] = scenario{
		live:    table(service(web, "", conns(dest("192.168.10.100:80", 1), 5, 0))),
		desired: table(service(web, "web", named(dest("192.168.10.100:8080", 1), "real1"))),
		opts:    Options{Drain: true},
	}

	{
		kube := service(tcp("10.96.0.1:443"), "", dest("172.16.0.10:6443", 1))
		desired := table(service(web, "web", real1))
		desired.Ignore.Prefixes = []netip.Prefix{netip.MustParsePrefix("10.96.0.0/12")}
		s["ignore"] = scenario{
			live:    table(kube, service(web, "", dest("192.168.10.100:80", 1)), service(tcp("10.0.0.9:80"), "", dest("192.168.10.100:80", 1))),
			desired: desired,
		}
	}

	{
		live := table(service(web, "", dest("192.168.10.100:80", 1)))
		live.Timeouts = kernelTimeouts
		desired := table(service(web, "web", real1))
		desired.Timeouts = lvs.Timeouts{TCP: time.Hour, UDP: 300 * time.Second}
		s["timeouts"] = scenario{live: live, desired: desired}
	}

	{
		// A NAT director at ip_forward=0 with a knob set by hand.
		live := table(service(web, "", dest("192.168.10.100:80", 1)))
		live.Sysctls = []lvs.Sysctl{{Name: lvs.SysctlIPv4Forward, Value: "0"}, {Name: "net.ipv4.vs.sloppy_tcp", Value: "0"}}
		desired := table(service(web, "web", real1))
		desired.Sysctls = []lvs.Sysctl{{Name: lvs.SysctlIPv4Forward, Value: "1", Reason: "IPv4 NAT"}, {Name: "net.ipv4.vs.sloppy_tcp", Value: "1"}}
		s["sysctl"] = scenario{live: live, desired: desired}
	}

	{
		live := table(persistent(service(web, "", dest("192.168.10.100:80", 1)), 360, 32))
		live.Timeouts = kernelTimeouts
		s["noop"] = scenario{live: live, desired: table(persistent(service(web, "web", real1), 360, 32))}
	}
	return s
}

func TestRenderGolden(t *testing.T) {
	for name, sc := range scenarios() {
		t.Run(name, func(t *testing.T) {
			p := Diff(sc.live, sc.desired, sc.opts)
			var text, js bytes.Buffer
			if err := Render(&text, p); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", name+".golden"), text.Bytes())
			if err := RenderJSON(&js, p); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", name+".json.golden"), js.Bytes())

			// The text's summary line and the JSON's summary agree with Summary.
			var doc struct {
				FormatVersion string `json:"format_version"`
				Changes       []struct {
					Action, Type string
				}
				Summary struct{ Add, Change, Destroy int }
			}
			if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
				t.Fatalf("RenderJSON wrote invalid JSON: %v", err)
			}
			add, chg, del := p.Summary()
			if doc.Summary.Add != add || doc.Summary.Change != chg || doc.Summary.Destroy != del {
				t.Errorf("JSON summary %+v, Summary() = %d, %d, %d", doc.Summary, add, chg, del)
			}
			if n := add + chg + del; len(doc.Changes) != n {
				t.Errorf("JSON has %d changes, Summary() counts %d", len(doc.Changes), n)
			}
			last := strings.TrimSpace(text.String())
			last = last[strings.LastIndex(last, "\n")+1:]
			if p.Empty() && len(p.Waiting) == 0 {
				if last != "No changes. The IPVS table matches the configuration." {
					t.Errorf("last line %q", last)
				}
			} else if want := fmt.Sprintf("Plan: %d to add, %d to change, %d to destroy.", add, chg, del); last != want {
				t.Errorf("last line %q, want %q", last, want)
			}
		})
	}
}

func TestRenderNamesUnnamedObjectsByAddress(t *testing.T) {
	live := table(service(tcp("10.0.0.9:80"), "", dest("192.168.10.102:80", 1)))
	var b bytes.Buffer
	if err := Render(&b, Diff(live, table(), Options{})); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"  # service tcp 10.0.0.9:80 will be destroyed\n",
		"  # real_server 192.168.10.102:80 of service tcp 10.0.0.9:80 will be destroyed with its virtual server\n",
		"  - destroy\n",
		"\nPlan: 0 to add, 0 to change, 2 to destroy.\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, b.String())
		}
	}
	for _, absent := range []string{"  + create", "  ~ update", "+/-"} {
		if strings.Contains(b.String(), absent) {
			t.Errorf("legend lists %q though no such change is planned:\n%s", absent, b.String())
		}
	}
}
