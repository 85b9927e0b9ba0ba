package reconcile

import (
	"github.com/prometheus/client_golang/prometheus"
)

var (
	descConverges = prometheus.NewDesc("lvsctl_director_converges_total",
		"Looks at the director that ended in the desired state (ok) or not (failed: retried with backoff).", []string{"result"}, nil)
	descOps = prometheus.NewDesc("lvsctl_director_kernel_operations_total",
		"IPVS operations the daemon made to converge the table.", nil, nil)
	descApplies = prometheus.NewDesc("lvsctl_director_applies_total",
		"Plans the daemon applied to the IPVS table under the apply lock, by result: ok, or failed (a kernel error; the daemon reads the table again and retries with backoff).", []string{"result"}, nil)
	descReads = prometheus.NewDesc("lvsctl_director_table_reads_total",
		"Whole-table reads: at start, after an error, after another lvsctl applied, and every resync.", nil, nil)
	descDrift = prometheus.NewDesc("lvsctl_director_drift_repairs_total",
		"Resyncs that found the table changed behind lvsctl's back and put it back.", nil, nil)
	descReloads = prometheus.NewDesc("lvsctl_config_reloads_total",
		"Configurations read after the first: accepted, or refused (invalid, or deleting every service) with the one in force kept.", []string{"result"}, nil)
	descLockBusy = prometheus.NewDesc("lvsctl_director_lock_busy_total",
		"Converges put off because another lvsctl held the apply lock.", nil, nil)
	descFailing = prometheus.NewDesc("lvsctl_director_converged",
		"1 when the last look ended in the desired state, 0 while converging fails.", nil, nil)
)

// Metrics exports a reconciler's counters to Prometheus, read at scrape
// time.
type Metrics struct{ r *Reconciler }

// NewMetrics registers r's metrics with reg.
func NewMetrics(reg prometheus.Registerer, r *Reconciler) (*Metrics, error) {
	m := &Metrics{r: r}
	return m, reg.Register(m)
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descConverges, descOps, descApplies, descReads, descDrift, descReloads, descLockBusy, descFailing} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	s := m.r.Stats()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	counter(descConverges, s.Converges, "ok")
	counter(descConverges, s.Failures, "failed")
	counter(descOps, s.Ops)
	counter(descApplies, s.Applies, "ok")
	counter(descApplies, s.ApplyFailures, "failed")
	counter(descReads, s.TableReads)
	counter(descDrift, s.DriftRepairs)
	counter(descReloads, s.Reloads, "accepted")
	counter(descReloads, s.ReloadsRefused, "refused")
	counter(descLockBusy, s.LockBusy)
	ok := 0.0
	if s.Converged {
		ok = 1
	}
	ch <- prometheus.MustNewConstMetric(descFailing, prometheus.GaugeValue, ok)
}
