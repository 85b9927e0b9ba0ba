package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvsctl/lvsctl/internal/apply"
	"github.com/lvsctl/lvsctl/internal/apply/applytest"
	"github.com/lvsctl/lvsctl/internal/plan"
	"github.com/lvsctl/lvsctl/internal/source/config"
)

// TestExamples validates and plans every example against an empty kernel,
// applies the plan to the in-memory kernel and checks that a second plan
// is empty: the examples cannot rot.
func TestExamples(t *testing.T) {
	files, err := filepath.Glob("examples/*.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 5 {
		t.Fatalf("only %d examples found", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			cfg, sources, diags := config.Load(f)
			if diags.HasErrors() {
				var b bytes.Buffer
				_ = config.WriteDiagnostics(&b, sources, diags, 0)
				t.Fatalf("%s does not validate:\n%s", f, b.String())
			}
			k := applytest.New()
			empty, err := k.Table()
			if err != nil {
				t.Fatal(err)
			}
			p := plan.Diff(empty, cfg.Table, plan.Options{})
			if p.Empty() {
				t.Fatalf("%s plans no changes against an empty kernel", f)
			}
			var out bytes.Buffer
			if err := plan.Render(&out, p); err != nil {
				t.Fatal(err)
			}
			add, _, _ := p.Summary()
			if !strings.Contains(out.String(), "Plan: ") || add == 0 {
				t.Fatalf("unexpected plan for %s:\n%s", f, out.String())
			}
			if _, err := apply.Run(context.Background(), k, p, apply.RunOptions{}); err != nil {
				t.Fatalf("applying %s to the in-memory kernel: %v", f, err)
			}
			live, err := k.Table()
			if err != nil {
				t.Fatal(err)
			}
			if again := plan.Diff(live, cfg.Table, plan.Options{}); !again.Empty() {
				var b bytes.Buffer
				_ = plan.Render(&b, again)
				t.Fatalf("%s does not converge; second plan:\n%s", f, b.String())
			}
			if len(cfg.Table.Services) == 0 {
				t.Fatalf("%s declares no virtual server", f)
			}
		})
	}
}
