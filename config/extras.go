package config

import (
	"net/netip"
	"time"

	"github.com/lvsctl/lvsctl/lvs"
)

// This file holds the typed settings that lie beside the IPVS table: health
// checks, sorry servers and VIP devices per virtual server, and the pulse
// (director failover) block. `lvsctl check` and `lvsctl pulse` act on them;
// the table itself never depends on them.

// Health check types.
const (
	CheckTCP        = "tcp"         // a TCP connect
	CheckSendExpect = "send_expect" // nanny's probe: send, then match the reply, over TCP or UDP
	CheckHTTP       = "http"
	CheckHTTPS      = "https"
	CheckDNS        = "dns"
	CheckExec       = "exec" // an external program, run without a shell
)

// CheckTypes are the values of health_check's type attribute.
var CheckTypes = []string{CheckTCP, CheckSendExpect, CheckHTTP, CheckHTTPS, CheckDNS, CheckExec}

// What a health check does with a real server that fails it.
const (
	OnFailureRemove  = "remove"  // delete it from the service (nanny's default)
	OnFailureQuiesce = "quiesce" // set its weight to 0 so its connections drain (nanny -q)
)

// Health check defaults, applied when an attribute is not written.
const (
	DefaultCheckInterval = 5 * time.Second
	DefaultCheckRise     = 1
	DefaultCheckFall     = 1
	DefaultHTTPMethod    = "GET"
	DefaultHTTPPath      = "/"
	DefaultDNSQueryType  = "A"
)

// DNSQueryTypes are the record types a dns check may ask for.
var DNSQueryTypes = []string{"A", "AAAA", "CNAME", "MX", "NS", "PTR", "SOA", "SRV", "TXT"}

// A HealthCheck is how one real server is probed: a virtual server's
// health_check block, merged with the real server's own block when it has
// one. Every field holds the value in effect, defaults filled in.
type HealthCheck struct {
	Type string // one of CheckTypes

	// Protocol is the transport of a send_expect probe: lvs.TCP or lvs.UDP.
	// It defaults to the service's protocol (TCP for fwmark services).
	Protocol lvs.Protocol
	// Port is the port probed; 0 means the real server's own port.
	Port uint16

	// Send is sent after connecting (send_expect); the bytes as they are,
	// HCL escapes such as \r\n already decoded.
	Send string
	// Expect is matched against the start of the reply (send_expect; "*"
	// accepts any reply), or, for exec, compared with the program's whole
	// output as nanny did: no output at all also passes.
	Expect string
	// ExpectRegex is a regular expression the reply must match (send_expect).
	ExpectRegex string
	// Program is the exec command line, split on blanks and run without a
	// shell; %h and %p are replaced by the real server's address and port.
	Program string

	// HTTP and HTTPS.
	Method    string // default GET
	Path      string // default /
	Host      string // Host header; "" uses the real server's address
	Status    []int  // accepted status codes; empty accepts any 2xx or 3xx
	BodyRegex string // the body must match, when set
	TLSVerify bool   // https: verify the certificate (default true)

	// DNS.
	QueryName string
	QueryType string // default A

	Interval  time.Duration // between probes; default 5s
	Timeout   time.Duration // of one probe; default the interval
	Rise      int           // consecutive passes to come back; default 1
	Fall      int           // consecutive failures to go out; default 1
	OnFailure string        // OnFailureRemove (default) or OnFailureQuiesce
}

// DefaultHealthCheck returns a check of type typ with every default set.
func DefaultHealthCheck(typ string) HealthCheck {
	hc := HealthCheck{
		Type:      typ,
		Protocol:  lvs.TCP,
		Interval:  DefaultCheckInterval,
		Timeout:   DefaultCheckInterval,
		Rise:      DefaultCheckRise,
		Fall:      DefaultCheckFall,
		OnFailure: OnFailureRemove,
		TLSVerify: true,
	}
	switch typ {
	case CheckHTTP, CheckHTTPS:
		hc.Method, hc.Path = DefaultHTTPMethod, DefaultHTTPPath
	case CheckDNS:
		hc.QueryType = DefaultDNSQueryType
	}
	return hc
}

// A VIP is where the active director puts a virtual server's address: the
// device (an alias label such as eth0:1, or a plain device) and the
// netmask. It is what pulse adds on takeover and removes on release.
type VIP struct {
	// Address is the address to add: the service's own address for an
	// address service; for a firewall-mark service the one written.
	Address netip.Addr
	Device  string
	// Netmask is a prefix length; 0 when not given (a host address).
	Netmask int
}

// ServiceSettings are a virtual server's settings beyond the IPVS table.
type ServiceSettings struct {
	Key lvs.ServiceKey
	// HealthCheck is the virtual server's probe, nil when it has none.
	HealthCheck *HealthCheck
	// RealServers maps each real server's name to the probe in effect for
	// it (the virtual server's, with the real server's own block merged
	// in). It is empty when nothing is probed.
	RealServers map[string]*HealthCheck
	// SorryServer takes the traffic while no real server is healthy; the
	// zero value means none.
	SorryServer netip.AddrPort
	// VIP is where the service address lives on the active director; nil
	// when the address is managed elsewhere.
	VIP *VIP
}

// IsZero reports whether s says nothing beyond the table.
func (s *ServiceSettings) IsZero() bool {
	return s.HealthCheck == nil && len(s.RealServers) == 0 && !s.SorryServer.IsValid() && s.VIP == nil
}

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

// Settings returns the settings of the service named name, or nil.
func (c *Config) Settings(name string) *ServiceSettings {
	if c.Services == nil {
		return nil
	}
	return c.Services[name]
}
