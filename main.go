// Command lvsctl manages a Linux Virtual Server director declaratively: see
// package cmd and the README.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/lvsctl/lvsctl/internal/apply"
	"github.com/lvsctl/lvsctl/internal/cmd"
	"github.com/lvsctl/lvsctl/kernel"
)

func main() { os.Exit(run()) }

func run() int {
	// lvsctl is short-lived and allocates a lot while parsing a large
	// configuration (an HCL syntax tree per block): collecting less often
	// halves the time of a 10,000-service plan. GOGC still wins if set.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	// A signal cancels the context: apply finishes the operation in flight
	// and stops between operations.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return cmd.Main(ctx, os.Args, cmd.Env{
		Stdin:      os.Stdin,
		Stdout:     os.Stdout,
		Stderr:     os.Stderr,
		OpenKernel: openKernel,
	})
}

func openKernel(netns string) (apply.Kernel, error) {
	k, err := kernel.Open(netns)
	if err != nil {
		return nil, err // not a typed nil inside a non-nil interface
	}
	return k, nil
}
