package cmd

import (
	"bytes"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/internal/lvstest"
	"github.com/lvsctl/lvsctl/internal/plan"
	"github.com/lvsctl/lvsctl/internal/source/config"
	"github.com/lvsctl/lvsctl/kernel"
	"github.com/lvsctl/lvsctl/lvs"
)

func aport(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// everyTable is a live table as the kernel reports it, with every setting
// the kernel keeps set somewhere (TestEveryTableSetsEveryField holds it to
// that), counters included.
func everyTable() *lvs.Table {
	t := &lvs.Table{
		Timeouts: lvs.Timeouts{TCP: time.Hour, TCPFin: time.Minute, UDP: 2 * time.Minute},
		Services: []lvs.Service{
			{Key: lvs.AddrKey(lvs.TCP, aport("10.0.0.2:80")), Opts: lvs.ServiceOpts{Scheduler: "wlc", Netmask: 32},
				Stats: lvs.Stats{Conns: 5, InBytes: 100},
				Dests: []lvs.Dest{
					{Addr: aport("192.168.10.100:8080"), Opts: lvs.DestOpts{Forward: lvs.Masq, Weight: 65535, UpperThreshold: 1000, LowerThreshold: 750},
						Live: lvs.DestLive{ActiveConns: 3, InactConns: 1, Stats: lvs.Stats{Conns: 4}}},
					{Addr: aport("192.168.10.101:8080"), Opts: lvs.DestOpts{Forward: lvs.Masq, Weight: 0}},
					{Addr: aport("127.0.0.1:80"), Opts: lvs.DestOpts{Forward: lvs.Local, Weight: 2}},
				}},
			{Key: lvs.AddrKey(lvs.TCP, aport("10.0.0.2:443")), Opts: lvs.ServiceOpts{Scheduler: "sh", SchedFlags: lvs.SchedFlag1 | lvs.SchedFlag2,
				Persistent: true, Timeout: 360, Netmask: 24},
				Dests: []lvs.Dest{
					{Addr: aport("192.168.10.100:443"), Opts: lvs.DestOpts{Forward: lvs.Route, Weight: 3}},
					{Addr: aport("10.0.0.2:443"), Opts: lvs.DestOpts{Forward: lvs.Local, Weight: 1}},
				}},
			{Key: lvs.AddrKey(lvs.UDP, aport("10.0.0.3:53")), Opts: lvs.ServiceOpts{Scheduler: "rr", OnePacket: true, Netmask: 32},
				Dests: []lvs.Dest{
					{Addr: aport("172.16.1.20:53"), Opts: lvs.DestOpts{Forward: lvs.Tunnel, Weight: 1, TunnelType: lvs.IPIP}},
					{Addr: aport("172.16.1.21:53"), Opts: lvs.DestOpts{Forward: lvs.Tunnel, Weight: 2, TunnelType: lvs.GUE, TunnelPort: 6080, TunnelFlags: lvs.TunnelRemCsum}},
					{Addr: aport("172.16.1.22:53"), Opts: lvs.DestOpts{Forward: lvs.Tunnel, Weight: 1, TunnelType: lvs.GRE, TunnelFlags: lvs.TunnelCsum}},
				}},
			{Key: lvs.AddrKey(lvs.UDP, aport("10.0.0.4:5060")), Opts: lvs.ServiceOpts{Scheduler: "mh", SchedFlags: lvs.SchedFlag1 | lvs.SchedFlag2 | lvs.SchedFlag3,
				Persistent: true, Timeout: 900, Netmask: 32, PE: "sip"},
				Dests: []lvs.Dest{{Addr: aport("192.168.10.110:5060"), Opts: lvs.DestOpts{Forward: lvs.Route, Weight: 1}}}},
			{Key: lvs.AddrKey(lvs.SCTP, aport("[2001:db8::4]:3868")), Opts: lvs.ServiceOpts{Scheduler: "rr", SchedFlags: lvs.SchedFlag3,
				Persistent: true, Timeout: 300, Netmask: 64},
				Dests: []lvs.Dest{{Addr: aport("[2001:db8:1::41]:3869"), Opts: lvs.DestOpts{Forward: lvs.Masq, Weight: 1, UpperThreshold: 10, LowerThreshold: 5}}}},
			{Key: lvs.MarkKey(lvs.IPv4, 100), Opts: lvs.ServiceOpts{Scheduler: "sed", OnePacket: true, Persistent: true, Timeout: 400, Netmask: 24},
				Dests: []lvs.Dest{
					{Addr: aport("192.168.10.160:0"), Opts: lvs.DestOpts{Forward: lvs.Route, Weight: 1}},
					{Addr: aport("192.168.10.161:80"), Opts: lvs.DestOpts{Forward: lvs.Masq, Weight: 1}},
				}},
			{Key: lvs.MarkKey(lvs.IPv6, 101), Opts: lvs.ServiceOpts{Scheduler: "nq", Persistent: true, Timeout: 360, Netmask: 48},
				Dests: []lvs.Dest{
					{Addr: aport("[2001:db8:1::60]:0"), Opts: lvs.DestOpts{Forward: lvs.Route, Weight: 1}},
					// An IPv4 real server behind an IPv6 mark: only tunnels mix families.
					{Addr: aport("172.16.1.30:0"), Opts: lvs.DestOpts{Forward: lvs.Tunnel, Weight: 4, TunnelType: lvs.GUE, TunnelPort: 5555, TunnelFlags: lvs.TunnelCsum}},
				}},
			{Key: lvs.AddrKey(lvs.TCP, aport("10.0.0.9:25")), Opts: lvs.ServiceOpts{Scheduler: "fo", Netmask: 32}},
		},
	}
	t.Normalize()
	return t
}

// The every-setting table sets every field of the kernel's settings in
// one service or real server at least, so that a field added to them is
// adopted (TestAdoptEverySetting) once it is set here.
func TestEveryTableSetsEveryField(t *testing.T) {
	lvstest.EveryOptionSet(t, "everyTable", everyTable(), true)
}

// settings is t without what is not a setting (names, counters), and with
// a local real server's method as adopt writes it: the planner takes a
// live local real server as matching any method.
func settings(t *lvs.Table) *lvs.Table {
	c := t.Clone()
	c.Unknown = 0
	// The forwarding the NAT real servers need is implied when the HCL is
	// read; the live table was not read with kernel settings.
	c.Sysctls = nil
	for i := range c.Services {
		s := &c.Services[i]
		s.Name, s.Stats = "", lvs.Stats{}
		for j := range s.Dests {
			d := &s.Dests[j]
			d.Name, d.Live = "", lvs.DestLive{}
		}
	}
	return c
}

// adoptHCL runs what convert --from live does with a table and returns the
// HCL and the table it parses back to.
func adoptHCL(t *testing.T, live *lvs.Table, daemons []kernel.DaemonConfig) (string, *lvs.Table) {
	t.Helper()
	cfg, ann := adopt(live, daemons, []string{"# test"})
	var out bytes.Buffer
	if err := config.Write(&out, cfg, ann); err != nil {
		t.Fatal(err)
	}
	back, _, diags := config.Parse(out.Bytes(), "adopted.hcl")
	if diags.HasErrors() {
		t.Fatalf("the adopted HCL does not parse: %v\n%s", diags, out.String())
	}
	return out.String(), back.Table
}

// Every setting of the live table survives table -> HCL -> parse, and the
// planner finds nothing to do between the table and the parsed HCL.
func TestAdoptEverySetting(t *testing.T) {
	live := everyTable()
	hcl, back := adoptHCL(t, live, nil)

	want := settings(live)
	for i := range want.Services {
		for j := range want.Services[i].Dests {
			d := &want.Services[i].Dests[j]
			if d.Opts.Forward == lvs.Local {
				d.Opts.Forward = localForward(&live.Services[i], &live.Services[i].Dests[j])
			}
		}
	}
	if got := settings(back); !reflect.DeepEqual(got, want) {
		t.Errorf("adopted and parsed back, the table differs:\n%+v\nwant\n%+v\nHCL:\n%s", got, want, hcl)
	}
	if p := plan.Diff(live, back, plan.Options{}); !p.Empty() {
		t.Errorf("plan from the live table to its adoption is not empty: %+v\nHCL:\n%s", p.Ops, hcl)
	}
	for _, want := range []string{
		`tcp     = "1h"`,
		"upper_threshold = 1000",
		"lower_threshold = 750",
		`checksum = "remcsum"`,
		`pe              = "sip"`,
		`family    = "ipv6"`,
		"NOTE: the kernel reports 127.0.0.1:80 as local",
		`written as "nat"`,
		"NOTE: the kernel reports 10.0.0.2:443 as local",
		`written as "dr"`,
		"NOTE: the names were made from the addresses",
	} {
		if !strings.Contains(hcl, want) {
			t.Errorf("the adopted HCL lacks %q:\n%s", want, hcl)
		}
	}
	if live.Services[0].Stats.Conns == 0 || live.Services[0].Name != "" {
		t.Error("adopt changed the table it was given")
	}
}

// show --json output adopts as the kernel's table does: the JSON form is
// every setting too, and the names it carries are kept.
func TestAdoptJSON(t *testing.T) {
	live := everyTable()
	for i := range live.Services {
		live.Services[i].Name = "svc-" + string(rune('a'+i))
		for j := range live.Services[i].Dests {
			live.Services[i].Dests[j].Name = "real " + string(rune('a'+j))
		}
	}
	b, err := live.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	cfg, ann, err := convertJSON("show.json", b)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := config.Write(&out, cfg, ann); err != nil {
		t.Fatal(err)
	}
	back, _, diags := config.Parse(out.Bytes(), "adopted.hcl")
	if diags.HasErrors() {
		t.Fatalf("%v\n%s", diags, out.String())
	}
	_, viaLive := adoptHCL(t, live, nil)
	if !reflect.DeepEqual(back.Table, viaLive) {
		t.Errorf("from show --json the adoption differs from the kernel's:\n%+v\nwant\n%+v\n%s", back.Table, viaLive, out.String())
	}
	if s := back.Table.Services[0]; s.Name != live.Services[0].Name || s.Dests[0].Name != live.Services[0].Dests[0].Name {
		t.Errorf("names not kept: %q %q", s.Name, s.Dests[0].Name)
	}
	if strings.Contains(out.String(), "names were made") {
		t.Errorf("names were kept, yet the header says they were made:\n%s", out.String())
	}

	// A table without timeouts (0: not known) leaves them out, and says so.
	live.Timeouts = lvs.Timeouts{TCP: time.Hour}
	b, _ = live.MarshalJSON()
	cfg, ann, err = convertJSON("show.json", b)
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := config.Write(&out, cfg, ann); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "no value for the tcp_fin and udp connection timeouts") || strings.Contains(out.String(), "tcp_fin =") {
		t.Errorf("unknown timeouts not noted:\n%s", out.String())
	}
	if cfg.Table.Timeouts != (lvs.Timeouts{TCP: time.Hour}) || cfg.Table.Unknown != 0 {
		t.Errorf("timeouts = %+v, unknown %v", cfg.Table.Timeouts, cfg.Table.Unknown)
	}
}

