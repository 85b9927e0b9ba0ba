package kernel

import (
	"errors"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/lvs"
)

func TestChangeCommands(t *testing.T) {
	k := lvs.AddrKey(lvs.UDP, netip.MustParseAddrPort("10.0.0.2:53"))
	d := lvs.Dest{Addr: netip.MustParseAddrPort("10.0.0.5:53"), Opts: lvs.DestOpts{Weight: 5}}
	for _, c := range []struct {
		c    Change
		cmd  uint8
		desc string
	}{
		{Change{Kind: SetTimeouts, Timeouts: lvs.Timeouts{TCP: time.Minute}}, cmdSetConfig, "set timeouts"},
		{Change{Kind: AddService, Service: k, Opts: lvs.ServiceOpts{Scheduler: "rr"}}, cmdNewService, "add service udp 10.0.0.2:53"},
		{Change{Kind: EditService, Service: k, Opts: lvs.ServiceOpts{Scheduler: "wrr"}}, cmdSetService, "edit service udp 10.0.0.2:53"},
		{Change{Kind: DeleteService, Service: k}, cmdDelService, "delete service udp 10.0.0.2:53"},
		{Change{Kind: AddDest, Service: k, Dest: d}, cmdNewDest, "add real server 10.0.0.5:53 to udp 10.0.0.2:53"},
		{Change{Kind: EditDest, Service: k, Dest: d}, cmdSetDest, "edit real server 10.0.0.5:53 of udp 10.0.0.2:53"},
		{Change{Kind: DeleteDest, Service: k, Dest: d}, cmdDelDest, "delete real server 10.0.0.5:53 from udp 10.0.0.2:53"},
		{Change{Kind: StartDaemon, Daemon: DaemonConfig{State: DaemonMaster, Interface: "eth0"}}, cmdNewDaemon, "start master sync daemon"},
		{Change{Kind: StopDaemon, Daemon: DaemonConfig{State: DaemonBackup}}, cmdDelDaemon, "stop backup sync daemon"},
	} {
		if got := c.c.cmd(); got != c.cmd || c.c.String() != c.desc {
			t.Errorf("kind %d: command %d %q, want %d %q", c.c.Kind, got, c.c, c.cmd, c.desc)
		}
		if err := c.c.Check(); err != nil {
			t.Errorf("%s: %v", c.c, err)
		}
	}
	if err := (Change{Kind: 99}).Check(); err == nil {
		t.Errorf("an unknown kind passed Check")
	}
	if !(Change{Kind: SetTimeouts}).noop() {
		t.Errorf("setting no timeouts is not a no-op")
	}
}

func TestChangeCheck(t *testing.T) {
	k := lvs.AddrKey(lvs.TCP, netip.MustParseAddrPort("10.0.0.2:80"))
	for _, c := range []Change{
		{Kind: AddService, Service: k, Opts: lvs.ServiceOpts{Scheduler: "a-very-long-scheduler"}},
		{Kind: EditService, Service: k, Opts: lvs.ServiceOpts{Scheduler: "wlc", PE: "a-very-long-engine"}},
		{Kind: AddDest, Service: k, Dest: lvs.Dest{Addr: netip.MustParseAddrPort("10.0.0.5:80"), Opts: lvs.DestOpts{Weight: 70000}}},
		{Kind: EditDest, Service: k, Dest: lvs.Dest{Addr: netip.MustParseAddrPort("10.0.0.5:80"), Opts: lvs.DestOpts{Weight: -1}}},
		{Kind: DeleteDest, Service: k},
		{Kind: SetTimeouts, Timeouts: lvs.Timeouts{TCP: 1500 * time.Millisecond}},
		{Kind: StopDaemon, Daemon: DaemonConfig{State: 0}},
	} {
		if err := c.Check(); err == nil {
			t.Errorf("%s %+v: accepted", c, c)
		}
	}
}

