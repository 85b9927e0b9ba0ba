package vip

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// GARPFrame returns a gratuitous ARP request for addr from mac, as
// arping -U sends it: broadcast, sender and target protocol address both
// addr. Linux hosts update an existing cache entry for addr on it.
func GARPFrame(mac net.HardwareAddr, addr netip.Addr) []byte {
	b := make([]byte, 42)
	copy(b[0:6], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	copy(b[6:12], mac)
	binary.BigEndian.PutUint16(b[12:], syscall.ETH_P_ARP)
	binary.BigEndian.PutUint16(b[14:], 1)      // Ethernet
	binary.BigEndian.PutUint16(b[16:], 0x0800) // IPv4
	b[18], b[19] = 6, 4
	binary.BigEndian.PutUint16(b[20:], 1) // request
	ip := addr.As4()
	copy(b[22:28], mac)
	copy(b[28:32], ip[:])
	// Target hardware address stays zero.
	copy(b[38:42], ip[:])
	return b
}

// Announce sends one gratuitous ARP for a (IPv4) or one unsolicited
// neighbour advertisement (IPv6) on its device.
func Announce(a Address) error {
	ifi, err := net.InterfaceByName(a.base())
	if err != nil {
		return fmt.Errorf("cannot announce VIP %s: device %s: %w", a.Addr, a.base(), err)
	}
	if len(ifi.HardwareAddr) != 6 {
		return nil // no Ethernet neighbours to tell (loopback, tunnels)
	}
	if a.Addr.Is6() {
		return announce6(ifi, a.Addr)
	}
	fd, err := syscall.Socket(syscall.AF_PACKET, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC, int(htons(syscall.ETH_P_ARP)))
	if err != nil {
		return fmt.Errorf("cannot open a packet socket for gratuitous ARP: %w", err)
	}
	defer syscall.Close(fd)
	sa := &syscall.SockaddrLinklayer{Protocol: htons(syscall.ETH_P_ARP), Ifindex: ifi.Index, Halen: 6}
	copy(sa.Addr[:], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	if err := syscall.Sendto(fd, GARPFrame(ifi.HardwareAddr, a.Addr), 0, sa); err != nil {
		return fmt.Errorf("cannot send gratuitous ARP for %s on %s: %w", a.Addr, ifi.Name, err)
	}
	return nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// NAMessage returns an unsolicited neighbour advertisement (RFC 4861
// 4.4) for target with the override flag and the target link-layer
// address option; the kernel fills in the checksum.
func NAMessage(mac net.HardwareAddr, target netip.Addr) []byte {
	b := make([]byte, 32)
	b[0] = 136  // neighbour advertisement
	b[4] = 0x20 // override; not solicited, not router
	t := target.As16()
	copy(b[8:24], t[:])
	b[24], b[25] = 2, 1 // target link-layer address, 8 bytes
	copy(b[26:32], mac)
	return b
}

// announce6 sends an unsolicited neighbour advertisement for addr to all
// nodes, from addr, with hop limit 255 as receivers require.
func announce6(ifi *net.Interface, addr netip.Addr) error {
	fd, err := syscall.Socket(syscall.AF_INET6, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC, syscall.IPPROTO_ICMPV6)
	if err != nil {
		return fmt.Errorf("cannot open an ICMPv6 socket for neighbour advertisements: %w", err)
	}
	defer syscall.Close(fd)
	if err := syscall.SetsockoptInt(fd, syscall.IPPROTO_IPV6, syscall.IPV6_MULTICAST_HOPS, 255); err != nil {
		return err
	}
	if err := syscall.SetsockoptInt(fd, syscall.IPPROTO_IPV6, syscall.IPV6_MULTICAST_IF, ifi.Index); err != nil {
		return err
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet6{Addr: addr.As16()}); err != nil {
		return fmt.Errorf("cannot send a neighbour advertisement from %s: %w", addr, err)
	}
	all := netip.MustParseAddr("ff02::1").As16()
	if err := syscall.Sendto(fd, NAMessage(ifi.HardwareAddr, addr), 0, &syscall.SockaddrInet6{Addr: all, ZoneId: uint32(ifi.Index)}); err != nil {
		return fmt.Errorf("cannot send a neighbour advertisement for %s on %s: %w", addr, ifi.Name, err)
	}
	return nil
}
