package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(empty, "README"), []byte("not a config"), 0o644); err != nil {
		t.Fatal(err)
	}
	syntax := filepath.Join(dir, "syntax.d")
	if err := os.Mkdir(syntax, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, src := range map[string]string{
		"a.hcl": "virtual_server \"a\" {\n  address = \n}\n",
		"b.hcl": "virtual_server \"b\" {\n  address = \"10.0.0.2:80\"\n",
	} {
		if err := os.WriteFile(filepath.Join(syntax, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		path    string
		summary []string
		detail  string
	}{
		{filepath.Join(dir, "nothere.hcl"), []string{"Cannot read the configuration"}, "nothere.hcl: no such file or directory"},
		{empty, []string{"No configuration files"}, "has no *.hcl files"},
		// Syntax errors of every file are reported, not only the first.
		{syntax, []string{"Invalid expression", "Unclosed configuration block"}, ""},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			cfg, files, diags := Load(tt.path)
			if files == nil {
				t.Fatal("Load returned no files to render diagnostics with")
			}
			if cfg != nil {
				t.Error("a failed load returned a configuration")
			}
			var got []string
			for _, d := range diags {
				got = append(got, d.Summary)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.summary) {
				t.Fatalf("summaries %q, want %q", got, tt.summary)
			}
			if !strings.Contains(diags[0].Detail, tt.detail) {
				t.Errorf("detail %q does not contain %q", diags[0].Detail, tt.detail)
			}
		})
	}
}

func TestLoadFile(t *testing.T) {
	cfg, files, diags := Load("testdata/nat.hcl")
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	if _, ok := files["testdata/nat.hcl"]; !ok {
		t.Errorf("Files has %v, want testdata/nat.hcl", files)
	}
	if cfg.DrainTimeout != 0 {
		t.Errorf("DrainTimeout = %s without drain_timeout", cfg.DrainTimeout)
	}
	cfg, files, diags = Load("testdata/confd.d")
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	if len(files) != 3 {
		t.Errorf("a directory of 3 *.hcl files gave %d files", len(files))
	}
	if cfg.DrainTimeout != 30*time.Second {
		t.Errorf("DrainTimeout = %s, want 30s", cfg.DrainTimeout)
	}
}

// TestWriteDiagnostics checks the Terraform-style rendering that
// `lvsctl validate` prints: summary, file:line:column with the enclosing
// block, the source line with the value marked under it, and the detail
// wrapped at the given width.
func TestWriteDiagnostics(t *testing.T) {
	src := "virtual_server \"web\" {\n  address   = \"10.0.0.2:80\"\n  scheduler = \"fastest\"\n}\n"
	_, files, diags := Parse([]byte(src), "web.hcl")
	var b strings.Builder
	if err := WriteDiagnostics(&b, files, diags, 60); err != nil {
		t.Fatal(err)
	}
	want := `Error: Invalid scheduler

  on web.hcl:3:15, in virtual_server "web":
   3:   scheduler = "fastest"
                    ^^^^^^^^^

"fastest" is not an IPVS scheduler; use one of rr, wrr, lc,
wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh, twos.

`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

func ExampleParse() {
	src := `
virtual_server "web" {
  address = "10.0.0.2:80"
  persistence {}
  real_server "real1" {
    address = "192.168.10.100"
  }
}
`
	cfg, files, diags := Parse([]byte(src), "web.hcl")
	if diags.HasErrors() {
		_ = WriteDiagnostics(os.Stderr, files, diags, 78)
		return
	}
	for _, s := range cfg.Table.Services {
		fmt.Println(s.Name, s.Key, s.Opts.Scheduler, s.Opts.Timeout)
		for _, d := range s.Dests {
			fmt.Println(" ", d.Name, d.Addr, d.Opts.Forward, d.Opts.Weight)
		}
	}
	// Output:
	// web tcp 10.0.0.2:80 wlc 360
	//   real1 192.168.10.100:80 nat 1
}
