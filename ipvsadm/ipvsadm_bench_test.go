package ipvsadm_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/lvsctl/lvsctl/bench/gen"
	"github.com/lvsctl/lvsctl/ipvsadm"
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
