package config

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/lvsctl/lvsctl/internal/diag"
)

// scanDepth runs the limit scan alone on src and returns the deepest
// nesting it saw, its verdict, and whether it was unsure.
func scanDepth(src []byte) (depth int, diag *hcl.Diagnostic, unsure bool) {
	s := &limitScanner{src: src, file: "x.hcl", b: &budget{}, line: 1, lastClose: -2}
	s.unsure = !utf8.Valid(src)
	s.scan()
	return s.maxDepth, s.diag, s.unsure
}

// lexDepth measures src on hclsyntax's own tokens.
func lexDepth(src []byte) (int, *hcl.Diagnostic) {
	toks, _ := hclsyntax.LexConfig(src, "x.hcl", hcl.InitialPos)
	d, depth := tokenLimits(toks)
	return depth, d
}

// checkScanMatchesLexer fails unless the scan, when it is sure, measures
// src as hclsyntax's tokens do: it must never see less nesting than the
// parser will meet.
func checkScanMatchesLexer(t *testing.T, name string, src []byte) {
	t.Helper()
	depth, diag, unsure := scanDepth(src)
	if unsure {
		return
	}
	ldepth, ldiag := lexDepth(src)
	if depth != ldepth || (diag == nil) != (ldiag == nil) || diag != nil && diag.Summary != ldiag.Summary {
		t.Errorf("%s: the scan saw depth %d (%v), the lexer's tokens %d (%v):\n%.300q", name, depth, diag, ldepth, ldiag, src)
	}
}

func deep(open, close string, n int) string {
	return strings.Repeat(open, n) + strings.Repeat(close, n)
}

// TestLimitsDeepNesting is the hostile files: lists nested 100,000
// deep (200 KB) and blocks nested 200,000 deep were a fatal stack overflow
// (exit 2) after 1.1 GB. Each is refused at the 65th level with a clear
// error, in a few megabytes; so are the other ways to make hclsyntax
// recurse.
func TestLimitsDeepNesting(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		line, col int
	}{
		{"lists", "a = " + deep("[", "]", 100000) + "\n", 1, 69},
		{"blocks", deep("a {\n", "}\n", 200000), 65, 3},
		{"objects", "a = " + deep("{a = ", "}", 100000) + "\n", 1, 5*64 + 5},
		{"parentheses", "a = " + deep("(", ")", 100000) + "\n", 1, 69},
		{"interpolations", "a = " + deep(`"${`, `}"`, 50000) + "\n", 1, 3*64 + 6},
		{"if directives", `a = "` + strings.Repeat("%{if a}", 100000) + "\"\n", 1, 7*63 + 6},
		{"conditionals", "a = " + strings.Repeat("a ? b : ", 100000) + "c\n", 1, 8*64 + 7},
		{"negations", "a = " + strings.Repeat("-", 100000) + "1\n", 1, 69},
		{"sums", "a = 1" + strings.Repeat("+1", 100000) + "\n", 1, 2*64 + 6},
		{"indexes", "a = a" + strings.Repeat("[b]", 100000) + "\n", 1, 3*63 + 6},
		{"lists in Unicode", "é = " + deep("[", "]", 100000) + "\n", 1, 69},
		{"a Unicode heredoc", "a = <<É\n${" + deep("[", "]", 100000) + "}\nÉ\n", 2, 66},
		{"broken UTF-8", "a = \"\xff\" " + deep("[", "]", 100000) + "\n", 1, 72},
		{"braces in a heredoc's interpolation", "a = <<EOT\n" + deep("${[", "]}", 100000) + "\nEOT\n", 2, 3*32 + 2},
	} {
		var files map[string]*hcl.File
		var diags hcl.Diagnostics
		_, size := allocations(func() { _, files, diags = Parse([]byte(tc.src), "deep.hcl") })
		if len(diags) != 1 || diags[0].Summary != "Nesting too deep" {
			t.Errorf("%s: got %v, want one Nesting too deep", tc.name, diags)
			continue
		}
		if r := diags[0].Subject; r.Start.Line != tc.line || r.Start.Column != tc.col {
			t.Errorf("%s: the error is at %d:%d, want %d:%d", tc.name, r.Start.Line, r.Start.Column, tc.line, tc.col)
		}
		if size > 32<<20 {
			t.Errorf("%s: %d KB of %d allocated to refuse it", tc.name, int(size)>>10, len(tc.src)>>10)
		}
		var b bytes.Buffer
		if err := WriteDiagnostics(&b, files, diags, 78); err != nil || b.Len() > 1000 {
			t.Errorf("%s: %d bytes of diagnostics (%v):\n%s", tc.name, b.Len(), err, b.String())
		}
		// The scan stops at the first level too deep: the start is enough.
		checkScanMatchesLexer(t, tc.name, []byte(tc.src[:min(len(tc.src), 20000)]))
	}
	// 64 deep is fine (and refused only for what it means).
	_, _, diags := Parse([]byte("a = "+deep("[", "]", 63)+"\n"), "ok.hcl")
	if len(diags) == 0 || diags[0].Summary == "Nesting too deep" {
		t.Errorf("63 brackets in an attribute: %v", diags)
	}
}

