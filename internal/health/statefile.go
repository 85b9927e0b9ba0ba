package health

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/lvsctl/lvsctl/internal/atomicfile"
	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/internal/rundir"
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
	Quorum    int      `json:"quorum,omitempty"`
	SlowStart Duration `json:"slow_start,omitempty"`
	// MaxInterval is the longest probe interval of the checker: a checker
	// that runs republishes within two of them, so that a reader can tell
	// a file that a running checker keeps fresh from one left behind (see
	// [StateFile.Stale]).
	MaxInterval Duration     `json:"max_interval,omitempty"`
	RealServers []StateEntry `json:"real_servers"`
	// QuorumLost says, by service (the ServiceKey as lvs prints it), for
	// each virtual server that sets a quorum, whether it has lost it.
	QuorumLost map[string]bool `json:"quorum_lost,omitempty"`
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

// WriteState writes f to path, mode 0600, atomically and durably (through
// a synced temporary file renamed over it): readers see the old file or
// the new one, never half of one, and a write that fails leaves the old
// one. path's directory must pass [rundir.Open] (it is created if
// missing).
func WriteState(path string, f *StateFile) error {
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if _, err := rundir.Open(dir); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("cannot write the health state: %w", err)
	}
	return nil
}

// maxStateFile bounds the health state file a reader takes: check writes
// about 350 bytes per real server, so this is some 45,000 of them, and
// reading it allocates at most a few hundred MiB.
const maxStateFile = 16 << 20

// ReadState reads a published state file. A missing file is no error: it
// gives nil, nothing known yet.
func ReadState(path string) (*StateFile, error) {
	// The file is in the state directory: not through a symbolic link, not
	// blocking on a FIFO, only a regular file.
	fd, err := rundir.OpenFile(path, os.O_RDONLY)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read the health state: %w", err)
	}
	defer fd.Close()
	var data []byte
	fi, err := fd.Stat()
	if err == nil && fi.Size() <= maxStateFile {
		data, err = io.ReadAll(io.LimitReader(fd, maxStateFile+1))
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read the health state: %w", err)
	}
	if fi.Size() > maxStateFile || len(data) > maxStateFile {
		return nil, fmt.Errorf("%s is larger than %d MiB, not a health state file; delete it and let check write it again", path, maxStateFile>>20)
	}
	return decodeState(path, data)
}

// decodeState reads the content of the state file at path.
func decodeState(path string, data []byte) (*StateFile, error) {
	var f StateFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%s is not a health state file (%v); delete it and let check write it again", path, err)
	}
	if f.Version != StateFileVersion {
		return nil, fmt.Errorf("%s has health state version %d; this lvsctl reads version %d", path, f.Version, StateFileVersion)
	}
	return &f, nil
}

// UnmarshalJSON reads a state file. The real servers are read one by one
// and each must name its service and address (check always writes both):
// an entry of two bytes ("{}") would otherwise cost a couple of hundred
// bytes of memory, so that a file of empty entries could make a reader
// allocate gigabytes.
func (f *StateFile) UnmarshalJSON(data []byte) error {
	type plain StateFile
	var p struct {
		*plain
		RealServers json.RawMessage `json:"real_servers"`
	}
	p.plain = (*plain)(f)
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	f.RealServers = nil
	if len(p.RealServers) == 0 || string(p.RealServers) == "null" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(p.RealServers))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return errors.New("real_servers is not an array")
	}
	es := []StateEntry{}
	var e StateEntry // one for all: decoding into it makes it escape
	for dec.More() {
		e = StateEntry{}
		if err := dec.Decode(&e); err != nil {
			return fmt.Errorf("real_servers[%d]: %w", len(es), err)
		}
		if e.Service == "" || e.Address == "" {
			return fmt.Errorf("real_servers[%d] does not name its service and address", len(es))
		}
		es = append(es, e)
	}
	f.RealServers = es
	return nil
}

// MinStaleAfter is the least age at which a reader ignores a state file,
// whatever the checker's interval.
const MinStaleAfter = 10 * time.Second

// StaleAfter is the age at which a reader other than the checker ignores
// f: three of its checker's longest probe intervals, at least
// [MinStaleAfter]. A running checker republishes at most about two
// intervals apart (a probe, its timeout, the next probe).
func (f *StateFile) StaleAfter() time.Duration {
	return max(3*time.Duration(f.MaxInterval), MinStaleAfter)
}

// Stale says whether f is too old, at now, to describe the real servers:
// nil when it is fresh, else why not, for a warning. It is pure. A reader
// that ignores a stale file brings every real server back up: health that
// nobody keeps checking must not keep a server out forever.
func (f *StateFile) Stale(now time.Time) error {
	age := now.Sub(f.Updated)
	every := ""
	if f.MaxInterval > 0 {
		every = fmt.Sprintf(" (check runs every %s)", time.Duration(f.MaxInterval))
	}
	at := f.Updated.Local().Format(time.RFC3339)
	switch limit := f.StaleAfter(); {
	case age > limit:
		return fmt.Errorf("health published by lvsctl check at %s is %s old%s: ignored; is lvsctl check running?", at, roughly(age), every)
	case -age > limit:
		return fmt.Errorf("health published by lvsctl check is dated %s, %s in the future: ignored; check the clock", at, roughly(-age))
	}
	return nil
}

// roughly writes d the way a person would say it: "40s", "12m", "2h", "3d".
func roughly(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	}
	return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
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

// Quorums returns the quorums of f that belong to services of cfg that
// set one.
func (f *StateFile) Quorums(cfg *model.Config) Quorums {
	q := Quorums{}
	if f == nil || len(f.QuorumLost) == 0 || cfg.Table == nil {
		return q
	}
	for _, s := range cfg.Table.Services {
		if st := cfg.Settings(s.Name); st != nil && st.Quorum > 0 {
			if lost, ok := f.QuorumLost[s.Key.String()]; ok {
				q[s.Key] = lost
			}
		}
	}
	return q
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

// NewStateFile records states for targets, in target order, and the
// quorums, with the policy that shapes the table and the longest interval
// of their checks.
func NewStateFile(targets []Target, states States, quorums Quorums, pol Policy, now time.Time) *StateFile {
	f := &StateFile{Version: StateFileVersion, Updated: now, Quorum: pol.Quorum, SlowStart: Duration(pol.SlowStart), RealServers: []StateEntry{}}
	for k, lost := range quorums {
		if f.QuorumLost == nil {
			f.QuorumLost = map[string]bool{}
		}
		f.QuorumLost[k.String()] = lost
	}
	for _, t := range targets {
		checks := t.Check.Checks()
		if len(checks) == 0 {
			checks = []*model.HealthCheck{{}}
		}
		for _, c := range checks {
			every := model.DefaultCheckInterval
			if c.Interval > 0 {
				every = c.Interval
			}
			f.MaxInterval = max(f.MaxInterval, Duration(every))
		}
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
