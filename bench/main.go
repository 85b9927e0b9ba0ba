// Command bench measures lvsctl against ipvsadm on the same kernel, in one
// boot of the QEMU lab (see internal/lab/README.md), and prints the ratios:
//
//	go run ./bench [-sizes 1000,10000] [-reps 5] [-reps-large 2] [-dests 4] [-only health] [-transitions 20]
//
// On the host it builds lvsctl, then boots one VM with lvsctl and this very
// program, which runs there with -guest: it generates the tables (package
// gen), writes each as an HCL configuration (config.Write) and as an
// ipvsadm rule file (ipvsadm.WriteSave), and times, each in a fresh network
// namespace,
//
//   - a cold apply: "lvsctl apply --auto-approve" vs "ipvsadm -R";
//   - a no-op "lvsctl plan" vs "ipvsadm -S -n" against the loaded table;
//   - one weight change in the largest table: "lvsctl apply" vs "ipvsadm -e";
//   - where lvsctl's time goes on the largest table: the cold apply of a
//     saved plan (no HCL to parse) and "lvsctl validate" (only the parse);
//   - health transitions on the largest table (see measureHealth): the
//     reconciler of lvsctl check, in this process on the production kernel
//     handle, taking a real server out and back, against a no-op plan.
//     "-only health" runs this section alone.
//
// Both tools run through "ip netns exec" with their output to /dev/null,
// the two are interleaved repetition by repetition so that drift in the
// emulated machine hits both alike, and the median is reported. Every
// loaded table is checked against the generated one, and the weight change
// is checked to be exactly one kernel operation (the plan summary, the
// apply report and a diff of the kernel's dump), so that a fast wrong answer
// fails the run instead of making a good ratio.
//
// Times are never asserted: the result is a table of ratios for
// BENCHMARKS.md.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/lvsctl/lvsctl/internal/bench/gen"
	"github.com/lvsctl/lvsctl/internal/ipvsadm"
	"github.com/lvsctl/lvsctl/internal/lab"
	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/internal/source/config"
	"github.com/lvsctl/lvsctl/lvs"
)

// Guest paths of the two binaries the VM gets.
const (
	guestLvsctl = "/usr/local/bin/lvsctl"
	guestBench  = "/usr/local/bin/lvsctl-bench"
)

type settings struct {
	sizes     []int
	dests     int
	reps      int
	repsLarge int // repetitions of the cold apply for tables of 5,000 services or more
	timeout   time.Duration
	// only is "" (every section) or "health" (the health transitions alone).
	only        string
	transitions int
}

func main() {
	os.Exit(run())
}

func run() int {
	var s settings
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	sizes := fs.String("sizes", "1000,10000", "comma-separated `numbers` of services; the largest also gets the weight change, the saved plan and the parse alone")
	fs.IntVar(&s.dests, "dests", 4, "real servers per service (1 to 15)")
	fs.IntVar(&s.reps, "reps", 5, "repetitions of each measurement on tables under 5,000 services")
	fs.IntVar(&s.repsLarge, "reps-large", 2, "repetitions of each measurement on tables of 5,000 services or more")
	fs.DurationVar(&s.timeout, "timeout", 25*time.Minute, "stop the VM after this `duration`")
	fs.StringVar(&s.only, "only", "", "run only this `section`: \"health\" (health transitions on the largest table)")
	fs.IntVar(&s.transitions, "transitions", 20, "health transitions to time (half down, half up again)")
	guest := fs.Bool("guest", false, "run the measurements here (inside the lab VM); used by bench itself")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: go run ./bench [flags]\n\nTimes lvsctl against ipvsadm in one boot of the QEMU lab and prints the ratios.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	var err error
	if s.sizes, err = parseSizes(*sizes); err != nil {
		fmt.Fprintf(os.Stderr, "bench: -sizes %q: %v\n", *sizes, err)
		return 2
	}
	if s.dests < 1 || s.dests > 15 {
		fmt.Fprintf(os.Stderr, "bench: -dests %d: give 1 to 15 real servers per service\n", s.dests)
		return 2
	}
	if s.reps < 1 || s.repsLarge < 1 {
		fmt.Fprintln(os.Stderr, "bench: -reps and -reps-large must be at least 1")
		return 2
	}
	if s.only != "" && s.only != "health" {
		fmt.Fprintf(os.Stderr, "bench: -only %q: the one section that runs alone is \"health\"\n", s.only)
		return 2
	}
	if s.transitions < 2 {
		fmt.Fprintln(os.Stderr, "bench: -transitions must be at least 2 (one down, one up)")
		return 2
	}
	if *guest {
		if err := runGuest(s); err != nil {
			fmt.Fprintf(os.Stderr, "bench: %v\n", err)
			return 1
		}
		return 0
	}
	code, err := runHost(s)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		return 1
	}
	return code
}

