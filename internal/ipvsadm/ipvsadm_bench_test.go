package ipvsadm_test

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/lvsctl/lvsctl/internal/bench/gen"
	"github.com/lvsctl/lvsctl/internal/ipvsadm"
)

// BenchmarkParseSave reads an ipvsadm -S -n dump of 10,000 services with 4
// real servers each, as plan --live and convert do.
func BenchmarkParseSave(b *testing.B) {
	var dump bytes.Buffer
	if err := ipvsadm.WriteSave(&dump, gen.Table(10000, 4)); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(dump.Len()))
	for b.Loop() {
		t, err := ipvsadm.ParseSave(bytes.NewReader(dump.Bytes()), "bench.rules")
		if err != nil {
			b.Fatal(err)
		}
		if len(t.Services) != 10000 {
			b.Fatalf("parsed %d services, want 10000", len(t.Services))
		}
	}
}

// BenchmarkWriteSave writes the same table as ipvsadm -S -n prints it, as
// lvsctl save does.
func BenchmarkWriteSave(b *testing.B) {
	t := gen.Table(10000, 4)
	for b.Loop() {
		if err := ipvsadm.WriteSave(io.Discard, t); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseSaveOneService reads a dump of one service with 20,000 and
// with 80,000 real servers: the time and allocations per real server must
// not grow with their number (each was looked up with a scan of the ones
// before it, which made 80,000 take 9 s).
func BenchmarkParseSaveOneService(b *testing.B) {
	for _, n := range []int{20000, 80000} {
		var dump bytes.Buffer
		dump.WriteString("-A -t 10.0.0.1:80 -s wlc\n")
		for i := range n {
			fmt.Fprintf(&dump, "-a -t 10.0.0.1:80 -r 172.%d.%d.%d:80 -m -w 1\n", 16+i>>16, i>>8&255, i&255)
		}
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			b.SetBytes(int64(dump.Len()))
			b.ReportAllocs()
			for b.Loop() {
				t, err := ipvsadm.ParseSave(bytes.NewReader(dump.Bytes()), "bench.rules")
				if err != nil {
					b.Fatal(err)
				}
				if len(t.Services[0].Dests) != n {
					b.Fatalf("parsed %d real servers, want %d", len(t.Services[0].Dests), n)
				}
			}
		})
	}
}
