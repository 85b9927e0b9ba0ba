package pulse

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics exports a Daemon's failover state to Prometheus, read from the
// daemon at each scrape so that it is never behind the status file.
type Metrics struct {
	d *Daemon

	state, linkOK, age, heartbeats, foreign, transitions *prometheus.Desc
}

// NewMetrics returns the metrics of d and registers them with reg. Until
// d runs, a scrape shows none of them.
func NewMetrics(reg prometheus.Registerer, d *Daemon) (*Metrics, error) {
	m := &Metrics{
		d: d,
		state: prometheus.NewDesc("lvsctl_pulse_active",
			"Whether this director is active (1: holds the VIPs and the IPVS table) or standby (0); role is primary or backup.",
			[]string{"role"}, nil),
		linkOK: prometheus.NewDesc("lvsctl_pulse_links_up",
			"Whether every monitored heartbeat link is up (1) or not (0).", nil, nil),
		age: prometheus.NewDesc("lvsctl_pulse_partner_last_heartbeat_age_seconds",
			"Time since the last heartbeat accepted from the partner; absent until one arrives.", nil, nil),
		heartbeats: prometheus.NewDesc("lvsctl_pulse_heartbeats_received_total",
			"Heartbeats received from the partner's address, by outcome: accepted, or ignored as forged, replayed, duplicate, malformed, reflected, unconfirmed (not echoing this run's epoch: the partner just started, or a replay) or rate_limited (piranha compat mode).",
			[]string{"outcome"}, nil),
		foreign: prometheus.NewDesc("lvsctl_pulse_heartbeats_foreign_total",
			"Packets on the heartbeat port from an address other than the partner's, ignored.", nil, nil),
		transitions: prometheus.NewDesc("lvsctl_pulse_transitions_total",
			"Changes of state, by the state entered (active or standby).", []string{"to"}, nil),
	}
	if err := reg.Register(m); err != nil {
		return nil, err
	}
	return m, nil
}

// Describe sends the metrics' descriptions.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.state, m.linkOK, m.age, m.heartbeats, m.foreign, m.transitions} {
		ch <- d
	}
}

// Collect reads the daemon's state.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	d := m.d
	d.mu.Lock()
	if d.m == nil {
		d.mu.Unlock()
		return
	}
	st := d.m.Status()
	c := d.Codec.Counts()
	foreign, toActive, toStandby := d.foreign, d.toActive, d.toStandby
	now := d.Now
	d.mu.Unlock()

	active := 0.0
	if st.Active {
		active = 1
	}
	ch <- prometheus.MustNewConstMetric(m.state, prometheus.GaugeValue, active, st.Role.String())
	links := 0.0
	if st.LinkOK {
		links = 1
	}
	ch <- prometheus.MustNewConstMetric(m.linkOK, prometheus.GaugeValue, links)
	if !st.LastHeartbeat.IsZero() {
		ch <- prometheus.MustNewConstMetric(m.age, prometheus.GaugeValue, now().Sub(st.LastHeartbeat).Seconds())
	}
	for _, o := range []struct {
		name string
		n    uint64
	}{
		{"accepted", c.Accepted}, {"forged", c.Forged}, {"replayed", c.Replayed},
		{"duplicate", c.Duplicate}, {"malformed", c.Malformed}, {"reflected", c.Reflected},
		{"unconfirmed", c.Unconfirmed}, {"rate_limited", c.RateLimited},
	} {
		ch <- prometheus.MustNewConstMetric(m.heartbeats, prometheus.CounterValue, float64(o.n), o.name)
	}
	ch <- prometheus.MustNewConstMetric(m.foreign, prometheus.CounterValue, float64(foreign))
	ch <- prometheus.MustNewConstMetric(m.transitions, prometheus.CounterValue, float64(toActive), "active")
	ch <- prometheus.MustNewConstMetric(m.transitions, prometheus.CounterValue, float64(toStandby), "standby")
}
