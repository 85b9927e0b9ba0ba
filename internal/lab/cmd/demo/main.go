// Command demo shows lvsctl at work without an IPVS kernel of your own: it
// builds lvsctl, boots the lab VM, builds the LVS HOWTO's four hosts as
// network namespaces there, and applies examples/nat-four-host.hcl and an
// rr variant of it while a client fetches pages through the VIP.
//
// Run it from the module's root, as "make demo" does:
//
//	go run ./lab/cmd/demo
package main

import (
	"context"
	_ "embed"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/lvsctl/lvsctl/internal/lab"
)

//go:embed demo.sh
var script string

func main() {
	goCmd := flag.String("go", "go", "the go `command` that builds lvsctl")
	timeout := flag.Duration("timeout", 5*time.Minute, "stop the VM after `DURATION`")
	flag.Parse()
	os.Exit(run(*goCmd, *timeout))
}

func run(goCmd string, timeout time.Duration) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fail := func(format string, args ...any) int {
		fmt.Fprintf(os.Stderr, "demo: "+format+"\n", args...)
		return 1
	}
	example, err := os.ReadFile("examples/nat-four-host.hcl")
	if err != nil {
		return fail("%v: run the demo from the repository's root (make demo)", err)
	}
	rr, err := rrVariant(string(example))
	if err != nil {
		return fail("%v", err)
	}
	dir, err := os.MkdirTemp("", "lvsctl-demo-")
	if err != nil {
		return fail("%v", err)
	}
	defer os.RemoveAll(dir)

	fmt.Fprintln(os.Stderr, "demo: building lvsctl")
	bin := filepath.Join(dir, "lvsctl")
	build := exec.CommandContext(ctx, goCmd, "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fail("building lvsctl: %v", err)
	}
	guest := filepath.Join(dir, "demo")
	if err := os.Mkdir(guest, 0o755); err != nil {
		return fail("%v", err)
	}
	for name, text := range map[string]string{"demo.sh": script, "nat-four-host.hcl": string(example), "web-rr.hcl": rr} {
		if err := os.WriteFile(filepath.Join(guest, name), []byte(text), 0o644); err != nil {
			return fail("%v", err)
		}
	}

	fmt.Fprintln(os.Stderr, "demo: booting the lab VM (QEMU, software emulation: this takes a little while)")
	res, err := lab.Run(ctx, lab.Options{
		Files:   map[string]string{"/usr/local/bin/lvsctl": bin, "/demo": guest},
		Command: []string{"/bin/sh", "/demo/demo.sh"},
		Timeout: timeout,
		Stream:  os.Stdout,
		Log:     os.Stderr,
	})
	if err != nil {
		return fail("%v\n(the lab needs the packages \"make deps\" installs and a kernel: see internal/lab/README.md)", err)
	}
	if res.ExitCode != 0 {
		return fail("the demo script failed (exit status %d) after %s", res.ExitCode, res.Total.Round(time.Second))
	}
	fmt.Fprintf(os.Stderr, "demo: kernel %s, booted in %s, whole run %s\n", res.Kernel, res.Boot.Round(100*time.Millisecond), res.Total.Round(time.Second))
	return 0
}

// rrVariant is the example with round-robin scheduling and no persistence,
// so that consecutive connections of one client alternate between the real
// servers.
func rrVariant(cfg string) (string, error) {
	out := strings.Replace(cfg, `scheduler = "wlc"`, `scheduler = "rr"`, 1)
	out = strings.Replace(out, "  persistence {\n    timeout = \"360s\"\n  }\n", "", 1)
	if out == cfg || strings.Contains(out, "persistence {") || !strings.Contains(out, `scheduler = "rr"`) {
		return "", fmt.Errorf("examples/nat-four-host.hcl changed: internal/lab/cmd/demo cannot make its rr variant; update rrVariant")
	}
	return "# examples/nat-four-host.hcl with scheduler rr and no persistence (made by the demo)\n" + out, nil
}
