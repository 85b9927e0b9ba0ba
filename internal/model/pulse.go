package model

import (
	"net/netip"
	"time"
)

// Pulse defaults.
const (
	DefaultHeartbeatPort = 539
	DefaultKeepalive     = 2 * time.Second
	DefaultDeadtime      = 5 * time.Second
	DefaultPulseKeyFile  = "/etc/lvsctl/pulse.key"
)

// Pulse is the failover pair: two directors exchanging heartbeats, the
// active one holding the VIPs and the IPVS table.
type Pulse struct {
	Primary        netip.Addr // public address of the primary director
	Backup         netip.Addr // public address of the backup; unset for a single director
	PrimaryPrivate netip.Addr // second heartbeat path; set together with BackupPrivate
	BackupPrivate  netip.Addr
	// BackupActive says the backup runs; it defaults to true when Backup is
	// set (piranha's backup_active).
	BackupActive  bool
	HeartbeatPort uint16        // UDP; default 539
	Keepalive     time.Duration // between heartbeats; default 2s
	Deadtime      time.Duration // silence before taking over; default 5s
	MonitorLinks  bool          // a link down on the heartbeat devices forbids being active
	// ActiveCmd and InactiveCmd run when this node becomes active or
	// standby, split on blanks and run without a shell.
	ActiveCmd   string
	InactiveCmd string
	// Preempt lets a returning primary take over from an active backup;
	// piranha never did (false).
	Preempt bool
	// PiranhaCompat speaks piranha's unauthenticated 4-byte heartbeats,
	// for migrating a pair one node at a time.
	PiranhaCompat bool
	// KeyFile holds the heartbeat HMAC key; default /etc/lvsctl/pulse.key.
	KeyFile string

	NATRouter  *NATRouter  // the NAT gateway address the active node holds
	SyncDaemon *SyncDaemon // IPVS connection sync; nil when off
}

// NATRouter is the floating gateway address of a NAT director pair.
type NATRouter struct {
	Address netip.Addr
	Device  string
	Netmask int // prefix length; 0 when not given
}

// SyncDaemon is the kernel's IPVS connection synchronisation: master on
// the active node, backup on the standby.
type SyncDaemon struct {
	Interface string
	ID        uint8
}

// DefaultPulse returns a pulse block with every default set.
func DefaultPulse() Pulse {
	return Pulse{HeartbeatPort: DefaultHeartbeatPort, Keepalive: DefaultKeepalive, Deadtime: DefaultDeadtime, KeyFile: DefaultPulseKeyFile}
}