// TestLimitsDeepNestingExitStatus runs the nested lists in a child
// process, which a stack overflow would kill with status 2: the same test
// in this process would take the whole test binary down with it, so this
// one says plainly what failed.
func TestLimitsDeepNestingExitStatus(t *testing.T) {
	if os.Getenv("LVSCTL_DEEP_CHILD") != "" {
		dir := os.Getenv("LVSCTL_DEEP_CHILD")
		for _, src := range []string{"a = " + deep("[", "]", 100000) + "\n", deep("a {\n", "}\n", 200000)} {
			path := filepath.Join(dir, "deep.hcl")
			if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, _, diags := Load(path); !diags.HasErrors() {
				t.Fatal("no error")
			}
		}
		return
	}
	if testing.Short() {
		t.Skip("runs a child process")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestLimitsDeepNestingExitStatus$", "-test.count=1")
	cmd.Env = append(os.Environ(), "LVSCTL_DEEP_CHILD="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the child failed (%v):\n%.2000s", err, out)
	}
}

// TestLimitsValidFiles checks that no file of the repository, and no
// configuration lvsctl writes, comes near a limit, and that the scan
// measures each exactly as hclsyntax's tokens do.
func TestLimitsValidFiles(t *testing.T) {
	var files []string
	for _, pattern := range []string{"testdata/*.hcl", "testdata/*.d/*.hcl", "../../../examples/*.hcl", "../../../examples/*/*.hcl",
		"../../../testdata/*/*.hcl", "../lvscf/testdata/*.hcl.golden", "testdata/fuzz/FuzzParse/*"} {
		m, _ := filepath.Glob(pattern)
		files = append(files, m...)
	}
	if len(files) < 40 {
		t.Fatalf("only %d files", len(files))
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(f, "/fuzz/") {
			// A corpus entry: go test fuzz v1, then []byte("...").
			lines := strings.SplitN(string(src), "\n", 2)
			var s string
			if _, err := fmt.Sscanf(strings.TrimPrefix(lines[1], "[]byte("), "%q", &s); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			src = []byte(s)
		} else if d := checkLimits(src, f, &budget{}); d != nil {
			t.Errorf("%s: %v", f, d)
		}
		if depth, _, _ := scanDepth(src); depth > 10 && !strings.Contains(f, "/fuzz/") {
			t.Errorf("%s is nested %d deep", f, depth)
		}
		checkScanMatchesLexer(t, f, src)
	}
	big := []byte(bigConfig(10000))
	if d := checkLimits(big, "big.hcl", &budget{}); d != nil {
		t.Errorf("a 10,000-service configuration: %v", d)
	}
	checkScanMatchesLexer(t, "big.hcl", big)
}

// TestLimitsScanMatchesLexer holds the scan to hclsyntax's lexer on the
// constructs that decide what is code: strings, escapes, template
// sequences, heredocs and comments.
func TestLimitsScanMatchesLexer(t *testing.T) {
	for _, src := range lexerCases {
		checkScanMatchesLexer(t, src, []byte(src))
	}
}

var lexerCases = []string{
	`a = "[[[" [1]`,
	`a = "\"[[" [[1]]`,
	`a = "\\" [[1]]`,
	`a = "$${[[" [[1]]`,
	`a = "%%{[[" [[1]]`,
	`a = "$$${[1]}" [[1]]`,
	`a = "${"${[1]}"}" [[1]]`,
	`a = "${ { a = [1] } }" [[1]]`,
	`a = "${ [ }" [[1]]`,
	`a = "${ x ~}" [[1]]`,
	`a = "%{ if a }%{ for x in y }[%{ endfor }%{ else }%{ endif }" [[1]]`,
	`a = "%{~if a~}x%{~endif~}"`,
	`a = "$" [1]`,
	`a = "%" [1]`,
	"a = \"$\n[[\" [1]",
	"a = \"multi\nline [[\" [1]",
	"a = <<EOT\n[[[\"\nEOT\nb = [[1]]\n",
	"a = <<-EOT\n  [[[\n  EOT\nb = [[1]]\n",
	"a = <<EOT\n${[[1]]} EOT\nEOT\n",
	"a = <<EOT\n${\n[1]\n}EOT\nEOT\nb = [[1]]\n",
	"a = <<EOT\nx$EOT\n EOT \nb = [1]\n",
	"a = <<EOT\r\n[[\r\nEOT\r\nb = [[1]]\r\n",
	"a = << EOT\n[[1]]\n",
	"a = <<EOT [[1]]\n",
	"a = <<EOT\n%{if a}[%{endif}\nEOT\n",
	"a = <<A\n${<<B\n[[\nB\n}\nA\nb = [[[1]]]\n",
	"# [[[ \"\nb = [[1]]\n",
	"// [[[ \"\nb = [[1]]\n",
	"/* [[[ \" \n */ b = [[1]]\n",
	"/* [[[ never closed\nb = [[1]]\n",
	"a = [1, 2] # c\n[1]\n",
	"a = 1.5e+3 + 1..5 + 1.e2 + 1e + 1.\n",
	"a = b.c[d].e[*].f...\n",
	"a = f(x)(y)[z]\n",
	"a = x == y != z <= w >= v && u || !t\n",
	"a = {a = 1, b = [2]\nc = 3}\n",
	"a = x & y | z ^ w ~ v\n",
	"a = [for x in y : x => z if w]\n",
	"a = } ] ) [1]\n",
	"a = ~} [1]\n",
	"a = \"unterminated [[\n",
	"a = \"${ unterminated [[\n",
	"a = <<EOT\nunterminated [[\n",
	"\ufeffa = [[1]]\n",
	"a = \"\x00\x01 [\" [1]\n",
	"a = \"é${[1]}ü\" [1]\n",
	"a = <<EOT\n\u00a0EOT\u00a0\nb = [[1]]\n",
	"a = <<EOT\n\u2028\nEOT\nb = [[1]]\n",
	"a = 0\r(1)\r\n",
}

// FuzzLimits holds the scan to hclsyntax's lexer on any input, and checks
// that whatever the scan lets through parses without exceeding the depth.
func FuzzLimits(f *testing.F) {
	for _, pattern := range []string{"testdata/*.hcl", "../../../examples/*.hcl"} {
		m, _ := filepath.Glob(pattern)
		for _, name := range m {
			if src, err := os.ReadFile(name); err == nil {
				f.Add(src)
			}
		}
	}
	for _, s := range lexerCases {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		if len(src) > 1<<16 {
			return
		}
		// The scan must be quick whatever the input: a loop that does not
		// advance would hang a daemon's reload.
		done := make(chan bool)
		go func() {
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				panic(fmt.Sprintf("the scan of %q takes more than 10s", src))
			}
		}()
		checkScanMatchesLexer(t, "fuzz", src)
		close(done)
	})
}

