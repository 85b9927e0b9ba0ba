package plan

import (
	"bytes"
	"math/rand"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/lvs"
)

func sampleFile(t *testing.T) *File {
	t.Helper()
	sc := scenarios()["drain"]
	desired := sc.desired.Clone()
	desired.Ignore = lvs.Ignore{Prefixes: []netip.Prefix{netip.MustParsePrefix("10.96.0.0/12")}, FWMarks: []uint32{9}, Ports: []uint16{6443}}
	desired.Timeouts.TCP = time.Hour
	return &File{
		Version:      "0.1.0-test",
		Created:      time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC),
		Netns:        "blue",
		Fingerprint:  Fingerprint(sc.live, desired.Ignore),
		DrainTimeout: 90 * time.Second,
		Desired:      desired,
		Plan:         Diff(sc.live, desired, sc.opts),
	}
}

func TestFileRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "web.plan")
	f := sampleFile(t)
	if len(f.Plan.Ops) == 0 || len(f.Plan.Waiting) == 0 || len(f.Plan.Dropped) == 0 {
		t.Fatalf("sample plan should have ops, waiting and dropped: %+v", f.Plan)
	}
	if err := WriteFile(path, f); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if m := fi.Mode().Perm(); m != 0o600 {
		t.Errorf("plan file mode %o, want 600", m)
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.FormatVersion != FileFormatVersion || got.Version != f.Version || !got.Created.Equal(f.Created) ||
		got.Netns != f.Netns || got.Fingerprint != f.Fingerprint || got.DrainTimeout != f.DrainTimeout {
		t.Errorf("header read back as %+v, want %+v", got, f)
	}
	if !slices.Equal(got.Plan.Ops, f.Plan.Ops) {
		t.Errorf("ops read back:%s\nwant:%s", opsString(got.Plan.Ops), opsString(f.Plan.Ops))
	}
	if !slices.Equal(got.Plan.Waiting, f.Plan.Waiting) || !slices.Equal(got.Plan.Dropped, f.Plan.Dropped) {
		t.Errorf("waiting/dropped read back as %+v / %+v", got.Plan.Waiting, got.Plan.Dropped)
	}
	if !servicesEqual(got.Desired.Services, f.Desired.Services) || got.Desired.Timeouts != f.Desired.Timeouts ||
		!slices.Equal(got.Desired.Ignore.Prefixes, f.Desired.Ignore.Prefixes) ||
		!slices.Equal(got.Desired.Ignore.FWMarks, f.Desired.Ignore.FWMarks) ||
		!slices.Equal(got.Desired.Ignore.Ports, f.Desired.Ignore.Ports) {
		t.Errorf("desired read back as %+v, want %+v", got.Desired, f.Desired)
	}

	// Overwriting an existing plan works and leaves no temporary files.
	if err := WriteFile(path, f); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 1 {
		t.Errorf("directory holds %d entries after two writes, want 1", len(ents))
	}
}

// Every table the generator makes survives a save and a load.
func TestFileRoundTripRandomTables(t *testing.T) {
	dir := t.TempDir()
	for seed := range int64(200) {
		g := gen{rand.New(rand.NewSource(seed))}
		live := g.table()
		desired := g.desiredFrom(live)
		f := &File{Fingerprint: Fingerprint(live, desired.Ignore), Desired: desired, Plan: Diff(live, desired, Options{Drain: seed%2 == 0})}
		// A plan file keeps connection numbers but not traffic counters.
		for i := range f.Plan.Ops {
			f.Plan.Ops[i].FromDest.Live.Stats, f.Plan.Ops[i].ToDest.Live.Stats = lvs.Stats{}, lvs.Stats{}
		}
		for i := range f.Plan.Waiting {
			f.Plan.Waiting[i].Dest.Live.Stats = lvs.Stats{}
		}
		for i := range f.Plan.Dropped {
			f.Plan.Dropped[i].Dest.Live.Stats = lvs.Stats{}
		}
		path := filepath.Join(dir, "p")
		if err := WriteFile(path, f); err != nil {
			t.Fatal(err)
		}
		got, err := ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Plan.Ops, f.Plan.Ops) || !slices.Equal(got.Plan.Waiting, f.Plan.Waiting) || !slices.Equal(got.Plan.Dropped, f.Plan.Dropped) {
			t.Fatalf("seed %d: plan read back:%s\nwant:%s", seed, opsString(got.Plan.Ops), opsString(f.Plan.Ops))
		}
		if !servicesEqual(got.Desired.Services, desired.Services) || got.Desired.Timeouts != desired.Timeouts {
			t.Fatalf("seed %d: desired read back differently", seed)
		}
	}
}

