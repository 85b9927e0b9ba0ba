package keepalived

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/lvsctl/lvsctl/internal/source/config"
)

func TestSmoke(t *testing.T) {
	files, _ := filepath.Glob("testdata/samples/*.conf")
	for _, name := range files {
		f, err := Load(name, Options{ConfigID: "high"})
		if err != nil {
			t.Logf("%s: %v", name, err)
			continue
		}
		cfg, ann, _, err := f.Convert()
		if err != nil {
			t.Logf("%s: convert: %v", name, err)
			continue
		}
		var b bytes.Buffer
		if err := config.Write(&b, cfg, ann); err != nil {
			t.Logf("%s: write: %v", name, err)
			continue
		}
		_, _, diags := config.Parse(b.Bytes(), "x.hcl")
		t.Logf("%s: OK diags=%v\n%s", name, diags, b.String())
	}
}
