package config

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/lvsctl/lvsctl/internal/bench/gen"
	"github.com/lvsctl/lvsctl/internal/model"
)

// writeCanonical writes cfg and fails unless the output is what
// hclwrite.Format makes of it (Write lays the text out itself) and parses
// back to the same table.
func writeCanonical(t *testing.T, name string, cfg *model.Config, ann *model.Annotations) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, cfg, ann); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if f := hclwrite.Format(b.Bytes()); !bytes.Equal(f, b.Bytes()) {
		t.Errorf("%s: Write's output is not as hclwrite.Format lays it out:\n--- Write\n%s--- Format\n%s", name, b.Bytes(), f)
	}
	back, _, diags := Parse(b.Bytes(), name)
	if diags.HasErrors() {
		t.Fatalf("%s: the output does not parse: %v\n%s", name, diags, b.Bytes())
	}
	if render(back) != render(cfg) {
		t.Errorf("%s: the output means something else:\n%s", name, b.Bytes())
	}
	return b.Bytes()
}

// TestWriteIsCanonical holds Write to hclwrite's layout (indents, aligned
// equals signs, spaces in lists, "{}" for an empty block) on the test and
// example files, generated tables, and comments in every place.
func TestWriteIsCanonical(t *testing.T) {
	var files []string
	for _, pattern := range []string{"testdata/*.hcl", "testdata/*.d", "../../../examples/*.hcl"} {
		m, _ := filepath.Glob(pattern)
		files = append(files, m...)
	}
	n := 0
	for _, f := range files {
		cfg, _, diags := Load(f)
		if diags.HasErrors() {
			continue
		}
		n++
		writeCanonical(t, f, cfg, nil)
	}
	if n < 10 {
		t.Fatalf("only %d files written", n)
	}
	for _, size := range [][2]int{{1, 1}, {30, 5}, {3, 40}} {
		writeCanonical(t, fmt.Sprintf("gen %v", size), model.FromTable(gen.Table(size[0], size[1])), nil)
	}
	// Comments above every place written, and above places that are not.
	cfg, _, diags := Load("../../../examples/everything.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	ann := &model.Annotations{Header: []string{"# header"}, Footer: []string{"footer"}}
	r := rand.New(rand.NewPCG(3, 4))
	paths := [][]string{{"pulse"}, {"pulse", "keepalive"}, {"pulse", "nosuch"}, {"timeouts", "udp"}, {"nosuch", "x"}}
	for _, s := range cfg.Table.Services {
		paths = append(paths, []string{"virtual_server", s.Name}, []string{"virtual_server", s.Name, "address"},
			[]string{"virtual_server", s.Name, "scheduler"}, []string{"virtual_server", s.Name, "health_check", "interval"})
		for _, d := range s.Dests {
			paths = append(paths, []string{"virtual_server", s.Name, "real_server", d.Name, "weight"},
				[]string{"virtual_server", s.Name, "real_server", d.Name, "address", "deeper"})
		}
	}
	for i, p := range paths {
		if r.IntN(3) > 0 {
			ann.Add(fmt.Sprintf("comment %d\n\n# and a second line  ", i), p...)
		}
	}
	out := writeCanonical(t, "annotated", cfg, ann)
	for i := range paths {
		if !strings.Contains(string(out), fmt.Sprintf("# comment %d\n", i)) && len(ann.Comments(paths[i]...)) > 0 {
			t.Errorf("the comment of %v is lost", paths[i])
		}
	}
}

// TestWriteStrings holds the quoting of strings and labels to hclwrite's.
func TestWriteStrings(t *testing.T) {
	for _, s := range []string{
		"", "plain", "tab\tnew\nline\rcr", `quote " backslash \`, "${x} %{y} $${z} %%{w} $ % $x",
		"\x00\x01\x7f", "é ü 日本", "\u2028\U0001F600", "bad \xff utf-8", "end$", "end%",
	} {
		want := hclwrite.TokensForValue(cty.StringVal(s)).Bytes()
		if got := appendString(nil, cty.StringVal(s).AsString()); !bytes.Equal(got, want) {
			t.Errorf("%q: got %s, want %s", s, got, want)
		}
	}
	for _, v := range []cty.Value{
		cty.NumberIntVal(0), cty.NumberIntVal(-5), cty.NumberIntVal(1 << 40), cty.NumberFloatVal(1.5),
		cty.True, cty.False, cty.EmptyTupleVal, cty.TupleVal([]cty.Value{cty.StringVal("a"), cty.NumberIntVal(2)}),
	} {
		want := hclwrite.TokensForValue(v).Bytes()
		got, err := appendValue(nil, v)
		if err != nil || !bytes.Equal(hclwrite.Format(got), hclwrite.Format(want)) {
			t.Errorf("%#v: got %s (%v), want %s", v, got, err, want)
		}
	}
	// Names that need quoting, as labels.
	tab := gen.Table(1, 2)
	tab.Services[0].Name = "web \"1\" ${x}"
	tab.Services[0].Dests[0].Name = "r\\1 %{y}"
	cfg := model.FromTable(tab)
	cfg.Table.Services[0].Name = tab.Services[0].Name
	writeCanonical(t, "labels", cfg, nil)
}

// TestWriteLinear checks that writing a service with 40,000 real servers
// in a given order costs about four times what 10,000 cost: ordering them
// scanned the list for each name, and building and formatting an hclwrite
// tree cost 2.9 GB for a 4 MB lvs.cf conversion.
func TestWriteLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 50,000 real servers")
	}
	cost := func(n int) (allocs, size float64) {
		tab := gen.Table(1, n)
		cfg := model.FromTable(tab)
		ann := &model.Annotations{RealOrder: map[string][]string{}}
		s := cfg.Table.Services[0]
		for i := len(s.Dests) - 1; i >= 0; i-- {
			ann.RealOrder[s.Name] = append(ann.RealOrder[s.Name], s.Dests[i].Name)
			ann.Add("a comment", "virtual_server", s.Name, "real_server", s.Dests[i].Name)
		}
		allocs, size = allocations(func() {
			if err := Write(&bytes.Buffer{}, cfg, ann); err != nil {
				t.Fatal(err)
			}
		})
		return allocs, size
	}
	a1, b1 := cost(10000)
	a4, b4 := cost(40000)
	t.Logf("10k: %.0f allocations, %.1f MB; 40k: %.0f allocations, %.1f MB", a1, b1/1e6, a4, b4/1e6)
	if r := a4 / a1; r > 5 {
		t.Errorf("40k real servers make %.1f× the allocations of 10k; want about 4×", r)
	}
	if r := b4 / b1; r > 5 {
		t.Errorf("40k real servers allocate %.1f× the bytes of 10k; want about 4×", r)
	}
}

// TestEqualCheck checks that equalCheck compares every field.
func TestEqualCheck(t *testing.T) {
	a := model.DefaultHealthCheck(model.HTTPProbe{Status: []int{200}})
	b := a
	b.Probe = model.HTTPProbe{Status: []int{200}}
	if !equalCheck(&a, &b) {
		t.Error("equal checks differ")
	}
	b.Fall = 3
	if equalCheck(&a, &b) {
		t.Error("a different fall is equal")
	}
	b = a
	b.Probe = model.HTTPProbe{}
	if equalCheck(&a, &b) {
		t.Error("a different status is equal")
	}
}

// allocations returns how many allocations f makes, and how many bytes
// they take.
func allocations(f func()) (allocs, size float64) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return float64(after.Mallocs - before.Mallocs), float64(after.TotalAlloc - before.TotalAlloc)
}
