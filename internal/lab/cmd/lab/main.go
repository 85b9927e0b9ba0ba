// Command lab boots the lvsctl QEMU lab, runs one command in it and exits
// with that command's status:
//
//	go run ./lab/cmd/lab [-files HOST=GUEST]... [-env NAME=VALUE]... [-dir DIR] [-timeout D] [-console] -- COMMAND [ARG]...
//	go run ./lab/cmd/lab -fetch
//
// See internal/lab/README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/lvsctl/lvsctl/internal/lab"
)

// pairs collects repeated HOST=GUEST or NAME=VALUE flags.
type pairs []string

func (p *pairs) String() string     { return strings.Join(*p, ",") }
func (p *pairs) Set(s string) error { *p = append(*p, s); return nil }

func main() {
	os.Exit(run())
}

func run() int {
	var files, env pairs
	fs := flag.NewFlagSet("lab", flag.ContinueOnError)
	fs.Var(&files, "files", "copy a host file or directory into the VM: `HOST=GUEST` (repeatable)")
	fs.Var(&env, "env", "set `NAME=VALUE` in the command's environment (repeatable)")
	dir := fs.String("dir", "/", "working `directory` of the command in the VM")
	timeout := fs.Duration("timeout", lab.DefaultTimeout, "stop the VM after this `duration`, boot included")
	showConsole := fs.Bool("console", false, "also print the boot console (firmware and kernel messages)")
	fetch := fs.Bool("fetch", false, "download the kernel into the cache, and do nothing else")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: lab [flags] -- COMMAND [ARG]...\n       lab -fetch\n\nBoots a VM with an IPVS kernel, runs COMMAND there as root and exits with its status.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if *fetch {
		k, err := lab.EnsureKernel(ctx, os.Stderr)
		if err != nil {
			fmt.Fprintf(os.Stderr, "lab: %v\n", err)
			return 1
		}
		fmt.Printf("kernel %s: %s\n", k.Version, k.Image)
		return 0
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "lab: no command given; usage: lab [flags] -- COMMAND [ARG]...")
		return 2
	}
	o := lab.Options{
		Files:   map[string]string{},
		Command: fs.Args(),
		Env:     env,
		Dir:     *dir,
		Timeout: *timeout,
		Stream:  os.Stdout,
		Log:     os.Stderr,
	}
	for _, f := range files {
		host, guest, ok := strings.Cut(f, "=")
		if !ok || host == "" || guest == "" {
			fmt.Fprintf(os.Stderr, "lab: -files %q: want HOST=GUEST, such as ./lvsctl=/usr/local/bin/lvsctl\n", f)
			return 2
		}
		o.Files[guest] = host
	}
	res, err := lab.Run(ctx, o)
	if res != nil && *showConsole {
		fmt.Fprintf(os.Stderr, "--- console ---\n%s--- end of console ---\n", res.Console)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "lab: %v\n", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "lab: kernel %s, booted in %v, exit status %d after %v\n",
		res.Kernel, res.Boot.Round(100*time.Millisecond), res.ExitCode, res.Total.Round(100*time.Millisecond))
	if res.ExitCode < 0 || res.ExitCode > 255 {
		return 1
	}
	return res.ExitCode
}
