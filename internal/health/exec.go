package health

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/internal/proc"
)

func init() {
	register(probeExec, func(p model.ExecProbe) string { return firstField(p.Program) + " did not finish" })
}

// probeExec runs p.Program split on blanks, %h and %p replaced inside
// each argument by addr's host and port, without a shell: host and port
// can never become extra arguments or commands. The exit status decides; with
// p.Expect set, the output decides as in nanny: it passes when it equals
// p.Expect (trailing newlines aside) or is empty; with p.Dynamic, the exit
// status also sets the weight (see [model.DynamicWeight]).
//
// The program runs in a process group of its own, killed whole when it
// times out and when it exits: nothing a probe starts outlives it.
func probeExec(ctx context.Context, p model.ExecProbe, hc *model.HealthCheck, addr netip.AddrPort) error {
	return probeExecHost(ctx, p, hc, addr.Addr().String(), strconv.Itoa(int(addr.Port())))
}

// probeExecHost is probeExec with the host and port as the program gets
// them.
func probeExecHost(ctx context.Context, p model.ExecProbe, hc *model.HealthCheck, host, port string) error {
	argv := execArgv(p.Program, host, port)
	if len(argv) == 0 {
		return errors.New("the exec check has no program")
	}
	res, err := proc.Run(ctx, argv, proc.Options{
		Name:            argv[0], // the host and port are said elsewhere
		Timeout:         hc.Timeout,
		Env:             []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		ClearEnv:        true,
		MaxOutput:       maxReply,
		WaitDelay:       100 * time.Millisecond,
		KillGroupOnExit: true,
		// The program inherits the network namespace of the thread that
		// starts it.
		Enter: func(start func() error) error { return inNamespace(ctx, start) },
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if res.TimedOut {
		return context.DeadlineExceeded // worded by timeoutError
	}
	if p.Dynamic && res.Started {
		// keepalived's misc_dynamic: the exit status says up or down, and
		// the weight.
		up, w := model.DynamicWeight(res.ExitCode)
		if !up {
			return err
		}
		if w >= 0 {
			reportWeight(ctx, w)
		}
		return nil
	}
	if p.Expect != "" {
		if !res.Started {
			return err
		}
		got := strings.TrimRight(string(res.Stdout), "\r\n")
		if got == "" || got == p.Expect {
			return nil
		}
		return fmt.Errorf("%s printed %q, want %q", argv[0], truncate(got, 64), p.Expect)
	}
	return err
}

// execArgv splits program on blanks and substitutes %h and %p in each
// argument.
func execArgv(program, host, port string) []string {
	argv := strings.Fields(program)
	r := strings.NewReplacer("%h", host, "%p", port)
	for i := range argv {
		argv[i] = r.Replace(argv[i])
	}
	return argv
}

func firstField(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
