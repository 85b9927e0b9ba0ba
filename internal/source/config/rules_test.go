package config

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// errorsOf renders the error diagnostics as "LINE:COL Summary", in order.
func errorsOf(diags hcl.Diagnostics) []string {
	var out []string
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		pos := "-"
		if d.Subject != nil {
			pos = fmt.Sprintf("%d:%d", d.Subject.Start.Line, d.Subject.Start.Column)
		}
		out = append(out, pos+" "+d.Summary)
	}
	return out
}

// vs wraps service attributes in a virtual_server block with one real
// server, so that the first attribute given is on line 2.
func vs(attrs string) string {
	return "virtual_server \"web\" {\n" + attrs + "\n  real_server \"r1\" {\n    address = \"192.168.10.100:80\"\n  }\n}\n"
}

// rs wraps real server attributes in a NAT service on 10.0.0.2:80, so that
// the first attribute given is on line 4.
func rs(attrs string) string {
	return "virtual_server \"web\" {\n  address = \"10.0.0.2:80\"\n  real_server \"r1\" {\n" + attrs + "\n  }\n}\n"
}

// v6 makes the real server of a vs() configuration IPv6.
func v6(src string) string {
	return strings.Replace(src, `"192.168.10.100:80"`, `"[2001:db8::10]:80"`, 1)
}

