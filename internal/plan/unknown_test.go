package plan

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/lvs"
)

func thresholds(d lvs.Dest, upper, lower uint32) lvs.Dest {
	d.Opts.UpperThreshold, d.Opts.LowerThreshold = upper, lower
	return d
}

func gue(d lvs.Dest, port uint16) lvs.Dest {
	d.Opts.Forward, d.Opts.TunnelType, d.Opts.TunnelPort, d.Opts.TunnelFlags = lvs.Tunnel, lvs.GUE, port, lvs.TunnelCsum
	return d
}

// kernelSide is the kernel's table behind unknownCase: it has timeouts,
// thresholds and a GUE tunnel, which a dump of it does not.
func kernelSide() *lvs.Table {
	t := table(
		service(tcp("10.0.0.2:80"), "web", thresholds(dest("192.168.10.100:80", 1), 100, 50), dest("192.168.10.101:80", 1)),
		service(udp("10.0.0.3:53"), "dns", gue(dest("172.16.1.21:53", 2), 6080)),
	)
	t.Timeouts = lvs.Timeouts{TCP: time.Hour, TCPFin: time.Minute, UDP: 2 * time.Minute}
	return t
}

// dumpSide is kernelSide as a dump shows it: what it lacks forgotten.
func dumpSide(u lvs.Unknown) *lvs.Table {
	t := kernelSide()
	t.Forget(u)
	return t
}

