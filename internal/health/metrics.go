package health

import (
	"log/slog"
	"net/netip"
	"slices"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/lvs"
)

// Metrics exports a checker's health and the live IPVS counters to
// Prometheus. The health part follows the checker; the IPVS part is read
// from the kernel at scrape time, so that a scrape always shows the table
// as it is, including changes made by someone other than check.
//
// Every series of a service has its name in the configuration
// (virtual_server) and its key in labels of their own, the same in every
// metric: family (ipv4, ipv6), protocol (tcp, udp, sctp), address and
// port for an address service; family and fwmark for a firewall-mark
// service, whose protocol, address and port are empty (Prometheus takes an
// empty label for an absent one), as the fwmark of an address service is.
// A real server's series add real_server (its name) and
// real_server_address and real_server_port. A service or real server in
// the kernel that the configuration does not name has an empty name.
type Metrics struct {
	table func() (*lvs.Table, error)
	log   *slog.Logger

	transitions *prometheus.CounterVec
	latency     *prometheus.HistogramVec

	mu      sync.Mutex
	targets []Target
	down    map[Key]bool
	weight  map[Key]int // configured
	svcName map[lvs.ServiceKey]string
	rsName  map[Key]string
}

var (
	svcLabels = []string{"virtual_server", "family", "protocol", "address", "port", "fwmark"}
	rsLabels  = append(slices.Clone(svcLabels), "real_server", "real_server_address", "real_server_port")

	descUp = prometheus.NewDesc("lvsctl_real_server_up",
		"Health of a probed real server: 1 up, 0 down (removed or quiesced).", rsLabels, nil)
	descConfWeight = prometheus.NewDesc("lvsctl_real_server_configured_weight",
		"Weight of a probed real server in the configuration.", rsLabels, nil)
	descWeight = prometheus.NewDesc("lvsctl_ipvs_real_server_weight",
		"Current weight of a real server in the kernel's IPVS table.", rsLabels, nil)
	descScrape = prometheus.NewDesc("lvsctl_ipvs_up",
		"Whether the IPVS table could be read at this scrape: 1 yes, 0 no.", nil, nil)

	descSvcConns = prometheus.NewDesc("lvsctl_ipvs_service_connections_total",
		"Connections scheduled by a virtual service (kernel counter).", svcLabels, nil)
	descSvcPkts = prometheus.NewDesc("lvsctl_ipvs_service_packets_total",
		"Packets through a virtual service, by direction (in: from clients, out: replies).", append(svcLabels, "direction"), nil)
	descSvcBytes = prometheus.NewDesc("lvsctl_ipvs_service_bytes_total",
		"Bytes through a virtual service, by direction (in: from clients, out: replies).", append(svcLabels, "direction"), nil)

	descRSConns = prometheus.NewDesc("lvsctl_ipvs_real_server_connections_total",
		"Connections scheduled to a real server (kernel counter).", rsLabels, nil)
	descRSPkts = prometheus.NewDesc("lvsctl_ipvs_real_server_packets_total",
		"Packets to and from a real server, by direction.", append(rsLabels, "direction"), nil)
	descRSBytes = prometheus.NewDesc("lvsctl_ipvs_real_server_bytes_total",
		"Bytes to and from a real server, by direction.", append(rsLabels, "direction"), nil)
	descRSActive = prometheus.NewDesc("lvsctl_ipvs_real_server_active_connections",
		"Active (established) connections of a real server.", rsLabels, nil)
	descRSInact = prometheus.NewDesc("lvsctl_ipvs_real_server_inactive_connections",
		"Inactive connections (not established or closing) of a real server.", rsLabels, nil)
)

// NewMetrics returns the metrics of a checker whose kernel table is read
// by table at each scrape (nil: no IPVS metrics), and registers them with
// reg. A table error is logged on log and gives lvsctl_ipvs_up 0.
func NewMetrics(reg prometheus.Registerer, table func() (*lvs.Table, error), log *slog.Logger) (*Metrics, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{
		table: table,
		log:   log,
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lvsctl_real_server_transitions_total",
			Help: "Real servers going up or down (direction), as decided by rise and fall.",
		}, append(rsLabels, "direction")),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "lvsctl_probe_duration_seconds",
			Help: "How long each probe took, passed or failed.",
			// From a loopback connect to a probe that hits its timeout.
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, rsLabels),
	}
	for _, c := range []prometheus.Collector{m, m.transitions, m.latency} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// load sets the real servers of a new configuration and their health,