// TestLimitsStrings is the huge string (100 MB took 92 s, 1.7 GB
// and echoed 200 MB): one of 10 MB is refused by its length at once, with
// a short excerpt; one of 100 MB is refused by the file's size before it
// is read.
func TestLimitsStrings(t *testing.T) {
	src := []byte("drain_timeout = \"" + strings.Repeat("\x00x", 5<<20) + "\"\n")
	var files map[string]*hcl.File
	var diags hcl.Diagnostics
	_, size := allocations(func() { _, files, diags = Parse(src, "s.hcl") })
	if len(diags) != 1 || diags[0].Summary != "String too long" || diags[0].Subject.Start.Column != 17 {
		t.Fatalf("got %v", diags)
	}
	if size > 32<<20 {
		t.Errorf("%d MB allocated to refuse it", int(size)>>20)
	}
	want := `This string is 10485762 bytes long; lvsctl reads strings of at most 64 KiB (it starts "\"\x00x\x00x`
	if !strings.HasPrefix(diags[0].Detail, want) || len(diags[0].Detail) > 300 {
		t.Errorf("detail: %s", diags[0].Detail)
	}
	var b bytes.Buffer
	if err := WriteDiagnostics(&b, files, diags, 78); err != nil || b.Len() > 1000 {
		t.Errorf("%d bytes of diagnostics (%v):\n%s", b.Len(), err, b.String())
	}
	heredoc := "drain_timeout = <<EOT\n" + strings.Repeat("x\n", 40000) + "EOT\n"
	if _, _, diags := Parse([]byte(heredoc), "h.hcl"); len(diags) != 1 || diags[0].Summary != "String too long" {
		t.Errorf("an 80 KB heredoc: %v", diags)
	}
	path := filepath.Join(t.TempDir(), "huge.hcl")
	if err := os.WriteFile(path, []byte("drain_timeout = \""), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 100<<20); err != nil { // sparse: nothing is written
		t.Fatal(err)
	}
	_, size = allocations(func() { _, _, diags = Load(path) })
	if len(diags) != 1 || !strings.Contains(diags[0].Detail, "is 104857600 bytes, and lvsctl reads a configuration of at most 16 MiB") {
		t.Errorf("a 100 MB file: %v", diags)
	}
	if size > 1<<20 {
		t.Errorf("%d KB allocated to refuse a 100 MB file", int(size)>>10)
	}
}

