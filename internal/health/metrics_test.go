package health

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/lvsctl/lvsctl/internal/apply"
	"github.com/lvsctl/lvsctl/internal/apply/applytest"
	"github.com/lvsctl/lvsctl/lvs"
)

// scrape fetches the metrics page of srv over HTTP, as Prometheus would.
func scrape(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %s\n%s", resp.Status, b)
	}
	return string(b)
}

func wantLines(t *testing.T, page string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(page, "\n"+l+"\n") {
			t.Errorf("the scrape has no line %q", l)
		}
	}
}

func TestMetrics(t *testing.T) {
	k := applytest.New()
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg, k.Table, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()

	probes := &fakeProbes{}
	probes.set(kA.Dest, true)
	c := &Checker{
		Probe:   probes.probe,
		Metrics: m,
	}
	c.Changed = func() {
		st, q, pol := c.Snapshot()
		if _, err := apply.Converge(context.Background(), k, Desired(c.cfg, st, q, pol, time.Now()), apply.ConvergeOptions{}); err != nil {
			t.Error(err)
		}
	}
	if err := c.Load(loadConfig(t, desiredSrc)); err != nil {
		t.Fatal(err)
	}
	if err := c.Once(context.Background()); err != nil {
		t.Fatal(err)
	}

	// The kernel has counted some traffic.
	tab, err := k.Table()
	if err != nil {
		t.Fatal(err)
	}
	for i := range tab.Services {
		s := &tab.Services[i]
		if s.Key == web {
			s.Stats = lvs.Stats{Conns: 7, InPkts: 70, OutPkts: 60, InBytes: 7000, OutBytes: 60000}
			s.Dest(kB.Dest).Live.Stats = lvs.Stats{Conns: 3, InPkts: 30, OutPkts: 20, InBytes: 3000, OutBytes: 20000}
		}
	}
	k.Seed(tab)
	if err := k.SetConns(web, kB.Dest, 2, 5); err != nil {
		t.Fatal(err)
	}

	// A service the configuration does not name: a firewall mark.
	tab, err = k.Table()
	if err != nil {
		t.Fatal(err)
	}
	mark := lvs.Service{Key: lvs.MarkKey(lvs.IPv6, 7), Opts: lvs.ServiceOpts{Scheduler: "rr"}}
	mark.Dests = []lvs.Dest{{Addr: netip.MustParseAddrPort("[2001:db8::5]:443"), Opts: lvs.DestOpts{Weight: 3, Forward: lvs.Route}}}
	tab.Services = append(tab.Services, mark)
	k.Seed(tab)

	webL := labels{"virtual_server": "web", "family": "ipv4", "protocol": "tcp", "address": "10.0.0.1", "port": "80", "fwmark": ""}
	a := webL.with("real_server", "a", "real_server_address", "10.0.1.1", "real_server_port", "80")
	b := webL.with("real_server", "b", "real_server_address", "10.0.1.2", "real_server_port", "80")
	x := labels{"virtual_server": "plain", "family": "ipv4", "protocol": "udp", "address": "10.0.0.2", "port": "53", "fwmark": "",
		"real_server": "x", "real_server_address": "10.0.2.1", "real_server_port": "53"}
	markL := labels{"virtual_server": "", "family": "ipv6", "protocol": "", "address": "", "port": "", "fwmark": "7"}
	page := scrape(t, srv)
	wantLines(t, page,
		a.line("lvsctl_real_server_up", 0),
		b.line("lvsctl_real_server_up", 1),
		a.line("lvsctl_real_server_configured_weight", 10),
		b.line("lvsctl_real_server_configured_weight", 5),
		a.with("direction", "down").line("lvsctl_real_server_transitions_total", 1),
		a.line("lvsctl_probe_duration_seconds_count", 1),
		b.line("lvsctl_probe_duration_seconds_count", 1),
		`lvsctl_ipvs_up 1`,
		// a was removed: the kernel has only b, at its weight.
		b.line("lvsctl_ipvs_real_server_weight", 5),
		x.line("lvsctl_ipvs_real_server_weight", 1),
		webL.line("lvsctl_ipvs_service_connections_total", 7),
		webL.with("direction", "in").line("lvsctl_ipvs_service_packets_total", 70),
		webL.with("direction", "out").line("lvsctl_ipvs_service_packets_total", 60),
		webL.with("direction", "in").line("lvsctl_ipvs_service_bytes_total", 7000),
		webL.with("direction", "out").line("lvsctl_ipvs_service_bytes_total", 60000),
		b.line("lvsctl_ipvs_real_server_connections_total", 3),
		b.with("direction", "in").line("lvsctl_ipvs_real_server_packets_total", 30),
		b.with("direction", "out").line("lvsctl_ipvs_real_server_bytes_total", 20000),
		b.line("lvsctl_ipvs_real_server_active_connections", 2),
		b.line("lvsctl_ipvs_real_server_inactive_connections", 5),
		// The firewall-mark service: its mark and family, no name.
		markL.line("lvsctl_ipvs_service_connections_total", 0),
		markL.with("real_server", "", "real_server_address", "2001:db8::5", "real_server_port", "443").line("lvsctl_ipvs_real_server_weight", 3),
	)
	if strings.Contains(page, "lvsctl_ipvs_real_server_weight"+a.String()) {
		t.Error("a is down and removed, but the scrape shows it in the kernel")
	}
	// The names, types and help texts follow Prometheus' conventions.
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("promlint: %v %v", problems, err)
	}

	// a comes back: up again, a transition up, and back in the kernel.
	probes.set(kA.Dest, false)
	if err := c.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	page = scrape(t, srv)
	wantLines(t, page,
		a.line("lvsctl_real_server_up", 1),
		a.with("direction", "up").line("lvsctl_real_server_transitions_total", 1),
		a.line("lvsctl_ipvs_real_server_weight", 10),
		a.line("lvsctl_probe_duration_seconds_count", 2),
	)

	// A reload without a forgets its series.
	if err := c.Load(loadConfig(t, strings.Replace(desiredSrc, "real_server \"a\"", "real_server \"a2\"", 1))); err != nil {
		t.Fatal(err)
	}
	page = scrape(t, srv)
	if strings.Contains(page, `real_server="a",`) {
		t.Errorf("the series of a real server gone on reload are still there:\n%s", page)
	}
	wantLines(t, page, webL.with("real_server", "a2", "real_server_address", "10.0.1.1", "real_server_port", "80").line("lvsctl_real_server_up", 1))
}

// labels are a series' labels, written as the exposition format does.
type labels map[string]string

// with is l and more labels, given as name, value pairs.
func (l labels) with(kv ...string) labels {
	out := labels{}
	maps.Copy(out, l)
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// String is {a="1",b="2"}, the names sorted.
func (l labels) String() string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(l)) {
		parts = append(parts, fmt.Sprintf("%s=%q", k, l[k]))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// line is the scrape's line of metric name with labels l and value v.
func (l labels) line(name string, v float64) string {
	return fmt.Sprintf("%s%s %g", name, l, v)
}

func TestMetricsKernelError(t *testing.T) {
	reg := prometheus.NewRegistry()
	_, err := NewMetrics(reg, func() (*lvs.Table, error) { return nil, io.ErrUnexpectedEOF }, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	wantLines(t, scrape(t, srv), `lvsctl_ipvs_up 0`)
}
