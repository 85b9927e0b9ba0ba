package keepalived

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lvsctl/lvsctl/internal/golden"
	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/internal/model/modeltest"
	"github.com/lvsctl/lvsctl/internal/source/config"
)

// testOptions reads the conditional lines of conditional_conf.conf for
// its "high" director.
var testOptions = Options{ConfigID: "high"}

// convert converts the keepalived.conf at name and parses the HCL back.
func convert(t *testing.T, name string) (hcl []byte, direct, back *model.Config, err error) {
	t.Helper()
	f, err := Load(name, testOptions)
	if err != nil {
		return nil, nil, nil, err
	}
	cfg, ann, _, err := f.Convert()
	if err != nil {
		return nil, nil, nil, err
	}
	direct, _, err = f.Config()
	if err != nil {
		t.Fatalf("%s: Config failed where Convert did not: %v", name, err)
	}
	var b bytes.Buffer
	if err := config.Write(&b, cfg, ann); err != nil {
		t.Fatalf("%s: Write: %v", name, err)
	}
	back, _, diags := config.Parse(b.Bytes(), filepath.Base(name)+".hcl")
	if diags.HasErrors() {
		t.Fatalf("%s: the converted HCL does not parse: %v\n%s", name, diags, b.String())
	}
	return b.Bytes(), direct, back, nil
}

// Every sample of keepalived's converts; the HCL parses back to the same
// configuration as reading the keepalived.conf directly (table, checks,
// sorry servers, quorums, VIPs, pulse); and the HCL is the reviewed one.
func TestSamples(t *testing.T) {
	names, _ := filepath.Glob("testdata/samples/*.conf")
	own, _ := filepath.Glob("testdata/*.conf")
	names = append(names, own...)
	if len(names) < 20 {
		t.Fatalf("found %d samples", len(names))
	}
	for _, name := range names {
		t.Run(strings.TrimPrefix(name, "testdata/"), func(t *testing.T) {
			hcl, direct, back, err := convert(t, name)
			out := hcl
			if err != nil {
				var es Errors
				if !errors.As(err, &es) {
					t.Fatalf("%T is not Errors: %v", err, err)
				}
				var b strings.Builder
				for _, e := range es {
					b.WriteString("Error: " + e.Error() + "\n" + e.Excerpt("  "))
				}
				out = []byte(b.String())
			} else if d := cmp.Diff(direct, back, modeltest.CmpOptions...); d != "" {
				t.Errorf("the converted HCL means something else (-keepalived.conf +hcl):\n%s\n%s", d, hcl)
			}
			golden.Check(t, strings.TrimSuffix(name, ".conf")+".golden", out)
		})
	}
}
