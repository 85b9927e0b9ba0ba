package pulse

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/lvsctl/lvsctl/internal/pulse/wire"
)

// director says when the daemon first makes it active.
type director struct {
	activated chan struct{}
	once      sync.Once
}

func (d *director) SetActive(active bool) {
	if active {
		d.once.Do(func() { close(d.activated) })
	}
}
func (d *director) Reannounce() {}

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestMetricsScrape(t *testing.T) {
	self, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Fatal(err)
	}
	peer, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	key := bytes.Repeat([]byte{7}, 32)
	dir := &director{activated: make(chan struct{})}
	d := &Daemon{
		Settings: Settings{Role: wire.Primary, Keepalive: 20 * time.Millisecond, Deadtime: 60 * time.Millisecond},
		Paths:    []Path{{Conn: self, Peer: peer.LocalAddr().(*net.UDPAddr).AddrPort()}},
		Codec:    NewAuthCodec(wire.Primary, key),
		Director: dir,
	}
	reg := prometheus.NewRegistry()
	if _, err := NewMetrics(reg, d); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	// Before the daemon runs: the partner never heard, and nothing else.
	never := `
# HELP lvsctl_pulse_partner_last_heartbeat_age_seconds Time since the last heartbeat accepted from the partner; +Inf until one arrives.
# TYPE lvsctl_pulse_partner_last_heartbeat_age_seconds gauge
lvsctl_pulse_partner_last_heartbeat_age_seconds +Inf
# HELP lvsctl_pulse_partner_last_heartbeat_timestamp_seconds Unix time of the last heartbeat accepted from the partner; 0 until one arrives.
# TYPE lvsctl_pulse_partner_last_heartbeat_timestamp_seconds gauge
lvsctl_pulse_partner_last_heartbeat_timestamp_seconds 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(never)); err != nil {
		t.Fatalf("before the daemon runs: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	start := time.Now()
	go func() { done <- d.Run(ctx) }()
	defer func() { cancel(); <-done }()
	// The partner is silent: the primary takes over after deadtime.
	select {
	case <-dir.activated:
	case <-time.After(5 * time.Second):
		t.Fatal("the primary did not take over from a silent partner")
	}

	to := self.LocalAddr()
	// The backup hears the primary before it sends, so that its
	// heartbeats echo the primary's epoch and are accepted.
	backup := NewAuthCodec(wire.Backup, key)
	if err := peer.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	n, _, err := peer.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := backup.Decode(buf[:n]); !errors.Is(err, wire.ErrUnconfirmed) {
		t.Fatalf("the primary's heartbeat, which echoes nothing yet: %v", err)
	}
	// A run of the backup that never heard this primary.
	stale := NewAuthCodec(wire.Backup, key).Encode(wire.Standby, 0)
	good := backup.Encode(wire.Standby, 0)
	forged := NewAuthCodec(wire.Backup, bytes.Repeat([]byte{8}, 32)).Encode(wire.Standby, 0)
	old := good
	for _, b := range [][]byte{stale, good, good, forged, []byte("junk")} {
		if _, err := peer.WriteTo(b, to); err != nil {
			t.Fatal(err)
		}
	}
	newer := backup.Encode(wire.Standby, 0)
	for _, b := range [][]byte{newer, old} { // old is now a replay
		if _, err := peer.WriteTo(b, to); err != nil {
			t.Fatal(err)
		}
	}

	want := []string{
		`lvsctl_pulse_active{role="primary"} 1`,
		`lvsctl_pulse_links_up 1`,
		`lvsctl_pulse_transitions_total{to="active"} 1`,
		`lvsctl_pulse_transitions_total{to="standby"} 0`,
		`lvsctl_pulse_heartbeats_received_total{outcome="accepted"} 2`,
		`lvsctl_pulse_heartbeats_received_total{outcome="forged"} 1`,
		`lvsctl_pulse_heartbeats_received_total{outcome="malformed"} 1`,
		// The second copy of good, and old after newer.
		`lvsctl_pulse_heartbeats_received_total{outcome="duplicate"} 1`,
		`lvsctl_pulse_heartbeats_received_total{outcome="replayed"} 1`,
		`lvsctl_pulse_heartbeats_received_total{outcome="unconfirmed"} 1`,
		`lvsctl_pulse_heartbeats_received_total{outcome="rate_limited"} 0`,
		`lvsctl_pulse_heartbeats_foreign_total 0`,
		`lvsctl_pulse_partner_last_heartbeat_age_seconds `,
	}
	var got string
	deadline := time.Now().Add(5 * time.Second)
	for {
		got = scrape(t, srv.URL)
		missing := ""
		for _, w := range want {
			if !strings.Contains(got, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("scrape lacks %q:\n%s", missing, got)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Heard: the age is finite and the timestamp is the time of a
	// heartbeat of this run.
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var age, at float64 = -1, -1
	for _, mf := range mfs {
		switch mf.GetName() {
		case "lvsctl_pulse_partner_last_heartbeat_age_seconds":
			age = mf.GetMetric()[0].GetGauge().GetValue()
		case "lvsctl_pulse_partner_last_heartbeat_timestamp_seconds":
			at = mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	if math.IsInf(age, 0) || age < 0 || age > 5 {
		t.Errorf("partner heard, but its heartbeat's age is %g", age)
	}
	if at < float64(start.Unix()) || at > float64(time.Now().Unix()+1) {
		t.Errorf("partner heard, but its last heartbeat's timestamp is %g (the test started at %d)", at, start.Unix())
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("promlint: %v %v", problems, err)
	}
}
