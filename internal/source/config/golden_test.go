package config

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvsctl/lvsctl/internal/golden"
	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/lvs"
)

// render prints every field of a configuration in a fixed order, one line
// per object, so that a golden file shows exactly what the parser decided,
// defaults included.
func render(cfg *model.Config) string {
	var b strings.Builder
	t := cfg.Table
	fmt.Fprintf(&b, "drain_timeout %s\n", cfg.DrainTimeout)
	fmt.Fprintf(&b, "timeouts tcp=%s tcp_fin=%s udp=%s\n", t.Timeouts.TCP, t.Timeouts.TCPFin, t.Timeouts.UDP)
	fmt.Fprintf(&b, "ignore prefixes=%v fwmarks=%v ports=%v\n", t.Ignore.Prefixes, t.Ignore.FWMarks, t.Ignore.Ports)
	for _, s := range t.Services {
		o := s.Opts
		fmt.Fprintf(&b, "service %q key=%q family=%s scheduler=%s flags=%03b persistent=%t timeout=%d netmask=%d pe=%q one_packet=%t\n",
			s.Name, s.Key, s.Key.Family, o.Scheduler, o.SchedFlags, o.Persistent, o.Timeout, o.Netmask, o.PE, o.OnePacket)
		for _, d := range s.Dests {
			o := d.Opts
			fmt.Fprintf(&b, "  dest %q addr=%s forward=%s weight=%d upper=%d lower=%d tunnel=%s tunnel_port=%d tunnel_flags=%s\n",
				d.Name, d.Addr, o.Forward, o.Weight, o.UpperThreshold, o.LowerThreshold, o.TunnelType, o.TunnelPort, tunnelFlags(o.TunnelFlags))
		}
	}
	return b.String()
}

func tunnelFlags(f lvs.TunnelFlags) string {
	switch f {
	case 0:
		return "nocsum"
	case lvs.TunnelCsum:
		return "csum"
	case lvs.TunnelRemCsum:
		return "remcsum"
	}
	return fmt.Sprintf("%#x", uint16(f))
}

// TestGolden loads each testdata/*.hcl file, and each testdata/*.d
// directory as a merged configuration, and compares the resulting table with
// the .golden file beside it. Files whose name starts with "bad-" must fail;
// their golden file holds the rendered diagnostics instead.
func TestGolden(t *testing.T) {
	paths, err := filepath.Glob("testdata/*.hcl")
	if err != nil {
		t.Fatal(err)
	}
	dirs, _ := filepath.Glob("testdata/*.d")
	paths = append(paths, dirs...)
	if len(paths) < 5 {
		t.Fatalf("only %d test configurations in testdata", len(paths))
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			cfg, files, diags := Load(path)
			var got string
			if strings.HasPrefix(filepath.Base(path), "bad-") {
				if !diags.HasErrors() {
					t.Fatalf("%s has no errors", path)
				}
				var b strings.Builder
				if err := WriteDiagnostics(&b, files, diags, 0); err != nil {
					t.Fatal(err)
				}
				got = b.String()
			} else {
				if len(diags) > 0 {
					var b strings.Builder
					_ = WriteDiagnostics(&b, files, diags, 0)
					t.Fatalf("unexpected diagnostics:\n%s", b.String())
				}
				got = render(cfg)
			}
			golden.Check(t, strings.TrimSuffix(path, filepath.Ext(path))+".golden", []byte(got))
		})
	}
}
