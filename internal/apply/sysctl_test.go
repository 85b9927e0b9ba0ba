package apply_test

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/internal/apply"
	"github.com/lvsctl/lvsctl/internal/apply/applytest"
	"github.com/lvsctl/lvsctl/internal/plan"
	"github.com/lvsctl/lvsctl/lvs"
)

// natDesired is web with one NAT real server and what it needs and names.
func natDesired() *lvs.Table {
	t := &lvs.Table{Services: []lvs.Service{{Key: web, Name: "web", Opts: opts("wlc"), Dests: []lvs.Dest{dest(real1, 1)}}}}
	t.Sysctls = []lvs.Sysctl{
		{Name: lvs.SysctlIPv4Forward, Value: "1", Reason: "IPv4 NAT"},
		{Name: "net.ipv4.vs.sloppy_tcp", Value: "1"},
	}
	t.Normalize()
	return t
}

// liveOf reads k's table with the settings desired owns, as plan does.
func liveOf(t *testing.T, k apply.Kernel, desired *lvs.Table) *lvs.Table {
	t.Helper()
	live, err := k.Table()
	if err != nil {
		t.Fatal(err)
	}
	if live.Sysctls, err = apply.ReadSysctls(k, desired.Sysctls); err != nil {
		t.Fatal(err)
	}
	return live
}

// A plan sets the kernel settings first, one write each between the
// batches of table changes, and the next plan has nothing to do; the fake
// kernel's settings are what a fresh namespace has until then.
func TestRunSetsSysctlsFirst(t *testing.T) {
	for _, batching := range []bool{false, true} {
		k := applytest.New()
		var kk apply.Kernel = k
		if batching {
			kk = k.Batching()
		}
		desired := natDesired()
		p := plan.Diff(liveOf(t, kk, desired), desired, plan.Options{})
		r, err := apply.Run(context.Background(), kk, p, apply.RunOptions{})
		if err != nil {
			t.Fatalf("batching %v: %v", batching, err)
		}
		calls := k.Calls()
		if len(calls) != 4 || calls[0].String() != "SetSysctl net.ipv4.ip_forward" || calls[1].String() != "SetSysctl net.ipv4.vs.sloppy_tcp" || calls[2].Method != "AddService" {
			t.Errorf("batching %v: calls %v; want the two sysctls, then the service and its real server", batching, calls)
		}
		if a, c, d := r.Summary(); a != 2 || c != 2 || d != 0 {
			t.Errorf("batching %v: report %d/%d/%d, want 2 added, 2 changed", batching, a, c, d)
		}
		for _, s := range desired.Sysctls {
			if v, _ := k.Sysctl(s.Name); v != s.Value {
				t.Errorf("batching %v: %s = %q after apply, want %q", batching, s.Name, v, s.Value)
			}
		}
		if v, _ := k.Sysctl("net.ipv4.vs.conntrack"); v != "0" {
			t.Errorf("a setting nobody named changed: conntrack = %q", v)
		}
		if p := plan.Diff(liveOf(t, kk, desired), desired, plan.Options{}); !p.Empty() {
			t.Errorf("batching %v: the second plan is not empty: %+v", batching, p.Ops)
		}
	}
}

// A setting this kernel lacks (ip_vs not loaded) reads as "" and cannot be
// written; the error says why and what to do.
func TestSysctlAbsent(t *testing.T) {
	k := applytest.New()
	k.SeedSysctl("net.ipv4.vs.sloppy_tcp", "")
	ss, err := apply.ReadSysctls(k, natDesired().Sysctls)
	if err != nil {
		t.Fatal(err)
	}
	if ss[1] != (lvs.Sysctl{Name: "net.ipv4.vs.sloppy_tcp"}) {
		t.Errorf("an absent setting read as %+v", ss[1])
	}
	p := plan.Plan{Ops: []plan.Op{{Action: plan.SetSysctl, FromSysctl: ss[1], ToSysctl: lvs.Sysctl{Name: "net.ipv4.vs.sloppy_tcp", Value: "1"}}}}
	_, err = apply.Run(context.Background(), k.Batching(), p, apply.RunOptions{})
	var oe *apply.OpError
	if !errors.As(err, &oe) || !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "setting sysctl net.ipv4.vs.sloppy_tcp: ") ||
		!strings.Contains(err.Error(), "modprobe ip_vs") || !strings.Contains(err.Error(), "nothing was changed") {
		t.Errorf("got %v", err)
	}
}

// A kernel that takes a write and keeps another value is an error, not a
// success that every later plan repeats.
func TestSysctlReadBack(t *testing.T) {
	k := &clampingKernel{Kernel: applytest.New()}
	p := plan.Plan{Ops: []plan.Op{{Action: plan.SetSysctl, FromSysctl: lvs.Sysctl{Name: lvs.SysctlIPv4Forward, Value: "0"}, ToSysctl: lvs.Sysctl{Name: lvs.SysctlIPv4Forward, Value: "1"}}}}
	_, err := apply.Run(context.Background(), k, p, apply.RunOptions{})
	if err == nil || !strings.Contains(err.Error(), "the kernel took net.ipv4.ip_forward = 1 but holds 0 now") {
		t.Errorf("got %v", err)
	}
}

// clampingKernel accepts every sysctl write and changes nothing.
type clampingKernel struct{ *applytest.Kernel }

func (clampingKernel) SetSysctl(string, string) error { return nil }

// A saved plan's fingerprint covers the settings it read: a change to one
// between plan and apply makes it stale, and nothing is written.
func TestApplySavedSysctlStale(t *testing.T) {
	k := applytest.New()
	desired := natDesired()
	live := liveOf(t, k, desired)
	f := &plan.File{Fingerprint: plan.Fingerprint(live, lvs.Ignore{}), SysctlsRead: true, Desired: desired, Plan: plan.Diff(live, desired, plan.Options{})}
	k.SeedSysctl(lvs.SysctlIPv4Forward, "1") // the admin, meanwhile
	if _, err := apply.ApplySaved(context.Background(), k, f, apply.ConvergeOptions{DrainTimeout: time.Second}); !errors.Is(err, apply.ErrStale) {
		t.Fatalf("got %v, want ErrStale", err)
	}
	if k.Ops() != 0 {
		t.Errorf("a stale plan made %d calls", k.Ops())
	}
	k.SeedSysctl(lvs.SysctlIPv4Forward, "0")
	if _, err := apply.ApplySaved(context.Background(), k, f, apply.ConvergeOptions{}); err != nil {
		t.Fatal(err)
	}
	if v, _ := k.Sysctl(lvs.SysctlIPv4Forward); v != "1" {
		t.Errorf("ip_forward = %q after the saved plan", v)
	}
}
