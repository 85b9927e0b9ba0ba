package lab

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// KernelTestPrefix starts the name of every test that needs a kernel with
// IPVS. [TestMain] runs such tests in the VM when this machine cannot run
// them.
const KernelTestPrefix = "TestKernel"

// TestMain is a package's TestMain when the package has TestKernel...
// tests:
//
//	func TestMain(m *testing.M) { lab.TestMain(m) }
//
// It runs the tests and exits; see [M.Run] for where they run.
func TestMain(m *testing.M) {
	os.Exit(Wrap(m).Run())
}

// M wraps a [testing.M] so that its Run also runs the kernel tests in the
// VM. It is for a TestMain that hands m to something else:
//
//	testscript.Main(lab.Wrap(m), commands)
type M struct {
	m   *testing.M
	out io.Writer
}

// Wrap returns m with the lab's Run.
func Wrap(m *testing.M) *M {
	return &M{m: m, out: os.Stdout}
}

// Run runs the package's tests and returns the exit code for os.Exit.
//
// In the VM (LVSCTL_IN_VM=1), on a host that can run the kernel tests
// itself (root, with IPVS), or when only listing tests, it is m.Run. Else,
// when the -run pattern selects TestKernel... tests, it runs the other tests
// here and then the kernel tests in one VM, with the same flags, streaming
// their output; the package fails if either fails. When the VM cannot run,
// the kernel tests skip here and a line says so, which under CI=true is a
// failure.
func (w *M) Run() int {
	if !flag.Parsed() {
		flag.Parse()
	}
	if os.Getenv("LVSCTL_IN_VM") == "1" || flagValue("test.list") != "" || ipvsHere() {
		return w.m.Run()
	}
	exe, err := os.Executable()
	if err != nil {
		return w.notRun(fmt.Errorf("cannot find this test binary: %w", err))
	}
	names, others, err := listTests(exe)
	if err != nil {
		return w.notRun(err)
	}
	names = skipTests(selectTests(names, flagValue("test.run")), flagValue("test.skip"))
	if len(names) == 0 {
		return w.m.Run()
	}
	if os.Getenv("LVSCTL_LAB") == "off" {
		return w.notRun(fmt.Errorf("LVSCTL_LAB=off"))
	}
	if err := Check(); err != nil {
		return w.notRun(err)
	}
	if _, err := EnsureKernel(context.Background(), os.Stderr); err != nil {
		return w.notRun(err)
	}

	// The VM gets the flags as they were given, before the kernel tests
	// are skipped here.
	vmArgs := vmFlags(names)
	if skip, ok := hostSkip(flagValue("test.skip")); ok {
		flag.Set("test.skip", skip)
	}
	code := 0
	if others > 0 {
		code = w.m.Run()
	}
	vmCode := w.runInVM(exe, vmArgs, len(names))
	if code != 0 {
		return code
	}
	return vmCode
}

// notRun runs the tests here, where the kernel tests skip, and says that
// they did not really run.
func (w *M) notRun(reason error) int {
	code := w.m.Run()
	fmt.Fprintf(w.out, "lab: the %s... tests were not run: %v (see internal/lab/README.md)\n", KernelTestPrefix, reason)
	if os.Getenv("CI") == "true" {
		fmt.Fprintf(w.out, "FAIL: kernel tests must run under CI=true\n")
		return 1
	}
	return code
}

// runInVM runs this test binary in a VM with the arguments vmArgs, which
// select n kernel tests.
func (w *M) runInVM(exe string, vmArgs []string, n int) int {
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintf(w.out, "lab: %v\n", err)
		return 1
	}
	files, err := sourceTree(wd)
	if err != nil {
		fmt.Fprintf(w.out, "lab: copying the sources into the VM: %v\n", err)
		return 1
	}
	guestExe := path.Join("/lab/bin", filepath.Base(exe))
	files[guestExe] = exe

	args := append([]string{guestExe}, vmArgs...)
	timeout := DefaultTimeout
	if f := flag.Lookup("test.timeout"); f != nil {
		if d, err := time.ParseDuration(f.Value.String()); err == nil && d > 0 {
			// The guest binary enforces -test.timeout itself, with a
			// goroutine dump; the VM gets a minute more to boot.
			timeout = d + time.Minute
		}
	}
	var env []string
	for _, name := range []string{"GODEBUG", "GOTRACEBACK"} {
		if v, ok := os.LookupEnv(name); ok {
			env = append(env, name+"="+v)
		}
	}
	fmt.Fprintf(w.out, "lab: running %d kernel test(s) in a VM\n", n)
	res, err := Run(context.Background(), Options{
		Files:   files,
		Command: args,
		Env:     env,
		Dir:     filepath.ToSlash(wd),
		Timeout: timeout,
		Stream:  w.out,
		Log:     os.Stderr,
	})
	if err != nil {
		fmt.Fprintf(w.out, "lab: the kernel tests did not finish in the VM: %v\n", err)
		return 1
	}
	if res.ExitCode != 0 {
		fmt.Fprintf(w.out, "lab: the kernel tests failed in the VM (kernel %s, exit status %d)\n", res.Kernel, res.ExitCode)
		return 1
	}
	return 0
}

func flagValue(name string) string {
	if f := flag.Lookup(name); f != nil {
		return f.Value.String()
	}
	return ""
}