// and forgets the series of real servers that are gone.
func (m *Metrics) load(cfg *model.Config, targets []Target, states States) {
	m.mu.Lock()
	defer m.mu.Unlock()
	type names struct{ vs, rs string }
	keep := make(map[Key]names, len(targets))
	for _, t := range targets {
		keep[t.Key] = names{t.VS, t.Name}
	}
	for _, t := range m.targets {
		if keep[t.Key] != (names{t.VS, t.Name}) {
			l := targetLabels(t)
			m.transitions.DeletePartialMatch(labelMap(rsLabels, l))
			m.latency.DeleteLabelValues(l...)
		}
	}
	m.targets = targets
	m.down = make(map[Key]bool, len(targets))
	for _, t := range targets {
		m.down[t.Key] = states[t.Key].Down
	}
	m.weight = make(map[Key]int)
	m.svcName = make(map[lvs.ServiceKey]string)
	m.rsName = make(map[Key]string)
	if cfg.Table == nil {
		return
	}
	for _, s := range cfg.Table.Services {
		m.svcName[s.Key] = s.Name
		for _, d := range s.Dests {
			k := Key{s.Key, d.Addr}
			m.weight[k] = d.Opts.Weight
			m.rsName[k] = d.Name
		}
		if st := cfg.Settings(s.Name); st != nil && st.SorryServer.IsValid() {
			if _, ok := m.rsName[Key{s.Key, st.SorryServer}]; !ok {
				m.rsName[Key{s.Key, st.SorryServer}] = "sorry_server"
			}
		}
	}
}

// observe records one probe of t and the transition it caused, if any.
func (m *Metrics) observe(t Target, r Result, tr *Transition) {
	l := targetLabels(t)
	m.latency.WithLabelValues(l...).Observe(r.Latency.Seconds())
	if tr == nil {
		return
	}
	dir := "down"
	if tr.Up {
		dir = "up"
	}
	m.transitions.WithLabelValues(append(l, dir)...).Inc()
	m.mu.Lock()
	m.down[t.Key] = !tr.Up
	m.mu.Unlock()
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descUp, descConfWeight, descWeight, descScrape,
		descSvcConns, descSvcPkts, descSvcBytes, descRSConns, descRSPkts, descRSBytes, descRSActive, descRSInact} {
		ch <- d
	}
}

// Collect implements prometheus.Collector: the health as the checker last
// saw it, and the kernel's counters read now.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.mu.Lock()
	for _, t := range m.targets {
		l := targetLabels(t)
		up := 1.0
		if m.down[t.Key] {
			up = 0
		}
		ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, up, l...)
		if w, ok := m.weight[t.Key]; ok {
			ch <- prometheus.MustNewConstMetric(descConfWeight, prometheus.GaugeValue, float64(w), l...)
		}
	}
	svcName := m.svcName
	rsName := m.rsName
	m.mu.Unlock()

	if m.table == nil {
		return
	}
	tab, err := m.table()
	if err != nil {
		m.log.Error("metrics: cannot read the IPVS table", "error", err)
		ch <- prometheus.MustNewConstMetric(descScrape, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(descScrape, prometheus.GaugeValue, 1)
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, s := range tab.Services {
		sl := serviceLabels(svcName[s.Key], s.Key)
		counter(descSvcConns, s.Stats.Conns, sl...)
		counter(descSvcPkts, s.Stats.InPkts, append(sl, "in")...)
		counter(descSvcPkts, s.Stats.OutPkts, append(sl, "out")...)
		counter(descSvcBytes, s.Stats.InBytes, append(sl, "in")...)
		counter(descSvcBytes, s.Stats.OutBytes, append(sl, "out")...)
		for _, d := range s.Dests {
			l := realServerLabels(sl, rsName[Key{s.Key, d.Addr}], d.Addr)
			gauge(descWeight, float64(d.Opts.Weight), l...)
			counter(descRSConns, d.Live.Stats.Conns, l...)
			counter(descRSPkts, d.Live.Stats.InPkts, append(l, "in")...)
			counter(descRSPkts, d.Live.Stats.OutPkts, append(l, "out")...)
			counter(descRSBytes, d.Live.Stats.InBytes, append(l, "in")...)
			counter(descRSBytes, d.Live.Stats.OutBytes, append(l, "out")...)
			gauge(descRSActive, float64(d.Live.ActiveConns), l...)
			gauge(descRSInact, float64(d.Live.InactConns), l...)
		}
	}
}

// serviceLabels are the values of svcLabels for the service k named vs.
// The slice has room for one more value, so that appending one (a
// direction, a real server's labels) to it never shares an array.
func serviceLabels(vs string, k lvs.ServiceKey) []string {
	l := make([]string, 0, len(rsLabels)+1)
	l = append(l, vs, k.Family.String())
	if k.IsFWMark() {
		return append(l, "", "", "", strconv.FormatUint(uint64(k.FWMark), 10))
	}
	return append(l, k.Protocol.String(), k.Addr.String(), strconv.Itoa(int(k.Port)), "")
}

// realServerLabels are the values of rsLabels for the real server name at
// addr of the service whose serviceLabels are svc.
func realServerLabels(svc []string, name string, addr netip.AddrPort) []string {
	l := make([]string, 0, len(rsLabels)+1)
	l = append(l, svc...)
	return append(l, name, addr.Addr().String(), strconv.Itoa(int(addr.Port())))
}

// targetLabels are the values of rsLabels for a probed real server.
func targetLabels(t Target) []string {
	return realServerLabels(serviceLabels(t.VS, t.Key.Service), t.Name, t.Key.Dest)
}

func labelMap(names, values []string) prometheus.Labels {
	m := make(prometheus.Labels, len(names))
	for i, n := range names {
		m[n] = values[i]
	}
	return m
}