// A running sync daemon cannot be part of the table's HCL: it is named in
// a NOTE with how to express it, and its multicast settings with it.
func TestAdoptSyncDaemon(t *testing.T) {
	hcl, _ := adoptHCL(t, everyTable(), []kernel.DaemonConfig{
		{State: kernel.DaemonMaster, Interface: "eth1", SyncID: 7, MaxLen: 1400, Group: netip.MustParseAddr("239.1.1.1"), Port: 8849, TTL: 2},
		{State: kernel.DaemonBackup, Interface: "eth1", SyncID: 7, Group: netip.MustParseAddr("224.0.0.81"), Port: 8848, TTL: 1},
	})
	for _, want := range []string{
		"# NOTE: the kernel runs the IPVS connection sync daemon as master on eth1, syncid 7",
		`add sync_daemon { interface = "eth1", id = 7 } to the pulse block`,
		"cannot express its sync-maxlen 1400, mcast-group 239.1.1.1, mcast-port 8849, mcast-ttl 2",
		"# NOTE: the kernel runs the IPVS connection sync daemon as backup on eth1, syncid 7",
	} {
		if !strings.Contains(hcl, want) {
			t.Errorf("the adopted HCL lacks %q:\n%s", want, hcl)
		}
	}
	if strings.Count(hcl, "cannot express") != 1 {
		t.Errorf("the kernel's defaults are noted as settings:\n%s", hcl)
	}
}

