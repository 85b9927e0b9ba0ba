package config

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/lvsctl/lvsctl/lvs"
)

const sysctlServices = `
virtual_server "web" {
  address = "10.0.0.2:80"
  real_server "real1" {
    address = "192.168.10.100:80"
  }
}
`

// The sysctl block's knobs join what NAT needs; manage_forwarding = false
// leaves the forwarding out; and Write gives back the block as written,
// never the settings that follow from the services.
func TestSysctlBlock(t *testing.T) {
	for _, tc := range []struct {
		block string
		want  []lvs.Sysctl
	}{
		{"", []lvs.Sysctl{{Name: lvs.SysctlIPv4Forward, Value: "1", Reason: "IPv4 NAT"}}},
		{"sysctl {\n  expire_nodest_conn = 1\n  conn_reuse_mode = 2\n  sloppy_tcp = 0\n}\n", []lvs.Sysctl{
			{Name: lvs.SysctlIPv4Forward, Value: "1", Reason: "IPv4 NAT"},
			{Name: "net.ipv4.vs.conn_reuse_mode", Value: "2"},
			{Name: "net.ipv4.vs.expire_nodest_conn", Value: "1"},
			{Name: "net.ipv4.vs.sloppy_tcp", Value: "0"},
		}},
		{"sysctl {\n  manage_forwarding = false\n  conntrack = 1\n}\n", []lvs.Sysctl{{Name: "net.ipv4.vs.conntrack", Value: "1"}}},
		{"sysctl {\n  manage_forwarding = true\n}\n", []lvs.Sysctl{{Name: lvs.SysctlIPv4Forward, Value: "1", Reason: "IPv4 NAT"}}},
	} {
		src := tc.block + sysctlServices
		cfg, _, diags := Parse([]byte(src), "web.hcl")
		if diags.HasErrors() {
			t.Fatalf("%s: %v", src, diags)
		}
		if !slices.Equal(cfg.Table.Sysctls, tc.want) {
			t.Errorf("%s: sysctls %+v, want %+v", src, cfg.Table.Sysctls, tc.want)
		}
		var out bytes.Buffer
		if err := Write(&out, cfg, nil); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out.String(), "ip_forward") {
			t.Errorf("Write wrote the implied forwarding:\n%s", out.String())
		}
		back, _, diags := Parse(out.Bytes(), "back.hcl")
		if diags.HasErrors() {
			t.Fatalf("%s: %v", out.String(), diags)
		}
		if !slices.Equal(back.Table.Sysctls, tc.want) || back.ForwardingUnmanaged != cfg.ForwardingUnmanaged {
			t.Errorf("written and read back:\n%s\ngives %+v (unmanaged %v), want %+v (unmanaged %v)", out.String(), back.Table.Sysctls, back.ForwardingUnmanaged, tc.want, cfg.ForwardingUnmanaged)
		}
	}
}

// Each bad value is reported at the value itself, with the range; an
// unknown key at its name, with the nearest known one.
func TestSysctlBlockErrors(t *testing.T) {
	src := `sysctl {
  conn_reuse_mode    = 7
  sloppy_tpc         = 1
  sloppy_sctp        = "yes"
  expire_nodest_conn = 1.5
  manage_forwarding  = 1
  conntrack          = -1
}
` + sysctlServices
	_, _, diags := Parse([]byte(src), "bad.hcl")
	var got []string
	for _, d := range diags {
		r := d.Subject
		got = append(got, fmt.Sprintf("%d:%d-%d: %s: %s", r.Start.Line, r.Start.Column, r.End.Column, d.Summary, d.Detail))
	}
	want := []string{
		"2:24-25: Invalid sysctl value: conn_reuse_mode sets net.ipv4.vs.conn_reuse_mode, a whole number from 0 to 3, not 7.",
		`3:3-13: Unsupported argument: An argument named "sloppy_tpc" is not expected here. Did you mean "sloppy_tcp"?`,
		"4:24-29: Invalid sysctl value: sloppy_sctp sets net.ipv4.vs.sloppy_sctp, a whole number from 0 to 1.",
		"5:24-27: Invalid sysctl value: expire_nodest_conn sets net.ipv4.vs.expire_nodest_conn, a whole number from 0 to 1.",
		"6:24-25: Invalid manage_forwarding: manage_forwarding is true (lvsctl sets the forwarding that NAT needs: net.ipv4.ip_forward, net.ipv6.conf.all.forwarding) or false (they are managed elsewhere).",
		"7:24-26: Invalid sysctl value: conntrack sets net.ipv4.vs.conntrack, a whole number from 0 to 1, not -1.",
	}
	if !slices.Equal(got, want) {
		t.Errorf("diagnostics:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