func TestWriteFileRefusesSymlinks(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "shadow")
	if err := os.WriteFile(target, []byte("precious\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "web.plan")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	err := WriteFile(link, sampleFile(t))
	if err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("WriteFile through a symlink: err = %v, want a refusal", err)
	}
	if b, _ := os.ReadFile(target); string(b) != "precious\n" {
		t.Errorf("symlink target changed to %q", b)
	}
	if err := WriteFile(dir, sampleFile(t)); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("WriteFile over a directory: err = %v", err)
	}
}

func TestReadFileErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string { return writeIn(t, dir, name, content) }
	for _, tc := range []struct {
		name, content, want string
	}{
		{"lvsctl.hcl", "virtual_server \"web\" {\n  address = \"10.0.0.2:80\"\n}\n", "lvsctl.hcl is not an lvsctl plan file"},
		{"table.json", `{"services":[]}`, "table.json is not an lvsctl plan file"},
		{"empty.plan", "", "empty.plan is not an lvsctl plan file"},
		{"future.plan", `{"kind":"lvsctl-plan","format_version":7,"lvsctl_version":"9.0.0"}`, `future.plan is a plan of file format 7 (made by lvsctl "9.0.0"); this lvsctl reads format 1`},
		{"broken.plan", `{"kind":"lvsctl-plan","format_version":1,"desired":{},"plan":{"ops":[{"action":"explode"}]}}`, "broken.plan is a damaged plan file"},
		{"nodesired.plan", `{"kind":"lvsctl-plan","format_version":1,"plan":{}}`, "nodesired.plan is a damaged plan file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadFile(write(tc.name, tc.content))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ReadFile: err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	if _, err := ReadFile(filepath.Join(dir, "missing.plan")); err == nil || !strings.Contains(err.Error(), "missing.plan") {
		t.Errorf("ReadFile of a missing file: err = %v", err)
	}
}

// shuffled returns t with services and destinations in random order and
// names and counters changed: none of which is part of the fingerprint.
func shuffled(r *rand.Rand, t *lvs.Table) *lvs.Table {
	c := t.Clone()
	r.Shuffle(len(c.Services), func(i, j int) { c.Services[i], c.Services[j] = c.Services[j], c.Services[i] })
	for i := range c.Services {
		s := &c.Services[i]
		s.Name = "renamed"
		s.Stats.Conns += uint64(r.Intn(1000))
		r.Shuffle(len(s.Dests), func(a, b int) { s.Dests[a], s.Dests[b] = s.Dests[b], s.Dests[a] })
		for j := range s.Dests {
			s.Dests[j].Name = "x"
			s.Dests[j].Live.ActiveConns += uint32(r.Intn(50))
			s.Dests[j].Live.Stats.InBytes += uint64(r.Intn(1 << 20))
		}
	}
	return c
}

