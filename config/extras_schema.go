package config

import "github.com/hashicorp/hcl/v2"

// The HCL schema of the settings beside the table (see extras.go).

type checkBlock struct {
	Type        *string        `hcl:"type,optional"`
	Protocol    *string        `hcl:"protocol,optional"`
	Port        *int64         `hcl:"port,optional"`
	Send        *string        `hcl:"send,optional"`
	Expect      *string        `hcl:"expect,optional"`
	ExpectRegex *string        `hcl:"expect_regex,optional"`
	Program     *string        `hcl:"program,optional"`
	Method      *string        `hcl:"method,optional"`
	Path        *string        `hcl:"path,optional"`
	Host        *string        `hcl:"host,optional"`
	Status      hcl.Expression `hcl:"status,optional"`
	BodyRegex   *string        `hcl:"body_regex,optional"`
	TLSVerify   *bool          `hcl:"tls_verify,optional"`
	QueryName   *string        `hcl:"query_name,optional"`
	QueryType   *string        `hcl:"query_type,optional"`
	Interval    *string        `hcl:"interval,optional"`
	Timeout     *string        `hcl:"timeout,optional"`
	Rise        *int64         `hcl:"rise,optional"`
	Fall        *int64         `hcl:"fall,optional"`
	OnFailure   *string        `hcl:"on_failure,optional"`

	TypeRange        hcl.Range `hcl:"type,attr_value_range"`
	ProtocolRange    hcl.Range `hcl:"protocol,attr_value_range"`
	PortRange        hcl.Range `hcl:"port,attr_value_range"`
	SendRange        hcl.Range `hcl:"send,attr_value_range"`
	ExpectRange      hcl.Range `hcl:"expect,attr_value_range"`
	ExpectRegexRange hcl.Range `hcl:"expect_regex,attr_value_range"`
	ProgramRange     hcl.Range `hcl:"program,attr_value_range"`
	MethodRange      hcl.Range `hcl:"method,attr_value_range"`
	PathRange        hcl.Range `hcl:"path,attr_value_range"`
	HostRange        hcl.Range `hcl:"host,attr_value_range"`
	StatusRange      hcl.Range `hcl:"status,attr_value_range"`
	BodyRegexRange   hcl.Range `hcl:"body_regex,attr_value_range"`
	TLSVerifyRange   hcl.Range `hcl:"tls_verify,attr_value_range"`
	QueryNameRange   hcl.Range `hcl:"query_name,attr_value_range"`
	QueryTypeRange   hcl.Range `hcl:"query_type,attr_value_range"`
	IntervalRange    hcl.Range `hcl:"interval,attr_value_range"`
	TimeoutRange     hcl.Range `hcl:"timeout,attr_value_range"`
	RiseRange        hcl.Range `hcl:"rise,attr_value_range"`
	FallRange        hcl.Range `hcl:"fall,attr_value_range"`
	OnFailureRange   hcl.Range `hcl:"on_failure,attr_value_range"`
	DefRange         hcl.Range `hcl:",def_range"`
}

// aliasBlock is an address on an interface alias, as piranha brought up
// with ifconfig: a virtual server's vip, or the pulse block's nat_router.
type aliasBlock struct {
	Address *string `hcl:"address,optional"`
	Device  *string `hcl:"device,optional"`
	Netmask *string `hcl:"netmask,optional"`

	AddressRange hcl.Range `hcl:"address,attr_value_range"`
	DeviceRange  hcl.Range `hcl:"device,attr_value_range"`
	NetmaskRange hcl.Range `hcl:"netmask,attr_value_range"`
	DefRange     hcl.Range `hcl:",def_range"`
}

type pulseBlock struct {
	Primary        *string `hcl:"primary,optional"`
	Backup         *string `hcl:"backup,optional"`
	PrimaryPrivate *string `hcl:"primary_private,optional"`
	BackupPrivate  *string `hcl:"backup_private,optional"`
	BackupActive   *bool   `hcl:"backup_active,optional"`
	HeartbeatPort  *int64  `hcl:"heartbeat_port,optional"`
	Keepalive      *string `hcl:"keepalive,optional"`
	Deadtime       *string `hcl:"deadtime,optional"`
	MonitorLinks   *bool   `hcl:"monitor_links,optional"`
	ActiveCmd      *string `hcl:"active_cmd,optional"`
	InactiveCmd    *string `hcl:"inactive_cmd,optional"`
	Preempt        *bool   `hcl:"preempt,optional"`
	PiranhaCompat  *bool   `hcl:"piranha_compat,optional"`
	KeyFile        *string `hcl:"key_file,optional"`

	PrimaryRange        hcl.Range `hcl:"primary,attr_value_range"`
	BackupRange         hcl.Range `hcl:"backup,attr_value_range"`
	PrimaryPrivateRange hcl.Range `hcl:"primary_private,attr_value_range"`
	BackupPrivateRange  hcl.Range `hcl:"backup_private,attr_value_range"`
	BackupActiveRange   hcl.Range `hcl:"backup_active,attr_value_range"`
	HeartbeatPortRange  hcl.Range `hcl:"heartbeat_port,attr_value_range"`
	KeepaliveRange      hcl.Range `hcl:"keepalive,attr_value_range"`
	DeadtimeRange       hcl.Range `hcl:"deadtime,attr_value_range"`
	ActiveCmdRange      hcl.Range `hcl:"active_cmd,attr_value_range"`
	InactiveCmdRange    hcl.Range `hcl:"inactive_cmd,attr_value_range"`
	KeyFileRange        hcl.Range `hcl:"key_file,attr_value_range"`
	DefRange            hcl.Range `hcl:",def_range"`

	NATRouter  *aliasBlock `hcl:"nat_router,block"`
	SyncDaemon *syncBlock  `hcl:"sync_daemon,block"`
}

type syncBlock struct {
	Interface *string `hcl:"interface,optional"`
	ID        *int64  `hcl:"id,optional"`

	InterfaceRange hcl.Range `hcl:"interface,attr_value_range"`
	IDRange        hcl.Range `hcl:"id,attr_value_range"`
	DefRange       hcl.Range `hcl:",def_range"`
}
