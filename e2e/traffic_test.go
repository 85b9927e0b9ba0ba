package e2e

import (
	"bufio"
	"net"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/internal/ipvstest"
)

// checkScheduling applies three variants of a four-host example and checks
// what the client sees: rr alternates between real1 and real2; a real
// server at weight 0 gets no new connections; persistence (the example as
// it is) sends every connection of the client to one real server. fwd is
// ipvsadm's flag for the example's forwarding method (-m, -g or -i).
func checkScheduling(t *testing.T, h *fourHost, name, fwd string) {
	t.Run("rr", func(t *testing.T) {
		h.apply(t, example(t, name, toRR, noPersistence))
		got := h.fetch(t, 6)
		for i := range got {
			if i > 0 && got[i] == got[i-1] || !slices.Contains([]string{"real1", "real2"}, got[i]) {
				t.Fatalf("rr: the answers do not alternate between real1 and real2: %q", got)
			}
		}
		t.Logf("rr: %q", got)
	})
	t.Run("weight0", func(t *testing.T) {
		h.apply(t, example(t, name, toRR, noPersistence, real2Weight0))
		if save := h.ipvsadmSave(t); !regexp.MustCompile(`-r 192\.168\.10\.101:80 ` + fwd + ` -w 0`).MatchString(save) {
			t.Fatalf("ipvsadm does not show real2 at weight 0:\n%s", save)
		}
		for _, s := range h.fetch(t, 4) {
			if s != "real1" {
				t.Fatalf("real2 at weight 0 got a new connection")
			}
		}
	})
	t.Run("persistence", func(t *testing.T) {
		h.apply(t, example(t, name))
		got := h.fetch(t, 6)
		for _, s := range got {
			if s != got[0] {
				t.Fatalf("with persistence one client went to several real servers: %q", got)
			}
		}
		t.Logf("persistence: every connection to %s", got[0])
	})
}

func TestKernelNAT(t *testing.T) {
	ipvstest.Require(t)
	h := newFourHost(t, true)
	checkScheduling(t, h, "nat-four-host.hcl", "-m")
	t.Run("drain", func(t *testing.T) { checkDrain(t, h) })
	t.Run("reply-path", func(t *testing.T) { checkReplyPath(t, h, true) })
}

