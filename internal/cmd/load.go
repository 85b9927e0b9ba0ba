package cmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/lvsctl/lvsctl/internal/diag"
	"github.com/lvsctl/lvsctl/internal/ipvsadm"
	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/internal/regular"
	"github.com/lvsctl/lvsctl/internal/services"
	"github.com/lvsctl/lvsctl/internal/source/config"
	"github.com/lvsctl/lvsctl/internal/source/keepalived"
	"github.com/lvsctl/lvsctl/internal/source/lvscf"
	"github.com/lvsctl/lvsctl/lvs"
)

// desired is what a configuration file asks for.
type desired struct {
	path         string
	table        *lvs.Table
	drainTimeout time.Duration
	// cfg is the whole configuration, health checks included.
	cfg *model.Config
}

// loadDesired reads and validates the configuration at path for plan and
// apply. Diagnostics are printed to stderr; the returned error then only
// carries the status.
func loadDesired(env Env, path string) (*desired, error) {
	cfg, err := loadConfig(env, path)
	if err != nil {
		return nil, err
	}
	return &desired{path: path, table: cfg.Table, drainTimeout: cfg.DrainTimeout, cfg: cfg}, nil
}

// loadConfig reads the whole configuration at path, health checks and pulse
// settings included: lvsctl's HCL, a piranha lvs.cf or a keepalived.conf
// (told apart by content), each of which gives the same configuration as
// its conversion.
// Diagnostics go to stderr.
func loadConfig(env Env, path string) (*model.Config, error) {
	c := checkConfig(env, path, false)
	c.writeText(env.Stderr)
	if c.cfg == nil {
		return nil, exitError{1}
	}
	return c.cfg, nil
}

// loadWithLive reads the configuration at path and, at the same time, the
// live table with read: on a large director both take seconds, and they are
// independent. With asJSON, a configuration or a saved table with errors
// is reported on stdout as validate --json reports it (and the error only
// carries the status); otherwise diagnostics go to stderr as text.
func loadWithLive(env Env, path string, read func() (*lvs.Table, error), asJSON bool) (*desired, *lvs.Table, error) {
	type result struct {
		t   *lvs.Table
		err error
	}
	ch := make(chan result, 1)
	go func() {
		t, err := read()
		ch <- result{t, err}
	}()
	c := checkConfig(env, path, false)
	live := <-ch
	var de *dumpError
	badDump := errors.As(live.err, &de)
	if asJSON && (c.cfg == nil || badDump) {
		var ds diag.Diagnostics
		if c.cfg == nil {
			ds = c.diagnostics()
		}
		if badDump {
			ds = append(ds, de.diagnostics()...)
		}
		if err := diag.WriteJSON(env.Stdout, ds); err != nil {
			return nil, nil, err
		}
		return nil, nil, exitError{1}
	}
	c.writeText(env.Stderr)
	if c.cfg == nil {
		return nil, nil, exitError{1}
	}
	if badDump {
		de.writeText(env.Stderr)
		return nil, nil, exitError{1}
	}
	if live.err != nil {
		return nil, nil, live.err
	}
	return &desired{path: path, table: c.cfg.Table, drainTimeout: c.cfg.DrainTimeout, cfg: c.cfg}, live.t, nil
}

// readLive reads a saved table: lvsctl's JSON (show --json) or an
// ipvsadm -S -n dump, told apart by the first non-blank byte; "-" reads
// stdin. Either form is read whole first, so at most ipvsadm.MaxInputSize
// bytes of it. It returns the form's name too (see savedForm).
//
// A dump's port names are resolved (see ipvsadmNames), and its host names
// with resolve; its errors are printed, and then only the status is
// returned.
func readLive(env Env, path string, resolve bool) (*lvs.Table, string, error) {
	name, data, err := readSaved(env, path)
	if err != nil {
		return nil, "", err
	}
	t, err := parseLive(env, name, data, resolve)
	return t, savedForm(data), err
}

