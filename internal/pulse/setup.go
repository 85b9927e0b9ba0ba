package pulse

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/internal/pulse/wire"
)

// Options are the command line's choices.
type Options struct {
	// Role overrides the role found from the local addresses; 0: find it.
	Role        wire.Role
	ForceActive bool
	// KeyFile overrides the configuration's key file; "": the config's.
	KeyFile string
	// Interfaces lists this node's devices and addresses; nil: the host's.
	Interfaces func() ([]Interface, error)
}

// An Interface is a local device and its addresses.
type Interface struct {
	Name  string
	Addrs []netip.Addr
}

// Node is one director's part of the pair, worked out from the
// configuration: everything a Daemon needs but the sockets. What the node
// holds while active (table, addresses) is the reconciler's.
type Node struct {
	Settings Settings
	Port     uint16
	// Self and Peer are the heartbeat addresses, public first, then the
	// private path when configured.
	Self, Peer []netip.Addr
	// Links are the devices of Self, when monitor_links is on.
	Links []string
	// Key is the HMAC key; nil in piranha compat mode.
	Key     []byte
	Piranha bool
}

// Setup works out this node's part from cfg.
func Setup(cfg *model.Config, opts Options) (*Node, error) {
	p := cfg.Pulse
	if p == nil {
		return nil, errors.New("the configuration has no pulse block: add one with primary (and backup) to run lvsctl pulse")
	}
	if opts.Interfaces == nil {
		opts.Interfaces = hostInterfaces
	}
	ifs, err := opts.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("cannot list the local addresses: %w", err)
	}
	devOf := func(a netip.Addr) string {
		for _, i := range ifs {
			if slices.Contains(i.Addrs, a) {
				return i.Name
			}
		}
		return ""
	}
	role := opts.Role
	if role == 0 {
		isP, isB := devOf(p.Primary) != "", p.Backup.IsValid() && devOf(p.Backup) != ""
		switch {
		case isP && isB:
			return nil, fmt.Errorf("both the primary (%s) and the backup (%s) addresses are on this host: pass --role primary or --role backup", p.Primary, p.Backup)
		case isP:
			role = wire.Primary
		case isB:
			role = wire.Backup
		default:
			return nil, fmt.Errorf("neither the primary (%s) nor the backup (%s) address is on this host: add it, or pass --role", p.Primary, p.Backup)
		}
	}
	alone := !p.Backup.IsValid() || !p.BackupActive
	if role == wire.Backup && alone {
		return nil, errors.New("this is the backup director but backup_active is off (or no backup address is set): nothing to do, as with piranha's pulse")
	}
	n := &Node{
		Settings: Settings{
			Role: role, Keepalive: p.Keepalive, Deadtime: p.Deadtime,
			Alone: alone, Preempt: p.Preempt, ForceActive: opts.ForceActive,
			SettleMax: SettleMaxOf(cfg),
		},
		Port:    p.HeartbeatPort,
		Piranha: p.PiranhaCompat,
	}
	if !alone {
		pub := [2]netip.Addr{p.Primary, p.Backup}
		priv := [2]netip.Addr{p.PrimaryPrivate, p.BackupPrivate}
		me, peer := 0, 1
		if role == wire.Backup {
			me, peer = 1, 0
		}
		n.Self, n.Peer = []netip.Addr{pub[me]}, []netip.Addr{pub[peer]}
		if priv[me].IsValid() && priv[peer].IsValid() && priv[me] != pub[me] {
			n.Self, n.Peer = append(n.Self, priv[me]), append(n.Peer, priv[peer])
		}
	} else {
		n.Self = []netip.Addr{p.Primary}
	}
	if p.MonitorLinks {
		for _, a := range n.Self {
			dev := devOf(a)
			if dev == "" {
				return nil, fmt.Errorf("monitor_links: no local device holds %s", a)
			}
			if !slices.Contains(n.Links, dev) {
				n.Links = append(n.Links, dev)
			}
		}
	}
	if !alone && !p.PiranhaCompat {
		path := p.KeyFile
		if opts.KeyFile != "" {
			path = opts.KeyFile
		}
		if n.Key, err = wire.LoadKey(path); err != nil {
			return nil, err
		}
	}
	if n.Settings.Keepalive <= 0 || n.Settings.Deadtime <= n.Settings.Keepalive {
		return nil, fmt.Errorf("deadtime (%s) must be longer than keepalive (%s)", n.Settings.Deadtime, n.Settings.Keepalive)
	}
	return n, nil
}

// SettleMaxOf is the health gate's bound (Settings.SettleMax) for cfg:
// SettleBound of its slowest health check (of every check of a real server
// that has several); 0 when nothing is checked.
func SettleMaxOf(cfg *model.Config) time.Duration {
	var bound time.Duration
	if cfg.Table == nil {
		return 0
	}
	for _, s := range cfg.Table.Services {
		st := cfg.Settings(s.Name)
		if st == nil {
			continue
		}
		for _, d := range s.Dests {
			for _, hc := range st.RealServers[d.Name].Checks() {
				bound = max(bound, SettleBound(hc.Interval, hc.Timeout, hc.Rise, hc.Fall))
			}
		}
	}
	return bound
}

// ReloadKey reads the heartbeat key again, from the file cfg (or
// --key-file) names; nil when this node uses no key (alone, or piranha
// compat).
func (n *Node) ReloadKey(cfg *model.Config, opts Options) ([]byte, error) {
	if n.Key == nil || cfg.Pulse == nil {
		return nil, nil
	}
	path := cfg.Pulse.KeyFile
	if opts.KeyFile != "" {
		path = opts.KeyFile
	}
	return wire.LoadKey(path)
}

// Listen opens the heartbeat sockets, one per path.
func (n *Node) Listen() ([]Path, error) {
	var paths []Path
	for i := range n.Peer {
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(n.Self[i], n.Port)))
		if err != nil {
			for _, p := range paths {
				p.Conn.Close()
			}
			return nil, fmt.Errorf("cannot listen for heartbeats on %s: %w", netip.AddrPortFrom(n.Self[i], n.Port), err)
		}
		paths = append(paths, Path{Conn: c, Peer: netip.AddrPortFrom(n.Peer[i], n.Port)})
	}
	return paths, nil
}

// Codec returns the heartbeat codec for this node, in a new run with a
// new random epoch. The time is not used: the authenticated heartbeats
// read no clock, and piranha compat mode's rate limit reads time.Now.
func (n *Node) Codec(_ time.Time) Codec {
	if n.Piranha {
		return NewPiranhaCodec(n.Settings.Keepalive, len(n.Peer), time.Now)
	}
	return NewAuthCodec(n.Settings.Role, n.Key)
}

// ParseRole reads a --role value.
func ParseRole(s string) (wire.Role, error) {
	switch strings.ToLower(s) {
	case "primary":
		return wire.Primary, nil
	case "backup":
		return wire.Backup, nil
	}
	return 0, fmt.Errorf("role %q is neither primary nor backup", s)
}

func hostInterfaces() ([]Interface, error) {
	ifis, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	var out []Interface
	for _, ifi := range ifis {
		addrs, err := ifi.Addrs()
		if err != nil {
			return nil, err
		}
		i := Interface{Name: ifi.Name}
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok {
				if ip, ok := netip.AddrFromSlice(ipn.IP); ok {
					i.Addrs = append(i.Addrs, ip.Unmap())
				}
			}
		}
		out = append(out, i)
	}
	return out, nil
}
