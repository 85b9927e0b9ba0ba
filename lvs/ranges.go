package lvs

import "math"

// The ranges below are every value range the kernel checks, or relies on
// without checking, for what lvsctl sends it. [Table.Validate],
// [ValidateService], [ValidateDest] and [ValidateTimeouts] refuse values
// outside them, so that a configuration or a saved plan the kernel would
// refuse half-way through an apply is refused before anything changes.
//
// The citations are to net/netfilter/ipvs/ip_vs_ctl.c (and the uapi header
// include/uapi/linux/ip_vs.h) of Linux 6.1 as Debian 12 ships it (6.1.192),
// the kernel of the lab; lvsctl talks generic netlink, so the checks that
// count are those of the IPVS_CMD_* path (ip_vs_genl_set_cmd and
// ip_vs_genl_set_config), not those of ipvsadm's old setsockopt path.
//
// Where lvsctl is stricter than the kernel it says so: it never accepts a
// value the kernel refuses or silently changes, but it keeps ipvsadm's
// limits where those are narrower, so that what lvsctl sets can be saved
// with ipvsadm -S and restored with ipvsadm -R.

// AssumedMaxHZ is the largest kernel tick rate (CONFIG_HZ) lvsctl allows
// for. The kernel turns timeouts given in seconds into ticks (seconds*HZ)
// and bounds them by that product; HZ is a build option that user space
// cannot read (Debian's is 250), so lvsctl uses the bound of the largest
// common value, 1000, which is safe for every HZ up to 1000.
const AssumedMaxHZ = 1000

// MaxConnTimeout is the longest connection timeout (tcp, tcp_fin, udp;
// ipvsadm --set) in seconds: 2147483 s, 24 days 20:31:23.
//
// ip_vs_set_timeout (ip_vs_ctl.c:2394, checks at :2406-2414), called from
// ip_vs_genl_set_config (:3683), refuses with EINVAL a timeout below 0 or
// above INT_MAX/HZ, because it stores seconds*HZ in an int. The netlink
// attributes are u32 (:3006-3008) stored into the int fields of struct
// ip_vs_timeout_user (uapi ip_vs.h:267-269). INT_MAX/1000 is the bound for
// HZ=1000 (see [AssumedMaxHZ]); on Debian's HZ=250 the kernel would take up
// to 8589934 s, but lvsctl cannot know HZ. Zero means "leave as it is".
const MaxConnTimeout = math.MaxInt32 / AssumedMaxHZ

// MaxPersistTimeout is the longest persistence timeout in seconds: 31
// days (2678400 s), ipvsadm's MAX_TIMEOUT for -p.
//
// The kernel does not check it: ip_vs_add_service (:1418) and
// ip_vs_edit_service (:1551) store timeout*HZ in an unsigned int, which
// wraps above UINT_MAX/HZ (4294967 s at HZ=1000), and report it back
// divided by HZ (:3163), so a longer timeout would be set to something
// else and planned again forever. ipvsadm's 31 days is inside that bound
// for every HZ up to 1603, and lvsctl keeps it. The smallest is 1 s:
// persistence of 0 s keeps nothing, and ipvsadm refuses it.
const MaxPersistTimeout = 31 * 24 * 3600

// MinPersistTimeout is the shortest persistence timeout, in seconds.
const MinPersistTimeout = 1

// MinIPv6Netmask and MaxIPv6Netmask bound the persistence granularity of
// an IPv6 service, a prefix length: ip_vs_add_service (:1371) and
// ip_vs_edit_service (:1519) refuse a plen outside 1..128 with EINVAL.
// IPv4 services take any mask (lvsctl holds a prefix length, 0..32).
const (
	MinIPv6Netmask = 1
	MaxIPv6Netmask = 128
	MaxIPv4Netmask = 32
)

