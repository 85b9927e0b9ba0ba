package pulse

import (
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics exports a Daemon's failover state to Prometheus, read from the
// daemon at each scrape so that it is never behind the status file.
type Metrics struct {
	d *Daemon

	state, linkOK, age, heardAt, heartbeats, foreign, transitions *prometheus.Desc
}

// NewMetrics returns the metrics of d and registers them with reg. Until
// d runs, a scrape shows only the partner's last heartbeat, never heard.
//
// The partner's last heartbeat is there from the start, never absent:
// an alert on a series that does not exist yet cannot fire, and a partner
// never heard is the worst case, not a missing one. As Prometheus'
// instrumentation practice has it, the time of the event is exported as a
// Unix timestamp, lvsctl_pulse_partner_last_heartbeat_timestamp_seconds,
// 0 until the first one ("== 0": never heard; "time() - x > 10": silent
// for 10 s, which a partner never heard is too), and the age beside it for
// dashboards, +Inf until the first heartbeat.
func NewMetrics(reg prometheus.Registerer, d *Daemon) (*Metrics, error) {
	m := &Metrics{
		d: d,
		state: prometheus.NewDesc("lvsctl_pulse_active",
			"Whether this director is active (1: holds the VIPs and the IPVS table) or standby (0); role is primary or backup.",
			[]string{"role"}, nil),
		linkOK: prometheus.NewDesc("lvsctl_pulse_links_up",
			"Whether every monitored heartbeat link is up (1) or not (0).", nil, nil),
		age: prometheus.NewDesc("lvsctl_pulse_partner_last_heartbeat_age_seconds",
			"Time since the last heartbeat accepted from the partner; +Inf until one arrives.", nil, nil),
		heardAt: prometheus.NewDesc("lvsctl_pulse_partner_last_heartbeat_timestamp_seconds",
			"Unix time of the last heartbeat accepted from the partner; 0 until one arrives.", nil, nil),
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
	for _, d := range []*prometheus.Desc{m.state, m.linkOK, m.age, m.heardAt, m.heartbeats, m.foreign, m.transitions} {
		ch <- d
	}
}

// Collect reads the daemon's state.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	d := m.d
	d.mu.Lock()
	if d.m == nil {
		d.mu.Unlock()
		m.heard(ch, time.Time{}, time.Time{})
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
	m.heard(ch, st.LastHeartbeat, now())
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

// heard sends the partner's last heartbeat, at (zero: never), as seen now.
func (m *Metrics) heard(ch chan<- prometheus.Metric, at, now time.Time) {
	age, ts := math.Inf(1), 0.0
	if !at.IsZero() {
		age = now.Sub(at).Seconds()
		ts = float64(at.UnixNano()) / 1e9
	}
	ch <- prometheus.MustNewConstMetric(m.age, prometheus.GaugeValue, age)
	ch <- prometheus.MustNewConstMetric(m.heardAt, prometheus.GaugeValue, ts)
}
