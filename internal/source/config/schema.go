package config

import "github.com/hashicorp/hcl/v2"

// The structs below are the HCL schema, decoded by gohcl. They stay
// unexported: the rest of lvsctl sees only [lvs.Table]. Scalars are pointers
// so that an absent attribute (nil) differs from a zero value, and every
// attribute has a value range so that diagnostics can point at it. Lists are
// kept as expressions so that an error can point at the one bad element.

type fileBlock struct {
	DrainTimeout      *string   `hcl:"drain_timeout,optional"`
	DrainTimeoutRange hcl.Range `hcl:"drain_timeout,attr_value_range"`

	Timeouts       *timeoutsBlock `hcl:"timeouts,block"`
	Pulse          *pulseBlock    `hcl:"pulse,block"`
	Ignore         *ignoreBlock   `hcl:"ignore,block"`
	Sysctl         *sysctlBlock   `hcl:"sysctl,block"`
	VirtualServers []*vsBlock     `hcl:"virtual_server,block"`
}

type timeoutsBlock struct {
	TCP    *string `hcl:"tcp,optional"`
	TCPFin *string `hcl:"tcp_fin,optional"`
	UDP    *string `hcl:"udp,optional"`

	TCPRange    hcl.Range `hcl:"tcp,attr_value_range"`
	TCPFinRange hcl.Range `hcl:"tcp_fin,attr_value_range"`
	UDPRange    hcl.Range `hcl:"udp,attr_value_range"`
	DefRange    hcl.Range `hcl:",def_range"`
}

// sysctlBlock is the director's kernel settings. Its attributes are the
// keys of [lvs.Sysctls], read against a schema made from that list (see
// sysctl.go), not declared here.
type sysctlBlock struct {
	Body     hcl.Body  `hcl:",remain"`
	DefRange hcl.Range `hcl:",def_range"`
}

type ignoreBlock struct {
	Addresses hcl.Expression `hcl:"addresses,optional"`
	FWMarks   hcl.Expression `hcl:"fwmarks,optional"`
	Ports     hcl.Expression `hcl:"ports,optional"`

	DefRange hcl.Range `hcl:",def_range"`
}

type vsBlock struct {
	Name      string    `hcl:"name,label"`
	NameRange hcl.Range `hcl:"name,label_range"`
	DefRange  hcl.Range `hcl:",def_range"`

	Address    *string        `hcl:"address,optional"`
	FWMark     *int64         `hcl:"fwmark,optional"`
	Family     *string        `hcl:"family,optional"`
	Protocol   *string        `hcl:"protocol,optional"`
	Scheduler  *string        `hcl:"scheduler,optional"`
	SchedFlags hcl.Expression `hcl:"scheduler_flags,optional"`
	Forwarding *string        `hcl:"forwarding,optional"`
	OnePacket  *bool          `hcl:"one_packet,optional"`
	PE         *string        `hcl:"pe,optional"`

	AddressRange    hcl.Range `hcl:"address,attr_value_range"`
	FWMarkRange     hcl.Range `hcl:"fwmark,attr_value_range"`
	FamilyRange     hcl.Range `hcl:"family,attr_value_range"`
	ProtocolRange   hcl.Range `hcl:"protocol,attr_value_range"`
	SchedulerRange  hcl.Range `hcl:"scheduler,attr_value_range"`
	SchedFlagsRange hcl.Range `hcl:"scheduler_flags,attr_value_range"`
	ForwardingRange hcl.Range `hcl:"forwarding,attr_value_range"`
	OnePacketRange  hcl.Range `hcl:"one_packet,attr_value_range"`
	PERange         hcl.Range `hcl:"pe,attr_value_range"`

	SorryServer      *string   `hcl:"sorry_server,optional"`
	SorryServerRange hcl.Range `hcl:"sorry_server,attr_value_range"`
	Quorum           *int64    `hcl:"quorum,optional"`
	QuorumRange      hcl.Range `hcl:"quorum,attr_value_range"`
	Hysteresis       *int64    `hcl:"hysteresis,optional"`
	HysteresisRange  hcl.Range `hcl:"hysteresis,attr_value_range"`

	Persistence *persistenceBlock `hcl:"persistence,block"`
	VIP         *aliasBlock       `hcl:"vip,block"`
	HealthCheck *checkBlock       `hcl:"health_check,block"`
	Reals       []*rsBlock        `hcl:"real_server,block"`
}

type persistenceBlock struct {
	Timeout *string `hcl:"timeout,optional"`
	Netmask *string `hcl:"netmask,optional"`

	TimeoutRange hcl.Range `hcl:"timeout,attr_value_range"`
	NetmaskRange hcl.Range `hcl:"netmask,attr_value_range"`
	DefRange     hcl.Range `hcl:",def_range"`
}

type rsBlock struct {
	Name      string    `hcl:"name,label"`
	NameRange hcl.Range `hcl:"name,label_range"`
	DefRange  hcl.Range `hcl:",def_range"`

	Address    *string `hcl:"address,optional"`
	Weight     *int64  `hcl:"weight,optional"`
	Forwarding *string `hcl:"forwarding,optional"`
	Upper      *int64  `hcl:"upper_threshold,optional"`
	Lower      *int64  `hcl:"lower_threshold,optional"`

	AddressRange    hcl.Range `hcl:"address,attr_value_range"`
	WeightRange     hcl.Range `hcl:"weight,attr_value_range"`
	ForwardingRange hcl.Range `hcl:"forwarding,attr_value_range"`
	UpperRange      hcl.Range `hcl:"upper_threshold,attr_value_range"`
	LowerRange      hcl.Range `hcl:"lower_threshold,attr_value_range"`

	Tunnel *tunnelBlock `hcl:"tunnel,block"`
	// HealthChecks are the real server's checks: each is merged over the
	// virtual server's, and with several, every one must pass.
	HealthChecks []*checkBlock `hcl:"health_check,block"`
}

type tunnelBlock struct {
	Type     *string `hcl:"type,optional"`
	Port     *int64  `hcl:"port,optional"`
	Checksum *string `hcl:"checksum,optional"`

	TypeRange     hcl.Range `hcl:"type,attr_value_range"`
	PortRange     hcl.Range `hcl:"port,attr_value_range"`
	ChecksumRange hcl.Range `hcl:"checksum,attr_value_range"`
	DefRange      hcl.Range `hcl:",def_range"`
}

// present reports whether an attribute was written, whatever its value:
// gohcl fills a value range only for attributes that appear in the source.
func present(r hcl.Range) bool { return r.Filename != "" }