// TestLimitsSizes checks the limits on lines, objects, tokens and size,
// for a file and for a directory's files together.
func TestLimitsSizes(t *testing.T) {
	for _, tc := range []struct {
		name, src, summary string
		line               int
	}{
		{"line", "a = 1\n# " + strings.Repeat("x", MaxLineLength) + "\n", "Line too long", 2},
		{"last line", "a = 1\n# " + strings.Repeat("x", MaxLineLength), "Line too long", 2},
		{"objects", "a = [\n" + strings.Repeat("1,\n", MaxObjects) + "]\n", "Configuration too large", MaxObjects + 1},
		{"tokens", "a = [" + strings.Repeat("x ", MaxTokens) + "]\n", "Configuration too large", 1},
		{"size", "a = 1\n" + strings.Repeat("#\n", MaxFileSize/2), "Configuration too large", 1},
	} {
		_, _, diags := Parse([]byte(tc.src), "x.hcl")
		if len(diags) != 1 || diags[0].Summary != tc.summary || diags[0].Subject.Start.Line != tc.line {
			t.Errorf("%s: got %v, want %s on line %d", tc.name, diags, tc.summary, tc.line)
		}
	}
	// A directory's files share the limits.
	dir := t.TempDir()
	half := "a = [" + strings.Repeat("1,", MaxObjects/2+10) + "]\n"
	for _, name := range []string{"a.hcl", "b.hcl"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(half), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, _, diags := Load(dir)
	if len(diags) != 1 || diags[0].Summary != "Configuration too large" || filepath.Base(diags[0].Subject.Filename) != "b.hcl" {
		t.Errorf("two files of %d objects each: %v", MaxObjects/2+10, diags)
	}
}

// TestLimitsDiagnostics checks that a file with many errors gives
// MaxDiagnostics of them and a last one that counts the rest, quickly:
// matching each error against the earlier ones was quadratic.
func TestLimitsDiagnostics(t *testing.T) {
	var b strings.Builder
	for i := range 50000 {
		fmt.Fprintf(&b, "virtual_server \"v%d\" {\n  address = \"10.0.%d.%d:80\"\n  weight = x\n  scheduler = y\n}\n", i, i>>8&255, i&255)
	}
	_, files, diags := Parse([]byte(b.String()), "many.hcl")
	if len(diags) != MaxDiagnostics+1 {
		t.Fatalf("%d diagnostics", len(diags))
	}
	last := diags[MaxDiagnostics]
	if last.Severity != hcl.DiagError || last.Summary != "Too many problems" || last.Subject == nil ||
		!strings.HasPrefix(last.Detail, fmt.Sprintf("%d more problems are not shown", 2*50000-MaxDiagnostics)) {
		t.Errorf("last: %s: %s at %v", last.Summary, last.Detail, last.Subject)
	}
	var out bytes.Buffer
	if err := WriteDiagnostics(&out, files, diags, 78); err != nil || out.Len() > MaxDiagnostics*500 {
		t.Errorf("%d bytes of diagnostics (%v)", out.Len(), err)
	}
}

// TestWriteDiagnosticsShort checks that a diagnostic about a long line
// shows a piece of it, and that messages quote excerpts.
func TestWriteDiagnosticsShort(t *testing.T) {
	long := strings.Repeat("\x01y", 20000)
	src := "virtual_server \"" + long + "\" {\n" +
		"  address = \"10.0.0.2:80\"\n" +
		"  scheduler = \"" + long + "\" " + strings.Repeat("# pad ", 100000) + "\n" +
		"  nosuch_" + strings.Repeat("z", 50000) + " = 1\n" +
		"}\n"
	_, files, diags := Parse([]byte(src), "long.hcl")
	if !diags.HasErrors() {
		t.Fatal("no error")
	}
	var b bytes.Buffer
	if err := WriteDiagnostics(&b, files, diags, 78); err != nil {
		t.Fatal(err)
	}
	if b.Len() > 3000 {
		t.Errorf("%d bytes of diagnostics:\n%.5000s", b.Len(), b.String())
	}
	for _, d := range diags {
		if len(d.Detail) > 500 {
			t.Errorf("a %d-byte detail: %.500s", len(d.Detail), d.Detail)
		}
	}
	if !strings.Contains(b.String(), `"\x01y\x01y`) || !strings.Contains(b.String(), "…") {
		t.Errorf("no excerpt:\n%s", b.String())
	}
}

// TestWriteDiagnosticsAsHCL holds WriteDiagnostics to hcl's own writer on
// files whose lines are short, but for what lvsctl adds: the column after
// the line, the line that marks it, and control characters escaped.
func TestWriteDiagnosticsAsHCL(t *testing.T) {
	var srcs []string
	for _, pattern := range []string{"testdata/bad-*.hcl", "testdata/bad-*.d/*.hcl"} {
		m, _ := filepath.Glob(pattern)
		for _, name := range m {
			src, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			srcs = append(srcs, string(src))
		}
	}
	srcs = append(srcs,
		"virtual_server \"w\" {\n  address = var.x\n}\n",
		"virtual_server \"w\" {\r\n  address = 1\r\n\r\n  weight = [\r\n\r\n 1,\r\n  2]\r\n}\r\n",
		"virtual_server \"é\" {\n\taddress = \"日本\"\n}\n",
		"virtual_server \"w\" {\n  address = \"10.0.0.2:80\"\n  real_server \"a\" {\n    address = \"10.0.0.3\"\n    weight = {\n      a = 1\n\n      b = 2\n    }\n  }\n}\n",
		"virtual_server \"w\" {\n", "x = \n", "\"", "a = 1\na = 2\n", "a = 1\rb = [\n",
	)
	for i, src := range srcs {
		_, files, diags := Parse([]byte(src), "f.hcl")
		if len(diags) == 0 {
			continue
		}
		for _, width := range []uint{0, 78} {
			var got, want bytes.Buffer
			if err := WriteDiagnostics(&got, files, diags, width); err != nil {
				t.Fatal(err)
			}
			if err := hcl.NewDiagnosticTextWriter(&want, files, width, false).WriteDiagnostics(diags); err != nil {
				t.Fatal(err)
			}
			if g, w := asHCL(t, got.String()), escapeSource(want.String()); g != w {
				t.Errorf("source %d, width %d:\n--- got\n%s--- hcl\n%s", i, width, g, w)
			}
		}
	}
}

var (
	placeRE  = regexp.MustCompile(`(?m)^  on (.*):([0-9]+):([0-9]+)(, in .*)?:$`)
	sourceRE = regexp.MustCompile(`(?m)^( *[0-9]+: )(.*)$`)
)

// asHCL returns WriteDiagnostics's text as hcl's writer would have it:
// "line N" for file:N:column, and no marker lines (each must follow a
// source line and hold carets).
func asHCL(t *testing.T, s string) string {
	lines := strings.Split(s, "\n")
	var out []string
	for i, l := range lines {
		if strings.Contains(l, "^") && strings.Trim(l, " \t^") == "" {
			if i == 0 || !sourceRE.MatchString(lines[i-1]) {
				t.Errorf("a marker line not under a source line:\n%s", s)
			}
			continue
		}
		out = append(out, l)
	}
	return placeRE.ReplaceAllString(strings.Join(out, "\n"), "  on $1 line $2$4:")
}

// escapeSource escapes the control characters in the source lines of hcl's
// writer's text, as WriteDiagnostics does.
func escapeSource(s string) string {
	return sourceRE.ReplaceAllStringFunc(s, func(l string) string {
		m := sourceRE.FindStringSubmatch(l)
		text, _, _ := diag.Shown([]byte(m[2]), 0, 0)
		return m[1] + text
	})
}

// TestSpanSet checks spanSet against a scan of every range.
func TestSpanSet(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 200 {
		type span struct{ start, end int }
		var all []span
		var starts []int
		for range r.IntN(30) {
			s := r.IntN(50)
			all = append(all, span{s, s + r.IntN(10)})
			starts = append(starts, s)
		}
		set := newSpanSet(starts)
		var added []span
		for _, sp := range all {
			set.add(sp.start, sp.end)
			added = append(added, sp)
			a := r.IntN(60)
			b := a + r.IntN(20)
			want := false
			for _, x := range added {
				if x.start >= a && x.end <= b {
					want = true
				}
			}
			if got := set.within(a, b); got != want {
				t.Fatalf("within(%d, %d) of %v: got %v", a, b, added, got)
			}
		}
	}
}

// BenchmarkLimitsScan is the scan of a 10,000-service configuration (4.2
// MB) that Load and Parse make before parsing it.
func BenchmarkLimitsScan(b *testing.B) {
	src := []byte(bigConfig(10000))
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if d := checkLimits(src, "big.hcl", &budget{}); d != nil {
			b.Fatal(d)
		}
	}
}
