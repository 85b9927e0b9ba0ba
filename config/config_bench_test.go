package config_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/lvsctl/lvsctl/bench/gen"
	"github.com/lvsctl/lvsctl/config"
)

// BenchmarkParse parses the HCL of a 10,000-service table with 4 real
// servers each, as lvsctl plan and apply do before anything else.
func BenchmarkParse(b *testing.B) {
	t := gen.Table(10000, 4)
	var src bytes.Buffer
	if err := config.Write(&src, config.FromTable(t), nil); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(src.Len()))
	var cfg *config.Config
	for b.Loop() {
		var diags = error(nil)
		c, d := config.Parse(src.Bytes(), "bench.hcl")
		if d.HasErrors() {
			diags = d
		}
		if diags != nil {
			b.Fatal(diags)
		}
		cfg = c
	}
	if n := len(cfg.Table.Services); n != 10000 {
		b.Fatalf("parsed %d services, want 10000", n)
	}
}

// BenchmarkWrite writes the same table as HCL, as lvsctl convert does.
func BenchmarkWrite(b *testing.B) {
	cfg := config.FromTable(gen.Table(10000, 4))
	for b.Loop() {
		if err := config.Write(io.Discard, cfg, nil); err != nil {
			b.Fatal(err)
		}
	}
}
