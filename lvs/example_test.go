package lvs_test

import (
	"fmt"
	"net/netip"

	"github.com/lvsctl/lvsctl/lvs"
)

// A table is built from keys and settings, validated against the kernel's
// ranges, and normalized (sorted) before it is compared or sent.
func Example() {
	web := lvs.Service{
		Key:  lvs.AddrKey(lvs.TCP, netip.MustParseAddrPort("10.0.0.2:80")),
		Opts: lvs.ServiceOpts{Scheduler: "wlc"},
		Dests: []lvs.Dest{
			{Addr: netip.MustParseAddrPort("192.168.10.101:80"), Opts: lvs.DestOpts{Forward: lvs.Masq, Weight: 1}},
			{Addr: netip.MustParseAddrPort("192.168.10.100:80"), Opts: lvs.DestOpts{Forward: lvs.Masq, Weight: 1}},
		},
	}
	t := &lvs.Table{Services: []lvs.Service{web}}
	if problems := t.Validate(); len(problems) > 0 {
		fmt.Println(problems)
		return
	}
	t.Normalize()
	for _, d := range t.Service(web.Key).Dests {
		fmt.Println(d.Addr)
	}
	// Output:
	// 192.168.10.100:80
	// 192.168.10.101:80
}

// Validate reports every value the kernel would refuse, with the index of
// the service and the real server, before anything is sent.
func ExampleTable_Validate() {
	t := &lvs.Table{Services: []lvs.Service{{
		Key:  lvs.AddrKey(lvs.TCP, netip.MustParseAddrPort("10.0.0.2:80")),
		Opts: lvs.ServiceOpts{Scheduler: "wlc"},
		Dests: []lvs.Dest{
			{Addr: netip.MustParseAddrPort("192.168.10.100:80"), Opts: lvs.DestOpts{Weight: 70000}},
		},
	}}}
	for _, p := range t.Validate() {
		fmt.Printf("service %d, real server %d, %s\n", p.Service, p.Dest, p.Field)
	}
	// Output:
	// service 0, real server 0, weight
}

// The words of the domain are parsed in the spellings lvsctl reads:
// its own, ipvsadm's listing and piranha's.
func ExampleParseForward() {
	for _, s := range []string{"nat", "masq", "dr", "route", "tun", "ipip", "gate"} {
		if f, err := lvs.ParseForward(s); err != nil {
			fmt.Println(err)
		} else {
			fmt.Println(s, "is", f)
		}
	}
	// Output:
	// nat is nat
	// masq is nat
	// dr is dr
	// route is dr
	// tun is tun
	// ipip is tun
	// unknown forwarding method "gate": use nat, dr or tun
}
