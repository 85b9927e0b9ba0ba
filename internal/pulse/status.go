package pulse

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/lvsctl/lvsctl/internal/atomicfile"
	"github.com/lvsctl/lvsctl/internal/pulse/wire"
	"github.com/lvsctl/lvsctl/internal/regular"
)

// DefaultStatusFile is where a running pulse publishes its state.
const DefaultStatusFile = "/run/lvsctl/pulse.json"

// StatusFile is what `lvsctl pulse status` reads.
type StatusFile struct {
	PID           int         `json:"pid"`
	Role          string      `json:"role"`
	State         string      `json:"state"` // active or standby
	Reason        string      `json:"reason"`
	Peer          string      `json:"peer,omitempty"` // the partner's last announced state
	PeerAddresses []string    `json:"peer_addresses,omitempty"`
	LastHeartbeat time.Time   `json:"last_heartbeat,omitzero"`
	LinkOK        bool        `json:"link_ok"`
	Heartbeats    wire.Counts `json:"heartbeats"`
	// Foreign counts packets from addresses other than the partner's.
	Foreign uint64 `json:"foreign"`
	// HealthGate is the primary's health gate (Status.Gate), "" for a
	// node without one; HealthGateOpens when a waiting one opens by
	// itself.
	HealthGate      string    `json:"health_gate,omitempty"`
	HealthGateOpens time.Time `json:"health_gate_opens,omitzero"`
	Updated         time.Time `json:"updated"`
}

func (d *Daemon) writeStatus() {
	if d.StatusFile == "" {
		return
	}
	d.mu.Lock()
	st := d.m.Status()
	sf := StatusFile{
		PID: os.Getpid(), Role: st.Role.String(), State: "standby", Reason: st.Reason,
		LastHeartbeat: st.LastHeartbeat, LinkOK: st.LinkOK,
		Heartbeats: d.Codec.Counts(), Foreign: d.foreign, Updated: d.Now(),
		HealthGate: st.Gate, HealthGateOpens: st.GateOpens,
	}
	d.mu.Unlock()
	if st.Active {
		sf.State = "active"
	}
	if st.Peer != 0 {
		sf.Peer = st.Peer.String()
	}
	for _, p := range d.Paths {
		sf.PeerAddresses = append(sf.PeerAddresses, p.Peer.String())
	}
	if err := writeFile(d.StatusFile, sf); err != nil {
		fmt.Fprintf(d.Log, "pulse: %s\n", err)
	}
}

// writeFile replaces path atomically with sf as JSON, mode 0600.
func writeFile(path string, sf StatusFile) error {
	b, err := json.MarshalIndent(sf, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("cannot write the status file: %w", err)
	}
	if err := atomicfile.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("cannot write the status file: %w", err)
	}
	return nil
}

// ReadStatus reads a status file written by a running pulse.
func ReadStatus(path string) (*StatusFile, error) {
	f, fi, err := regular.Open(path, syscall.O_NOFOLLOW)
	if os.IsNotExist(err) {
		return nil, fmt.Errorf("no pulse status at %s: is lvsctl pulse running on this director?", path)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// A status file is a few hundred bytes.
	b, err := regular.ReadAll(f, fi, 1<<20)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var sf StatusFile
	if err := json.Unmarshal(b, &sf); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &sf, nil
}

// Render writes sf for people, as `lvsctl pulse status` shows it.
func (sf *StatusFile) Render(w io.Writer, now time.Time) {
	fmt.Fprintf(w, "Role:           %s\n", sf.Role)
	fmt.Fprintf(w, "State:          %s (%s)\n", sf.State, sf.Reason)
	for _, a := range sf.PeerAddresses {
		fmt.Fprintf(w, "Partner:        %s\n", a)
	}
	if sf.LastHeartbeat.IsZero() {
		fmt.Fprintf(w, "Last heartbeat: never\n")
	} else {
		fmt.Fprintf(w, "Last heartbeat: %s ago (partner %s)\n", now.Sub(sf.LastHeartbeat).Round(time.Millisecond), sf.Peer)
	}
	if !sf.LinkOK {
		fmt.Fprintf(w, "Links:          down\n")
	}
	if sf.HealthGate != "" {
		fmt.Fprintf(w, "Health gate:    %s", sf.HealthGate)
		if !sf.HealthGateOpens.IsZero() {
			if left := sf.HealthGateOpens.Sub(now); left > 0 {
				fmt.Fprintf(w, " (opens by itself in %s)", left.Round(time.Millisecond))
			}
		}
		fmt.Fprintln(w)
	}
	c := sf.Heartbeats
	fmt.Fprintf(w, "Heartbeats:     %d accepted, %d unconfirmed, %d forged, %d replayed, %d malformed, %d reflected, %d rate-limited, %d from other hosts\n",
		c.Accepted, c.Unconfirmed, c.Forged, c.Replayed, c.Malformed, c.Reflected, c.RateLimited, sf.Foreign)
	if age := now.Sub(sf.Updated); age > 5*time.Second {
		fmt.Fprintf(w, "Warning: this status is %s old; pulse (pid %d) may not be running\n", age.Round(time.Second), sf.PID)
	}
}
