package lab

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Options says what to run in the VM.
type Options struct {
	// Files are copied into the initramfs: guest path -> host path. A host
	// directory is copied with everything under it; an executable brings
	// the shared libraries it needs.
	Files map[string]string
	// Command and its arguments, run by /init as root. A bare name is
	// looked up in the guest's PATH (/usr/sbin:/usr/bin:/sbin:/bin).
	Command []string
	// Env adds NAME=value entries to the command's environment.
	Env []string
	// Dir is the command's working directory in the guest (default "/").
	Dir string
	// Timeout bounds the VM's run, boot included (default 10 minutes); a
	// kernel download or waiting for a VM slot comes on top. The VM is
	// stopped when it passes.
	Timeout time.Duration
	// Stream, if set, receives the command's output as it comes.
	Stream io.Writer
	// Log, if set, receives progress notes: a kernel download, waiting for a
	// VM slot.
	Log io.Writer
}

// Result is what the command did.
type Result struct {
	// Output is everything printed on the console from the start of /init
	// to the command's end: module load failures, then the command's
	// standard output and error, interleaved as written.
	Output []byte
	// ExitCode is the command's exit status.
	ExitCode int
	// Console is the whole serial console, firmware and kernel messages
	// included, for diagnosing a VM that did not come up.
	Console []byte
	// Kernel is the version the VM ran.
	Kernel string
	// Boot is the time from starting QEMU to /init's first line; Total the
	// time until the command's end.
	Boot, Total time.Duration
}

// DefaultTimeout bounds a run when Options.Timeout is zero.
const DefaultTimeout = 10 * time.Minute

// Check says why the lab cannot run on this machine, or returns nil: QEMU,
// busybox, iproute2 and ipvsadm must be installed. The kernel is not
// checked: [EnsureKernel] fetches it.
func Check() error {
	var errs []error
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		errs = append(errs, errors.New("qemu-system-x86_64 not found (package qemu-system-x86)"))
	}
	if _, err := findHostPrograms(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Run boots a VM, runs o.Command in it and returns its output and exit
// status. The error is for a VM that could not be built, booted or
// finished in time; a command that fails is a Result with a non-zero
// ExitCode.
func Run(ctx context.Context, o Options) (*Result, error) {
	if len(o.Command) == 0 {
		return nil, errors.New("no command to run in the VM")
	}
	if err := Check(); err != nil {
		return nil, err
	}
	log := o.Log
	if log == nil {
		log = io.Discard
	}

	k, err := EnsureKernel(ctx, log)
	if err != nil {
		return nil, err
	}
	initrd, err := buildInitramfs(k, o)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(filepath.Dir(initrd.path))

	cache, err := CacheDir()
	if err != nil {
		return nil, err
	}
	free, err := takeVMSlot(ctx, cache, func() {
		fmt.Fprintln(log, "lab: waiting for another VM to finish (LVSCTL_LAB_PARALLEL allows more at once)")
	})
	if err != nil {
		return nil, err
	}
	defer free()
	// The timeout starts with QEMU: neither a kernel download nor waiting
	// for another VM counts against it.
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, fmt.Errorf("the VM ran longer than its timeout of %v", timeout))
	defer cancel()
	return boot(ctx, k, initrd, o.Stream)
}

type initramfs struct {
	path  string
	nonce string
}

