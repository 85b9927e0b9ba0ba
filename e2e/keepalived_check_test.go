package e2e

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/lvsctl/lvsctl/internal/ipvstest"
	"github.com/lvsctl/lvsctl/internal/netns"
)

// page is a web server in a namespace whose page can be changed while it
// runs: a real server whose content goes wrong, as keepalived's url
// digests catch.
type page struct{ body atomic.Value }

func servePage(t *testing.T, ns, addr, body string) *page {
	t.Helper()
	p := &page{}
	p.body.Store(body)
	var ln net.Listener
	if err := netns.Do(nsPath(ns), func() (err error) {
		ln, err = net.Listen("tcp", addr)
		return err
	}); err != nil {
		t.Fatalf("listening on %s in %s: %v", addr, ns, err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, p.body.Load().(string))
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return p
}

// keepalivedCheckConfig is the four-host NAT layout on port 8080 as a
// converted keepalived.conf has it: an HTTP_GET with a url digest on each
// real server, real2 with inhibit_on_failure (on_failure = "quiesce"), and
// a quorum of 2 (weights) with a sorry server.
const keepalivedCheckConfig = `
virtual_server "web" {
  address      = "10.0.0.2:8080"
  scheduler    = "rr"
  sorry_server = "192.168.10.102:8080"
  quorum       = 2

  health_check {
    type    = "http"
    timeout = "2s"
    url {
      path   = "/"
      digest = "%s"
    }
  }
  real_server "real1" {
    address = "192.168.10.100:8080"
    weight  = 2
  }
  real_server "real2" {
    address = "192.168.10.101:8080"
    weight  = 2
    health_check {
      on_failure = "quiesce"
    }
  }
}
`

// TestKernelCheckURLDigestQuorum runs check --once against real web
// servers and reads the table back with ipvsadm: a page whose MD5 digest
// no longer matches takes its real server out (or to weight 0 with
// on_failure = "quiesce", keepalived's inhibit_on_failure), and a quorum
// lost hands the service to its sorry server alone, as keepalived does.
func TestKernelCheckURLDigestQuorum(t *testing.T) {
	ipvstest.Require(t)
	h := newFourHost(t, true)
	run(t, "ip", "-n", h.reals[1], "addr", "add", "192.168.10.102/24", "dev", "eth0")
	const good = "<html>healthy</html>\n"
	sum := md5.Sum([]byte(good))
	real1 := servePage(t, h.reals[0], "192.168.10.100:8080", good)
	real2 := servePage(t, h.reals[1], "192.168.10.101:8080", good)
	servePage(t, h.reals[1], "192.168.10.102:8080", "sorry\n")
	cfg := writeConfig(t, fmt.Sprintf(keepalivedCheckConfig, hex.EncodeToString(sum[:])))

	once := func(want string) {
		t.Helper()
		out := h.mustLvsctl(t, "check", "--once", "--netns", h.director, "-f", cfg)
		got := h.ipvsadmSave(t)
		if got != want {
			t.Fatalf("ipvsadm -S -n:\n%swant:\n%scheck's log:\n%s", got, want, out)
		}
	}
	const svc = "-A -t 10.0.0.2:8080 -s rr\n"
	rs := func(addr string, w int) string { return fmt.Sprintf("-a -t 10.0.0.2:8080 -r %s -m -w %d\n", addr, w) }

	// Both pages right: both real servers in, the quorum (4 >= 2) held.
	once(svc + rs("192.168.10.100:8080", 2) + rs("192.168.10.101:8080", 2))

	// real2's page changes: its digest fails, and it stays at weight 0
	// (inhibit); real1 alone holds the quorum (2 >= 2).
	real2.body.Store("<html>500 from the application</html>\n")
	once(svc + rs("192.168.10.100:8080", 2) + rs("192.168.10.101:8080", 0))

	// real2 right again, real1 wrong: real1 leaves the table.
	real2.body.Store(good)
	real1.body.Store("<html>maintenance</html>\n")
	once(svc + rs("192.168.10.101:8080", 2))

	// Both wrong: the quorum is lost (0 < 2); the sorry server alone
	// serves, real2 stays at weight 0.
	real2.body.Store("")
	once(svc + rs("192.168.10.101:8080", 0) + rs("192.168.10.102:8080", 1))
	for _, s := range h.answers(t, vip+":8080", 3) {
		if s != "sorry" {
			t.Fatalf("with the quorum lost %q answered, not the sorry server", s)
		}
	}
	out, _ := h.lvsctl(t, "plan", "--netns", h.director, "-f", cfg)
	if !regexp.MustCompile(`sorry server 192\.168\.10\.102:8080 stands in`).MatchString(out) || !strings.Contains(out, "No changes.") {
		t.Errorf("plan does not honour the published quorum:\n%s", out)
	}

	// Both right: the quorum regained, the sorry server leaves.
	real1.body.Store(good)
	real2.body.Store(good)
	once(svc + rs("192.168.10.100:8080", 2) + rs("192.168.10.101:8080", 2))
}

// TestKernelCheckDynamicWeight runs a dynamic exec check (keepalived's
// misc_dynamic) through check --once: the program's exit status sets the
// real server's weight in the kernel, as ipvsadm shows, and exit 1 takes
// it out.
func TestKernelCheckDynamicWeight(t *testing.T) {
	ipvstest.Require(t)
	h := newFourHost(t, true)
	dir := t.TempDir()
	status := filepath.Join(dir, "status")
	prog := filepath.Join(dir, "weight")
	// The program reads the status to exit with from a file the test
	// writes; it is run without a shell, so it names its interpreter.
	if err := os.WriteFile(prog, []byte("#!/bin/sh\nexit $(cat "+status+")\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, `
virtual_server "web" {
  address = "10.0.0.2:8080"
  health_check {
    type    = "exec"
    program = "`+prog+` %h %p"
    dynamic = true
    timeout = "5s"
  }
  real_server "real1" {
    address = "192.168.10.100:8080"
    weight  = 5
  }
}
`)
	for _, tc := range []struct{ exit, want string }{
		{"0", "-w 5"},   // up at the configured weight
		{"12", "-w 10"}, // up at 12 - 2
		{"0", "-w 10"},  // up, the weight left as the program set it
		{"2", "-w 0"},   // up at weight 0
		{"1", ""},       // down: removed
		{"0", "-w 5"},   // back after a failure: the configured weight (a failure ends the program's)
	} {
		if err := os.WriteFile(status, []byte(tc.exit+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out := h.mustLvsctl(t, "check", "--once", "--netns", h.director, "-f", cfg)
		want := "-A -t 10.0.0.2:8080 -s wlc\n"
		if tc.want != "" {
			want += "-a -t 10.0.0.2:8080 -r 192.168.10.100:8080 -m " + tc.want + "\n"
		}
		if got := h.ipvsadmSave(t); got != want {
			t.Fatalf("exit %s: ipvsadm -S -n:\n%swant:\n%scheck's log:\n%s", tc.exit, got, want, out)
		}
	}
}

// keepalivedTwoCheckers is a keepalived.conf whose real servers each have
// a TCP_CHECK on their port and an HTTP_GET (with a url digest) on 8081,
// at keepalived's default retry (1: two failed probes in a row count).
const keepalivedTwoCheckers = `
virtual_server 10.0.0.2 8080 {
   lb_algo rr
   lb_kind NAT
   protocol TCP
   real_server 192.168.10.100 8080 {
      TCP_CHECK {
         connect_timeout 2
      }
      HTTP_GET {
         url {
            path /
            digest %[1]s
         }
         connect_port 8081
         connect_timeout 2
      }
   }
   real_server 192.168.10.101 8080 {
      TCP_CHECK {
         connect_timeout 2
      }
      HTTP_GET {
         url {
            path /
            digest %[1]s
         }
         connect_port 8081
         connect_timeout 2
      }
   }
}
`

// listenTCP accepts (and closes) connections on addr in namespace ns
// until it is closed: a port a TCP check passes on while it is open.
func listenTCP(t *testing.T, ns, addr string) net.Listener {
	t.Helper()
	var ln net.Listener
	if err := netns.Do(nsPath(ns), func() (err error) {
		ln, err = net.Listen("tcp", addr)
		return err
	}); err != nil {
		t.Fatalf("listening on %s in %s: %v", addr, ns, err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return ln
}

// TestKernelCheckEveryChecker reads a keepalived.conf whose real servers
// have two checkers each and runs check --once on it, with ipvsadm as the
// witness: a real server is in the table only while both its TCP_CHECK
// and its HTTP_GET pass, as keepalived keeps it (ipwrapper.c,
// update_svr_checker_state), whichever of the two fails.
func TestKernelCheckEveryChecker(t *testing.T) {
	ipvstest.Require(t)
	h := newFourHost(t, true)
	const good = "<html>healthy</html>\n"
	sum := md5.Sum([]byte(good))
	tcp1 := listenTCP(t, h.reals[0], "192.168.10.100:8080")
	listenTCP(t, h.reals[1], "192.168.10.101:8080")
	page1 := servePage(t, h.reals[0], "192.168.10.100:8081", "<html>500 from the application</html>\n")
	servePage(t, h.reals[1], "192.168.10.101:8081", good)
	cfg := filepath.Join(t.TempDir(), "keepalived.conf")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(keepalivedTwoCheckers, hex.EncodeToString(sum[:]))), 0o644); err != nil {
		t.Fatal(err)
	}
	once := func(why, want string) {
		t.Helper()
		// Twice: a checker fails after retry + 1 = 2 probes in a row
		// (the counters carry over through the state file).
		h.mustLvsctl(t, "check", "--once", "--netns", h.director, "-f", cfg)
		out := h.mustLvsctl(t, "check", "--once", "--netns", h.director, "-f", cfg)
		if got := h.ipvsadmSave(t); got != want {
			t.Fatalf("%s: ipvsadm -S -n:\n%swant:\n%scheck's log:\n%s", why, got, want, out)
		}
	}
	const svc = "-A -t 10.0.0.2:8080 -s rr\n"
	real1 := "-a -t 10.0.0.2:8080 -r 192.168.10.100:8080 -m -w 1\n"
	real2 := "-a -t 10.0.0.2:8080 -r 192.168.10.101:8080 -m -w 1\n"

	once("real1's TCP_CHECK passes, its HTTP_GET fails", svc+real2)
	page1.body.Store(good)
	once("both of real1's checkers pass", svc+real1+real2)
	tcp1.Close()
	once("real1's HTTP_GET passes, its TCP_CHECK fails", svc+real2)
}
