package plan

import (
	"net/netip"
	"testing"

	"github.com/lvsctl/lvsctl/lvs"
)

func TestDeletesEverything(t *testing.T) {
	web, dns := tcp("10.0.0.2:80"), udp("10.0.0.3:53")
	kube := tcp("10.96.0.1:443")
	ignoreKube := lvs.Ignore{Prefixes: []netip.Prefix{netip.MustParsePrefix("10.96.0.0/12")}}
	withIgnore := func(t *lvs.Table, ig lvs.Ignore) *lvs.Table { t.Ignore = ig; return t }
	webTable := func() *lvs.Table { return table(service(web, "web", dest("192.168.10.100:80", 1))) }

	for _, tc := range []struct {
		name          string
		live, desired *lvs.Table
		want          bool
		managed       int
	}{
		{"empty config on a full table", table(service(web, "web"), service(dns, "dns")), table(), true, 2},
		{"nil desired", webTable(), nil, true, 1},
		{"empty config on an empty table", table(), table(), false, 0},
		{"nil live", nil, table(), false, 0},
		{"config keeps one service", table(service(web, "web"), service(dns, "dns")), webTable(), false, 2},
		{"config replaces every service", table(service(dns, "dns")), webTable(), false, 1},
		{"config only empties the real servers", webTable(), table(service(web, "web")), false, 1},
		{"only ignored services live", table(service(kube, "")), withIgnore(table(), ignoreKube), false, 0},
		{"ignored services stay, managed ones go", table(service(kube, ""), service(web, "web")), withIgnore(table(), ignoreKube), true, 1},
		{"desired names only an ignored service", table(service(web, "web")), withIgnore(table(service(kube, "")), ignoreKube), true, 1},
		{"timeouts alone are no service", webTable(), &lvs.Table{Timeouts: kernelTimeouts}, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := DeletesEverything(tc.live, tc.desired); got != tc.want {
				t.Errorf("DeletesEverything = %t, want %t", got, tc.want)
			}
			var ig lvs.Ignore
			if tc.desired != nil {
				ig = tc.desired.Ignore
			}
			if got := ManagedServices(tc.live, ig); got != tc.managed {
				t.Errorf("ManagedServices = %d, want %d", got, tc.managed)
			}
			if !tc.want || tc.live == nil {
				return
			}
			// What it promises: the plan deletes every managed live service
			// and adds none.
			desired := tc.desired
			if desired == nil {
				desired = &lvs.Table{}
			}
			p := Diff(tc.live, desired, Options{})
			deleted := 0
			for _, op := range p.Ops {
				switch op.Action {
				case DeleteService:
					deleted++
				case AddService:
					t.Errorf("plan adds %v", op.Service)
				}
			}
			if deleted != tc.managed {
				t.Errorf("plan deletes %d services, want %d", deleted, tc.managed)
			}
		})
	}
}