// readSaved reads the saved table at path ("-": stdin) whole, and the
// name to give it in messages.
func readSaved(env Env, path string) (string, []byte, error) {
	tooLarge := fmt.Errorf("%s: the saved table is larger than %d MiB", path, ipvsadm.MaxInputSize>>20)
	if path == "-" {
		data, err := io.ReadAll(io.LimitReader(env.Stdin, ipvsadm.MaxInputSize+1))
		if err != nil {
			return "", nil, fmt.Errorf("reading the saved table from stdin: %w", err)
		}
		if len(data) > ipvsadm.MaxInputSize {
			return "", nil, tooLarge
		}
		return "stdin", data, nil
	}
	f, fi, err := regular.Open(path, 0)
	var nr *regular.NotRegularError
	if errors.As(err, &nr) {
		return "", nil, fmt.Errorf("%v: give the saved table's file, or - to read it from stdin", err)
	}
	if err != nil {
		return "", nil, fmt.Errorf("reading the saved table: %w", err)
	}
	defer f.Close()
	data, err := regular.ReadAll(f, fi, ipvsadm.MaxInputSize)
	if errors.Is(err, regular.ErrTooLarge) {
		return "", nil, tooLarge
	}
	if err != nil {
		return "", nil, fmt.Errorf("reading the saved table: %w", err)
	}
	return path, data, nil
}

// parseLive reads data, the content of the saved table at path. What its
// form cannot carry is marked unknown in the table (see
// [ipvsadm.ParseLive]; in the JSON form a zero timeout is unknown).
func parseLive(env Env, path string, data []byte, resolve bool) (*lvs.Table, error) {
	if isJSONTable(data) {
		var tab lvs.Table
		if err := tab.UnmarshalJSON(data); err != nil {
			return nil, &dumpError{name: path, err: fmt.Errorf("%s: %w", path, err)}
		}
		tab.Normalize()
		tab.Forget(lvs.UnknownTimeoutsOf(tab.Timeouts))
		// The kernel settings show --json prints are for reading and
		// adoption; a plan against a saved table leaves the settings
		// alone, as against a dump (a saved plan re-reads only those it
		// owns from the kernel, which a table with all of them would
		// never match).
		tab.Sysctls = nil
		return &tab, nil
	}
	t, err := ipvsadmNames(env, resolve).ParseLive(bytes.NewReader(data), path)
	if err != nil {
		return nil, &dumpError{name: path, src: data, err: err}
	}
	return t, nil
}

// ipvsadmNames resolves the names of a dump saved without -n as ipvsadm
// does: port names from env.Services (/etc/services, read only when a
// name is met; lvsctl's built-in table of common names when the file does
// not exist), and host names, with resolve, by env.LookupHost (the
// system's resolver, 5 seconds a name) to IPv4 addresses.
func ipvsadmNames(env Env, resolve bool) ipvsadm.Names {
	look := services.Lookup(env.Services)
	n := ipvsadm.Names{Port: func(name, proto string) (uint16, bool, string, error) {
		port, ok, db, err := look(name, proto)
		if err != nil {
			return 0, false, "", err
		}
		return port, ok, db.Source, nil
	}}
	if resolve {
		lookup := env.LookupHost
		if lookup == nil {
			lookup = lookupIPv4
		}
		n.Host = func(name string) (netip.Addr, error) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return lookup(ctx, name)
		}
	}
	return n
}

// lookupIPv4 is gethostbyname's answer for name: its first IPv4 address.
func lookupIPv4(ctx context.Context, name string) (netip.Addr, error) {
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip4", name)
	if err != nil {
		return netip.Addr{}, err
	}
	if len(addrs) == 0 {
		return netip.Addr{}, fmt.Errorf("%s has no IPv4 address", name)
	}
	return addrs[0].Unmap(), nil
}

// printIpvsadmErrors prints the errors of an ipvsadm dump (see
// writeIpvsadmErrors) and returns the status; other errors are returned as
// they are.
func printIpvsadmErrors(env Env, err error) error {
	if writeIpvsadmErrors(env.Stderr, err) {
		return exitError{1}
	}
	return err
}

// writeIpvsadmErrors writes the errors of an ipvsadm dump one by one, each
// with its line under it; false when err is not a dump's.
func writeIpvsadmErrors(w io.Writer, err error) bool {
	var es ipvsadm.Errors
	var e *ipvsadm.Error
	switch {
	case errors.As(err, &es):
	case errors.As(err, &e):
		es = ipvsadm.Errors{e}
	default:
		return false
	}
	for _, e := range es {
		fmt.Fprintf(w, "Error: %s\n", e)
		if x := e.Excerpt(); x != "" {
			fmt.Fprintf(w, "%s\n", x)
		}
	}
	return true
}