// freshSysctls are the settings of a fresh namespace as read from a
// kernel: every one lvsctl manages, at its default.
func freshSysctls() []lvs.Sysctl {
	ss := make([]lvs.Sysctl, len(lvs.Sysctls))
	for i, info := range lvs.Sysctls {
		ss[i] = lvs.Sysctl{Name: info.Name, Value: info.Default}
	}
	return ss
}

func setSysctl(ss []lvs.Sysctl, name, value string) {
	for i := range ss {
		if ss[i].Name == name {
			ss[i].Value = value
			return
		}
	}
	panic(name)
}

// The live kernel settings that differ from a fresh namespace's become
// the sysctl block, and the adopted configuration plans nothing against
// the kernel it came from (settings read for every name it owns); a
// kernel at its defaults gives no block.
func TestAdoptSysctls(t *testing.T) {
	live := everyTable()
	live.Sysctls = freshSysctls()
	// NAT needs them: planned unasked, not named.
	setSysctl(live.Sysctls, lvs.SysctlIPv4Forward, "1")
	setSysctl(live.Sysctls, lvs.SysctlIPv6Forward, "1")
	hcl, back := adoptHCL(t, live, nil)
	if strings.Contains(hcl, "sysctl {") || strings.Contains(hcl, "NOTE: the kernel has net.") {
		t.Errorf("a kernel at its defaults gave a sysctl block or a note:\n%s", hcl)
	}
	if p := plan.Diff(live, back, plan.Options{}); !p.Empty() {
		t.Errorf("plan from a kernel at its defaults to its adoption is not empty: %+v", p.Ops)
	}

	setSysctl(live.Sysctls, "net.ipv4.vs.sloppy_tcp", "1")
	setSysctl(live.Sysctls, "net.ipv4.vs.conn_reuse_mode", "0")
	setSysctl(live.Sysctls, "net.ipv4.vs.expire_nodest_conn", "") // not in this kernel
	hcl, back = adoptHCL(t, live, nil)
	for _, want := range []string{"sysctl {", "sloppy_tcp      = 1", "conn_reuse_mode = 0"} {
		if !strings.Contains(hcl, want) {
			t.Errorf("the adopted HCL lacks %q:\n%s", want, hcl)
		}
	}
	for _, absent := range []string{"expire_nodest_conn", "manage_forwarding", "pmtu_disc"} {
		if strings.Contains(hcl, absent) {
			t.Errorf("the adopted HCL has %q:\n%s", absent, hcl)
		}
	}
	wantNames := []string{lvs.SysctlIPv4Forward, "net.ipv4.vs.conn_reuse_mode", "net.ipv4.vs.sloppy_tcp", lvs.SysctlIPv6Forward}
	if got := sysctlNames(back.Sysctls); got != strings.Join(wantNames, ", ") {
		t.Errorf("the adopted configuration owns %s, want %s", got, strings.Join(wantNames, ", "))
	}
	// Against the kernel it came from, as plan reads it: nothing to do.
	k := live.Clone()
	if p := plan.Diff(k, back, plan.Options{}); !p.Empty() {
		t.Errorf("plan from the live kernel to its adoption is not empty: %+v\nHCL:\n%s", p.Ops, hcl)
	}
	// Against a fresh director: the two knobs, and forwarding for NAT.
	fresh := live.Clone()
	fresh.Sysctls = freshSysctls()
	var set []string
	for _, op := range plan.Diff(fresh, back, plan.Options{}).Ops {
		if op.Action == plan.SetSysctl {
			set = append(set, op.ToSysctl.Name+"="+op.ToSysctl.Value)
		}
	}
	if got, want := strings.Join(set, " "), "net.ipv4.ip_forward=1 net.ipv4.vs.conn_reuse_mode=0 net.ipv4.vs.sloppy_tcp=1 net.ipv6.conf.all.forwarding=1"; got != want {
		t.Errorf("on a fresh director the adoption sets %s, want %s", got, want)
	}
}

// Forwarding off under NAT real servers, and a knob at a value lvsctl
// does not write, are named in notes rather than carried silently.
func TestAdoptSysctlNotes(t *testing.T) {
	live := everyTable()
	live.Sysctls = freshSysctls()
	setSysctl(live.Sysctls, "net.ipv4.vs.sloppy_tcp", "7")
	hcl, _ := adoptHCL(t, live, nil)
	for _, want := range []string{
		"# NOTE: the kernel has net.ipv4.ip_forward = 0, but its IPv4 NAT real servers need 1: lvsctl plans to set it; add manage_forwarding = false",
		"# NOTE: the kernel has net.ipv6.conf.all.forwarding = 0, but its IPv6 NAT real servers need 1",
		"# NOTE: the kernel has net.ipv4.vs.sloppy_tcp = 7, which lvsctl does not write (it takes 0 to 1)",
	} {
		if !strings.Contains(hcl, want) {
			t.Errorf("the adopted HCL lacks %q:\n%s", want, hcl)
		}
	}
	if strings.Contains(hcl, "  sloppy_tcp") {
		t.Errorf("a value lvsctl does not write was carried:\n%s", hcl)
	}
}