func TestRules(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // "LINE:COL Summary" of every error, in order
		// detail, if set, must appear in the first error's detail.
		detail string
	}{
		// Syntax and schema, from hcl and gohcl.
		{"syntax error", "virtual_server \"web\" {\n  address = \n}\n", []string{"2:13 Invalid expression"}, ""},
		{"unknown attribute", vs(`  adress = "10.0.0.2:80"`), []string{"1:1 Missing service address", "2:3 Unsupported argument"}, ""},
		{"unknown block", vs(`  address = "10.0.0.2:80"
  health {}`), []string{"3:3 Unsupported block type"}, ""},
		{"wrong type", rs(`    address = "192.168.10.100:80"
    weight = "heavy"`), []string{"5:15 Unsuitable value type"}, ""},
		{"variables not allowed", vs(`  address = var.vip`), []string{"2:13 Variables not allowed"}, "Variables may not be used here"},
		{"missing label", "virtual_server {\n  address = \"10.0.0.2:80\"\n}\n", []string{"1:16 Missing name for virtual_server"}, ""},
		{"two timeouts blocks", "timeouts {\n  tcp = 10\n}\ntimeouts {\n  udp = 10\n}\n", []string{"4:1 Duplicate timeouts block"}, ""},

		// Names.
		{"duplicate virtual server", vs(`  address = "10.0.0.2:80"`) + vs(`  address = "10.0.0.3:80"`),
			[]string{"7:16 Duplicate virtual server"}, "already declared at t.hcl:1:16"},
		{"duplicate real server", rs(`    address = "192.168.10.100:80"
  }
  real_server "r1" {
    address = "192.168.10.101:80"`), []string{"6:15 Duplicate real server"}, "already declared in virtual_server \"web\" at t.hcl:3"},
		{"empty name", "virtual_server \"\" {\n  address = \"10.0.0.2:80\"\n}\n", []string{"1:16 Invalid virtual server name"}, ""},
		{"control character in name", "virtual_server \"a\\u001b[31m\" {\n  address = \"10.0.0.2:80\"\n}\n", []string{"1:16 Invalid virtual server name"}, ""},

		// Service identity.
		{"neither address nor fwmark", vs(`  scheduler = "rr"`), []string{"1:1 Missing service address"}, `fwmark = 100`},
		{"address and fwmark", vs(`  address = "10.0.0.2:80"
  fwmark = 1`), []string{"3:12 Conflicting service identity"}, ""},
		{"fwmark 0", vs(`  fwmark = 0`), []string{"2:12 Invalid fwmark"}, "no mark"},
		{"fwmark too big", vs(`  fwmark = 4294967296`), []string{"2:12 Invalid fwmark"}, ""},
		{"fwmark negative", vs(`  fwmark = -1`), []string{"2:12 Invalid fwmark"}, ""},
		{"fwmark fraction", vs(`  fwmark = 1.5`), []string{"2:12 Unsuitable value type"}, ""},
		{"protocol with fwmark", vs(`  fwmark = 1
  protocol = "udp"`), []string{"3:14 Protocol not allowed with fwmark"}, "remove protocol"},
		{"unknown protocol", vs(`  address = "10.0.0.2:80"
  protocol = "icmp"`), []string{"3:14 Invalid protocol"}, `"tcp", "udp" or "sctp"`},
		{"protocol typo", vs(`  address = "10.0.0.2:80"
  protocol = "upd"`), []string{"3:14 Invalid protocol"}, `Did you mean "udp"?`},
		{"unknown family", vs(`  fwmark = 1
  family = "inet6"`), []string{"3:12 Invalid family"}, `"ipv4" or "ipv6"`},
		{"family contradicts address", vs(`  address = "10.0.0.2:80"
  family = "ipv6"`), []string{"3:12 Conflicting family"}, ""},
		{"duplicate service", vs(`  address = "10.0.0.2:80"`) + strings.Replace(vs(`  address = "10.0.0.2:80"`), "web", "web2", 1),
			[]string{"8:13 Duplicate virtual service"}, "tcp 10.0.0.2:80 is already declared at t.hcl:2:13 (virtual_server \"web\")"},
		{"duplicate service written differently", vs(`  address = "[::ffff:10.0.0.2]:80"`) + strings.Replace(vs(`  address = "10.0.0.2:80"`), "web", "web2", 1),
			[]string{"8:13 Duplicate virtual service"}, ""},
		{"same address other protocol is fine", vs(`  address = "10.0.0.2:53"
  protocol = "udp"`) + strings.Replace(vs(`  address = "10.0.0.2:53"`), "web", "web2", 1), nil, ""},
		{"duplicate fwmark service", vs(`  fwmark = 7`) + strings.Replace(vs(`  fwmark = 7`), "web", "web2", 1),
			[]string{"8:12 Duplicate virtual service"}, ""},
		{"fwmark in both families is fine", vs(`  fwmark = 7`) + strings.Replace(vs(`  fwmark = 7
  family = "ipv6"`), "web", "web2", 1), []string{"11:15 Invalid real server address"}, "mixing families"},

		// Addresses.
		{"port out of range", vs(`  address = "10.0.0.2:99999"`), []string{"2:13 Invalid virtual server address"}, "out of range"},
		{"port not a number", vs(`  address = "10.0.0.2:http"`), []string{"2:13 Invalid virtual server address"}, "not a number"},
		{"missing virtual port", vs(`  address = "10.0.0.2"`), []string{"2:13 Invalid virtual server address"}, `"10.0.0.2:80"`},
		{"missing IPv6 virtual port", vs(`  address = "2001:db8::2"`), []string{"2:13 Invalid virtual server address"}, `"[2001:db8::2]:80"`},
		{"IPv6 port without brackets", vs(`  address = "2001:db8::2:80"`), []string{"2:13 Invalid virtual server address"}, ""},
		{"IPv6 needs brackets for a port", vs(`  address = "2001:db8::g:80"`), []string{"2:13 Invalid virtual server address"}, ""},
		{"unclosed bracket", vs(`  address = "[2001:db8::2:80"`), []string{"2:13 Invalid virtual server address"}, "closing ]"},
		{"IPv4 in brackets", vs(`  address = "[10.0.0.2]:80"`), []string{"2:13 Invalid virtual server address"}, "without brackets"},
		{"junk after bracket", vs(`  address = "[2001:db8::2]80"`), []string{"2:13 Invalid virtual server address"}, ""},
		{"host name", vs(`  address = "www.example.com:80"`), []string{"2:13 Invalid virtual server address"}, "does not resolve host names"},
		{"bad IPv4", vs(`  address = "10.0.0.256:80"`), []string{"2:13 Invalid virtual server address"}, "not an IP address"},
		{"zone", vs(`  address = "[fe80::1%eth0]:80"`), []string{"2:13 Invalid virtual server address"}, "zone"},
		{"unspecified address", vs(`  address = "0.0.0.0:80"`), []string{"2:13 Invalid virtual server address"}, "not a usable virtual address"},
		{"port 0 without persistence", vs(`  address = "10.0.0.2:0"`), []string{"2:13 Invalid virtual server port"}, "needs persistence"},
		{"port 0 with persistence", vs(`  address = "10.0.0.2:0"
  persistence {}`), nil, ""},
		{"real server without address", rs(`    weight = 2`), []string{"3:3 Missing real server address"}, ""},
		{"bad real server address", rs(`    address = "192.168.10.300"`), []string{"4:15 Invalid real server address"}, ""},
		{"unspecified real server", rs(`    address = "0.0.0.0:80"`), []string{"4:15 Invalid real server address"}, "not a usable"},
		{"duplicate real server address", rs(`    address = "192.168.10.100:80"
  }
  real_server "r2" {
    address = "192.168.10.100"`), []string{"7:15 Duplicate real server"}, "declared at t.hcl:4:15 (real_server \"r1\")"},
		{"real server family mix", rs(`    address = "[2001:db8::10]:80"`), []string{"4:15 Invalid real server address"}, "mixing families"},
		{"real server family mix with tun is fine", vs(`  address = "10.0.0.2:80"
  forwarding = "tun"`) + strings.Replace(rs(`    address = "2001:db8::10"
    forwarding = "tun"`), "web", "web2", 1), []string{"9:13 Duplicate virtual service"}, ""},
		{"dr port must match", rs(`    address = "192.168.10.100:8080"
    forwarding = "dr"`), []string{"4:15 Invalid real server port"}, "must equal the virtual port 80"},
		{"nat port may differ", rs(`    address = "192.168.10.100:8080"`), nil, ""},

		// Scheduling.
		{"unknown scheduler", vs(`  address = "10.0.0.2:80"
  scheduler = "fastest"`), []string{"3:15 Invalid scheduler"}, "use one of rr, wrr"},
		{"scheduler typo", vs(`  address = "10.0.0.2:80"
  scheduler = "wcl"`), []string{"3:15 Invalid scheduler"}, `Did you mean "wlc"?`},
		{"scheduler case", vs(`  address = "10.0.0.2:80"
  scheduler = "WLC"`), []string{"3:15 Invalid scheduler"}, `Did you mean "wlc"?`},
		{"unknown scheduler flag", vs(`  address = "10.0.0.2:80"
  scheduler = "sh"
  scheduler_flags = ["sh-port", "sh-falback"]`), []string{"4:33 Invalid scheduler flag"}, `Did you mean "sh-fallback"?`},
		{"sh flag without sh", vs(`  address = "10.0.0.2:80"
  scheduler_flags = ["sh-port"]`), []string{"3:22 Scheduler flag for another scheduler"}, `set scheduler = "sh"`},
		{"mh flag with sh", vs(`  address = "10.0.0.2:80"
  scheduler = "sh"
  scheduler_flags = ["mh-fallback"]`), []string{"4:22 Scheduler flag for another scheduler"}, ""},
		{"duplicate flag", vs(`  address = "10.0.0.2:80"
  scheduler_flags = ["flag-1", "flag-1"]`), []string{"3:32 Duplicate scheduler flag"}, ""},
		{"flags not a list", vs(`  address = "10.0.0.2:80"
  scheduler_flags = "flag-1"`), []string{"3:22 Unsuitable value type"}, ""},
		{"one_packet with tcp", vs(`  address = "10.0.0.2:80"
  one_packet = true`), []string{"3:16 One-packet scheduling not possible"}, "udp and fwmark"},
		{"one_packet with udp", vs(`  address = "10.0.0.2:53"
  protocol = "udp"
  one_packet = true`), nil, ""},

		// Persistence.
		{"pe without persistence", vs(`  address = "10.0.0.2:5060"
  protocol = "udp"
  pe = "sip"`), []string{"4:8 Invalid persistence engine"}, "add a persistence block"},
		{"unknown pe", vs(`  address = "10.0.0.2:5060"
  pe = "h323"
  persistence {}`), []string{"3:8 Invalid persistence engine"}, "only sip"},
		{"bad timeout", vs(`  address = "10.0.0.2:80"
  persistence {
    timeout = "6 minutes"
  }`), []string{"4:15 Invalid persistence timeout"}, `"360s", "6m"`},
		{"negative timeout", vs(`  address = "10.0.0.2:80"
  persistence {
    timeout = "-5m"
  }`), []string{"4:15 Invalid persistence timeout"}, "negative"},
		{"fractional timeout", vs(`  address = "10.0.0.2:80"
  persistence {
    timeout = "1.5s"
  }`), []string{"4:15 Invalid persistence timeout"}, "whole number of seconds"},
		{"zero timeout", vs(`  address = "10.0.0.2:80"
  persistence {
    timeout = "0s"
  }`), []string{"4:15 Invalid persistence timeout"}, "between 1s and 31 days"},
		{"timeout over 31 days", vs(`  address = "10.0.0.2:80"
  persistence {
    timeout = "745h"
  }`), []string{"4:15 Invalid persistence timeout"}, "between 1s and 31 days"},
		{"timeout huge", vs(`  address = "10.0.0.2:80"
  persistence {
    timeout = "2000000h"
  }`), []string{"4:15 Invalid persistence timeout"}, "between 1s and 31 days"},
		{"timeout as number", vs(`  address = "10.0.0.2:80"
  persistence {
    timeout = 300
  }`), nil, ""},
		{"non-contiguous netmask", vs(`  address = "10.0.0.2:80"
  persistence {
    netmask = "255.0.255.0"
  }`), []string{"4:15 Invalid persistence netmask"}, "contiguous"},
		{"bad IPv4 netmask", vs(`  address = "10.0.0.2:80"
  persistence {
    netmask = "255.255.255"
  }`), []string{"4:15 Invalid persistence netmask"}, "dotted mask"},
		{"IPv4 prefix too long", vs(`  address = "10.0.0.2:80"
  persistence {
    netmask = 33
  }`), []string{"4:15 Invalid persistence netmask"}, "0 to 32"},
		{"IPv6 dotted netmask", v6(vs(`  address = "[2001:db8::2]:80"
  persistence {
    netmask = "ffff:ffff:ffff:ffff::"
  }`)), []string{"4:15 Invalid persistence netmask"}, "prefix length"},
		{"IPv6 netmask 0", v6(vs(`  fwmark = 3
  family = "ipv6"
  persistence {
    netmask = 0
  }`)), []string{"5:15 Invalid persistence netmask"}, "1 to 128"},
		{"IPv6 prefix netmask", v6(vs(`  fwmark = 3
  family = "ipv6"
  persistence {
    netmask = "/64"
  }`)), nil, ""},

		// Real servers.
		{"weight too big", rs(`    address = "192.168.10.100:80"
    weight = 65536`), []string{"5:14 Invalid weight"}, "between 0 and 65535"},
		{"weight negative", rs(`    address = "192.168.10.100:80"
    weight = -1`), []string{"5:14 Invalid weight"}, ""},
		{"weight 0 is fine", rs(`    address = "192.168.10.100:80"
    weight = 0`), nil, ""},
		{"unknown forwarding", rs(`    address = "192.168.10.100:80"
    forwarding = "direct-routing"`), []string{"5:18 Invalid forwarding method"}, `"nat"`},
		{"forwarding typo on service", vs(`  address = "10.0.0.2:80"
  forwarding = "nta"`), []string{"3:16 Invalid forwarding method"}, `Did you mean "nat"?`},
		{"lower above upper", rs(`    address = "192.168.10.100:80"
    upper_threshold = 100
    lower_threshold = 200`), []string{"6:23 Invalid threshold"}, "above the upper threshold"},
		{"lower without upper", rs(`    address = "192.168.10.100:80"
    lower_threshold = 200`), []string{"5:23 Invalid threshold"}, "set upper_threshold too"},
		{"negative threshold", rs(`    address = "192.168.10.100:80"
    upper_threshold = -5`), []string{"5:23 Invalid threshold"}, ""},

		// Tunnels.
		{"tunnel without tun", rs(`    address = "192.168.10.100:80"
    tunnel {
      type = "gue"
      port = 6080
    }`), []string{"5:5 Tunnel settings without tunnelling"}, `set forwarding = "tun"`},
		{"tunnel with inherited tun", `virtual_server "web" {
  address = "10.0.0.2:80"
  forwarding = "tun"
  real_server "r1" {
    address = "192.168.10.100"
    tunnel {
      type = "gre"
      checksum = "csum"
    }
  }
  real_server "r2" {
    address = "192.168.10.101"
    forwarding = "nat"
    tunnel {}
  }
}
`, []string{"14:5 Tunnel settings without tunnelling"}, `uses "nat"`},
		{"gue needs port", rs(`    address = "192.168.10.100"
    forwarding = "tun"
    tunnel {
      type = "gue"
    }`), []string{"6:5 Invalid tunnel settings"}, "needs tunnel_port"},
		{"port on ipip", rs(`    address = "192.168.10.100"
    forwarding = "tun"
    tunnel {
      port = 6080
    }`), []string{"7:14 Invalid tunnel settings"}, "gue tunnels only"},
		{"remcsum on gre", rs(`    address = "192.168.10.100"
    forwarding = "tun"
    tunnel {
      type = "gre"
      checksum = "remcsum"
    }`), []string{"8:18 Invalid tunnel settings"}, "gue tunnels only"},
		{"csum on ipip", rs(`    address = "192.168.10.100"
    forwarding = "tun"
    tunnel {
      checksum = "csum"
    }`), []string{"7:18 Invalid tunnel settings"}, "gue and gre"},
		{"unknown tunnel type", rs(`    address = "192.168.10.100"
    forwarding = "tun"
    tunnel {
      type = "vxlan"
    }`), []string{"7:14 Invalid tunnel type"}, ""},
		{"tunnel port 0", rs(`    address = "192.168.10.100"
    forwarding = "tun"
    tunnel {
      type = "gue"
      port = 0
    }`), []string{"8:14 Invalid tunnel port"}, ""},
		{"unknown checksum", rs(`    address = "192.168.10.100"
    forwarding = "tun"
    tunnel {
      type = "gue"
      port = 6080
      checksum = "crc"
    }`), []string{"9:18 Invalid tunnel checksum"}, ""},

		// Top level.
		{"bad drain timeout", "drain_timeout = \"soon\"\n", []string{"1:17 Invalid drain timeout"}, ""},
		{"negative drain timeout", "drain_timeout = \"-1m\"\n", []string{"1:17 Invalid drain timeout"}, "negative"},
		{"bad timeouts", "timeouts {\n  tcp = \"15m\"\n  tcp_fin = \"2.5s\"\n  udp = \"-1s\"\n}\n",
			[]string{"3:13 Invalid timeout", "4:9 Invalid timeout"}, "whole number of seconds"},
		{"bad ignore address", "ignore {\n  addresses = [\"10.96.0.0/12\", \"10.0.0.0/33\", \"kube\"]\n}\n",
			[]string{"2:32 Invalid ignore address", "2:47 Invalid ignore address"}, ""},
		{"bad ignore fwmark", "ignore {\n  fwmarks = [1, 0]\n}\n", []string{"2:17 Invalid ignore fwmark"}, ""},
		{"bad ignore port", "ignore {\n  ports = [65536]\n}\n", []string{"2:12 Invalid ignore port"}, ""},
		{"ignore element type", "ignore {\n  ports = [\"https\"]\n}\n", []string{"2:13 Unsuitable value type"}, ""},
		{"service matched by ignore", "ignore {\n  addresses = [\"10.0.0.0/24\"]\n}\n" + vs(`  address = "10.0.0.2:80"`),
			[]string{"5:13 Service matched by ignore"}, "remove it from one of the two"},
		{"fwmark service matched by ignore", "ignore {\n  fwmarks = [5]\n}\n" + vs(`  fwmark = 5`),
			[]string{"5:12 Service matched by ignore"}, ""},

		// null means "not set", as everywhere in HCL.
		{"null address", vs(`  address = null`), []string{"1:1 Missing service address"}, ""},
		{"null address beside fwmark", vs(`  address = null
  fwmark = 3
  protocol = null
  scheduler = null`), nil, ""},
		{"null real server address", rs(`    address = null`), []string{"3:3 Missing real server address"}, ""},
		{"null persistence timeout", vs(`  address = "10.0.0.2:80"
  persistence {
    timeout = null
  }`), nil, ""},

		// Every error at once, in source order.
		{"many errors", `virtual_server "a" {
  address = "10.0.0.2:80"
  scheduler = "fastest"
  real_server "r1" {
    address = "192.168.10.100:80"
    weight = 70000
  }
}
virtual_server "b" {
  address = "10.0.0.3"
  real_server "r1" {
    address = "bad"
  }
}
`, []string{"3:15 Invalid scheduler", "6:14 Invalid weight", "10:13 Invalid virtual server address", "12:15 Invalid real server address"}, ""},
		// A broken service address must not make its real servers look wrong.
		{"no follow-on errors", vs(`  address = "10.0.0.2:http"
  forwarding = "dr"`), []string{"2:13 Invalid virtual server address"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, _, diags := Parse([]byte(tt.src), "t.hcl")
			got := errorsOf(diags)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("errors:\n got %q\nwant %q\nsource:\n%s", got, tt.want, tt.src)
			}
			if len(tt.want) == 0 {
				if cfg == nil || cfg.Table == nil {
					t.Fatal("no table from a valid configuration")
				}
				return
			}
			if cfg != nil {
				t.Error("a configuration with errors yielded a configuration")
			}
			if tt.detail != "" && !strings.Contains(diags[0].Detail, tt.detail) {
				t.Errorf("detail %q does not contain %q", diags[0].Detail, tt.detail)
			}
		})
	}
}