func FuzzFingerprint(f *testing.F) {
	for _, seed := range []int64{0, 1, 2, 42, 1234} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, seed int64) {
		r := rand.New(rand.NewSource(seed))
		g := gen{r}
		live := g.table()
		ig := lvs.Ignore{Ports: []uint16{443}}
		fp := Fingerprint(live, ig)
		if got := Fingerprint(shuffled(r, live), ig); got != fp {
			t.Fatalf("fingerprint changed with order, names or counters: %s != %s", got, fp)
		}
		if !strings.HasPrefix(fp, "sha256:") || len(fp) != len("sha256:")+64 {
			t.Fatalf("fingerprint %q is not sha256:<64 hex digits>", fp)
		}
		// An ignored service may change freely.
		withForeign := live.Clone()
		withForeign.Services = append(withForeign.Services, service(tcp("10.200.0.1:443"), "", dest("172.16.0.1:443", 1)))
		withForeign.Normalize()
		if live.Service(tcp("10.200.0.1:443")) == nil && Fingerprint(withForeign, ig) != fp {
			t.Fatal("an ignored service changed the fingerprint")
		}
		// Any managed change does change it.
		for i := range live.Services {
			if ig.Matches(live.Services[i].Key) {
				continue
			}
			c := live.Clone()
			c.Services[i].Opts.Timeout++
			if Fingerprint(c, ig) == fp {
				t.Fatalf("persistence timeout of %v not in the fingerprint", c.Services[i].Key)
			}
			for j := range live.Services[i].Dests {
				c := live.Clone()
				c.Services[i].Dests[j].Opts.Weight++
				if Fingerprint(c, ig) == fp {
					t.Fatalf("weight of %v not in the fingerprint", c.Services[i].Dests[j].Addr)
				}
			}
			c = live.Clone()
			c.Services = slices.Delete(c.Services, i, i+1)
			if Fingerprint(c, ig) == fp {
				t.Fatalf("deleting %v does not change the fingerprint", live.Services[i].Key)
			}
		}
		c := live.Clone()
		c.Timeouts.UDP += time.Second
		if Fingerprint(c, ig) == fp {
			t.Fatal("timeouts not in the fingerprint")
		}
	})
}

// FuzzIsPlan: CheckOverwrite's look at a file that may be anything never
// panics, and takes for a plan only what has a plan's kind.
func FuzzIsPlan(f *testing.F) {
	f.Add([]byte(`{"kind": "lvsctl-plan", "format_version": 1}`))
	f.Add([]byte(`{"services": [], "kind": "lvsctl-plan"}`))
	f.Add([]byte(`{"kind": "other"}`))
	f.Add([]byte("virtual_server \"web\" {\n}\n"))
	f.Add([]byte(`{"kind": ["lvsctl-plan"]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if isPlan(bytes.NewReader(data)) && !bytes.Contains(data, []byte("lvsctl-plan")) && !bytes.Contains(data, []byte(`\u`)) {
			t.Errorf("taken for a plan: %q", data)
		}
	})
}

func TestCheckOverwrite(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string { return writeIn(t, dir, name, content) }
	for _, tc := range []struct {
		path string
		want string // "" for allowed
	}{
		{filepath.Join(dir, "new.plan"), ""},
		{write("empty.plan", ""), ""},
		{write("old.plan", `{"kind": "lvsctl-plan", "format_version": 1}`), ""},
		{write("later.plan", `{"format_version": 1, "desired": {"a": [1, 2]}, "kind": "lvsctl-plan"}`), ""},
		{write("web.hcl", "virtual_server \"web\" {\n}\n"), "web.hcl exists and is not an lvsctl plan file: refusing to replace it with a plan; choose another path, such as " + dir + "/web.plan"},
		{write("table.json", `{"services": []}`), "table.json exists and is not an lvsctl plan file"},
		{dir, "exists and is not a regular file"},
	} {
		err := CheckOverwrite(tc.path)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.path, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want %q", tc.path, err, tc.want)
		}
	}
	// WriteFile keeps to it: the configuration is left as it was.
	hcl := filepath.Join(dir, "web.hcl")
	if err := WriteFile(hcl, &File{}); err == nil {
		t.Errorf("WriteFile replaced %s", hcl)
	}
	if data, _ := os.ReadFile(hcl); string(data) != "virtual_server \"web\" {\n}\n" {
		t.Errorf("web.hcl is now %q", data)
	}
}

// writeIn writes content to the file name in dir, mode 0600, and returns
// its path.
func writeIn(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
