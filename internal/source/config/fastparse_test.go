package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/internal/model/modeltest"
)

// checkFastEqualsSlow parses src both ways and fails unless the fast parser
// either declines or gives exactly what hclsyntax gives. It reports whether
// the fast parser's tree was the one used: parsed fast and decoded cleanly.
func checkFastEqualsSlow(t *testing.T, src []byte, name string) (usedFast bool) {
	t.Helper()
	fastCfg, _, fastDiags, fast := parse(src, name, true)
	slowCfg, _, slowDiags, _ := parse(src, name, false)
	if !fast {
		return false
	}
	if len(fastDiags) > 0 {
		// Load and Parse then parse again with hclsyntax; the public
		// result must be hclsyntax's.
		cfg, _, diags := Parse(src, name)
		if diags.Error() != slowDiags.Error() {
			t.Errorf("%s: diagnostics differ:\n fast %v\n slow %v", name, diags, slowDiags)
		}
		if diff := cmp.Diff(slowCfg, cfg, modeltest.CmpOptions); diff != "" {
			t.Errorf("%s: configs differ after a fallback (-slow +public):\n%s", name, diff)
		}
		return false
	}
	if len(slowDiags) > 0 {
		t.Errorf("%s: the fast parser accepted what hclsyntax refuses: %v", name, slowDiags)
		return true
	}
	if diff := cmp.Diff(slowCfg, fastCfg, modeltest.CmpOptions); diff != "" {
		t.Errorf("%s: configs differ (-hclsyntax +fast):\n%s", name, diff)
	}
	// The structs themselves, ranges and kept syntax included: what
	// the rules would point at if they found a problem.
	f, diags := parseSyntax(src, name)
	var slow fileBlock
	if diags = append(diags, decodeBody(f.Body, &slow)...); diags.HasErrors() {
		t.Fatalf("%s: hclsyntax: %v", name, diags)
	}
	if d := schemaDiff("file", reflect.ValueOf(slow), reflect.ValueOf(*fastDecode(src, name))); d != "" {
		t.Errorf("%s: decoded structs differ: %s", name, d)
	}
	return true
}

// schemaDiff returns the first difference between a and b, schema values
// decoded from the same file through hclsyntax and through fastDecode, or
// "". Ranges must be equal; expressions and bodies kept as syntax must have
// the same ranges and values.
func schemaDiff(path string, a, b reflect.Value) string {
	switch a.Type() {
	case reflect.TypeFor[hcl.Range]():
		if a.Interface() != b.Interface() {
			return fmt.Sprintf("%s: %v, fast %v", path, a.Interface(), b.Interface())
		}
		return ""
	case exprType:
		ea, _ := a.Interface().(hcl.Expression)
		eb, _ := b.Interface().(hcl.Expression)
		return exprDiff(path, ea, eb)
	case reflect.TypeFor[hcl.Body]():
		ba, _ := a.Interface().(*hclsyntax.Body)
		bb, _ := b.Interface().(*hclsyntax.Body)
		if ba == nil || bb == nil {
			if a.IsNil() != b.IsNil() || (ba == nil) != (bb == nil) {
				return path + ": a body on one side only"
			}
			return ""
		}
		return bodyDiff(path, ba, bb)
	}
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				return path + ": set on one side only"
			}
			return ""
		}
		return schemaDiff(path, a.Elem(), b.Elem())
	case reflect.Slice:
		if a.Len() != b.Len() {
			return fmt.Sprintf("%s: %d elements, fast %d", path, a.Len(), b.Len())
		}
		for i := range a.Len() {
			if d := schemaDiff(fmt.Sprintf("%s[%d]", path, i), a.Index(i), b.Index(i)); d != "" {
				return d
			}
		}
		return ""
	case reflect.Struct:
		for i := range a.NumField() {
			if d := schemaDiff(path+"."+a.Type().Field(i).Name, a.Field(i), b.Field(i)); d != "" {
				return d
			}
		}
		return ""
	}
	if a.Interface() != b.Interface() {
		return fmt.Sprintf("%s: %v, fast %v", path, a.Interface(), b.Interface())
	}
	return ""
}