// checkDrain removes the real server that holds an open connection, with a
// drain timeout: the connection keeps working while the real server sits at
// weight 0, new connections go to the other one, and the real server is
// deleted once the connection is closed — long before the timeout.
func checkDrain(t *testing.T, h *fourHost) {
	cfg := example(t, "nat-four-host.hcl", toRR, noPersistence)
	h.apply(t, cfg)
	c := h.dial(t)
	defer c.Close()
	br := bufio.NewReader(c)
	held := get(t, c, br)
	other := map[string]string{"real1": "real2", "real2": "real1"}[held]
	heldIP := map[string]string{"real1": realIPs[0], "real2": realIPs[1]}[held]
	t.Logf("the open connection is served by %s", held)

	f := writeConfig(t, example(t, "nat-four-host.hcl", toRR, noPersistence, without(held)))
	type result struct {
		out  string
		code int
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		out, code := h.lvsctl(t, "apply", "--auto-approve", "--drain-timeout", "2m", "--netns", h.director, "-f", f)
		done <- result{out, code}
	}()

	weight0 := regexp.MustCompile(`-r ` + regexp.QuoteMeta(heldIP) + `:80 -m -w 0`)
	deadline := time.Now().Add(30 * time.Second)
	for save := h.ipvsadmSave(t); !weight0.MatchString(save); save = h.ipvsadmSave(t) {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not go to weight 0 while draining:\n%s", held, save)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("draining, ipvsadm -S -n:\n%s", h.ipvsadmSave(t))
	for range 3 {
		if s := get(t, c, br); s != held {
			t.Fatalf("the open connection now reaches %s, not %s", s, held)
		}
		time.Sleep(300 * time.Millisecond)
	}
	for _, s := range h.fetch(t, 3) {
		if s != other {
			t.Fatalf("a new connection went to the draining %s", s)
		}
	}
	select {
	case r := <-done:
		t.Fatalf("apply finished while a connection was open (exit %d):\n%s", r.code, r.out)
	default:
	}

	// Close with a reset: IPVS forgets a reset connection after its
	// 10-second CLOSE timeout, where a FIN would leave it in TIME_WAIT for
	// two minutes.
	c.(*net.TCPConn).SetLinger(0)
	c.Close()
	select {
	case r := <-done:
		if r.code != 0 {
			t.Fatalf("apply with --drain-timeout: exit status %d\n%s", r.code, r.out)
		}
		t.Logf("apply finished %s after it started", time.Since(start).Round(time.Second))
	case <-time.After(90 * time.Second):
		t.Fatalf("%s not deleted 90s after its last connection closed:\n%s", held, h.ipvsadmSave(t))
	}
	if save := h.ipvsadmSave(t); strings.Contains(save, heldIP) || !strings.Contains(save, "-r "+map[string]string{"real1": realIPs[0], "real2": realIPs[1]}[other]) {
		t.Fatalf("after the drain ipvsadm shows:\n%s", save)
	}
}

// prepareReals runs "lvsctl realserver" on both real servers, checks that a
// second run changes nothing, and undoes it when the test ends (checking
// that the undo restores the sysctls it found).
func prepareReals(t *testing.T, h *fourHost, mode, link string) {
	for _, ns := range h.reals {
		before := readSysctl(t, ns, "net/ipv4/conf/all/arp_ignore")
		out := h.mustLvsctl(t, "realserver", "--mode", mode, "--vip", vip, "--netns", ns)
		for _, want := range []string{"+ address 10.0.0.2/32 on " + link, "net.ipv4.conf.all.arp_ignore: " + before + " -> 1", "Prepared as a " + mode + " real server"} {
			if !strings.Contains(out, want) {
				t.Fatalf("lvsctl realserver in %s: no %q in:\n%s", ns, want, out)
			}
		}
		if !strings.Contains(run(t, "ip", "-n", ns, "addr", "show", "dev", link), "inet 10.0.0.2/32") {
			t.Fatalf("10.0.0.2/32 is not on %s in %s", link, ns)
		}
		if again := h.mustLvsctl(t, "realserver", "--mode", mode, "--vip", vip, "--netns", ns); !strings.HasPrefix(again, "No changes") {
			t.Fatalf("a second lvsctl realserver changed something:\n%s", again)
		}
		t.Cleanup(func() {
			out := h.mustLvsctl(t, "realserver", "--undo", "--netns", ns)
			if strings.Contains(run(t, "ip", "-n", ns, "addr", "show", "dev", link), "10.0.0.2") {
				t.Errorf("undo left 10.0.0.2 on %s in %s:\n%s", link, ns, out)
			}
			if got := readSysctl(t, ns, "net/ipv4/conf/all/arp_ignore"); got != before {
				t.Errorf("undo left arp_ignore at %s, not %s:\n%s", got, before, out)
			}
			if again := h.mustLvsctl(t, "realserver", "--undo", "--netns", ns); !strings.HasPrefix(again, "Nothing to undo") {
				t.Errorf("a second undo: %s", again)
			}
		})
	}
}

// checkARP checks that the client learned the VIP's MAC address from the
// director: a real server that answered ARP for the VIP would take the
// traffic away from the director.
func checkARP(t *testing.T, h *fourHost) {
	neigh := run(t, "ip", "-n", h.client, "neigh", "show", vip)
	if want := mac(t, h.director, "br0"); !strings.Contains(neigh, want) {
		t.Errorf("the client's ARP entry for %s is %q, not the director's %s", vip, strings.TrimSpace(neigh), want)
	}
}

func TestKernelDR(t *testing.T) {
	ipvstest.Require(t)
	h := newFourHost(t, false)
	prepareReals(t, h, "dr", "lo")
	checkScheduling(t, h, "dr-four-host.hcl", "-g")
	t.Run("reply-path", func(t *testing.T) { checkReplyPath(t, h, false) })
	checkARP(t, h)
}

func TestKernelTUN(t *testing.T) {
	ipvstest.Require(t)
	h := newFourHost(t, false)
	prepareReals(t, h, "tun", "tunl0")
	for _, ns := range h.reals {
		if got := readSysctl(t, ns, "net/ipv4/conf/tunl0/rp_filter"); got != "0" {
			t.Fatalf("rp_filter on tunl0 in %s is %s after lvsctl realserver", ns, got)
		}
	}
	checkScheduling(t, h, "tun-four-host.hcl", "-i")
	t.Run("reply-path", func(t *testing.T) { checkReplyPath(t, h, false) })
	checkARP(t, h)
}
