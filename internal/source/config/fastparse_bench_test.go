package config

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/lvsctl/lvsctl/internal/bench/gen"
	"github.com/lvsctl/lvsctl/internal/model"
)

// BenchmarkFastParse compares the fast parser with hclsyntax, on
// configurations of 1,000 and 10,000 virtual servers with 4 real servers
// and a tcp health check each, as lvsctl convert writes them: all that
// Parse does (the limits scan, the parse and the decoding), with fastDecode
// and with hclsyntax.
func BenchmarkFastParse(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		cfg := model.FromTable(gen.Table(n, 4))
		cfg.Services = map[string]*model.ServiceSettings{}
		for _, s := range cfg.Table.Services {
			hc := model.DefaultHealthCheck(model.TCPProbe{})
			st := &model.ServiceSettings{Key: s.Key, HealthCheck: &hc, RealServers: map[string]*model.HealthCheck{}}
			for _, d := range s.Dests {
				st.RealServers[d.Name] = &hc
			}
			cfg.Services[s.Name] = st
		}
		var src bytes.Buffer
		if err := Write(&src, cfg, nil); err != nil {
			b.Fatal(err)
		}
		for _, fast := range []bool{true, false} {
			name := "hclsyntax"
			if fast {
				name = "fast"
			}
			b.Run(fmt.Sprintf("services=%d/load/%s", n, name), func(b *testing.B) {
				b.SetBytes(int64(src.Len()))
				b.ReportAllocs()
				for b.Loop() {
					c, _, diags, used := parse(src.Bytes(), "bench.hcl", fast)
					if diags.HasErrors() || used != fast || len(c.Table.Services) != n {
						b.Fatalf("fast parser used: %t, want %t (%v)", used, fast, diags)
					}
				}
			})
		}
	}
}
