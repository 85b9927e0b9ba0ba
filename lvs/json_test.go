package lvs

import (
	"encoding/json"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// sampleTable has one of everything the JSON form carries.
func sampleTable() *Table {
	t := &Table{
		Timeouts: Timeouts{TCP: 900 * time.Second, TCPFin: 120 * time.Second, UDP: 300 * time.Second},
		Ignore:   Ignore{Prefixes: []netip.Prefix{netip.MustParsePrefix("10.96.0.0/12")}, FWMarks: []uint32{7}, Ports: []uint16{5353}},
		Services: []Service{
			{Key: AddrKey(TCP, ap("10.0.0.2:80")), Name: "web",
				Opts:  ServiceOpts{Scheduler: "wlc", Persistent: true, Timeout: 360, Netmask: 24},
				Stats: Stats{Conns: 1, InPkts: 2, OutPkts: 3, InBytes: 4, OutBytes: 5, CPS: 6, InPPS: 7, OutPPS: 8, InBPS: 9, OutBPS: 10},
				Dests: []Dest{
					{Addr: ap("192.168.10.100:80"), Name: "real1", Opts: DestOpts{Forward: Masq, Weight: 1, UpperThreshold: 100, LowerThreshold: 50},
						Live: DestLive{ActiveConns: 3, InactConns: 4, PersistConns: 5, Stats: Stats{Conns: 11, OutBPS: 12}}},
					{Addr: ap("192.168.10.101:80"), Opts: DestOpts{Forward: Tunnel, Weight: 0, TunnelType: GUE, TunnelPort: 6080, TunnelFlags: TunnelRemCsum}},
					{Addr: ap("192.168.10.102:80"), Opts: DestOpts{Forward: Local, Weight: 2}},
				}},
			{Key: AddrKey(UDP, ap("[2001:db8::2]:53")), Opts: ServiceOpts{Scheduler: "sh", SchedFlags: SchedFlag1 | SchedFlag2 | SchedFlag3, Persistent: true, Timeout: 60, Netmask: 64, PE: "sip", OnePacket: true}},
			{Key: MarkKey(IPv4, 3), Opts: ServiceOpts{Scheduler: "rr", Netmask: 32},
				Dests: []Dest{{Addr: ap("172.16.0.1:0"), Opts: DestOpts{Forward: Route, Weight: 5}}}},
			{Key: MarkKey(IPv6, 4), Opts: ServiceOpts{Scheduler: "mh", SchedFlags: SchedFlag2, Netmask: 128},
				Dests: []Dest{{Addr: ap("10.0.0.9:0"), Opts: DestOpts{Forward: Tunnel, Weight: 1, TunnelType: GRE, TunnelFlags: TunnelCsum}}}},
		},
		Sysctls: []Sysctl{{Name: SysctlIPv4Forward, Value: "1"}, {Name: "net.ipv4.vs.conn_reuse_mode", Value: "0"}},
	}
	t.Normalize()
	return t
}

func TestJSONRoundTrip(t *testing.T) {
	want := sampleTable()
	b, err := want.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var got Table
	if err := got.UnmarshalJSON(b); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if !reflect.DeepEqual(*want, got) {
		t.Errorf("round trip changed the table:\n%+v\nwant\n%+v\njson:\n%s", got, *want, b)
	}
	// json.Marshal of a Table value uses the same form.
	b2, err := json.Marshal(*want)
	if err != nil {
		t.Fatal(err)
	}
	var got2 Table
	if err := json.Unmarshal(b2, &got2); err != nil || !reflect.DeepEqual(*want, got2) {
		t.Errorf("through encoding/json: %v", err)
	}
}

// The shape is a documented interface: scripts read these names.
func TestJSONShape(t *testing.T) {
	b, err := sampleTable().MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Services []map[string]any `json:"services"`
		Timeouts map[string]any   `json:"timeouts"`
		Ignore   map[string]any   `json:"ignore"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	web := v.Services[0]
	for k, want := range map[string]any{
		"name": "web", "protocol": "tcp", "address": "10.0.0.2:80", "scheduler": "wlc",
		"persistence": map[string]any{"timeout": 360.0, "netmask": "255.255.255.0"},
	} {
		if !reflect.DeepEqual(web[k], want) {
			t.Errorf("services[0].%s = %#v, want %#v", k, web[k], want)
		}
	}
	rs := web["real_servers"].([]any)[0].(map[string]any)
	for k, want := range map[string]any{
		"name": "real1", "address": "192.168.10.100:80", "weight": 1.0, "forwarding": "nat",
		"upper_threshold": 100.0, "lower_threshold": 50.0, "active_conns": 3.0, "inactive_conns": 4.0, "persistent_conns": 5.0,
	} {
		if !reflect.DeepEqual(rs[k], want) {
			t.Errorf("real_servers[0].%s = %#v, want %#v", k, rs[k], want)
		}
	}
	if _, ok := rs["tunnel_type"]; ok {
		t.Errorf("a nat real server has tunnel_type")
	}
	if st := rs["stats"].(map[string]any); st["conns"] != 11.0 || st["out_bps"] != 12.0 {
		t.Errorf("real_servers[0].stats = %v", st)
	}
	tun := web["real_servers"].([]any)[1].(map[string]any)
	if tun["forwarding"] != "tun" || tun["tunnel_type"] != "gue" || tun["tunnel_port"] != 6080.0 || tun["tunnel_checksum"] != "remcsum" {
		t.Errorf("tunnel real server = %v", tun)
	}
	dns := v.Services[1]
	if dns["persistence"].(map[string]any)["netmask"] != 64.0 || dns["one_packet"] != true || dns["pe"] != "sip" {
		t.Errorf("IPv6 service = %v", dns)
	}
	if !reflect.DeepEqual(dns["scheduler_flags"], []any{"sh-fallback", "sh-port", "flag-3"}) {
		t.Errorf("scheduler_flags = %v", dns["scheduler_flags"])
	}
	if m := v.Services[3]; m["fwmark"] != 4.0 || m["family"] != "ipv6" || m["address"] != nil {
		t.Errorf("fwmark service = %v", m)
	}
	if !reflect.DeepEqual(v.Timeouts, map[string]any{"tcp": 900.0, "tcp_fin": 120.0, "udp": 300.0}) {
		t.Errorf("timeouts = %v", v.Timeouts)
	}
	if !reflect.DeepEqual(v.Ignore["prefixes"], []any{"10.96.0.0/12"}) {
		t.Errorf("ignore = %v", v.Ignore)
	}
	var empty Table
	b, _ = empty.MarshalJSON()
	if !strings.Contains(string(b), `"services": []`) {
		t.Errorf("an empty table has no services list:\n%s", b)
	}
}

func TestJSONDefaults(t *testing.T) {
	in := `{"services":[
	  {"protocol":"tcp","address":"10.0.0.2:80","real_servers":[
	    {"address":"192.168.10.100"},
	    {"address":"192.168.10.101:8080","weight":0,"forwarding":"masq"}]},
	  {"fwmark":5,"persistence":{"netmask":"/24"}},
	  {"protocol":"udp","address":"[2001:db8::1]:53","persistence":{"timeout":30,"netmask":"/64"}}]}`
	var got Table
	if err := got.UnmarshalJSON([]byte(in)); err != nil {
		t.Fatal(err)
	}
	want := Table{Services: []Service{
		{Key: AddrKey(TCP, ap("10.0.0.2:80")), Opts: ServiceOpts{Scheduler: "wlc", Netmask: 32}, Dests: []Dest{
			{Addr: ap("192.168.10.100:80"), Opts: DestOpts{Forward: Masq, Weight: 1}},
			{Addr: ap("192.168.10.101:8080"), Opts: DestOpts{Forward: Masq, Weight: 0}},
		}},
		{Key: AddrKey(UDP, ap("[2001:db8::1]:53")), Opts: ServiceOpts{Scheduler: "wlc", Persistent: true, Timeout: 30, Netmask: 64}},
		{Key: MarkKey(IPv4, 5), Opts: ServiceOpts{Scheduler: "wlc", Persistent: true, Timeout: 360, Netmask: 24}},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%+v\nwant\n%+v", got, want)
	}
}

func TestJSONErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{``, `empty input: expected a JSON table such as {"services": []}`},
		{`{"services":[`, `unexpected end of input: the JSON table is cut short`},
		{"{\n  \"services\": [}", `line 2, column 16: invalid character '}' looking for beginning of value`},
		{`{"services":[{"protocol":"tcp","address":"10.0.0.2:80","sheduler":"rr"}]}`, `line 1, column 56: unknown field "sheduler": check the spelling`},
		{`{"services":[{"protocol":"tcp","address":"10.0.0.2:80","real_servers":[{"address":"10.0.0.3:80","weight":"heavy"}]}]}`,
			`line 1, column 112: services.real_servers.weight: a string cannot be a int`},
		{`{"services":[]} {}`, `line 1, column 17: unexpected data after the table`},
		{`{"services":[{"protocol":"tcp"}]}`, `services[0]: a service needs protocol and address, or fwmark`},
		{`{"services":[{"address":"10.0.0.2:80"}]}`, `services[0].protocol: missing: use tcp, udp or sctp`},
		{`{"services":[{"protocol":"icmp","address":"10.0.0.2:80"}]}`, `services[0].protocol: unknown protocol "icmp": use tcp, udp or sctp`},
		{`{"services":[{"protocol":"tcp","address":"web:80"}]}`, `services[0].address: invalid address "web:80": write 10.0.0.2:80 or [2001:db8::2]:80`},
		{`{"services":[{"fwmark":3,"protocol":"tcp"}]}`, `services[0].fwmark: a service has either fwmark or protocol and address, not both`},
		{`{"services":[{"fwmark":3,"family":"inet"}]}`, `services[0].family: unknown family "inet": use ipv4 or ipv6`},
		{`{"services":[{"protocol":"tcp","address":"10.0.0.2:80","family":"ipv6"}]}`, `services[0].family: "ipv6" does not match the address 10.0.0.2:80`},
		{`{"services":[{"protocol":"tcp","address":"10.0.0.2:80","scheduler_flags":["sh-port"]}]}`, `services[0].scheduler_flags: scheduler flag "sh-port" is for the sh scheduler, not wlc`},
		{`{"services":[{"protocol":"tcp","address":"10.0.0.2:80","persistence":{"netmask":"255.0.255.0"}}]}`, `services[0].persistence.netmask: netmask "255.0.255.0" is not contiguous`},
		{`{"services":[{"protocol":"tcp","address":"[2001:db8::1]:80","persistence":{"netmask":"255.255.0.0"}}]}`, `services[0].persistence.netmask: invalid IPv6 netmask "255.255.0.0": write a prefix length such as 64`},
		{`{"services":[{"protocol":"tcp","address":"10.0.0.2:80","real_servers":[{"address":"10.0.0.3:80","forwarding":"fast"}]}]}`, `services[0].real_servers[0].forwarding: unknown forwarding method "fast": use nat, dr or tun`},
		{`{"services":[{"protocol":"tcp","address":"10.0.0.2:80","real_servers":[{"address":"10.0.0.3:80","tunnel_type":"gue"}]}]}`, `services[0].real_servers[0].tunnel_type: tunnel settings need "forwarding": "tun"`},
		{`{"services":[{"protocol":"tcp","address":"10.0.0.2:80","real_servers":[{"address":"10.0.0.3:80","forwarding":"tun","tunnel_checksum":"md5"}]}]}`, `services[0].real_servers[0].tunnel_checksum: unknown tunnel checksum "md5": use nocsum, csum or remcsum`},
		{`{"ignore":{"prefixes":["10.0.0.0/33"]}}`, `ignore.prefixes[0]: invalid prefix "10.0.0.0/33": write 10.96.0.0/12 or 2001:db8::/32`},
		{`{"timeouts":{"tcp":-1}}`, `timeouts: tcp must be between 0 and 2147483648 seconds, not -1`},
		{`{"sysctls":[{"name":"kernel.panic","value":1}]}`, `sysctls[0].name: "kernel.panic" is not a kernel setting lvsctl manages`},
		{`{"sysctls":[{"name":"net.ipv4.ip_forward"}]}`, `sysctls[0].value: missing: write the value net.ipv4.ip_forward has, a number`},
		{`{"sysctls":[{"name":"net.ipv4.ip_forward","value":"on"}]}`, `line 1, column 54: sysctls.value: a string cannot be a int64`},
		{`{"sysctls":[{"name":"net.ipv4.ip_forward","value":1},{"name":"net.ipv4.ip_forward","value":0}]}`, `sysctls[1]: net.ipv4.ip_forward is in the list twice`},
		// What Validate finds, with the path of the object.
		{`{"services":[{"protocol":"tcp","address":"10.0.0.2:80","scheduler":"fastest"}]}`, `services[0].scheduler: unknown scheduler "fastest": the kernel has rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh, twos`},
		{`{"services":[{"protocol":"tcp","address":"10.0.0.2:80","real_servers":[{"address":"10.0.0.3:80","weight":70000}]}]}`, `services[0].real_servers[0].weight: weight must be between 0 and 65535, not 70000`},
		{`{"services":[{"protocol":"tcp","address":"10.0.0.2:80"},{"protocol":"tcp","address":"10.0.0.2:80"}]}`, `services[1]: tcp 10.0.0.2:80 is declared twice (first as service #1)`},
	} {
		var tab Table
		tab.Timeouts.TCP = time.Hour
		err := tab.UnmarshalJSON([]byte(tc.in))
		if err == nil {
			t.Errorf("UnmarshalJSON(%s) succeeded, want %s", tc.in, tc.want)
			continue
		}
		if err.Error() != tc.want {
			t.Errorf("UnmarshalJSON(%s):\n got %s\nwant %s", tc.in, err, tc.want)
		}
		if tab.Timeouts.TCP != time.Hour || tab.Services != nil {
			t.Errorf("UnmarshalJSON(%s) changed the table on error", tc.in)
		}
	}
}
