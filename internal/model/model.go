// Package model is lvsctl's configuration: the desired IPVS table and what
// lies beside it, health checks, sorry servers and VIPs per virtual server,
// the pulse failover pair and the drain timeout.
//
// A [Config] comes from one of the configuration sources, each a package
// that reads one format into it:
//
//   - config reads lvsctl's HCL, and writes a Config back as HCL;
//   - lvscf reads piranha's lvs.cf as it is;
//   - keepalived reads a keepalived.conf, its includes and groups, as
//     keepalived does;
//   - ipvsadm reads ipvsadm -S dumps, tables that [FromTable] names.
//
// The packages that act on a
// configuration (health, pulse, reconcile, cmd) see only this package, so
// none of them depends on a file format: model imports nothing beside
// [lvs] and the standard library, and must stay that way.
//
// Each source checks what it reads and reports a problem where its format
// can point at it (file:line:column for HCL, file:line for lvs.cf); a
// Config it returns is valid, with every default filled in. The rules that
// need no position live here ([CheckDevice], [HealthCheck.Validate], and
// [lvs.Table.Validate] for the table itself): they return problems by
// setting, which each source maps to where it wrote that setting.
//
// A health check's probe is one of the probe types ([Probe]), each in a
// file of its own with its settings, defaults and validation; sources set
// the settings by name ([WithSetting]), so that a new probe type is a file
// here and one in health.
package model

import (
	"time"

	"github.com/lvsctl/lvsctl/lvs"
)

// Config is a whole configuration.
type Config struct {
	// Table is the desired table, normalized, with the Name fields set
	// from the configuration's names. Its Sysctls are the kernel settings
	// the configuration names and those its forwarding needs (see
	// [SetSysctls]).
	Table *lvs.Table
	// ForwardingUnmanaged leaves the forwarding sysctls to the admin
	// (sysctl { manage_forwarding = false }): what NAT needs is not
	// planned.
	ForwardingUnmanaged bool
	// DrainTimeout is how long a real server that is going away keeps its
	// connections at weight 0 before it is deleted; 0 deletes it at once.
	DrainTimeout time.Duration
	// Pulse is the failover pair, nil when the configuration has none.
	Pulse *Pulse
	// Services holds, by virtual server name, the settings of each virtual
	// server that has any beyond the table: health checks, sorry server,
	// VIP. Virtual servers without such settings have no entry.
	Services map[string]*ServiceSettings
}

// Settings returns the settings of the service named name, or nil.
func (c *Config) Settings(name string) *ServiceSettings {
	if c.Services == nil {
		return nil
	}
	return c.Services[name]
}