func parseSizes(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n >= 65536 {
			return nil, fmt.Errorf("%q is not a number of services from 1 to 65535", f)
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return out, nil
}

// runHost builds lvsctl and boots the lab with it and this program.
func runHost(s settings) (int, error) {
	if err := lab.Check(); err != nil {
		return 0, fmt.Errorf("the lab cannot run here: %w (see internal/lab/README.md)", err)
	}
	self, err := os.Executable()
	if err != nil {
		return 0, fmt.Errorf("cannot find this program's executable to copy into the VM: %w", err)
	}
	dir, err := os.MkdirTemp("", "lvsctl-bench-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "lvsctl")
	build := exec.Command("go", "build", "-o", bin, "github.com/lvsctl/lvsctl")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return 0, fmt.Errorf("go build of lvsctl: %w", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sizes := make([]string, len(s.sizes))
	for i, n := range s.sizes {
		sizes[i] = strconv.Itoa(n)
	}
	fmt.Printf("host: %s/%s, %d CPUs, %s\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
	col := &collector{out: os.Stdout}
	res, err := lab.Run(ctx, lab.Options{
		Files: map[string]string{guestLvsctl: bin, guestBench: self},
		Command: []string{guestBench, "-guest",
			"-sizes", strings.Join(sizes, ","),
			"-dests", strconv.Itoa(s.dests),
			"-reps", strconv.Itoa(s.reps),
			"-reps-large", strconv.Itoa(s.repsLarge),
			"-only", s.only,
			"-transitions", strconv.Itoa(s.transitions)},
		Timeout: s.timeout,
		Stream:  col,
		Log:     os.Stderr,
	})
	// The guest prints the table when it finishes, and when a measurement
	// fails; a run cut short (the VM's timeout on a slow machine) prints
	// none, so print what it measured.
	if err != nil && len(col.results) > 0 {
		fmt.Printf("\nThe run did not finish (%v); what it measured before:\n", err)
		printResults(col.results)
	}
	if err != nil {
		return 0, err
	}
	fmt.Printf("\nVM: kernel %s, boot %s, whole run %s\n", res.Kernel, res.Boot.Round(100*time.Millisecond), res.Total.Round(time.Second))
	return res.ExitCode, nil
}

// The targets of issue 11 (ratio lvsctl / ipvsadm, at every size).
const (
	coldTarget = 0.8 // cold apply vs ipvsadm -R
	noopTarget = 1.2 // no-op plan vs ipvsadm -S -n
)

// A result is one line of the final table.
type result struct {
	What          string
	LVSCTL, Other []time.Duration
	Against       string  // the ipvsadm command compared with
	Target        float64 // 0: no target
	Note          string
}

// resultPrefix starts the line the guest prints for each result as soon as
// it is measured, so that the host can print the table of what was
// measured even when the run does not finish (a slow machine hits the VM's
// timeout).
const resultPrefix = "bench-result "

// emit prints r for the host to collect.
func emit(r result) {
	j, _ := jsonOf(r)
	fmt.Printf("%s%s\n", resultPrefix, j)
}

func jsonOf(r result) (string, error) {
	b, err := json.Marshal(r)
	return string(b), err
}

// collector passes the guest's output on and keeps the results in it.
type collector struct {
	out     io.Writer
	line    []byte
	results []result
}

func (c *collector) Write(p []byte) (int, error) {
	for _, b := range p {
		if b != '\n' {
			c.line = append(c.line, b)
			continue
		}
		line := strings.TrimRight(string(c.line), "\r")
		c.line = c.line[:0]
		if rest, ok := strings.CutPrefix(line, resultPrefix); ok {
			var r result
			if json.Unmarshal([]byte(rest), &r) == nil {
				c.results = append(c.results, r)
			}
			continue
		}
		fmt.Fprintln(c.out, line)
	}
	return len(p), nil
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func (r result) ratio() float64 {
	return float64(median(r.LVSCTL)) / float64(median(r.Other))
}

// runGuest runs every measurement; it is meant for the lab VM, where it
// owns the machine.
func runGuest(s settings) error {
	if os.Getenv("LVSCTL_IN_VM") != "1" {
		return errors.New("-guest creates and deletes network namespaces and belongs in the lab VM; run go run ./bench instead")
	}
	printFacts()
	work, err := os.MkdirTemp("", "bench-")
	if err != nil {
		return err
	}
	var results []result
	add := func(r result) {
		results = append(results, r)
		emit(r)
	}
	// A measurement that fails ends the run: the table of what was
	// measured before it is still printed.
	defer func() {
		if len(results) > 0 {
			printResults(results)
		}
	}()
	largest := s.sizes[len(s.sizes)-1]
	sizes := s.sizes
	if s.only == "health" {
		sizes = nil
	}
	for _, n := range sizes {
		t := gen.Table(n, s.dests)
		hcl, rules, want, err := writeInputs(work, fmt.Sprintf("t%d", n), t)
		if err != nil {
			return err
		}
		reps := s.reps
		if n >= 5000 {
			reps = s.repsLarge
		}
		fmt.Printf("\n== %d services × %d real servers: %d ipvsadm rules, %d bytes of HCL\n", n, s.dests, n*(1+s.dests), size(hcl))
		cold := result{What: fmt.Sprintf("cold apply, %d × %d", n, s.dests), Against: "ipvsadm -R", Target: coldTarget}
		var keep string // a namespace left loaded by lvsctl: the no-op plan, and the weight change on the largest table
		for rep := range reps {
			// Alternate which tool goes first, so that neither always
			// runs on a machine still busy with the previous cleanup.
			order := []string{"ipvsadm", "lvsctl"}
			if rep%2 == 1 {
				order = []string{"lvsctl", "ipvsadm"}
			}
			for _, tool := range order {
				ns := fmt.Sprintf("b%d-%s-%d", n, tool, rep)
				if err := addNamespace(ns); err != nil {
					return err
				}
				var d time.Duration
				if tool == "ipvsadm" {
					d, err = timed(rules, nil, "ip", "netns", "exec", ns, "ipvsadm", "-R")
				} else {
					d, err = timed("", nil, "ip", "netns", "exec", ns, guestLvsctl, "apply", "--auto-approve", "-f", hcl)
				}
				if err != nil {
					return fmt.Errorf("cold apply with %s, %d services: %w", tool, n, err)
				}
				if err := checkTable(ns, want); err != nil {
					return fmt.Errorf("after the cold apply with %s, %d services: %w", tool, n, err)
				}
				fmt.Printf("  rep %d  %-8s %8.3fs\n", rep+1, tool, d.Seconds())
				if tool == "ipvsadm" {
					cold.Other = append(cold.Other, d)
				} else {
					cold.LVSCTL = append(cold.LVSCTL, d)
				}
				if tool == "lvsctl" && keep == "" {
					keep = ns
					continue
				}
				if err := dropNamespace(ns); err != nil {
					return err
				}
			}
		}
		add(cold)
		noop, err := measureNoop(keep, hcl, n, s.dests, reps)
		if err != nil {
			return err
		}
		add(noop)
		if n == largest {
			saved, err := measureSavedPlan(work, hcl, want, cold.Other, reps)
			if err != nil {
				return err
			}
			add(saved)
			parse, err := measureParse(hcl, cold.Other, reps)
			if err != nil {
				return err
			}
			add(parse)
			one, err := measureOneChange(work, keep, t, hcl, reps)
			if err != nil {
				return err
			}
			add(one)
		}
		if err := dropNamespace(keep); err != nil {
			return err
		}
	}
	if len(results) > 0 {
		printResults(results)
		results = nil // printed
	}
	hr, err := measureHealth(work, largest, s.dests, s.transitions, s.repsLarge)
	if err != nil {
		return fmt.Errorf("health transitions: %w", err)
	}
	hr.print()
	return nil
}

// printFacts says what the numbers were measured on.
func printFacts() {
	uname, _ := exec.Command("uname", "-srm").Output()
	ver, _ := exec.Command("ipvsadm", "--version").CombinedOutput()
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for l := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	lv, _ := exec.Command(guestLvsctl, "--version").CombinedOutput()
	fmt.Printf("guest: %s, %d vCPUs (%s)\n", strings.TrimSpace(string(uname)), runtime.NumCPU(), model)
	fmt.Printf("tools: %s; %s\n", strings.TrimSpace(string(ver)), strings.TrimSpace(string(lv)))
}

func size(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// writeInputs writes t as an HCL configuration and as an ipvsadm rule file,
// and returns their paths and t's canonical dump, what every tool must
// leave in the kernel.
func writeInputs(dir, name string, t *lvs.Table) (hcl, rules, want string, err error) {
	var cfg, dump bytes.Buffer
	if err := config.Write(&cfg, model.FromTable(t), nil); err != nil {
		return "", "", "", fmt.Errorf("writing the HCL of %s: %w", name, err)
	}
	if err := ipvsadm.WriteSave(&dump, t); err != nil {
		return "", "", "", err
	}
	hcl = filepath.Join(dir, name+".hcl")
	rules = filepath.Join(dir, name+".rules")
	if err := os.WriteFile(hcl, cfg.Bytes(), 0o600); err != nil {
		return "", "", "", err
	}
	if err := os.WriteFile(rules, dump.Bytes(), 0o600); err != nil {
		return "", "", "", err
	}
	return hcl, rules, dump.String(), nil
}

// run0 runs a command that must succeed, untimed.
func run0(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

// timed runs a command with stdin from the file stdin (or /dev/null) and
// stdout to out (or /dev/null), and returns its wall time. The command must
// exit 0.
func timed(stdin string, out *bytes.Buffer, name string, args ...string) (time.Duration, error) {
	c := exec.Command(name, args...)
	var errb bytes.Buffer
	c.Stderr = &errb
	if out != nil {
		c.Stdout = out
	}
	if stdin != "" {
		f, err := os.Open(stdin)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		c.Stdin = f
	}
	start := time.Now()
	err := c.Run()
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, errb.Bytes())
	}
	return d, nil
}

// dump returns the canonical "ipvsadm -S -n" of namespace ns: the kernel's
// dump as ipvsadm prints it, parsed and written back in ipvsadm's sorted
// order, since the kernel lists services in hash order and the hash
// differs between namespaces.
func dump(ns string) (string, error) {
	raw, err := exec.Command("ip", "netns", "exec", ns, "ipvsadm", "-S", "-n").Output()
	if err != nil {
		return "", fmt.Errorf("ipvsadm -S -n in %s: %w", ns, err)
	}
	t, err := ipvsadm.ParseSave(bytes.NewReader(raw), "ipvsadm -S -n")
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := ipvsadm.WriteSave(&b, t); err != nil {
		return "", err
	}
	return b.String(), nil
}

func checkTable(ns, want string) error {
	got, err := dump(ns)
	if err != nil {
		return err
	}
	if got != want {
		a, r := lineDiff(want, got)
		return fmt.Errorf("the kernel's table is not the generated one: %d lines missing (first %q), %d unexpected (first %q)", len(a), first(a), len(r), first(r))
	}
	return nil
}

func first(ss []string) string {
	if len(ss) == 0 {
		return ""
	}
	return ss[0]
}

// lineDiff returns the lines of a not in b and the lines of b not in a.
func lineDiff(a, b string) (onlyA, onlyB []string) {
	count := map[string]int{}
	for l := range strings.Lines(a) {
		count[l]++
	}
	for l := range strings.Lines(b) {
		count[l]--
	}
	for l, c := range count {
		for ; c > 0; c-- {
			onlyA = append(onlyA, strings.TrimSpace(l))
		}
		for ; c < 0; c++ {
			onlyB = append(onlyB, strings.TrimSpace(l))
		}
	}
	slices.Sort(onlyA)
	slices.Sort(onlyB)
	return onlyA, onlyB
}

// addNamespace creates ns with its loopback up, as on any director: the
// kernel refuses a NAT real server (EINVAL) while lo is down, since the
// address type lookup then finds no local table.
func addNamespace(ns string) error {
	if err := run0("ip", "netns", "add", ns); err != nil {
		return err
	}
	return run0("ip", "-n", ns, "link", "set", "lo", "up")
}

// dropNamespace empties ns's IPVS table, untimed, then deletes ns, and
// gives the kernel's namespace cleanup a moment so that it does not run
// during the next measurement.
func dropNamespace(ns string) error {
	if err := run0("ip", "netns", "exec", ns, "ipvsadm", "-C"); err != nil {
		return err
	}
	if err := run0("ip", "netns", "del", ns); err != nil {
		return err
	}
	time.Sleep(300 * time.Millisecond)
	return nil
}

// measureSavedPlan times the cold apply of a saved plan, "lvsctl apply
// PLANFILE", which reads the plan file instead of the HCL: the kernel path
// of an apply without the configuration's parse. The plan is made once,
// untimed, against an empty namespace; every fresh namespace has the same
// empty table, so the plan's fingerprint matches in each.
func measureSavedPlan(dir, hcl, want string, ipvsadmR []time.Duration, reps int) (result, error) {
	r := result{What: "cold apply of a saved plan, largest table", Against: "ipvsadm -R", Other: ipvsadmR, Note: "no HCL parse"}
	fmt.Printf("\n== lvsctl apply PLANFILE into a fresh namespace (plan made once, untimed)\n")
	planFile := filepath.Join(dir, "cold.plan")
	if err := addNamespace("bplan"); err != nil {
		return r, err
	}
	if _, err := timed("", nil, "ip", "netns", "exec", "bplan", guestLvsctl, "plan", "--out", planFile, "-f", hcl); err != nil {
		return r, err
	}
	if err := dropNamespace("bplan"); err != nil {
		return r, err
	}
	fmt.Printf("  plan file: %d bytes\n", size(planFile))
	for rep := range reps {
		ns := fmt.Sprintf("bsaved-%d", rep)
		if err := addNamespace(ns); err != nil {
			return r, err
		}
		d, err := timed("", nil, "ip", "netns", "exec", ns, guestLvsctl, "apply", planFile)
		if err != nil {
			return r, err
		}
		if err := checkTable(ns, want); err != nil {
			return r, fmt.Errorf("after lvsctl apply PLANFILE: %w", err)
		}
		if err := dropNamespace(ns); err != nil {
			return r, err
		}
		r.LVSCTL = append(r.LVSCTL, d)
		fmt.Printf("  rep %d  lvsctl apply PLANFILE %8.3fs\n", rep+1, d.Seconds())
	}
	return r, nil
}

// measureParse times "lvsctl validate", which reads and checks the
// configuration and touches no kernel: the share of an apply or plan that
// is spent on the HCL alone, set against ipvsadm -R's whole load.
func measureParse(hcl string, ipvsadmR []time.Duration, reps int) (result, error) {
	r := result{What: "HCL parse only (validate), largest table", Against: "ipvsadm -R", Other: ipvsadmR, Note: "where the time goes"}
	fmt.Printf("\n== lvsctl validate of the largest configuration (no kernel)\n")
	for rep := range reps {
		d, err := timed("", nil, guestLvsctl, "validate", "-f", hcl)
		if err != nil {
			return r, err
		}
		r.LVSCTL = append(r.LVSCTL, d)
		fmt.Printf("  rep %d  lvsctl validate %8.3fs\n", rep+1, d.Seconds())
	}
	return r, nil
}

// measureNoop times a plan that has nothing to do against reading the
// table with ipvsadm.
func measureNoop(ns, hcl string, n, dests, reps int) (result, error) {
	r := result{What: fmt.Sprintf("no-op plan, %d × %d", n, dests), Against: "ipvsadm -S -n", Target: noopTarget}
	fmt.Printf("\n== no-op plan against the loaded table\n")
	for rep := range reps {
		d, err := timed("", nil, "ip", "netns", "exec", ns, guestLvsctl, "plan", "--detailed-exitcode", "-f", hcl)
		if err != nil {
			return r, fmt.Errorf("no-op lvsctl plan (exit 0 = no changes expected): %w", err)
		}
		r.LVSCTL = append(r.LVSCTL, d)
		e, err := timed("", nil, "ip", "netns", "exec", ns, "ipvsadm", "-S", "-n")
		if err != nil {
			return r, err
		}
		r.Other = append(r.Other, e)
		fmt.Printf("  rep %d  lvsctl plan %8.3fs   ipvsadm -S -n %8.3fs\n", rep+1, d.Seconds(), e.Seconds())
	}
	return r, nil
}

var (
	planLine   = regexp.MustCompile(`(?m)^Plan: .*$`)
	reportLine = regexp.MustCompile(`(?m)^.+: (created|updated in place|destroyed|draining \(weight 0\)|failed|not attempted)$`)
)

// measureOneChange changes one real server's weight, back and forth, with
// lvsctl apply and with ipvsadm -e, and checks that each lvsctl apply is
// one kernel operation: the plan says "0 to add, 1 to change", the report
// has one line, and the kernel's dump differs in one line.
func measureOneChange(dir, ns string, t *lvs.Table, hcl string, reps int) (result, error) {
	i := len(t.Services) / 2
	s := t.Services[i]
	d := s.Dests[0]
	const newWeight = 50
	changed := gen.WithWeight(t, i, 0, newWeight)
	hcl2, _, _, err := writeInputs(dir, "changed", changed)
	if err != nil {
		return result{}, err
	}
	proto := map[lvs.Protocol]string{lvs.TCP: "-t", lvs.UDP: "-u", lvs.SCTP: "--sctp-service"}[s.Key.Protocol]
	r := result{What: "one weight change, largest table", Against: "ipvsadm -e", Note: "exactly 1 kernel op"}
	fmt.Printf("\n== one weight change: %s real server %s, weight %d <-> %d\n", s.Key, d.Addr, d.Opts.Weight, newWeight)
	for rep := range reps {
		// Even repetitions go to the new weight, odd ones back.
		cfg, w := hcl2, newWeight
		if rep%2 == 1 {
			cfg, w = hcl, d.Opts.Weight
		}
		before, err := dump(ns)
		if err != nil {
			return r, err
		}
		var out bytes.Buffer
		el, err := timed("", &out, "ip", "netns", "exec", ns, guestLvsctl, "apply", "--auto-approve", "-f", cfg)
		if err != nil {
			return r, err
		}
		after, err := dump(ns)
		if err != nil {
			return r, err
		}
		summary := planLine.FindString(out.String())
		ops := reportLine.FindAllString(out.String(), -1)
		gone, came := lineDiff(before, after)
		if summary != "Plan: 0 to add, 1 to change, 0 to destroy." || len(ops) != 1 || len(gone) != 1 || len(came) != 1 {
			return r, fmt.Errorf("the weight change was not one kernel operation: plan %q, %d operations reported %q, kernel dump: %d lines gone, %d new\n%s",
				summary, len(ops), ops, len(gone), len(came), out.Bytes())
		}
		if rep == 0 {
			fmt.Printf("  lvsctl: %s\n  report: %s (%d operation)\n  kernel: %q -> %q\n", summary, ops[0], len(ops), gone[0], came[0])
		}
		// ipvsadm -e sets the same weight: the kernel already has it,
		// and the command still makes its one edit.
		e, err := timed("", nil, "ip", "netns", "exec", ns, "ipvsadm", "-e", proto, s.Key.AddrPort().String(),
			"-r", d.Addr.String(), "-m", "-w", strconv.Itoa(w))
		if err != nil {
			return r, err
		}
		r.LVSCTL = append(r.LVSCTL, el)
		r.Other = append(r.Other, e)
		fmt.Printf("  rep %d  lvsctl apply %8.3fs   ipvsadm -e %8.3fs\n", rep+1, el.Seconds(), e.Seconds())
	}
	return r, nil
}

func printResults(rs []result) {
	fmt.Printf("\n== results (median wall time; ratio = lvsctl / ipvsadm)\n\n")
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight|tabwriter.Debug)
	fmt.Fprintln(tw, "measurement\tlvsctl\tipvsadm\tcompared with\tratio\ttarget\t")
	for _, r := range rs {
		target := r.Note
		if r.Target > 0 {
			verdict := "met"
			if r.ratio() > r.Target {
				verdict = "NOT met"
			}
			target = fmt.Sprintf("≤ %.1f× %s", r.Target, verdict)
		}
		fmt.Fprintf(tw, "%s\t%.3fs\t%.3fs\t%s\t%.2f×\t%s\t\n", r.What, median(r.LVSCTL).Seconds(), median(r.Other).Seconds(), r.Against, r.ratio(), target)
	}
	tw.Flush()
}
