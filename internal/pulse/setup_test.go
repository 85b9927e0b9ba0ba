package pulse

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/internal/pulse/vip"
	"github.com/lvsctl/lvsctl/internal/pulse/wire"
	"github.com/lvsctl/lvsctl/internal/reconcile"
	"github.com/lvsctl/lvsctl/internal/source/config"
)

func loadHCL(t *testing.T, src string) *model.Config {
	t.Helper()
	p := filepath.Join(t.TempDir(), "lvsctl.hcl")
	os.WriteFile(p, []byte(src), 0o600)
	cfg, _, diags := config.Load(p)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return cfg
}

func ifaces(m map[string][]string) func() ([]Interface, error) {
	return func() ([]Interface, error) {
		var out []Interface
		for name, addrs := range m {
			i := Interface{Name: name}
			for _, a := range addrs {
				i.Addrs = append(i.Addrs, netip.MustParseAddr(a))
			}
			out = append(out, i)
		}
		return out, nil
	}
}

func TestSetup(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "pulse.key")
	os.WriteFile(key, bytes.Repeat([]byte{1}, 32), 0o600)
	cfg := loadHCL(t, `pulse {
  primary         = "10.0.0.10"
  backup          = "10.0.0.11"
  primary_private = "192.168.1.10"
  backup_private  = "192.168.1.11"
  keepalive       = "100ms"
  deadtime        = "300ms"
  monitor_links   = true
  key_file        = "`+key+`"
  nat_router {
    address = "192.168.10.254"
    device  = "eth1:1"
    netmask = "255.255.255.0"
  }
}

virtual_server "web" {
  address = "10.0.0.2:80"
  vip {
    device  = "eth0:1"
    netmask = "255.255.255.0"
  }
  real_server "r1" {
    address = "192.168.10.100"
  }
}

virtual_server "web-ssl" {
  address = "10.0.0.2:443"
  vip {
    device = "eth0:1"
  }
  real_server "r1" {
    address = "192.168.10.100"
  }
}
`)
	backupHost := ifaces(map[string][]string{"eth0": {"10.0.0.11"}, "eth2": {"192.168.1.11"}})
	n, err := Setup(cfg, Options{Interfaces: backupHost})
	if err != nil {
		t.Fatal(err)
	}
	if n.Settings.Role != wire.Backup || n.Settings.Alone || n.Settings.Keepalive != 100*time.Millisecond || n.Settings.Deadtime != 300*time.Millisecond {
		t.Errorf("settings %+v", n.Settings)
	}
	if got := strings.Trim(strings.Join([]string{n.Self[0].String(), n.Self[1].String(), n.Peer[0].String(), n.Peer[1].String()}, " "), " "); got != "10.0.0.11 192.168.1.11 10.0.0.10 192.168.1.10" {
		t.Errorf("paths %s", got)
	}
	if strings.Join(n.Links, ",") != "eth0,eth2" {
		t.Errorf("links %v", n.Links)
	}
	want := []vip.Address{
		{Addr: netip.MustParseAddr("10.0.0.2"), Device: "eth0:1", Prefix: 24},
		{Addr: netip.MustParseAddr("192.168.10.254"), Device: "eth1:1", Prefix: 24},
	}
	if got := reconcile.FloatingAddresses(cfg); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("floating addresses %+v, want %+v (one per address)", got, want)
	}
	if len(n.Key) != 32 {
		t.Errorf("key %d bytes", len(n.Key))
	}

	// --role wins over the addresses.
	both := ifaces(map[string][]string{"eth0": {"10.0.0.10", "10.0.0.11"}, "eth2": {"192.168.1.10", "192.168.1.11"}})
	if n, err := Setup(cfg, Options{Interfaces: both, Role: wire.Primary}); err != nil || n.Self[0].String() != "10.0.0.10" {
		t.Errorf("--role primary: %v %v", n, err)
	}
	for _, tc := range []struct {
		host map[string][]string
		opts Options
		want string
	}{
		{map[string][]string{"eth0": {"10.0.0.10", "10.0.0.11"}}, Options{}, "both the primary (10.0.0.10) and the backup (10.0.0.11) addresses are on this host: pass --role"},
		{map[string][]string{"eth0": {"10.9.9.9"}}, Options{}, "neither the primary (10.0.0.10) nor the backup (10.0.0.11) address is on this host"},
		{map[string][]string{"eth0": {"10.0.0.10"}, "eth2": {"192.168.1.10"}}, Options{KeyFile: filepath.Join(dir, "nope")}, "does not exist: make one"},
		{map[string][]string{"eth0": {"10.0.0.10"}}, Options{Role: wire.Backup}, "monitor_links: no local device holds 10.0.0.11"},
	} {
		tc.opts.Interfaces = ifaces(tc.host)
		if _, err := Setup(cfg, tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want %q", tc.host, err, tc.want)
		}
	}
}