// buildInitramfs writes the initramfs for one boot into a fresh temporary
// directory (the caller removes it).
func buildInitramfs(k *Kernel, o Options) (*initramfs, error) {
	progs, err := findHostPrograms()
	if err != nil {
		return nil, err
	}
	idx, err := readModuleIndex(k.Modules)
	if err != nil {
		return nil, err
	}
	steps, err := idx.loadOrder(requiredModules, optionalModules)
	if err != nil {
		return nil, fmt.Errorf("kernel %s: %w", k.Version, err)
	}
	deps, err := moduleDepLines(k, steps)
	if err != nil {
		return nil, err
	}
	var nb [8]byte
	if _, err := rand.Read(nb[:]); err != nil {
		return nil, err
	}
	nonce := hex.EncodeToString(nb[:])
	// The command is resolved against the finished tree, so /init comes last.
	t, err := buildTree(k, progs, steps, deps, o.Files)
	if err != nil {
		return nil, err
	}
	cmd := append([]string{t.resolveCommand(o.Command[0])}, o.Command[1:]...)
	script, err := initScript(nonce, o.Dir, o.Env, cmd)
	if err != nil {
		return nil, err
	}
	t.data("/init", 0o755, script)

	dir, err := os.MkdirTemp("", "lvsctl-lab-")
	if err != nil {
		return nil, err
	}
	p := filepath.Join(dir, "initramfs.cpio")
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err == nil {
		err = t.writeCpio(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &initramfs{path: p, nonce: nonce}, nil
}

// qemuArgs is the QEMU command line for one boot.
func qemuArgs(k *Kernel, initrd string) []string {
	accel := os.Getenv("LVSCTL_LAB_ACCEL")
	if accel == "" {
		accel = "tcg"
	}
	return []string{
		"-accel", accel,
		// "max" gives the guest SSE4.2 and friends, so crc32c-intel and
		// other accelerated modules load as on real hardware.
		"-cpu", "max",
		"-m", "2G", "-smp", "2",
		"-nographic", "-no-reboot", "-nic", "none",
		"-kernel", k.Image, "-initrd", initrd,
		"-append", "console=ttyS0 quiet panic=-1 rdinit=/init",
	}
}

// boot runs QEMU until the exit marker appears and QEMU is gone, or ctx ends.
func boot(ctx context.Context, k *Kernel, initrd *initramfs, stream io.Writer) (*Result, error) {
	start := time.Now()
	cmd := exec.CommandContext(ctx, "qemu-system-x86_64", qemuArgs(k, initrd.path)...)
	cmd.Stdin = nil
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	// QEMU shuts the guest down on SIGTERM; SIGKILL follows if it lingers.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	cmd.SysProcAttr = qemuProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting qemu-system-x86_64: %w", err)
	}

	res := &Result{Kernel: k.Version, ExitCode: -1}
	con := &console{nonce: initrd.nonce, stream: stream, start: start, exited: make(chan struct{})}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		con.read(stdout)
	}()
	// After the exit marker the guest powers off by itself; give it a moment
	// and then stop QEMU, so a guest stuck in poweroff cannot hang us.
	done := make(chan struct{})
	go func() {
		select {
		case <-con.exited:
			select {
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Signal(syscall.SIGTERM)
			case <-done:
			}
		case <-done:
		}
	}()
	wg.Wait()
	waitErr := cmd.Wait()
	close(done)

	res.Output = con.output.Bytes()
	res.Console = con.all.Bytes()
	res.Boot = con.boot
	res.Total = time.Since(start)
	if con.code != nil {
		res.ExitCode = *con.code
		return res, nil
	}
	tail := lastLines(res.Console, 15)
	if ctx.Err() != nil {
		return res, fmt.Errorf("%w; the VM was stopped. Last console lines:\n%s", context.Cause(ctx), tail)
	}
	msg := strings.TrimSpace(stderr.String())
	if waitErr != nil && msg == "" {
		msg = waitErr.Error()
	}
	return res, fmt.Errorf("the VM ended before the command reported its exit status (qemu: %s). Last console lines:\n%s", orNone(msg), tail)
}

func orNone(s string) string {
	if s == "" {
		return "no error"
	}
	return s
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "  " + strings.Join(lines, "\n  ")
}

// console splits the serial console into the boot noise, the command's
// output and the exit status.
type console struct {
	nonce  string
	stream io.Writer
	start  time.Time

	all, output bytes.Buffer
	begun       bool
	boot        time.Duration
	code        *int
	exited      chan struct{}
	once        sync.Once
}

func (c *console) read(r io.Reader) {
	br := bufio.NewReaderSize(r, 64*1024)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			c.line(line)
		}
		if err != nil {
			return
		}
	}
}

// line takes one console line, "\r\n"-terminated as the serial line
// discipline writes it (or unterminated at the end).
func (c *console) line(raw string) {
	line := strings.TrimSuffix(strings.TrimSuffix(raw, "\n"), "\r")
	nl := strings.HasSuffix(raw, "\n")
	if nl {
		line += "\n"
	}
	c.all.WriteString(line)
	if c.code != nil {
		return
	}
	if !c.begun {
		if strings.Contains(line, beginMarker+c.nonce) {
			c.begun = true
			c.boot = time.Since(c.start)
		}
		return
	}
	// The command's last line may lack a newline; the marker then follows
	// it on the same line.
	if i := strings.Index(line, exitMarker+c.nonce+"="); i >= 0 {
		prefix := line[:i]
		c.emit(prefix)
		s := strings.TrimSpace(line[i+len(exitMarker+c.nonce+"="):])
		code, err := strconv.Atoi(s)
		if err != nil {
			code = -1
		}
		c.code = &code
		c.once.Do(func() { close(c.exited) })
		return
	}
	c.emit(line)
}

func (c *console) emit(s string) {
	c.output.WriteString(s)
	if c.stream != nil && s != "" {
		io.WriteString(c.stream, s)
	}
}
