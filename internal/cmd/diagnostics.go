package cmd

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/lvsctl/lvsctl/internal/diag"
	"github.com/lvsctl/lvsctl/internal/ipvsadm"
	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/internal/regular"
	"github.com/lvsctl/lvsctl/internal/source/config"
	"github.com/lvsctl/lvsctl/internal/source/keepalived"
	"github.com/lvsctl/lvsctl/internal/source/lvscf"
	"github.com/lvsctl/lvsctl/lvs"
)

// A checked configuration is one read with its problems, which it can
// print as its source's text or give in the common form for JSON.
type checked struct {
	cfg *model.Config // nil when there are errors
	// dump is set for an ipvsadm dump, which validate checks but plan and
	// apply do not take as a configuration.
	dump        bool
	writeText   func(w io.Writer)
	diagnostics func() diag.Diagnostics
}

// checkConfig reads the configuration at path: a piranha lvs.cf or a
// keepalived.conf (told apart by content, see sourceFormat), with dumps an
// ipvsadm -S -n dump (told apart as convert tells it), else lvsctl's HCL.
func checkConfig(env Env, path string, dumps bool) checked {
	switch src, format := sourceFormat(path); format {
	case "lvscf":
		return checkLegacy(path, src)
	case "keepalived":
		return checkKeepalived(path)
	}
	if dumps {
		if src, ok, err := dumpSource(path); ok {
			return checkDump(env, path, src, err)
		}
	}
	cfg, files, diags := config.Load(path)
	if diags.HasErrors() {
		// A file in another format that lvsctl did not recognise from its
		// start: say what it is, not what HCL's parser makes of it (the
		// first in name order, so that every run names the same one).
		for _, name := range slices.Sorted(maps.Keys(files)) {
			if keepalived.Looks(files[name].Bytes) {
				return keepalivedFragment(name)
			}
		}
	}
	return checked{
		cfg: cfg,
		writeText: func(w io.Writer) {
			if len(diags) > 0 {
				_ = config.WriteDiagnostics(w, files, diags, 78)
			}
		},
		diagnostics: func() diag.Diagnostics { return config.Diagnostics(files, diags) },
	}
}

// keepalivedFragment is the problem of name, keepalived configuration
// that does not start as a whole keepalived.conf does.
func keepalivedFragment(name string) checked {
	summary := fmt.Sprintf("%s is keepalived configuration, not lvsctl's HCL, but it does not start as a whole keepalived.conf does (global_defs, virtual_server, vrrp_instance...)", name)
	detail := "lvsctl reads a keepalived.conf as it is with validate, plan and apply -f FILE, and converts it with convert --from keepalived FILE; give it the top file, the one that includes the others."
	return checked{
		writeText: func(w io.Writer) { fmt.Fprintf(w, "Error: %s.\n%s\n", summary, detail) },
		diagnostics: func() diag.Diagnostics {
			return diag.Diagnostics{{Severity: diag.Error, Summary: summary, Detail: detail}}
		},
	}
}

// checkKeepalived reads a keepalived.conf, its includes too, into the
// configuration its conversion would give. Its text is each error with its
// source line, a warning for each include that names no file, and a count
// of the settings not carried (convert writes a NOTE for each, saying why).
func checkKeepalived(path string) checked {
	f, err := keepalived.Load(path, keepalived.Options{ConfigID: configID()})
	var cfg *model.Config
	var notes []keepalived.Note
	if err == nil {
		cfg, notes, err = f.Config()
	}
	if err != nil {
		cfg, notes = nil, nil
	}
	return checked{
		cfg: cfg,
		writeText: func(w io.Writer) {
			if err != nil {
				writeKeepalivedErrors(w, err)
				return
			}
			// What is missing (an include that names no file) is shown
			// on its own; the settings not carried are counted.
			carried := 0
			for _, n := range notes {
				if n.Missing {
					fmt.Fprintf(w, "Warning: %s\n", n)
				} else {
					carried++
				}
			}
			if carried > 0 {
				what := fmt.Sprintf("%d of its settings are", carried)
				if carried == 1 {
					what = "1 of its settings is"
				}
				fmt.Fprintf(w, "Note: %s is a keepalived.conf; %s not carried as keepalived has them (lvsctl convert %s writes a NOTE for each, saying why).\n",
					path, what, path)
			}
		},
		diagnostics: func() diag.Diagnostics { return keepalived.Diagnostics(f, notes, err) },
	}
}

// checkLegacy parses an lvs.cf into the configuration its conversion would
// give. Its text is a line per warning and error: file:line: message.
func checkLegacy(path string, src []byte) checked {
	l, warns, err := lvscf.Load(bytes.NewReader(src), path)
	var cfg *model.Config
	if err == nil {
		cfg = l.Config
	}
	return checked{
		cfg:         cfg,
		writeText:   func(w io.Writer) { writeLVSCFProblems(w, warns, err) },
		diagnostics: func() diag.Diagnostics { return lvscf.Diagnostics(path, src, warns, err) },
	}
}

// dumpSource returns the content of path when it is an ipvsadm -S -n dump
// (told apart by its start, without reading any other file whole), or the
// error of reading it.
func dumpSource(path string) ([]byte, bool, error) {
	f, fi, err := regular.Open(path, 0)
	if err != nil {
		return nil, false, nil
	}
	defer f.Close()
	// The first 64 KiB tell a dump: its first rule, after comments.
	head := make([]byte, min(fi.Size(), 64<<10))
	n, err := f.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) || detectFormat(path, head[:n]) != "ipvsadm" {
		return nil, false, nil
	}
	src, err := regular.ReadAll(f, fi, ipvsadm.MaxInputSize)
	if errors.Is(err, regular.ErrTooLarge) {
		return nil, true, fmt.Errorf("%s: the dump is larger than %d MiB, the most lvsctl reads", path, ipvsadm.MaxInputSize>>20)
	}
	return src, true, err
}

// checkDump reads src, the ipvsadm dump at path (err: the error of reading
// it), as the configuration convert would make of it. Its text is a line
// per error: file:line:column: message.
func checkDump(env Env, path string, src []byte, err error) checked {
	var cfg *model.Config
	de := &dumpError{name: path, err: err}
	if err == nil {
		var t *lvs.Table
		if t, err = ipvsadmNames(env, false).ParseSave(bytes.NewReader(src), path); err == nil {
			cfg = model.FromTable(t)
		}
		de = &dumpError{name: path, src: src, err: err}
	}
	return checked{
		cfg:  cfg,
		dump: true,
		writeText: func(w io.Writer) {
			if err != nil {
				de.writeText(w)
			}
		},
		diagnostics: de.diagnostics,
	}
}

// A dumpError is a saved table that could not be read, with what it held,
// to show its problems with their source.
type dumpError struct {
	name string
	src  []byte // nil when the table is lvsctl's JSON
	err  error
}

func (e *dumpError) Error() string { return e.err.Error() }

// writeText writes the problems as text: a dump's each with its line
// under it.
func (e *dumpError) writeText(w io.Writer) {
	if !writeIpvsadmErrors(w, e.err) {
		fmt.Fprintf(w, "Error: %s\n", e.err)
	}
}
func (e *dumpError) Unwrap() error { return e.err }

func (e *dumpError) diagnostics() diag.Diagnostics {
	if e.err == nil {
		return nil
	}
	if e.src == nil {
		return diag.Diagnostics{{Severity: diag.Error, Summary: "Cannot read the saved table", Detail: diag.Sentence(e.err.Error())}}
	}
	return ipvsadm.Diagnostics(e.name, e.src, e.err)
}
