package apply_test

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"strings"
	"syscall"
	"testing"

	"github.com/lvsctl/lvsctl/internal/apply"
	"github.com/lvsctl/lvsctl/internal/apply/applytest"
	"github.com/lvsctl/lvsctl/internal/plan"
	"github.com/lvsctl/lvsctl/lvs"
)

var (
	web   = lvs.AddrKey(lvs.TCP, netip.MustParseAddrPort("10.0.0.2:80"))
	dns   = lvs.AddrKey(lvs.UDP, netip.MustParseAddrPort("10.0.0.2:53"))
	real1 = netip.MustParseAddrPort("192.168.10.100:80")
	real2 = netip.MustParseAddrPort("192.168.10.101:80")
	real3 = netip.MustParseAddrPort("192.168.10.102:80")
)

func opts(sched string) lvs.ServiceOpts { return lvs.ServiceOpts{Scheduler: sched, Netmask: 32} }

func dest(a netip.AddrPort, w int) lvs.Dest {
	return lvs.Dest{Addr: a, Opts: lvs.DestOpts{Forward: lvs.Masq, Weight: w}}
}

// buildPlan adds web with three real servers: four operations.
func buildPlan(sched string) plan.Plan {
	return plan.Plan{Ops: []plan.Op{
		{Action: plan.AddService, Service: web, ServiceName: "web", To: opts(sched)},
		{Action: plan.AddDest, Service: web, ServiceName: "web", ToDest: dest(real1, 1)},
		{Action: plan.AddDest, Service: web, ServiceName: "web", ToDest: dest(real2, 1)},
		{Action: plan.AddDest, Service: web, ServiceName: "web", ToDest: dest(real3, 1)},
	}}
}

func statuses(r *apply.Report) []apply.Status {
	var s []apply.Status
	for _, o := range r.Ops {
		s = append(s, o.Status)
	}
	return s
}