// ipvsHere reports whether this process can run the kernel tests itself:
// it is root and the kernel has IPVS (loading ip_vs if needed).
func ipvsHere() bool {
	if os.Geteuid() != 0 {
		return false
	}
	if _, err := os.Stat("/proc/net/ip_vs"); err == nil {
		return true
	}
	_ = exec.Command("modprobe", "ip_vs").Run()
	_, err := os.Stat("/proc/net/ip_vs")
	return err == nil
}

// listTests returns the binary's TestKernel... tests and how many other
// tests, examples, benchmarks and fuzz tests it has, by running it with
// -test.list (which makes TestMain list and exit).
func listTests(exe string) (kernel []string, others int, err error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(exe, "-test.list=.")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, 0, fmt.Errorf("listing the tests: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	for _, line := range strings.Split(stdout.String(), "\n") {
		switch line = strings.TrimSpace(line); {
		case line == "":
		case strings.HasPrefix(line, KernelTestPrefix):
			kernel = append(kernel, line)
		default:
			others++
		}
	}
	return kernel, others, nil
}

// selectTests keeps the names that the first element of a -run pattern
// matches (all of them for an empty pattern, none for an invalid one,
// which m.Run then reports).
func selectTests(names []string, run string) []string {
	first := splitRegexp(run)[0]
	if first == "" {
		return names
	}
	re, err := regexp.Compile(first)
	if err != nil {
		return nil
	}
	var out []string
	for _, n := range names {
		if re.MatchString(n) {
			out = append(out, n)
		}
	}
	return out
}

// skipTests leaves out the names a -skip pattern skips whole: one with
// no slash (a pattern A/B skips subtests B of A, not A).
func skipTests(names []string, skip string) []string {
	parts := splitRegexp(skip)
	if len(parts) != 1 || parts[0] == "" {
		return names
	}
	re, err := regexp.Compile(parts[0])
	if err != nil {
		return names
	}
	var out []string
	for _, n := range names {
		if !re.MatchString(n) {
			out = append(out, n)
		}
	}
	return out
}

// vmPattern is the -run pattern for the VM: exactly the selected tests,
// with the rest of the user's pattern for their subtests.
func vmPattern(names []string, run string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = regexp.QuoteMeta(n)
	}
	p := "^(" + strings.Join(quoted, "|") + ")$"
	if elems := splitRegexp(run); len(elems) > 1 {
		p += "/" + strings.Join(elems[1:], "/")
	}
	return p
}

// hostSkip adds the kernel tests to a -skip pattern, so that they do not
// run (and skip) here as well. A pattern of several slash-separated
// elements cannot be combined with another one; it is left alone, and the
// kernel tests then skip themselves.
func hostSkip(skip string) (string, bool) {
	own := "^" + KernelTestPrefix
	switch {
	case skip == "":
		return own, true
	case len(splitRegexp(skip)) == 1:
		return own + "|(?:" + skip + ")", true
	}
	return skip, false
}

// hostOnlyFlags name files on the host or work that the VM run must not
// repeat (profiles, coverage, benchmarks, fuzzing).
var hostOnlyFlags = map[string]bool{
	"test.run": true, "test.list": true,
	"test.coverprofile": true, "test.gocoverdir": true, "test.outputdir": true, "test.artifacts": true,
	"test.testlogfile": true, "test.cpuprofile": true, "test.memprofile": true, "test.memprofilerate": true,
	"test.blockprofile": true, "test.blockprofilerate": true, "test.mutexprofile": true,
	"test.mutexprofilefraction": true, "test.trace": true,
	"test.bench": true, "test.benchtime": true, "test.benchmem": true,
	"test.fuzz": true, "test.fuzztime": true, "test.fuzzminimizetime": true,
	"test.fuzzcachedir": true, "test.fuzzworker": true,
}

// vmFlags are the arguments of the test binary in the VM: every flag set
// on this one (-v, -count, -failfast, -timeout, -skip, -short, the
// package's own...), minus the host-only ones, and a -run pattern that
// selects the kernel tests.
func vmFlags(names []string) []string {
	var args []string
	flag.Visit(func(f *flag.Flag) {
		if !hostOnlyFlags[f.Name] {
			args = append(args, "-"+f.Name+"="+f.Value.String())
		}
	})
	return append(args, "-test.run="+vmPattern(names, flagValue("test.run")))
}

// splitRegexp splits a -run pattern into its per-level elements at slashes
// outside brackets and parentheses, as package testing does.
func splitRegexp(s string) []string {
	var elems []string
	brackets, parens := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '[':
			brackets++
		case ']':
			if brackets > 0 {
				brackets--
			}
		case '(':
			if brackets == 0 {
				parens++
			}
		case ')':
			if brackets == 0 {
				parens--
			}
		case '/':
			if brackets == 0 && parens == 0 {
				elems = append(elems, s[:i])
				s = s[i+1:]
				i = -1
			}
		}
	}
	return append(elems, s)
}

// sourceTree maps the module that holds dir (or dir alone, outside a
// module) file by file to the same paths in the guest, so that tests find
// testdata/ and ../examples where they expect them. Hidden directories
// (.git, caches) and test binaries stay behind.
func sourceTree(dir string) (map[string]string, error) {
	root := dir
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			root = d
			break
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	files := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || strings.HasSuffix(d.Name(), ".test") {
			return nil
		}
		files[filepath.ToSlash(p)] = p
		return nil
	})
	return files, err
}
