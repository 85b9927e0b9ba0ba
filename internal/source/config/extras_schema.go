package config

import "github.com/hashicorp/hcl/v2"

// The HCL schema of the settings beside the table (see extras.go).

// checkBlock is a health_check block. Its attributes are the model's
// probe settings beside the common ones, so they are read against a schema
// made from the model (see check.go), not declared here.
type checkBlock struct {
	Body     hcl.Body  `hcl:",remain"`
	DefRange hcl.Range `hcl:",def_range"`
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
