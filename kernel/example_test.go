package kernel_test

import (
	"fmt"
	"log"
	"net/netip"

	"github.com/lvsctl/lvsctl/kernel"
	"github.com/lvsctl/lvsctl/lvs"
)

// Read the IPVS table of this network namespace (root, and a kernel with
// IPVS), as ipvsadm -L -n shows it.
func ExampleOpen() {
	h, err := kernel.Open("") // "" is this namespace; else a name under /run/netns or a path
	if err != nil {
		log.Fatal(err) // kernel.ErrNoIPVS when the kernel has no IPVS
	}
	defer h.Close()
	t, err := h.Table()
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range t.Services {
		fmt.Println(s.Key, s.Opts.Scheduler, len(s.Dests), "real servers")
	}
}

// Changes sent as one batch: pipelined, many to a system call. After a
// refused change nothing new is sent, but the changes already on their way
// complete; each change's error says what happened to it.
func ExampleIPVS_Batch() {
	h, err := kernel.Open("")
	if err != nil {
		log.Fatal(err)
	}
	defer h.Close()
	web := lvs.AddrKey(lvs.TCP, netip.MustParseAddrPort("10.0.0.2:80"))
	changes := []kernel.Change{
		{Kind: kernel.AddService, Service: web, Opts: lvs.ServiceOpts{Scheduler: "wlc"}},
		{Kind: kernel.AddDest, Service: web, Dest: lvs.Dest{
			Addr: netip.MustParseAddrPort("192.168.10.100:80"),
			Opts: lvs.DestOpts{Forward: lvs.Masq, Weight: 1},
		}},
	}
	for i, err := range h.Batch(changes) {
		if err != nil {
			fmt.Printf("%s: %s\n", changes[i], kernel.Explain(changes[i], err))
		}
	}
}
