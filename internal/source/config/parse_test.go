package config

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hashicorp/hcl/v2"

	"github.com/lvsctl/lvsctl/internal/model"
)

// bigConfig is a configuration large enough to be parsed in pieces, with
// comments, strings holding braces, and lists at top level.
func bigConfig(services int) string {
	var b strings.Builder
	b.WriteString("# generated { not a block\ndrain_timeout = \"1m\"\nignore {\n  addresses = [\"10.96.0.0/12\"]\n}\n")
	for i := range services {
		fmt.Fprintf(&b, "// service %d }\nvirtual_server \"s%d\" {\n  address = \"10.%d.%d.1:80\"\n", i, i, i/250, i%250)
		b.WriteString("  /* a } in a\n     block comment */\n  scheduler = \"rr\"\n")
		for j := range 4 {
			fmt.Fprintf(&b, "  real_server \"r%d\" {\n    address = \"172.16.%d.%d:80\"\n    weight  = %d\n  }\n", j, i%250, j+1, j+1)
		}
		b.WriteString("}\n\n")
	}
	return b.String()
}

func TestParseInPiecesEqualsWhole(t *testing.T) {
	noFast(t)
	src := []byte(bigConfig(3000))
	if len(src) < parallelMin {
		t.Fatalf("test config is %d bytes, below parallelMin %d", len(src), parallelMin)
	}
	if cuts := topLevelCuts(src, 4); len(cuts) < 2 {
		t.Fatalf("the file was not cut: %v", cuts)
	}
	pieces, _, diags := Parse(src, "big.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	whole, diags := decodeWhole(t, src)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if diff := cmp.Diff(whole.Table, pieces.Table, cmpopts.EquateComparable(netip.Addr{}, netip.AddrPort{}, netip.Prefix{})); diff != "" {
		t.Errorf("tables differ (-whole +pieces):\n%s", diff)
	}
}

// A mistake deep in a large file is reported at its true line, with the
// enclosing block, as for a small file.
func TestParseInPiecesDiagnostics(t *testing.T) {
	noFast(t)
	src := bigConfig(3000)
	bad := strings.Replace(src, "virtual_server \"s2900\" {\n  address = \"10.11.150.1:80\"\n  /* a } in a\n     block comment */\n  scheduler = \"rr\"",
		"virtual_server \"s2900\" {\n  address = \"10.11.150.1:80\"\n  /* a } in a\n     block comment */\n  scheduler = \"fastest\"", 1)
	if bad == src {
		t.Fatal("test did not plant its mistake")
	}
	_, files, diags := Parse([]byte(bad), "big.hcl")
	if !diags.HasErrors() {
		t.Fatal("no error for scheduler \"fastest\"")
	}
	wantLine := 1 + strings.Count(bad[:strings.Index(bad, "\"fastest\"")], "\n")
	if got := diags[0].Subject.Start.Line; got != wantLine {
		t.Errorf("error at line %d, want %d", got, wantLine)
	}
	var out bytes.Buffer
	if err := WriteDiagnostics(&out, files, diags, 0); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `in virtual_server "s2900"`) || !strings.Contains(out.String(), `scheduler = "fastest"`) {
		t.Errorf("diagnostic lacks its context or source line:\n%s", out.String())
	}

	// A syntax error makes the pieces give up: the diagnostics are the
	// whole file's.
	broken := []byte(strings.Replace(src, "virtual_server \"s1500\" {", "virtual_server \"s1500\" {{", 1))
	_, _, got := Parse(broken, "big.hcl")
	_, want := decodeWhole(t, broken)
	if !got.HasErrors() || got.Error() != want.Error() {
		t.Errorf("syntax error diagnostics differ:\n got %v\nwant %v", got, want)
	}
}

// decodeWhole parses src in one piece, as hclparse does.
func decodeWhole(t *testing.T, src []byte) (*model.Config, hcl.Diagnostics) {
	t.Helper()
	saved := parallelDisabled
	parallelDisabled = true
	defer func() { parallelDisabled = saved }()
	cfg, _, diags := Parse(src, "big.hcl")
	return cfg, diags
}

// noFast makes a test exercise hclsyntax, not the fast parser.
func noFast(t *testing.T) {
	saved := fastDisabled
	fastDisabled = true
	t.Cleanup(func() { fastDisabled = saved })
}