func TestSetupAlone(t *testing.T) {
	one := ifaces(map[string][]string{"eth0": {"10.0.0.10", "10.0.0.11"}})
	cfg := loadHCL(t, "pulse {\n  primary = \"10.0.0.10\"\n}\n")
	n, err := Setup(cfg, Options{Interfaces: one})
	if err != nil || !n.Settings.Alone || n.Key != nil || len(n.Peer) != 0 {
		t.Fatalf("single director: %+v %v (needs no key, no partner)", n, err)
	}
	cfg = loadHCL(t, "pulse {\n  primary = \"10.0.0.10\"\n  backup = \"10.0.0.11\"\n  backup_active = false\n  piranha_compat = true\n}\n")
	if _, err := Setup(cfg, Options{Interfaces: one, Role: wire.Backup}); err == nil || !strings.Contains(err.Error(), "backup_active is off") {
		t.Fatalf("backup with backup_active off: %v", err)
	}
	n, err = Setup(cfg, Options{Interfaces: one, Role: wire.Primary})
	if err != nil || !n.Settings.Alone {
		t.Fatalf("primary with backup_active off: %+v %v", n, err)
	}
}

func TestPiranhaCompatNeedsNoKey(t *testing.T) {
	cfg := loadHCL(t, "pulse {\n  primary = \"10.0.0.10\"\n  backup = \"10.0.0.11\"\n  piranha_compat = true\n  key_file = \"/nonexistent/key\"\n}\n")
	n, err := Setup(cfg, Options{Interfaces: ifaces(map[string][]string{"eth0": {"10.0.0.10"}})})
	if err != nil {
		t.Fatal(err)
	}
	c := n.Codec(time.Now())
	if b := c.Encode(wire.Active, 0); len(b) != 4 {
		t.Fatalf("piranha heartbeat of %d bytes", len(b))
	}
	if s, _, err := c.Decode(wire.EncodePiranha(wire.Standby)); err != nil || s != wire.Standby {
		t.Fatalf("decode: %v %v", s, err)
	}
}

// SettleMaxOf is the bound of the slowest check, every check of a real
// server with several counting; 0 without checks.
func TestSettleMaxOf(t *testing.T) {
	cfg := loadHCL(t, `virtual_server "web" {
  address = "10.0.0.2:80"
  real_server "a" {
    address = "192.168.10.100"
    health_check {
      type     = "tcp"
      interval = "2s"
      timeout  = "1s"
    }
    health_check {
      type     = "tcp"
      port     = 8081
      interval = "3s"
      timeout  = "3s"
      fall     = 3
    }
  }
  real_server "b" { address = "192.168.10.101" }
}
`)
	if got, want := SettleMaxOf(cfg), 4*6*time.Second; got != want {
		t.Errorf("SettleMaxOf = %v, want %v", got, want)
	}
	none := loadHCL(t, `virtual_server "web" {
  address = "10.0.0.2:80"
  real_server "b" { address = "192.168.10.101" }
}
`)
	if got := SettleMaxOf(none); got != 0 {
		t.Errorf("SettleMaxOf without checks = %v", got)
	}
}
