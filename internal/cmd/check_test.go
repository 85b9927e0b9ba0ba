package cmd

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/internal/apply/applytest"
)

const reloadConfig = `
virtual_server "web" {
  address = "10.0.0.1:80"
  health_check {
    type     = "exec"
    program  = "/bin/false"
    interval = "100ms"
    timeout  = "100ms"
  }
  real_server "real1" {
    address = "127.0.0.1:80"
    health_check {
      program = "PROGRAM1"
    }
  }
  real_server "real2" {
    address = "127.0.0.2:80"
  }
}
`

// SIGHUP re-reads the configuration and keeps the health of the real
// servers that are still there: real2, down before the reload with an
// unchanged check, is not seen going down a second time.
func TestCheckReload(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "lvsctl.hcl")
	write := func(program string) {
		if err := os.WriteFile(cfgPath, []byte(strings.Replace(reloadConfig, "PROGRAM1", program, 1)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("/bin/false")
	k := applytest.New()
	check := startDaemon(t, k, dir, "check", "-f", cfgPath)
	check.waitLog("real_server=real1", 1)
	check.waitLog("real_server=real2", 1)

	write("/bin/true")
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	check.waitLog("configuration reloaded", 1)
	check.waitLog(`msg="real server up" virtual_server=web real_server=real1`, 1)
	time.Sleep(200 * time.Millisecond) // several more probes of real2
	check.stop()
	if n := strings.Count(check.out.String(), `msg="real server down" virtual_server=web real_server=real2`); n != 1 {
		t.Errorf("real2 went down %d times; the reload forgot its health:\n%s", n, check.out.String())
	}
	live, err := k.Table()
	if err != nil {
		t.Fatal(err)
	}
	if s := live.Services; len(s) != 1 || len(s[0].Dests) != 1 || s[0].Dests[0].Addr.String() != "127.0.0.1:80" {
		t.Errorf("live table after stopping: %+v", s)
	}
}

// check --metrics serves the health and the kernel's counters over HTTP on
// the address given (port 0: any free one, which the log names).
func TestCheckMetrics(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "lvsctl.hcl")
	if err := os.WriteFile(cfgPath, []byte(strings.Replace(reloadConfig, "PROGRAM1", "/bin/true", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	check := startDaemon(t, applytest.New(), dir, "check", "-f", cfgPath, "--metrics", "127.0.0.1:0")
	urlRE := regexp.MustCompile(`msg="serving metrics" address=(http://127\.0\.0\.1:\d+/metrics)`)
	want := []string{
		`lvsctl_real_server_transitions_total{address="10.0.0.1",direction="down",family="ipv4",fwmark="",port="80",protocol="tcp",real_server="real2",real_server_address="127.0.0.2",real_server_port="80",virtual_server="web"} 1`,
		`lvsctl_real_server_up{address="10.0.0.1",family="ipv4",fwmark="",port="80",protocol="tcp",real_server="real1",real_server_address="127.0.0.1",real_server_port="80",virtual_server="web"} 1`,
		`lvsctl_real_server_up{address="10.0.0.1",family="ipv4",fwmark="",port="80",protocol="tcp",real_server="real2",real_server_address="127.0.0.2",real_server_port="80",virtual_server="web"} 0`,
		`lvsctl_ipvs_up 1`,
		`lvsctl_ipvs_real_server_weight{address="10.0.0.1",family="ipv4",fwmark="",port="80",protocol="tcp",real_server="real1",real_server_address="127.0.0.1",real_server_port="80",virtual_server="web"} 1`,
		`lvsctl_ipvs_service_connections_total{address="10.0.0.1",family="ipv4",fwmark="",port="80",protocol="tcp",virtual_server="web"} 0`,
		`lvsctl_build_info{commit=`,
		`process_cpu_seconds_total`,
	}
	// Scrape until the page shows all of it: real2 down once, and real1
	// up, which on a loaded machine may first miss its 100ms timeout and
	// come back after rise passes.
	var page string
	var missing []string
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m := urlRE.FindStringSubmatch(check.out.String()); m != nil {
			resp, err := http.Get(m[1])
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			page = string(b)
			missing = missing[:0]
			for _, w := range want {
				if !strings.Contains(page, w) {
					missing = append(missing, w)
				}
			}
			if len(missing) == 0 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the scrape has not %q; log:\n%s\nlast scrape:\n%s", missing, check.out.String(), page)
		}
		time.Sleep(20 * time.Millisecond)
	}
	check.stop()
}

func TestCheckMetricsWithOnce(t *testing.T) {
	var out bytes.Buffer
	code := Main(context.Background(), []string{"lvsctl", "check", "--once", "--metrics", "127.0.0.1:0", "-f", "x.hcl"}, Env{
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &out, StateDir: t.TempDir(),
	})
	if code == 0 || !strings.Contains(out.String(), "--metrics serves while check runs") {
		t.Errorf("exit status %d:\n%s", code, out.String())
	}
}
