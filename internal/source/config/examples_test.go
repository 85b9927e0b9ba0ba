package config

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hashicorp/hcl/v2/hclwrite"

	"github.com/lvsctl/lvsctl/lvs"
)

// TestExamples keeps the shipped examples loadable and tidy: each must load
// without a single diagnostic, describe at least one service, and be in the
// canonical layout of hclwrite.Format (what `terraform fmt` does), since
// admins copy them.
func TestExamples(t *testing.T) {
	paths, err := filepath.Glob("../../../examples/*.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 8 {
		t.Fatalf("found %d examples in ../examples, want at least 8", len(paths))
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			cfg, files, diags := Load(path)
			if len(diags) > 0 {
				var b strings.Builder
				_ = WriteDiagnostics(&b, files, diags, 0)
				t.Fatalf("%s:\n%s", path, b.String())
			}
			if cfg.Table == nil || len(cfg.Table.Services) == 0 {
				t.Fatalf("%s describes no virtual server", path)
			}
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(hclwrite.Format(src), src) {
				t.Errorf("%s is not formatted; its canonical form is:\n%s", path, hclwrite.Format(src))
			}
		})
	}
}

// TestExampleNATFourHost pins the classic layout, the one example every LVS
// guide starts from, field by field.
func TestExampleNATFourHost(t *testing.T) {
	cfg, _, diags := Load("../../../examples/nat-four-host.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	dest := func(name, addr string) lvs.Dest {
		return lvs.Dest{Name: name, Addr: netip.MustParseAddrPort(addr), Opts: lvs.DestOpts{Forward: lvs.Masq, Weight: 1}}
	}
	want := &lvs.Table{Services: []lvs.Service{{
		Key:   lvs.AddrKey(lvs.TCP, netip.MustParseAddrPort("10.0.0.2:80")),
		Name:  "web",
		Opts:  lvs.ServiceOpts{Scheduler: "wlc", Persistent: true, Timeout: 360, Netmask: 32},
		Dests: []lvs.Dest{dest("real1", "192.168.10.100:80"), dest("real2", "192.168.10.101:80")},
	}},
		// Not in the file: NAT needs it, so it is planned without asking.
		Sysctls: []lvs.Sysctl{{Name: "net.ipv4.ip_forward", Value: "1", Reason: "IPv4 NAT"}},
	}
	if diff := cmp.Diff(want, cfg.Table, cmpopts.EquateComparable(netip.Addr{}, netip.AddrPort{})); diff != "" {
		t.Errorf("nat-four-host.hcl table (-want +got):\n%s", diff)
	}
}
