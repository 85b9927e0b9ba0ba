package lvscf

import (
	"bytes"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/lvsctl/lvsctl/internal/source/config"
)

// largeFile is an lvs.cf of virtuals virtual blocks with servers servers
// each, every block and server with a comment above it: 9,000 × 4 is a
// 4 MB file.
func largeFile(virtuals, servers int) []byte {
	var b strings.Builder
	b.WriteString("serial_no = 1\nprimary = 10.0.0.10\nservice = lvs\nbackup = 10.0.0.11\nnetwork = nat\n")
	for v := range virtuals {
		fmt.Fprintf(&b, "# virtual %d\nvirtual v%d {\n active = 1\n address = 10.%d.%d.%d eth0:1\n port = 80\n scheduler = wlc\n protocol = tcp\n timeout = 6\n",
			v, v, v>>16&255, v>>8&255, v&255)
		for s := range servers {
			fmt.Fprintf(&b, " # server %d\n server s%d {\n  address = 172.%d.%d.%d\n  active = 1\n  weight = 1\n }\n", s, s, 16+(s>>16&15), s>>8&255, s&255)
		}
		b.WriteString("}\n")
	}
	return []byte(b.String())
}

// validate is what lvsctl validate does with an lvs.cf.
func validate(tb testing.TB, src []byte) {
	f, _, err := Parse(bytes.NewReader(src), "large.cf")
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := f.Config(); err != nil {
		tb.Fatal(err)
	}
}

// convertCheck is what lvsctl convert does with an lvs.cf: convert, write,
// and parse the HCL again to check that it means the same.
func convertCheck(tb testing.TB, src []byte) {
	f, _, err := Parse(bytes.NewReader(src), "large.cf")
	if err != nil {
		tb.Fatal(err)
	}
	cfg, ann, err := f.Convert()
	if err != nil {
		tb.Fatal(err)
	}
	var out bytes.Buffer
	if err := config.Write(&out, cfg, ann); err != nil {
		tb.Fatal(err)
	}
	back, _, diags := config.Parse(out.Bytes(), "converted.hcl")
	if diags.HasErrors() || !reflect.DeepEqual(back.Table, cfg.Table) {
		tb.Fatalf("the conversion means something else: %v", diags)
	}
}

func allocations(f func()) (allocs, size float64) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return float64(after.Mallocs - before.Mallocs), float64(after.TotalAlloc - before.TotalAlloc)
}

// TestConvertCost checks that converting an lvs.cf costs at most three
// times what validating it costs, in allocations and bytes allocated (time
// follows them): writing the HCL through an hclwrite tree made the
// conversion of a 4 MB file take 2.9 GB and most of 17 s, for 0.2 GB and
// 0.9 s to validate it.
func TestConvertCost(t *testing.T) {
	if testing.Short() {
		t.Skip("converts 10,000 servers")
	}
	for _, shape := range [][2]int{{2000, 4}, {1, 10000}} {
		src := largeFile(shape[0], shape[1])
		va, vb := allocations(func() { validate(t, src) })
		ca, cb := allocations(func() { convertCheck(t, src) })
		t.Logf("%d×%d (%d KB): validate %.0f allocations, %.1f MB; convert %.0f, %.1f MB", shape[0], shape[1], len(src)>>10, va, vb/1e6, ca, cb/1e6)
		if ca > 3*va || cb > 3*vb {
			t.Errorf("%d×%d: converting costs %.1f× the allocations and %.1f× the bytes of validating; want at most 3×", shape[0], shape[1], ca/va, cb/vb)
		}
	}
}

// TestConvertLinear checks that converting a virtual with 20,000 servers
// costs about four times what 5,000 cost: naming the servers scanned the
// table's real servers for each one.
func TestConvertLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("converts 25,000 servers")
	}
	cost := func(n int) (float64, float64) {
		src := largeFile(1, n)
		return allocations(func() { convertCheck(t, src) })
	}
	a1, b1 := cost(5000)
	a4, b4 := cost(20000)
	if a4 > 5*a1 || b4 > 5*b1 {
		t.Errorf("20,000 servers cost %.1f× the allocations and %.1f× the bytes of 5,000; want about 4×", a4/a1, b4/b1)
	}
}

// BenchmarkLarge validates and converts a 4 MB lvs.cf (9,000 virtuals of
// 4 servers) and one virtual of 30,000 servers (2.6 MB), as lvsctl
// validate and lvsctl convert do.
func BenchmarkLarge(b *testing.B) {
	for _, shape := range [][2]int{{9000, 4}, {1, 30000}} {
		src := largeFile(shape[0], shape[1])
		for _, op := range []struct {
			name string
			f    func(testing.TB, []byte)
		}{{"validate", validate}, {"convert", convertCheck}} {
			b.Run(fmt.Sprintf("%s-%dx%d", op.name, shape[0], shape[1]), func(b *testing.B) {
				b.SetBytes(int64(len(src)))
				b.ReportAllocs()
				for b.Loop() {
					op.f(b, src)
				}
			})
		}
	}
}