func TestRunCompletes(t *testing.T) {
	k := applytest.New()
	var seen []plan.Action
	r, err := apply.Run(context.Background(), k, buildPlan("wlc"), apply.RunOptions{OnOp: func(o apply.OpResult) { seen = append(seen, o.Op.Action) }})
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() || len(seen) != 4 || k.Ops() != 4 {
		t.Errorf("report OK=%v, %d progress calls, %d kernel calls; want true, 4, 4", r.OK(), len(seen), k.Ops())
	}
	var out bytes.Buffer
	r.Render(&out)
	for _, want := range []string{
		"virtual_server.web (tcp 10.0.0.2:80): created\n",
		"real_server 192.168.10.101:80 of virtual_server.web (tcp 10.0.0.2:80): created\n",
		"Apply complete! Resources: 4 added, 0 changed, 0 destroyed.\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("rendered report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestRunStopsAtFirstError(t *testing.T) {
	k := applytest.New()
	k.SetMissingSchedulers("mh")
	p := buildPlan("rr")
	// The second op changes the scheduler to one whose module is missing.
	p.Ops = append(p.Ops[:1], append([]plan.Op{{Action: plan.EditService, Service: web, ServiceName: "web", From: opts("rr"), To: opts("mh")}}, p.Ops[1:]...)...)
	r, err := apply.Run(context.Background(), k, p, apply.RunOptions{})
	if err == nil {
		t.Fatal("Run succeeded with a missing scheduler module")
	}
	want := []apply.Status{apply.Done, apply.Failed, apply.NotAttempted, apply.NotAttempted, apply.NotAttempted}
	if got := statuses(r); !equal(got, want) {
		t.Errorf("statuses = %v, want %v", got, want)
	}
	if !errors.Is(err, syscall.ENOENT) || !errors.Is(r.Ops[1].Err, syscall.ENOENT) {
		t.Errorf("error %v does not keep ENOENT", err)
	}
	var oe *apply.OpError
	if !errors.As(err, &oe) || oe.Done != 1 || oe.Total != 5 {
		t.Errorf("error = %#v, want an *OpError with 1 of 5 done", err)
	}
	msg := err.Error()
	for _, want := range []string{
		`updating virtual_server.web (tcp 10.0.0.2:80)`,
		`scheduler "mh" is not available in this kernel (no module ip_vs_mh): load it with modprobe or choose another`,
		`1 of 5 changes were made; run apply again to converge`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if k.Ops() != 2 {
		t.Errorf("%d kernel calls, want 2: Run must not go on after a failure", k.Ops())
	}
	var out bytes.Buffer
	r.Render(&out)
	for _, want := range []string{
		"virtual_server.web (tcp 10.0.0.2:80): failed\n",
		"real_server 192.168.10.102:80 of virtual_server.web (tcp 10.0.0.2:80): not attempted\n",
		"Apply incomplete! Resources: 1 added, 0 changed, 0 destroyed. 4 changes not made.\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("rendered report lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "Apply complete!") {
		t.Errorf("a failed apply says complete:\n%s", out.String())
	}
}

func equal[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRunInterruptedBetweenOps(t *testing.T) {
	k := applytest.New()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Cancel while the second call is in flight: it must complete, and
	// nothing after it may start.
	k.SetFault(func(c applytest.Call) error {
		if c.Method == "AddDest" && c.Dest == real1 {
			cancel()
		}
		return nil
	})
	r, err := apply.Run(ctx, k, buildPlan("wlc"), apply.RunOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if got, want := err.Error(), "interrupted: 2 of 4 operations done; run apply again to finish"; got != want {
		t.Errorf("err = %q, want %q", got, want)
	}
	if got, want := statuses(r), []apply.Status{apply.Done, apply.Done, apply.NotAttempted, apply.NotAttempted}; !equal(got, want) {
		t.Errorf("statuses = %v, want %v", got, want)
	}
	tb, _ := k.Table()
	if n := len(tb.Service(web).Dests); n != 1 {
		t.Errorf("kernel has %d real servers, want the 1 whose call was in flight", n)
	}
	var out bytes.Buffer
	r.Render(&out)
	if !strings.Contains(out.String(), "Apply interrupted! Resources: 2 added, 0 changed, 0 destroyed. 2 changes not made.") {
		t.Errorf("rendered report:\n%s", out.String())
	}
}

func TestRunEachActionIsOneCall(t *testing.T) {
	k := applytest.New()
	k.Seed(&lvs.Table{Services: []lvs.Service{
		{Key: web, Opts: opts("wlc"), Dests: []lvs.Dest{dest(real1, 1), dest(real2, 1), dest(real3, 1)}},
		{Key: dns, Opts: opts("rr"), Dests: []lvs.Dest{{Addr: netip.MustParseAddrPort("192.168.10.100:53"), Opts: lvs.DestOpts{Weight: 1}}}},
	}})
	p := plan.Plan{
		Ops: []plan.Op{
			{Action: plan.SetTimeouts, ToTimeouts: lvs.Timeouts{UDP: 60e9}},
			{Action: plan.EditService, Service: web, From: opts("wlc"), To: opts("rr")},
			{Action: plan.EditDest, Service: web, FromDest: dest(real1, 1), ToDest: dest(real1, 5)},
			{Action: plan.DrainDest, Service: web, FromDest: dest(real2, 1), ToDest: dest(real2, 0)},
			{Action: plan.DeleteDest, Service: web, FromDest: dest(real3, 1)},
			{Action: plan.DeleteService, Service: dns, From: opts("rr")},
		},
		Dropped: []plan.Dropped{{Service: dns, Dest: lvs.Dest{Addr: netip.MustParseAddrPort("192.168.10.100:53")}}},
	}
	r, err := apply.Run(context.Background(), k, p, apply.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantCalls := []string{"SetTimeouts", "EditService", "EditDest", "EditDest", "DeleteDest", "DeleteService"}
	var got []string
	for _, c := range k.Calls() {
		got = append(got, c.Method)
	}
	if !equal(got, wantCalls) {
		t.Errorf("kernel calls = %v, want %v", got, wantCalls)
	}
	if a, c, d := r.Summary(); a != 0 || c != 4 || d != 3 {
		t.Errorf("summary = %d added, %d changed, %d destroyed; want 0, 4, 3 (as plan.Summary counts)", a, c, d)
	}
	if a, c, d := p.Summary(); a != 0 || c != 4 || d != 3 {
		t.Errorf("plan.Summary = %d/%d/%d, differs from the report's 0/4/3", a, c, d)
	}
	tb, _ := k.Table()
	s := tb.Service(web)
	if tb.Service(dns) != nil || s.Opts.Scheduler != "rr" || len(s.Dests) != 2 || s.Dest(real1).Opts.Weight != 5 || s.Dest(real2).Opts.Weight != 0 {
		t.Errorf("table after run: %+v", tb.Services)
	}
}

func TestErrorsExplainErrnos(t *testing.T) {
	for _, c := range []struct {
		name string
		op   plan.Op
		err  error
		want string
	}{
		{"exists", plan.Op{Action: plan.AddService, Service: web, To: opts("wlc")}, syscall.EEXIST,
			"adding service tcp 10.0.0.2:80: the virtual server already exists in the kernel (file exists): it was added outside lvsctl since the plan was made; nothing was changed"},
		{"gone", plan.Op{Action: plan.EditService, Service: web, ServiceName: "web", To: opts("wlc")}, syscall.ESRCH,
			"updating virtual_server.web (tcp 10.0.0.2:80): the virtual server is not in the kernel (no such process)"},
		{"dest gone", plan.Op{Action: plan.DeleteDest, Service: web, FromDest: lvs.Dest{Addr: real1, Name: "r1"}}, syscall.ENOENT,
			"deleting real_server.r1 (192.168.10.100:80) of service tcp 10.0.0.2:80: the real server is not in the kernel (no such file or directory)"},
		{"pe", plan.Op{Action: plan.EditService, Service: web, From: opts("wlc"), To: lvs.ServiceOpts{Scheduler: "wlc", PE: "sip"}}, syscall.ENOENT,
			`persistence engine "sip" is not available in this kernel (no module ip_vs_pe_sip)`},
		{"range", plan.Op{Action: plan.EditDest, Service: web, ToDest: dest(real1, 1)}, syscall.ERANGE,
			"the kernel refused the real server's settings (numerical result out of range)"},
		{"perm", plan.Op{Action: plan.SetTimeouts}, syscall.EPERM, "setting timeouts: permission denied (operation not permitted): changing IPVS needs root"},
		{"other", plan.Op{Action: plan.DeleteService, Service: web}, syscall.EIO, "deleting service tcp 10.0.0.2:80: the kernel refused it (input/output error)"},
	} {
		err := &apply.OpError{Op: c.op, Err: c.err}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %q\n  lacks %q", c.name, err.Error(), c.want)
		}
	}
}