// MaxWeight is the largest real server weight: 65535, ipvsadm's range
// for -w.
//
// The kernel takes the weight as a u32 attribute into an int
// (ip_vs_genl_parse_dest, :3506), and ip_vs_add_dest (:1088) and
// ip_vs_edit_dest (:1162) refuse a negative one with ERANGE, so it accepts
// 0..INT_MAX. lvsctl keeps ipvsadm's narrower range, which every parser of
// lvsctl (HCL, lvs.cf, ipvsadm dumps) uses too.
const MaxWeight = 65535

// MaxThreshold is the largest upper connection threshold: INT_MAX.
// ip_vs_add_dest (:1099) and ip_vs_edit_dest (:1173) refuse a larger
// u_threshold with EINVAL. They refuse an l_threshold above the
// u_threshold with ERANGE (:1093, :1167), also when u_threshold is 0 (no
// limit), so the lower threshold is bounded by the upper one.
const MaxThreshold = math.MaxInt32

// MaxSchedNameLen is the longest scheduler name in bytes: the netlink
// policy (:3032-3033) takes at most IP_VS_SCHEDNAME_MAXLEN-1 = 15 (uapi
// ip_vs.h:115); ip_vs_add_service and ip_vs_edit_service refuse an
// unknown name with ENOENT (:1348, :1495), which [Schedulers] prevents.
const MaxSchedNameLen = 16 - 1

// MaxPENameLen is the longest persistence engine name in bytes: the
// netlink policy (:3034-3035) takes IP_VS_PENAME_MAXLEN = 16 (uapi
// ip_vs.h:116); an unknown engine is refused with ENOENT (:1358, :1505).
// The kernel has only "sip".
const MaxPENameLen = 16

// MaxForward is the largest forwarding method. The kernel keeps
// conn_flags & IP_VS_CONN_F_FWD_MASK (:3504-3505, mask 7 in uapi
// ip_vs.h:76) without checking it, but only IP_VS_CONN_F_MASQ,
// LOCALNODE, TUNNEL and DROUTE (0..3, uapi ip_vs.h:77-80) are methods: a
// real server with 4..7 gets no transmitter and forwards nothing (ipvsadm
// lists it as "(null)"). ip_vs_genl_set_cmd (:3810) takes a real server of
// the other address family only with IP_VS_CONN_F_TUNNEL.
const MaxForward = Route

// MaxTunnelType is the largest tunnel type: IP_VS_CONN_F_TUNNEL_TYPE_GRE
// (uapi ip_vs.h:123-126). The kernel stores the u8 attribute (:3511)
// without checking it. ip_vs_add_dest (:1102) and ip_vs_edit_dest (:1176)
// refuse a GUE tunnel with port 0 (EINVAL).
const MaxTunnelType = GRE

// TunnelFlagsMask holds the tunnel flags the kernel knows,
// IP_VS_TUNNEL_ENCAP_FLAG_CSUM and _REMCSUM (uapi ip_vs.h:131-132); the
// u16 attribute (:3517) is not checked.
const TunnelFlagsMask = TunnelCsum | TunnelRemCsum

// SchedFlagsMask holds the scheduler flags: IP_VS_SVC_F_SCHED1..3 (uapi
// ip_vs.h:24-26). The kernel copies the service flags under the mask
// user space sends (ip_vs_genl_parse_service, :3324) without checking
// them.
const SchedFlagsMask = SchedFlag1 | SchedFlag2 | SchedFlag3

// The IPVS sync daemon (pulse's sync_daemon block) is not part of a
// [Table]; its ranges are here so that there is one list.
const (
	// MaxSyncID is the largest sync daemon id (ipvsadm --syncid):
	// ip_vs_genl_new_daemon (:3623) keeps the u32 attribute in an int,
	// but the sync protocol carries it in one byte, so only 0..255 are
	// told apart.
	MaxSyncID = 255
	// MaxIfNameLen is the longest sync interface name in bytes: the
	// netlink policy (:3014-3015) takes IP_VS_IFNAME_MAXLEN-1 = 15 (uapi
	// ip_vs.h:117). The multicast group must be a multicast address
	// (:3633, :3644: EINVAL), the port is a u16 and the TTL a u8 (:3020-3021).
	MaxIfNameLen = 16 - 1
)