// isJSONTable tells lvsctl's JSON form of a table (show --json) from an
// ipvsadm dump, by its first non-blank byte.
func isJSONTable(data []byte) bool {
	t := bytes.TrimSpace(data)
	return len(t) > 0 && t[0] == '{'
}

// savedForm names the form of a saved table for messages.
func savedForm(data []byte) string {
	if isJSONTable(data) {
		return "lvsctl show --json output"
	}
	return "an ipvsadm -S dump"
}

// sourceFormat tells the format of the configuration at path by its
// content: "lvscf" (a piranha lvs.cf, returned with its content),
// "keepalived" (a keepalived.conf, which keepalived.Load reads with its
// includes), or "" for lvsctl's HCL. Directories and unreadable files
// are left to config.Load, which reports them.
func sourceFormat(path string) ([]byte, string) {
	f, fi, err := regular.Open(path, 0)
	if err != nil {
		return nil, ""
	}
	defer f.Close()
	// At most one byte more than lvscf.Parse accepts: enough to tell the
	// formats apart and for Parse to refuse one that is too large, without
	// reading a huge file whole (config.Load refuses those by their size).
	// Up to that, in one buffer of the file's size.
	var src []byte
	if fi.Size() <= lvscf.MaxSize {
		src, err = regular.ReadAll(f, fi, lvscf.MaxSize+1)
	} else {
		src, err = io.ReadAll(io.LimitReader(f, lvscf.MaxSize+1))
	}
	if err != nil {
		return nil, ""
	}
	// The formats convert also reads (dumps, show --json) are not
	// configurations here: HCL's parser reports them.
	switch format := detectFormat(path, src); format {
	case "lvscf":
		return src, format
	case "keepalived":
		return nil, format
	}
	return nil, ""
}

// configID is keepalived's default config id, for its "@ID" lines: the
// host name up to its first dot.
func configID() string {
	h, _ := os.Hostname()
	id, _, _ := strings.Cut(h, ".")
	return id
}

// writeKeepalivedErrors writes the errors of a keepalived.conf, each with
// its source line.
func writeKeepalivedErrors(w io.Writer, err error) {
	var errs keepalived.Errors
	if !errors.As(err, &errs) {
		fmt.Fprintf(w, "Error: %s\n", err)
		return
	}
	for _, e := range errs {
		fmt.Fprintf(w, "Error: %s\n%s", e, e.Excerpt("  "))
	}
}

// loadLVSCF reads and converts an lvs.cf in one pass (lvscf.Load). Its
// warnings and errors go to stderr (see writeLVSCFProblems); then only the
// status is returned.
func loadLVSCF(env Env, path string, src []byte) (*lvscf.Loaded, error) {
	l, warns, err := lvscf.Load(bytes.NewReader(src), path)
	writeLVSCFProblems(env.Stderr, warns, err)
	if err != nil {
		return nil, exitError{1}
	}
	return l, nil
}

// writeLVSCFProblems writes the warnings of an lvs.cf, then its errors,
// one per line as file:line:column: message with the line under it.
func writeLVSCFProblems(w io.Writer, warns []lvscf.Warning, err error) {
	for _, wa := range warns {
		fmt.Fprintf(w, "Warning: %s\n", wa)
	}
	var errs lvscf.Errors
	switch {
	case errors.As(err, &errs):
		for _, e := range errs {
			fmt.Fprintf(w, "Error: %s\n", e)
			if x := e.Excerpt(); x != "" {
				fmt.Fprintf(w, "%s\n", x)
			}
		}
	case err != nil:
		fmt.Fprintf(w, "Error: %s\n", err)
	}
}

// isConfig tells whether the file at path is a configuration: HCL, an
// lvs.cf or a keepalived.conf (see sourceFormat and [config.Detect]), for
// messages about a configuration given where another file belongs.
func isConfig(path string) bool {
	if _, format := sourceFormat(path); format != "" {
		return true
	}
	f, fi, err := regular.Open(path, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	src, err := regular.ReadAll(f, fi, config.MaxFileSize)
	return err == nil && config.Detect(path, src)
}
