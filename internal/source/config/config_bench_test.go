package config_test

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/lvsctl/lvsctl/internal/bench/gen"
	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/internal/source/config"
)

// BenchmarkParse parses the HCL of a 10,000-service table with 4 real
// servers each, as lvsctl plan and apply do before anything else.
func BenchmarkParse(b *testing.B) {
	t := gen.Table(10000, 4)
	var src bytes.Buffer
	if err := config.Write(&src, model.FromTable(t), nil); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(src.Len()))
	var cfg *model.Config
	for b.Loop() {
		var diags = error(nil)
		c, _, d := config.Parse(src.Bytes(), "bench.hcl")
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
	cfg := model.FromTable(gen.Table(10000, 4))
	for b.Loop() {
		if err := config.Write(io.Discard, cfg, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHostile parses hostile files as lvsctl validate does, through
// the diagnostics it prints: lists nested 100,000 deep (200 KB) and blocks
// nested 200,000 deep, which overflowed the stack; a 10 MB string and a
// 3 MB line of NUL bytes, which were parsed and echoed whole; and 50,000
// virtual servers with two errors each, whose errors were matched against
// each other.
func BenchmarkHostile(b *testing.B) {
	var many strings.Builder
	for i := range 50000 {
		fmt.Fprintf(&many, "virtual_server \"v%d\" {\n  address = \"10.0.%d.%d:80\"\n  weight = x\n  scheduler = y\n}\n", i, i>>8&255, i&255)
	}
	for _, tc := range []struct {
		name string
		src  string
	}{
		{"lists-100k-deep", "a = " + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + "\n"},
		{"blocks-200k-deep", strings.Repeat("a {\n", 200000) + strings.Repeat("}\n", 200000)},
		{"string-10MB", "drain_timeout = \"" + strings.Repeat("x", 10<<20) + "\"\n"},
		{"line-3MB", "drain_timeout = \"1s\"\n" + strings.Repeat("\x00", 3<<20) + "\n"},
		{"errors-50k", many.String()},
	} {
		src := []byte(tc.src)
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			b.ReportAllocs()
			for b.Loop() {
				_, files, diags := config.Parse(src, "hostile.hcl")
				if !diags.HasErrors() {
					b.Fatal("no error")
				}
				var out bytes.Buffer
				if err := config.WriteDiagnostics(&out, files, diags, 78); err != nil || out.Len() > 60000 {
					b.Fatalf("%d bytes of diagnostics (%v)", out.Len(), err)
				}
			}
		})
	}
}
