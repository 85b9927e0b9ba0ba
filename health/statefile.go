package health

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// StateFileVersion is the version of the published health state format.
const StateFileVersion = 1

// StateFile is the health state `lvsctl check` publishes for `apply`,
// `plan`, `show` and the next `check --once`: one entry per probed real
// server.
type StateFile struct {
	Version int       `json:"version"`
	Updated time.Time `json:"updated"`
	// Quorum and SlowStart are the checker's [Policy], so that plan and
	// apply lay the health over the table exactly as check does.
	Quorum      int          `json:"quorum,omitempty"`
	SlowStart   Duration     `json:"slow_start,omitempty"`
	RealServers []StateEntry `json:"real_servers"`
}

// StateEntry is one real server in a [StateFile]. Service and Address
// identify it (the names are for people: they may change while the
// server stays the same).
type StateEntry struct {
	VirtualServer string `json:"virtual_server"`
	RealServer    string `json:"real_server"`
	Service       string `json:"service"` // the ServiceKey as lvs prints it
	Address       string `json:"address"`
	State
}

// StatePath is where check publishes the health of network namespace
// netns ("" for the current one) under dir.
func StatePath(dir, netns string) string {
	name := "default"
	if netns != "" {
		name = strings.NewReplacer("/", "_", ".", "_").Replace(strings.TrimPrefix(netns, "/"))
	}
	return filepath.Join(dir, "health-"+name+".json")
}

// WriteState writes f to path, mode 0600, atomically: readers see the old
// file or the new one, never half of one.
func WriteState(path string, f *StateFile) error {
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("cannot create the state directory: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".health-*.tmp")
	if err != nil {
		return fmt.Errorf("cannot write the health state: %w", err)
	}
	defer os.Remove(tmp.Name())
	// CreateTemp makes the file 0600 already; Chmod says so to a reader.
	if err := tmp.Chmod(0o600); err == nil {
		_, err = tmp.Write(append(data, '\n'))
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("cannot write the health state: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("cannot write the health state: %w", err)
	}
	return nil
}

// ReadState reads a published state file. A missing file is no error: it
// gives nil, nothing known yet.
func ReadState(path string) (*StateFile, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read the health state: %w", err)
	}
	var f StateFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%s is not a health state file (%v); delete it and let check write it again", path, err)
	}
	if f.Version != StateFileVersion {
		return nil, fmt.Errorf("%s has health state version %d; this lvsctl reads version %d", path, f.Version, StateFileVersion)
	}
	return &f, nil
}

// States returns the states of f that belong to targets, by key: entries
// for real servers no longer configured are dropped.
func (f *StateFile) States(targets []Target) States {
	st := States{}
	if f == nil {
		return st
	}
	byID := make(map[[2]string]State, len(f.RealServers))
	for _, e := range f.RealServers {
		byID[[2]string{e.Service, e.Address}] = e.State
	}
	for _, t := range targets {
		if s, ok := byID[[2]string{t.Key.Service.String(), t.Key.Dest.String()}]; ok {
			st[t.Key] = s
		}
	}
	return st
}

// Policy returns the policy the checker that wrote f used.
func (f *StateFile) Policy() Policy {
	if f == nil {
		return Policy{}
	}
	return Policy{Quorum: f.Quorum, SlowStart: time.Duration(f.SlowStart)}
}

// Duration is a time.Duration written as Go writes it ("30s").
type Duration time.Duration

// MarshalText writes d as "1m30s".
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads what MarshalText wrote.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	*d = Duration(v)
	return err
}

// NewStateFile records states for targets, in target order, with the
// policy that shapes the table.
func NewStateFile(targets []Target, states States, pol Policy, now time.Time) *StateFile {
	f := &StateFile{Version: StateFileVersion, Updated: now, Quorum: pol.Quorum, SlowStart: Duration(pol.SlowStart), RealServers: []StateEntry{}}
	for _, t := range targets {
		s, ok := states[t.Key]
		if !ok {
			continue
		}
		f.RealServers = append(f.RealServers, StateEntry{
			VirtualServer: t.VS, RealServer: t.Name,
			Service: t.Key.Service.String(), Address: t.Key.Dest.String(),
			State: s,
		})
	}
	return f
}
