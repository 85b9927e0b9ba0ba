package apply_test

import (
	"context"
	"testing"

	"github.com/lvsctl/lvsctl/internal/apply"
	"github.com/lvsctl/lvsctl/internal/apply/applytest"
	"github.com/lvsctl/lvsctl/internal/bench/gen"
	"github.com/lvsctl/lvsctl/internal/plan"
	"github.com/lvsctl/lvsctl/lvs"
)

// BenchmarkRun executes plans on the in-memory kernel of package
// applytest: the cold load of 1,000 services with 4 real servers each
// (5,000 operations; the fake keeps its table in slices, so a 10k load
// measures the fake rather than apply), and one weight change in a
// 10,000-service table.
func BenchmarkRun(b *testing.B) {
	t := gen.Table(10000, 4)
	b.Run("cold-1k×4", func(b *testing.B) {
		p := plan.Diff(&lvs.Table{}, gen.Table(1000, 4), plan.Options{})
		for b.Loop() {
			b.StopTimer()
			k := applytest.New()
			b.StartTimer()
			rep, err := apply.Run(context.Background(), k, p, apply.RunOptions{})
			if err != nil {
				b.Fatal(err)
			}
			if n := rep.Count(apply.Done); n != len(p.Ops) || k.Ops() != len(p.Ops) {
				b.Fatalf("%d operations done, %d kernel calls, want %d", n, k.Ops(), len(p.Ops))
			}
		}
	})
	b.Run("one-weight-10k×4", func(b *testing.B) {
		k := applytest.New()
		k.Seed(t)
		// Alternate between two weights so that every run changes one.
		ps := [2]plan.Plan{
			plan.Diff(t, gen.WithWeight(t, 5000, 0, 50), plan.Options{}),
			plan.Diff(gen.WithWeight(t, 5000, 0, 50), t, plan.Options{}),
		}
		i := 0
		for b.Loop() {
			before := k.Ops()
			if _, err := apply.Run(context.Background(), k, ps[i%2], apply.RunOptions{}); err != nil {
				b.Fatal(err)
			}
			if k.Ops()-before != 1 {
				b.Fatalf("%d kernel calls for one weight change, want 1", k.Ops()-before)
			}
			i++
		}
	})
}

// BenchmarkConverge is apply without a saved plan on the in-memory kernel:
// read the table, diff it against the desired one, run the plan. The
// no-op case is what a cron run of lvsctl apply costs when nothing changed.
func BenchmarkConverge(b *testing.B) {
	t := gen.Table(10000, 4)
	k := applytest.New()
	k.Seed(t)
	for b.Loop() {
		rep, err := apply.Converge(context.Background(), k, t, apply.ConvergeOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if len(rep.Ops) != 0 {
			b.Fatalf("a converged table made %d operations", len(rep.Ops))
		}
	}
}
