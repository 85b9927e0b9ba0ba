package vip

import (
	"bytes"
	"net"
	"net/netip"
	"testing"
)

func TestGARPFrame(t *testing.T) {
	mac := net.HardwareAddr{0x02, 0, 0, 0, 0, 1}
	got := GARPFrame(mac, netip.MustParseAddr("10.0.0.2"))
	want := []byte{
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06, // Ethernet
		0, 1, 0x08, 0, 6, 4, 0, 1, // ARP request, Ethernet/IPv4
		2, 0, 0, 0, 0, 1, 10, 0, 0, 2, // sender
		0, 0, 0, 0, 0, 0, 10, 0, 0, 2, // target: the same address
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("frame\n% x\nwant\n% x", got, want)
	}
}

func TestNAMessage(t *testing.T) {
	mac := net.HardwareAddr{0x02, 0, 0, 0, 0, 1}
	got := NAMessage(mac, netip.MustParseAddr("2001:db8::2"))
	if got[0] != 136 || got[4] != 0x20 || !bytes.Equal(got[8:24], netip.MustParseAddr("2001:db8::2").AsSlice()) || got[24] != 2 || got[25] != 1 || !bytes.Equal(got[26:], mac) {
		t.Fatalf("message % x", got)
	}
}

func TestAddress(t *testing.T) {
	a := Address{Addr: netip.MustParseAddr("10.0.0.2"), Device: "eth0:1"}
	if a.base() != "eth0" || a.String() != "10.0.0.2/32 on eth0:1" {
		t.Fatalf("%s base %s", a, a.base())
	}
	if na := a.nl(); na.Label != "eth0:1" {
		t.Fatalf("label %q", na.Label)
	}
	if na := (Address{Addr: netip.MustParseAddr("10.0.0.2"), Device: "eth0", Prefix: 24}).nl(); na.Label != "" || na.IPNet.String() != "10.0.0.2/24" {
		t.Fatalf("plain device: %+v", na)
	}
	if na := (Address{Addr: netip.MustParseAddr("2001:db8::2"), Device: "eth0:1"}).nl(); na.Label != "" || na.IPNet.String() != "2001:db8::2/128" {
		t.Fatalf("IPv6 carries no label: %+v", na)
	}
}