// exprDiff is schemaDiff for an expression.
func exprDiff(path string, a, b hcl.Expression) string {
	if a == nil || b == nil {
		if (a == nil) != (b == nil) {
			return path + ": an expression on one side only"
		}
		return ""
	}
	if a.Range() != b.Range() {
		return fmt.Sprintf("%s: expression at %v, fast %v", path, a.Range(), b.Range())
	}
	va, _ := a.Value(nil)
	vb, _ := b.Value(nil)
	if !va.RawEquals(vb) {
		return fmt.Sprintf("%s: %#v, fast %#v", path, va, vb)
	}
	return ""
}

// bodyDiff is schemaDiff for a body kept as syntax.
func bodyDiff(path string, a, b *hclsyntax.Body) string {
	if a.SrcRange != b.SrcRange || a.EndRange != b.EndRange {
		return fmt.Sprintf("%s: body at %v-%v, fast %v-%v", path, a.SrcRange, a.EndRange, b.SrcRange, b.EndRange)
	}
	if len(a.Attributes) != len(b.Attributes) || len(a.Blocks) != len(b.Blocks) {
		return fmt.Sprintf("%s: %d attributes and %d blocks, fast %d and %d", path, len(a.Attributes), len(a.Blocks), len(b.Attributes), len(b.Blocks))
	}
	for name, aa := range a.Attributes {
		ab := b.Attributes[name]
		if ab == nil {
			return path + "." + name + ": missing in fast"
		}
		if aa.SrcRange != ab.SrcRange || aa.NameRange != ab.NameRange || aa.EqualsRange != ab.EqualsRange {
			return fmt.Sprintf("%s.%s: attribute ranges differ", path, name)
		}
		if d := exprDiff(path+"."+name, aa.Expr, ab.Expr); d != "" {
			return d
		}
	}
	for i, ka := range a.Blocks {
		kb := b.Blocks[i]
		p := fmt.Sprintf("%s.%s[%d]", path, ka.Type, i)
		if ka.Type != kb.Type || !slices.Equal(ka.Labels, kb.Labels) || !slices.Equal(ka.LabelRanges, kb.LabelRanges) ||
			ka.TypeRange != kb.TypeRange || ka.OpenBraceRange != kb.OpenBraceRange || ka.CloseBraceRange != kb.CloseBraceRange {
			return p + ": block headers differ"
		}
		if d := bodyDiff(p, ka.Body, kb.Body); d != "" {
			return d
		}
	}
	return ""
}

func TestFastParseEqualsHCLSyntax(t *testing.T) {
	var files []string
	for _, pattern := range []string{"testdata/*.hcl", "testdata/*.d/*.hcl", "../../../examples/*.hcl", "../lvscf/testdata/*.hcl.golden"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 10 {
		t.Fatalf("only %d files found", len(files))
	}
	used := 0
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if checkFastEqualsSlow(t, src, filepath.Base(f)) {
			used++
		}
	}
	// The examples are plain HCL: most of them must take the fast path,
	// or the test proves nothing.
	t.Logf("fast path used for %d of %d files", used, len(files))
	if used < len(files)/2 {
		t.Errorf("the fast parser took only %d of %d files", used, len(files))
	}
	if !checkFastEqualsSlow(t, []byte(bigConfig(500)), "big.hcl") {
		t.Error("the fast parser declined the generated configuration")
	}
}

func TestFastParseDeclines(t *testing.T) {
	for _, src := range []string{
		"virtual_server \"w\" { address = \"10.0.0.2:80\" }\n", // one-line block with content
		"drain_timeout = \"${var.x}\"\n",                       // template
		"drain_timeout = \"a\\u00e9\"\n",                       // escape other than \n \r \t \" \\
		"virtual_server \"w\" {\n  weight = -1\n}\n",           // unary minus
		"virtual_server \"w\" {\n  address = var.a\n}\n",       // variable
		"virtual_server \"é\" {\n}\n",                          // non-ASCII
		"virtual_server \"w\" {\r\n}\r\n",                      // CRLF
		"virtual_server \"w\" {\n  weight = 010\n}\n",          // leading zero
		"virtual_server \"w\" {\n  a = 1\n  a = 2\n}\n",        // redefined
		"virtual_server \"w\" {\n",                             // unclosed
		"drain_timeout = " + deep("[", "]", 100000) + "\n",     // too deep
		deep("a {\n", "}\n", 100000),                           // too deep
	} {
		if fb := fastDecode([]byte(src), "x.hcl"); fb != nil {
			t.Errorf("fastDecode accepted %q", src)
		}
	}
}