// What the live table does not know is left out of the comparison: no
// change is planned to it, and the plan carries what was left out.
func TestDiffLeavesUnknownOut(t *testing.T) {
	desired := kernelSide()
	desired.Services[0].Dests[1] = thresholds(desired.Services[0].Dests[1], 7, 0) // differs from the kernel too
	u := lvs.UnknownTimeouts | lvs.UnknownThresholds | lvs.UnknownTunnel
	p := Diff(dumpSide(u), desired, Options{})
	if !p.Empty() {
		t.Errorf("against a dump, changes planned to what it lacks:%s", opsString(p.Ops))
	}
	if p.Unknown != u {
		t.Errorf("Plan.Unknown = %v, want %v", p.Unknown, u)
	}

	// The same dump, were its zeros known, plans them all.
	known := dumpSide(u)
	known.Unknown = 0
	if p := Diff(known, desired, Options{}); len(p.Ops) != 4 || p.Unknown != 0 {
		t.Errorf("with the zeros taken as values, want 4 ops (timeouts, 2 thresholds, tunnel):%s", opsString(p.Ops))
	}

	// A known change is still planned; an edit sets the desired values of
	// what was unknown along with it, and shows them as unknown before.
	desired.Services[0].Dests[0].Opts.Weight = 5
	desired.Timeouts.UDP = 0 // leave as is
	p = Diff(dumpSide(lvs.UnknownTCPTimeout|lvs.UnknownThresholds), desired, Options{})
	assertOps(t, p.Ops, []Op{
		{Action: SetTimeouts, FromTimeouts: lvs.Timeouts{TCPFin: time.Minute, UDP: 2 * time.Minute}, ToTimeouts: lvs.Timeouts{TCPFin: time.Minute, UDP: 2 * time.Minute}},
		{Action: EditDest, Service: tcp("10.0.0.2:80"), ServiceName: "web", FromDest: dest("192.168.10.100:80", 1), ToDest: thresholds(dest("192.168.10.100:80", 5), 100, 50)},
	}[1:])
	var out bytes.Buffer
	if err := Render(&out, p); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"~ weight          = 1 -> 5",
		`~ upper_threshold = (not in the live table) -> 100`,
		`~ lower_threshold = (not in the live table) -> 50`,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("render lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if err := RenderJSON(&out, p); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Unknown []string `json:"unknown"`
		Changes []struct {
			Before map[string]any `json:"before"`
		} `json:"changes"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(doc.Unknown, " "); got != "timeouts.tcp upper_threshold lower_threshold" {
		t.Errorf("JSON unknown = %q", got)
	}
	if v, ok := doc.Changes[0].Before["upper_threshold"]; !ok || v != nil {
		t.Errorf("JSON before.upper_threshold = %v (present %v), want null", v, ok)
	}
}

// A drain sends the live settings back: what the dump lacks is unknown on
// both sides, not removed.
func TestRenderDrainOfUnknown(t *testing.T) {
	desired := kernelSide()
	desired.Services[0].Dests = desired.Services[0].Dests[1:]
	p := Diff(dumpSide(lvs.UnknownThresholds), desired, Options{Drain: true})
	var out bytes.Buffer
	if err := Render(&out, p); err != nil {
		t.Fatal(err)
	}
	if s := out.String(); !strings.Contains(s, "weight = 1 -> 0 # drain") || strings.Contains(s, "threshold") {
		t.Errorf("the drain shows a change to what the dump lacks:\n%s", s)
	}
}

// A plan made against a dump travels in a plan file with what the dump
// lacked; apply compares the kernel's table as the plan saw it, so the
// plan applies to the kernel the dump was taken from, and to no other.
func TestFileCarriesUnknown(t *testing.T) {
	u := lvs.UnknownTimeouts | lvs.UnknownThresholds
	dump := dumpSide(u)
	desired := kernelSide()
	desired.Services[0].Dests[1].Opts.Weight = 9
	f := &File{Version: "0.1.0-test", Fingerprint: Fingerprint(dump, desired.Ignore), Desired: desired, Plan: Diff(dump, desired, Options{})}
	if len(f.Plan.Ops) != 1 || f.Plan.Unknown != u {
		t.Fatalf("plan: unknown %v ops%s", f.Plan.Unknown, opsString(f.Plan.Ops))
	}
	got, err := saveAndRead(t, f)
	if err != nil {
		t.Fatal(err)
	}
	if got.Plan.Unknown != u {
		t.Fatalf("read back with unknown %v, want %v", got.Plan.Unknown, u)
	}
	k := kernelSide()
	if !got.Matches(k) {
		t.Error("the plan does not match the kernel table its dump was taken from")
	}
	if err := got.Check(k); err != nil {
		t.Errorf("Check against the kernel: %v", err)
	}
	if k.Timeouts.TCP != time.Hour || k.Services[0].Dests[0].Opts.UpperThreshold != 100 {
		t.Error("View changed the kernel's table it was given")
	}
	// A known setting that changed makes the plan stale.
	k.Services[0].Dests[0].Opts.Weight = 4
	if got.Matches(k) {
		t.Error("a changed weight does not make the plan stale")
	}
	// A plan that claims to know more than its dump: its fingerprint is
	// not the kernel's.
	got.Plan.Unknown = 0
	if got.Matches(kernelSide()) {
		t.Error("a plan file whose unknown settings were cleared still matches")
	}
	// And one that claims to know less.
	got.Plan.Unknown = u | lvs.UnknownTunnel
	if got.Matches(kernelSide()) {
		t.Error("a plan file with more unknown settings than its dump still matches")
	}
}

// The file's unknown settings are untrusted input: bits that name no
// setting are refused, and so is a drain that would send zeros for what
// the dump lacked.
func TestReadFileValidatesUnknown(t *testing.T) {
	f, _ := createFile(t)
	f.Plan.Unknown = 0x80
	if _, err := saveAndRead(t, f); err == nil || !strings.Contains(err.Error(), "name no setting") {
		t.Errorf("bits beyond UnknownAll: err = %v", err)
	}

	dump := dumpSide(lvs.UnknownThresholds)
	desired := kernelSide()
	desired.Services[0].Dests = desired.Services[0].Dests[:1]
	p := Diff(dump, desired, Options{Drain: true})
	if len(p.Ops) != 1 || p.Ops[0].Action != DrainDest {
		t.Fatalf("want one drain:%s", opsString(p.Ops))
	}
	df := &File{Version: "0.1.0-test", Fingerprint: Fingerprint(dump, desired.Ignore), DrainTimeout: time.Minute, Desired: desired, Plan: p}
	if err := df.Validate(); err == nil || !strings.Contains(err.Error(), "would reset the real servers' thresholds") {
		t.Errorf("a drain against a dump without thresholds: err = %v", err)
	}
	// Against the kernel's table the same drain is fine.
	df.Plan = Diff(kernelSide(), desired, Options{Drain: true})
	if err := df.Validate(); err != nil {
		t.Errorf("a drain against the kernel: %v", err)
	}
}

// The fingerprint of a table that knows everything is what it always was;
// one that lacks settings has another.
func TestFingerprintCoversUnknown(t *testing.T) {
	a, b := kernelSide(), kernelSide()
	b.Forget(lvs.UnknownThresholds)
	a.Services[0].Dests[0].Opts.UpperThreshold, a.Services[0].Dests[0].Opts.LowerThreshold = 0, 0
	if Fingerprint(a, lvs.Ignore{}) == Fingerprint(b, lvs.Ignore{}) {
		t.Error("a table with unknown thresholds has the fingerprint of one with none")
	}
}
