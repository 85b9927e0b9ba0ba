package health

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

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

	page := scrape(t, srv)
	wantLines(t, page,
		`lvsctl_real_server_up{address="10.0.1.1:80",real_server="a",virtual_server="web"} 0`,
		`lvsctl_real_server_up{address="10.0.1.2:80",real_server="b",virtual_server="web"} 1`,
		`lvsctl_real_server_configured_weight{address="10.0.1.1:80",real_server="a",virtual_server="web"} 10`,
		`lvsctl_real_server_configured_weight{address="10.0.1.2:80",real_server="b",virtual_server="web"} 5`,
		`lvsctl_real_server_transitions_total{address="10.0.1.1:80",direction="down",real_server="a",virtual_server="web"} 1`,
		`lvsctl_probe_duration_seconds_count{address="10.0.1.1:80",real_server="a",virtual_server="web"} 1`,
		`lvsctl_probe_duration_seconds_count{address="10.0.1.2:80",real_server="b",virtual_server="web"} 1`,
		`lvsctl_ipvs_up 1`,
		// a was removed: the kernel has only b, at its weight.
		`lvsctl_ipvs_real_server_weight{address="10.0.1.2:80",real_server="b",virtual_server="web"} 5`,
		`lvsctl_ipvs_real_server_weight{address="10.0.2.1:53",real_server="x",virtual_server="plain"} 1`,
		`lvsctl_ipvs_service_connections_total{address="tcp 10.0.0.1:80",virtual_server="web"} 7`,
		`lvsctl_ipvs_service_packets_total{address="tcp 10.0.0.1:80",direction="in",virtual_server="web"} 70`,
		`lvsctl_ipvs_service_packets_total{address="tcp 10.0.0.1:80",direction="out",virtual_server="web"} 60`,
		`lvsctl_ipvs_service_bytes_total{address="tcp 10.0.0.1:80",direction="in",virtual_server="web"} 7000`,
		`lvsctl_ipvs_service_bytes_total{address="tcp 10.0.0.1:80",direction="out",virtual_server="web"} 60000`,
		`lvsctl_ipvs_real_server_connections_total{address="10.0.1.2:80",real_server="b",virtual_server="web"} 3`,
		`lvsctl_ipvs_real_server_packets_total{address="10.0.1.2:80",direction="in",real_server="b",virtual_server="web"} 30`,
		`lvsctl_ipvs_real_server_bytes_total{address="10.0.1.2:80",direction="out",real_server="b",virtual_server="web"} 20000`,
		`lvsctl_ipvs_real_server_active_connections{address="10.0.1.2:80",real_server="b",virtual_server="web"} 2`,
		`lvsctl_ipvs_real_server_inactive_connections{address="10.0.1.2:80",real_server="b",virtual_server="web"} 5`,
	)
	if strings.Contains(page, `lvsctl_ipvs_real_server_weight{address="10.0.1.1:80"`) {
		t.Error("a is down and removed, but the scrape shows it in the kernel")
	}

	// a comes back: up again, a transition up, and back in the kernel.
	probes.set(kA.Dest, false)
	if err := c.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	page = scrape(t, srv)
	wantLines(t, page,
		`lvsctl_real_server_up{address="10.0.1.1:80",real_server="a",virtual_server="web"} 1`,
		`lvsctl_real_server_transitions_total{address="10.0.1.1:80",direction="up",real_server="a",virtual_server="web"} 1`,
		`lvsctl_ipvs_real_server_weight{address="10.0.1.1:80",real_server="a",virtual_server="web"} 10`,
		`lvsctl_probe_duration_seconds_count{address="10.0.1.1:80",real_server="a",virtual_server="web"} 2`,
	)

	// A reload without a forgets its series.
	if err := c.Load(loadConfig(t, strings.Replace(desiredSrc, "real_server \"a\"", "real_server \"a2\"", 1))); err != nil {
		t.Fatal(err)
	}
	page = scrape(t, srv)
	if strings.Contains(page, `real_server="a",`) {
		t.Errorf("the series of a real server gone on reload are still there:\n%s", page)
	}
	wantLines(t, page, `lvsctl_real_server_up{address="10.0.1.1:80",real_server="a2",virtual_server="web"} 1`)
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
