package health

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// A published state as check writes it, for the seeds.
const stateSeed = `{
  "version": 1,
  "updated": "2026-01-02T03:04:05Z",
  "quorum": 2,
  "slow_start": "30s",
  "max_interval": "6s",
  "real_servers": [
    {
      "virtual_server": "web",
      "real_server": "real1",
      "service": "TCP 10.0.0.2:80",
      "address": "10.0.1.1:80",
      "down": true,
      "passes": 0,
      "fails": 3,
      "since": "2026-01-02T03:04:00+01:00",
      "reason": "connect to 10.0.1.1:80: connection refused",
      "probed": "2026-01-02T03:04:05.123456789Z"
    }
  ]
}`

// FuzzReadState feeds the health state reader arbitrary files. It must not
// panic; a state it reads must survive WriteState's encoding unchanged, and
// the readers' uses of it (States, Policy, Stale) must not panic either.
func FuzzReadState(f *testing.F) {
	f.Add([]byte(stateSeed))
	f.Add([]byte(`{"version": 1, "real_servers": []}`))
	f.Add([]byte(`{"version": 2}`))
	f.Add([]byte(`{"version": 1, "slow_start": "-9223372036854775808ns", "max_interval": "2562047h"}`))
	f.Add([]byte(`{"version": 1, "quorum_lost": {"TCP 10.0.0.1:80": true, "x": false}, "real_servers": [{"service": "TCP 10.0.0.1:80", "address": "10.0.1.1:80", "weight": 253}]}`))
	f.Add([]byte(`{"version": 1, "quorum_lost": [], "real_servers": [{"service": "s", "address": "a", "weight": -1}]}`))
	f.Add([]byte(`{"version": 1, "real_servers": [{"service": "s", "address": "a", "down": true, "checks": [{"down": false, "passes": 1}, {"down": true, "fails": 2, "reason": "HTTP 503"}]}]}`))
	cfg := loadConfig(f, quorumSrc)
	f.Fuzz(func(t *testing.T, data []byte) {
		sf, err := decodeState("health.json", data)
		if err != nil {
			return
		}
		_ = sf.States(nil)
		_ = sf.States(Targets(cfg))
		_ = sf.Quorums(cfg)
		_ = sf.Policy()
		_ = sf.Stale(t0)
		_ = sf.StaleAfter()
		out, err := json.MarshalIndent(sf, "", "  ")
		if err != nil {
			// encoding/json reads times it cannot write back (a
			// year past 9999 in an offset that brings it back).
			if strings.Contains(err.Error(), "Time.MarshalJSON") {
				return
			}
			t.Fatalf("a state that was read cannot be written: %v", err)
		}
		back, err := decodeState("health.json", out)
		if err != nil {
			t.Fatalf("re-reading %s: %v", out, err)
		}
		if d := cmp.Diff(sf, back); d != "" {
			t.Fatalf("round trip (-read +re-read):\n%s", d)
		}
	})
}

// TestReadStateBounded: a file past the size limit is refused without
// being read, a mebibyte of empty entries is refused at the first, and a
// mebibyte of the smallest entries allocates a bounded multiple of itself.
func TestReadStateBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "health.json")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(maxStateFile + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := ReadState(path); err == nil || !strings.Contains(err.Error(), "larger than 16 MiB") {
		t.Errorf("a huge file: %v", err)
	}
	empty := []byte(`{"version": 1, "real_servers": [` + strings.Repeat(`{},`, 1<<20/3) + `{}]}`)
	alloc := allocated(func() { _, err = decodeState("health.json", empty) })
	if err == nil || !strings.Contains(err.Error(), "real_servers[0] does not name its service and address") {
		t.Errorf("empty entries: %v", err)
	}
	if limit := uint64(4 * len(empty)); alloc > limit {
		t.Errorf("refusing %d bytes of empty entries allocated %d, more than %d", len(empty), alloc, limit)
	}
	entry := `{"service":"a","address":"b"},`
	in := []byte(`{"version": 1, "real_servers": [` + strings.Repeat(entry, 1<<20/len(entry)) + `{"service":"a","address":"b"}]}`)
	var sf *StateFile
	alloc = allocated(func() { sf, err = decodeState("health.json", in) })
	if err != nil || len(sf.RealServers) == 0 {
		t.Fatal(err)
	}
	// 36: an entry is a few hundred bytes of State for its thirty bytes
	// of JSON (the list of a real server's checks added 24 to it).
	if limit := uint64(36 * len(in)); alloc > limit {
		t.Errorf("reading %d bytes allocated %d, more than %d", len(in), alloc, limit)
	}
	t.Logf("%d bytes in, %d entries, %d allocated", len(in), len(sf.RealServers), alloc)
	start := time.Now()
	_ = sf.States(nil)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("States took %s", d)
	}
}