// TestFastParseEscapes checks the escapes the fast parser reads: those of
// a converted nanny send string, in values and labels.
func TestFastParseEscapes(t *testing.T) {
	src := "virtual_server \"a\\\"b\\\\c\" {\n" +
		"  address = \"10.0.0.2:80\"\n" +
		"  health_check {\n" +
		"    type   = \"send_expect\"\n" +
		"    send   = \"GET / HTTP/1.0\\r\\n\\r\\n\\t\\\"\\\\\"\n" +
		"    expect = \"HTTP\"\n" +
		"  }\n" +
		"  real_server \"r\\\\1\" {\n" +
		"    address = \"10.0.0.3\"\n" +
		"  }\n" +
		"}\n"
	if !checkFastEqualsSlow(t, []byte(src), "escapes.hcl") {
		t.Fatalf("the fast parser declined:\n%s", src)
	}
	cfg, _, diags := Parse([]byte(src), "escapes.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if got := cfg.Services["a\"b\\c"].HealthCheck.Probe.(model.SendExpectProbe).Send; got != "GET / HTTP/1.0\r\n\r\n\t\"\\" {
		t.Errorf("send is %q", got)
	}
}

func FuzzFastParse(f *testing.F) {
	for _, pattern := range []string{"testdata/*.hcl", "../../../examples/*.hcl"} {
		m, _ := filepath.Glob(pattern)
		for _, name := range m {
			if src, err := os.ReadFile(name); err == nil {
				f.Add(src)
			}
		}
	}
	f.Add([]byte(strings.Repeat("virtual_server \"w\" {\n  address = \"10.0.0.2:80\"\n}\n", 2)))
	f.Fuzz(func(t *testing.T, src []byte) {
		if len(src) > 1<<16 {
			return
		}
		checkFastEqualsSlow(t, src, "fuzz.hcl")
	})
}

// TestFastContentEqualsContent decodes every test and example file, and
// the corpus of FuzzParse, with and without fastContent: the results and
// the diagnostics must be the same.
func TestFastContentEqualsContent(t *testing.T) {
	var files []string
	for _, pattern := range []string{"testdata/*.hcl", "testdata/*.d/*.hcl", "../../../examples/*.hcl", "../lvscf/testdata/*.hcl.golden", "testdata/fuzz/FuzzParse/*"} {
		m, _ := filepath.Glob(pattern)
		files = append(files, m...)
	}
	defer func() { fastContentDisabled = false }()
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(f, "/fuzz/") {
			lines := strings.SplitN(string(src), "\n", 2)
			var s string
			if _, err := fmt.Sscanf(strings.TrimPrefix(lines[1], "[]byte("), "%q", &s); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			src = []byte(s)
		}
		fastContentDisabled = false
		fast, _, fastDiags := Parse(src, f)
		fastContentDisabled = true
		slow, _, slowDiags := Parse(src, f)
		if fastDiags.Error() != slowDiags.Error() {
			t.Errorf("%s: diagnostics differ:\n fast %v\n slow %v", f, fastDiags, slowDiags)
		}
		if diff := cmp.Diff(slow, fast, modeltest.CmpOptions); diff != "" {
			t.Errorf("%s: configs differ (-Content +fastContent):\n%s", f, diff)
		}
	}
}

// TestFastDecodeDirectory loads the conf.d directories of testdata both
// ways: a directory fastDecode reads must give what hclsyntax and
// MergeBodies give, and one whose files clash (the same block or attribute
// in two files) must be declined and reported as hclsyntax reports it.
func TestFastDecodeDirectory(t *testing.T) {
	for _, tc := range []struct {
		dir  string
		fast bool
	}{
		{"testdata/confd.d", true},
		{"testdata/bad-confd.d", false},
	} {
		fastCfg, _, fastDiags, fast := load(tc.dir, true)
		slowCfg, _, slowDiags, _ := load(tc.dir, false)
		if fast != tc.fast {
			t.Errorf("%s: read by fastDecode: %t, want %t", tc.dir, fast, tc.fast)
		}
		if fastDiags.Error() != slowDiags.Error() {
			t.Errorf("%s: diagnostics differ:\n fast %v\n slow %v", tc.dir, fastDiags, slowDiags)
		}
		if diff := cmp.Diff(slowCfg, fastCfg, modeltest.CmpOptions); diff != "" {
			t.Errorf("%s: configs differ (-hclsyntax +fastDecode):\n%s", tc.dir, diff)
		}
	}
}