// TestExplain is the dictionary of errnos, through the kernel's own
// errors: what each change's error says, with the errno still reachable.
func TestExplain(t *testing.T) {
	k := lvs.AddrKey(lvs.TCP, netip.MustParseAddrPort("10.0.0.2:80"))
	d := lvs.Dest{Addr: netip.MustParseAddrPort("10.0.0.5:80")}
	wlc := lvs.ServiceOpts{Scheduler: "wlc"}
	for _, c := range []struct {
		c    Change
		err  error
		want string
	}{
		{Change{Kind: AddService, Service: k, Opts: wlc}, syscall.EEXIST,
			"add service tcp 10.0.0.2:80: the virtual server already exists in the kernel (file exists): it was added outside lvsctl since the plan was made"},
		{Change{Kind: AddService, Service: k, Opts: lvs.ServiceOpts{Scheduler: "foo"}}, &kernelErr{errno: syscall.ENOENT},
			`add service tcp 10.0.0.2:80: scheduler "foo" is not available in this kernel (no module ip_vs_foo): load it with modprobe or choose another`},
		{Change{Kind: AddService, Service: k, Opts: lvs.ServiceOpts{Scheduler: "rr", PE: "sip"}}, syscall.ENOENT,
			`add service tcp 10.0.0.2:80: scheduler "rr" or persistence engine "sip" is not available in this kernel (no module ip_vs_rr or ip_vs_pe_sip): load them with modprobe or change the configuration`},
		{Change{Kind: EditService, Service: k, Opts: lvs.ServiceOpts{Scheduler: "wlc", PE: "sip"}, Was: wlc}, syscall.ENOENT,
			`edit service tcp 10.0.0.2:80: persistence engine "sip" is not available in this kernel (no module ip_vs_pe_sip): load it with modprobe or remove pe`},
		{Change{Kind: EditService, Service: k, Opts: lvs.ServiceOpts{Scheduler: "mh", PE: "sip"}, Was: lvs.ServiceOpts{Scheduler: "wlc", PE: "sip"}}, syscall.ENOENT,
			`edit service tcp 10.0.0.2:80: scheduler "mh" is not available in this kernel (no module ip_vs_mh): load it with modprobe or choose another`},
		{Change{Kind: EditService, Service: k, Opts: wlc}, syscall.ESRCH,
			"edit service tcp 10.0.0.2:80: the virtual server is not in the kernel (no such process): it was deleted outside lvsctl since the plan was made"},
		{Change{Kind: AddDest, Service: k, Dest: d}, syscall.ESRCH,
			"add real server 10.0.0.5:80 to tcp 10.0.0.2:80: the virtual server is not in the kernel (no such process)"},
		{Change{Kind: AddDest, Service: k, Dest: d}, syscall.EEXIST,
			"add real server 10.0.0.5:80 to tcp 10.0.0.2:80: the real server already exists in the kernel (file exists)"},
		{Change{Kind: DeleteDest, Service: k, Dest: d}, syscall.ENOENT,
			"delete real server 10.0.0.5:80 from tcp 10.0.0.2:80: the real server is not in the kernel (no such file or directory)"},
		{Change{Kind: EditDest, Service: k, Dest: d}, syscall.ERANGE,
			"edit real server 10.0.0.5:80 of tcp 10.0.0.2:80: the kernel refused the real server's settings (numerical result out of range): weight must be 0 to 65535 and lower_threshold at most upper_threshold"},
		{Change{Kind: AddDest, Service: k, Dest: d}, &kernelErr{errno: syscall.EINVAL, msg: "Attribute failed policy validation"},
			"add real server 10.0.0.5:80 to tcp 10.0.0.2:80: the kernel refused the real server's settings (invalid argument: Attribute failed policy validation): check forwarding"},
		{Change{Kind: DeleteService, Service: lvs.MarkKey(lvs.IPv6, 3)}, syscall.EPERM,
			"delete service fwmark 3 ipv6: permission denied (operation not permitted): changing IPVS needs root (CAP_NET_ADMIN in the target network namespace)"},
		{Change{Kind: SetTimeouts}, syscall.EINVAL, "set timeouts: the kernel refused it (invalid argument)"},
		{Change{Kind: StartDaemon, Daemon: DaemonConfig{State: DaemonMaster, Interface: "eth9"}}, syscall.ENODEV,
			`start master sync daemon: the kernel refused the sync daemon (no such device): there is no interface "eth9" in this network namespace`},
		{Change{Kind: StartDaemon, Daemon: DaemonConfig{State: DaemonBackup, Interface: "eth0"}}, syscall.EEXIST,
			"start backup sync daemon: a backup sync daemon is already running (file exists)"},
		{Change{Kind: StopDaemon, Daemon: DaemonConfig{State: DaemonMaster}}, syscall.ESRCH,
			"stop master sync daemon: no master sync daemon is running (no such process)"},
		{Change{Kind: DeleteService, Service: k}, errors.New("the kernel did not answer within 10s"),
			"delete service tcp 10.0.0.2:80: the kernel did not answer within 10s"},
	} {
		err := &Error{c.c, c.err}
		if got := err.Error(); len(got) < len(c.want) || got[:len(c.want)] != c.want {
			t.Errorf("got  %s\nwant %s", got, c.want)
		}
		var errno syscall.Errno
		if errors.As(c.err, &errno) && !errors.Is(err, errno) {
			t.Errorf("%s: errors.Is(err, %v) is false", err, errno)
		}
		// apply explains an *Error it gets back as the change's error.
		if Explain(c.c, err) != Explain(c.c, c.err) {
			t.Errorf("%s: explained differently through *Error: %q", c.c, Explain(c.c, err))
		}
	}
	read := &readError{"read the services", syscall.EPERM}
	if want := "read the services: permission denied (operation not permitted): reading IPVS needs root (CAP_NET_ADMIN in the target network namespace)"; read.Error() != want || !errors.Is(read, syscall.EPERM) {
		t.Errorf("got  %s\nwant %s", read, want)
	}
}
