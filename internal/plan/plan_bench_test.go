package plan_test

import (
	"io"
	"testing"

	"github.com/lvsctl/lvsctl/internal/bench/gen"
	"github.com/lvsctl/lvsctl/internal/plan"
	"github.com/lvsctl/lvsctl/lvs"
)

// The benchmarks use the shapes of BENCHMARKS.md: 10,000 services with 4
// real servers each.
const benchServices, benchDests = 10000, 4

func BenchmarkDiff(b *testing.B) {
	t := gen.Table(benchServices, benchDests)
	empty := &lvs.Table{}
	changed := gen.WithWeight(t, benchServices/2, 0, 50)
	cases := []struct {
		name       string
		live, want *lvs.Table
		ops        int
	}{
		{"cold-10k×4", empty, t, benchServices * (1 + benchDests)},
		{"noop-10k×4", t, t, 0},
		{"one-weight-10k×4", t, changed, 1},
		{"destroy-10k×4", t, empty, benchServices},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var p plan.Plan
			for b.Loop() {
				p = plan.Diff(c.live, c.want, plan.Options{})
			}
			if len(p.Ops) != c.ops {
				b.Fatalf("Diff made %d operations, want %d", len(p.Ops), c.ops)
			}
		})
	}
}

func BenchmarkRender(b *testing.B) {
	t := gen.Table(benchServices, benchDests)
	p := plan.Diff(&lvs.Table{}, t, plan.Options{})
	b.Run("text-cold-10k×4", func(b *testing.B) {
		for b.Loop() {
			if err := plan.Render(io.Discard, p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json-cold-10k×4", func(b *testing.B) {
		for b.Loop() {
			if err := plan.RenderJSON(io.Discard, p); err != nil {
				b.Fatal(err)
			}
		}
	})
}
