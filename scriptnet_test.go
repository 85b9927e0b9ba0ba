//go:build linux

package main

// Real connections for the testscripts on the real kernel: kernel-conns
// sets a real server's connection counters in the fake kernel, and on the
// real one it opens (or resets) real connections through the VIP, from a
// client namespace, to listeners in a real-server namespace, both wired to
// the script's director namespace as in the LVS-NAT howto.

import (
	"bufio"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/lvsctl/lvsctl/kernel"
	"github.com/lvsctl/lvsctl/lvs"
)

// scriptNet is the traffic lab of one script on the real kernel: the
// client (10.0.0.10, gateway 10.0.0.1) and the real servers (their
// addresses on one link, gateway 192.168.10.254) on either side of the
// director, and the connections kernel-conns holds open.
type scriptNet struct {
	director, client, real string
	vips                   map[netip.Addr]bool
	rips                   map[netip.Addr]bool
	listening              map[string]bool       // "tcp 192.168.10.100:80"
	conns                  map[string][]net.Conn // "tcp VIP RIP": client sockets the real server RIP took
	closers                []func()
}

var (
	scriptNetsMu sync.Mutex
	scriptNets   = map[string]*scriptNet{}
)

// netOf returns the traffic lab of the script's director namespace, made
// on first use and taken down when the script ends.
func netOf(ts *testscript.TestScript) *scriptNet {
	dir := ts.Getenv(netnsVar)
	scriptNetsMu.Lock()
	defer scriptNetsMu.Unlock()
	if n := scriptNets[dir]; n != nil {
		return n
	}
	n := &scriptNet{
		director: dir, client: dir + "-c", real: dir + "-r",
		vips: map[netip.Addr]bool{}, rips: map[netip.Addr]bool{}, listening: map[string]bool{},
		conns: map[string][]net.Conn{},
	}
	scriptNets[dir] = n
	ts.Defer(func() {
		scriptNetsMu.Lock()
		delete(scriptNets, dir)
		scriptNetsMu.Unlock()
		for _, l := range n.conns {
			for _, c := range l {
				c.Close()
			}
		}
		for _, f := range n.closers {
			f()
		}
		for _, ns := range []string{n.client, n.real} {
			exec.Command(ipCommand(), "netns", "delete", ns).Run()
		}
	})
	ip := func(args ...string) {
		if out, err := exec.Command(ipCommand(), args...).CombinedOutput(); err != nil {
			ts.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	for _, ns := range []string{n.client, n.real} {
		ip("netns", "add", ns)
		ip("-n", ns, "link", "set", "lo", "up")
	}
	ip("-n", n.client, "link", "add", "c0", "type", "veth", "peer", "name", "d0", "netns", dir)
	ip("-n", n.real, "link", "add", "r0", "type", "veth", "peer", "name", "d1", "netns", dir)
	ip("-n", n.client, "addr", "add", "10.0.0.10/24", "dev", "c0")
	ip("-n", n.client, "link", "set", "c0", "up")
	ip("-n", n.client, "route", "add", "default", "via", "10.0.0.1")
	ip("-n", dir, "addr", "add", "10.0.0.1/24", "dev", "d0")
	ip("-n", dir, "addr", "add", "192.168.10.254/24", "dev", "d1")
	ip("-n", dir, "link", "set", "d0", "up")
	ip("-n", dir, "link", "set", "d1", "up")
	ip("-n", n.real, "link", "set", "r0", "up")
	err := inNetns(dir, func() error {
		return os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("1"), 0o644)
	})
	ts.Check(err)
	return n
}

// ip runs iproute2's ip or fails the script.
func (n *scriptNet) ip(ts *testscript.TestScript, args ...string) {
	if out, err := exec.Command(ipCommand(), args...).CombinedOutput(); err != nil {
		ts.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// serve makes sure that vip is the director's and that a server listens
// on rip for proto: TCP answers each connection with the address it was
// made to, then holds it; UDP answers each datagram with its address.
func (n *scriptNet) serve(ts *testscript.TestScript, proto lvs.Protocol, vip, rip netip.AddrPort) {
	if !n.vips[vip.Addr()] {
		n.ip(ts, "-n", n.director, "addr", "add", vip.Addr().String()+"/32", "dev", "d0")
		n.vips[vip.Addr()] = true
	}
	if !n.rips[rip.Addr()] {
		first := len(n.rips) == 0
		n.ip(ts, "-n", n.real, "addr", "add", rip.Addr().String()+"/24", "dev", "r0")
		if first {
			n.ip(ts, "-n", n.real, "route", "add", "default", "via", "192.168.10.254")
		}
		n.rips[rip.Addr()] = true
	}
	key := proto.String() + " " + rip.String()
	if n.listening[key] {
		return
	}
	switch proto {
	case lvs.TCP:
		var ln net.Listener
		ts.Check(inNetns(n.real, func() (err error) { ln, err = net.Listen("tcp", rip.String()); return err }))
		n.closers = append(n.closers, func() { ln.Close() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go func() {
					fmt.Fprintf(c, "%s\n", c.LocalAddr())
					bufio.NewReader(c).WriteTo(discard{}) // hold it until the client goes
					c.Close()
				}()
			}
		}()
	case lvs.UDP:
		var pc net.PacketConn
		ts.Check(inNetns(n.real, func() (err error) { pc, err = net.ListenPacket("udp", rip.String()); return err }))
		n.closers = append(n.closers, func() { pc.Close() })
		go func() {
			buf := make([]byte, 512)
			for {
				_, from, err := pc.ReadFrom(buf)
				if err != nil {
					return
				}
				pc.WriteTo([]byte(pc.LocalAddr().String()+"\n"), from)
			}
		}()
	default:
		ts.Fatalf("kernel-conns: %s connections are not made on the real kernel", proto)
	}
	n.listening[key] = true
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// connect opens one connection (TCP) or flow (UDP) from the client to vip
// and returns it with the address of the real server that answered.
func (n *scriptNet) connect(proto lvs.Protocol, vip netip.AddrPort) (net.Conn, string, error) {
	var c net.Conn
	err := inNetns(n.client, func() (err error) {
		c, err = net.DialTimeout(strings.ToLower(proto.String()), vip.String(), 3*time.Second)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	c.SetDeadline(time.Now().Add(3 * time.Second))
	if proto == lvs.UDP {
		if _, err := c.Write([]byte("hello\n")); err != nil {
			c.Close()
			return nil, "", err
		}
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	c.SetDeadline(time.Time{})
	if err != nil {
		c.Close()
		return nil, "", fmt.Errorf("no answer through %s: %w", vip, err)
	}
	return c, strings.TrimSpace(line), nil
}

// realConns makes the real server rip of the service proto vip hold
// exactly active connections from the client, as counted by the kernel:
// it opens connections through the VIP until the scheduler has given rip
// enough (those it gives other real servers are reset once it has), or
// resets the surplus. A reset connection leaves the kernel's active count at once and
// its inactive one after the 10-second CLOSE timeout. UDP flows cannot be
// closed: their number only grows.
func realConns(ts *testscript.TestScript, proto lvs.Protocol, vip, rip netip.AddrPort, active int) {
	n := netOf(ts)
	h, err := kernel.Open(n.director)
	ts.Check(err)
	defer h.Close()
	// Every real server of the service answers: the scheduler may send a
	// connection to any of them.
	t, err := h.Table()
	ts.Check(err)
	svc := t.Service(lvs.AddrKey(proto, vip))
	if svc == nil || svc.Dest(rip) == nil {
		ts.Fatalf("kernel-conns: the kernel has no real server %s in %s %s", rip, proto, vip)
	}
	for _, d := range svc.Dests {
		n.serve(ts, proto, vip, d.Addr)
	}
	key := fmt.Sprintf("%s %s %s", proto, vip, rip)
	held := n.conns[key]
	if active < len(held) {
		if proto != lvs.TCP {
			ts.Fatalf("kernel-conns: %s flows cannot be closed on the real kernel, only added", proto)
		}
		for _, c := range held[active:] {
			c.(*net.TCPConn).SetLinger(0) // a reset, not a FIN: see the doc comment
			c.Close()
		}
		n.conns[key] = held[:active]
	}
	// The connections other real servers take are held open until the end,
	// so that the scheduler counts them as active (wlc weighs an active
	// connection as 256 inactive ones). Reset then, they leave the kernel's
	// counters after the 10-second CLOSE timeout; a UDP flow stays until
	// its UDP timeout anyway.
	var others []net.Conn
	defer func() {
		for _, c := range others {
			if tc, ok := c.(*net.TCPConn); ok {
				tc.SetLinger(0)
			}
			c.Close()
		}
	}()
	for tries := 0; len(n.conns[key]) < active; tries++ {
		if tries > 4*active+10 {
			ts.Fatalf("kernel-conns: after %d connections through %s, %s took only %d", tries, vip, rip, len(n.conns[key]))
		}
		c, by, err := n.connect(proto, vip)
		if err != nil {
			ts.Fatalf("kernel-conns: %v", err)
		}
		if by == rip.String() {
			n.conns[key] = append(n.conns[key], c)
		} else {
			others = append(others, c)
		}
	}
	if proto != lvs.TCP {
		return
	}
	// The kernel's own count is the witness: wait until it agrees.
	var got uint32
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		t, err := h.Table()
		ts.Check(err)
		if s := t.Service(lvs.AddrKey(proto, vip)); s != nil {
			if d := s.Dest(rip); d != nil {
				got = d.Live.ActiveConns
			}
		}
		if got == uint32(active) {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("kernel-conns: the kernel counts %d active connections on %s, want %d", got, rip, active)
		}
	}
}
