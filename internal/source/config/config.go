// Package config is the HCL source of lvsctl's configuration: it reads
// lvsctl's HCL into a [model.Config], and [Write] writes a model.Config
// back as HCL (lvsctl convert uses it for lvs.cf files and ipvsadm dumps).
// The other sources, such as lvscf, produce the same model; nothing
// outside the sources and cmd imports this package.
//
// A configuration is one file, or a directory whose *.hcl files are read in
// name order and merged. Everything wrong with it is reported at once, as
// [hcl.Diagnostics] whose Subject points at the offending value, so that
// `lvsctl validate` can show the file, line and source text of each
// problem. A configuration with errors yields no model: nothing is applied
// from a file that is partly wrong.
//
// Defaults are not decided here: the table is built from what the file says
// and then [lvs.Table.Normalize]d, the one place defaults live. The only
// defaults this package supplies are the ones that belong to the syntax:
// protocol tcp, forwarding nat, weight 1, a persistence timeout of 360s
// (what ipvsadm -p gives), and a real server port equal to the virtual port.
//
// Beside the table, a configuration carries what `lvsctl check` and
// `lvsctl pulse` act on: per virtual server a health_check (overridable per
// real server), a sorry_server and a vip block, in [model.Config.Services]
// by virtual server name, and a top-level pulse block in
// [model.Config.Pulse]. They never change the table.
package config

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/lvsctl/lvsctl/internal/quote"
	"github.com/lvsctl/lvsctl/internal/regular"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/lvsctl/lvsctl/internal/model"
)

// Load reads the configuration at path: one HCL file, or a directory whose
// *.hcl files are merged in name order. It returns the configuration, nil
// when the diagnostics have errors, and the files read by name, for
// [WriteDiagnostics] to show the source lines of the diagnostics.
func Load(path string) (*model.Config, map[string]*hcl.File, hcl.Diagnostics) {
	cfg, files, diags, fast := load(path, true)
	if len(diags) > 0 && fast {
		// Messages and their context come from hclsyntax alone.
		cfg, files, diags, _ = load(path, false)
	}
	return cfg, files, diags
}

// load is Load, with fastDecode allowed or not; fast reports whether it
// decoded the files.
func load(path string, allowFast bool) (cfg *model.Config, files map[string]*hcl.File, diags hcl.Diagnostics, fast bool) {
	p := hclparse.NewParser()
	fi, err := os.Stat(path)
	if err != nil {
		return nil, p.Files(), hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read the configuration",
			Detail:   readDetail(err),
		}}, false
	}
	names := []string{path}
	if fi.IsDir() {
		// Glob sorts, so a conf.d directory merges in a stable order.
		names, _ = filepath.Glob(filepath.Join(globEscape(path), "*.hcl"))
		if len(names) == 0 {
			return nil, p.Files(), hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "No configuration files",
				Detail:   fmt.Sprintf("The directory %s has no *.hcl files; name the configuration files NAME.hcl or pass a file.", path),
			}}, false
		}
	}
	var srcs [][]byte
	var used budget
	for _, name := range names {
		src, err := readLimited(name, MaxFileSize-used.size)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Cannot read the configuration",
				Detail:   readDetail(err),
			})
			continue
		}
		if ds := checkLimits(src, name, &used); ds.HasErrors() {
			// Not parsed: the file is kept for the diagnostic's source line.
			p.AddFile(name, &hcl.File{Body: hcl.EmptyBody(), Bytes: src})
			diags = append(diags, ds...)
			break
		}
		srcs = append(srcs, src)
	}
	if diags.HasErrors() {
		return nil, p.Files(), limitDiags(sortDiags(diags)), false
	}
	cfg, diags, fast = decodeSources(p, names, srcs, allowFast)
	return cfg, p.Files(), limitDiags(diags), fast
}

// decodeSources parses and decodes the files names, whose contents are
// srcs, adding them to p: straight into the schema (fastDecode) when
// allowFast and every file allows it, which fast reports, and otherwise
// through hclsyntax.
func decodeSources(p *hclparse.Parser, names []string, srcs [][]byte, allowFast bool) (cfg *model.Config, diags hcl.Diagnostics, fast bool) {
	if allowFast && !fastDisabled {
		if fb := fastDecodeAll(names, srcs); fb != nil {
			for i, name := range names {
				// The file as the diagnostics writer needs it: a
				// file with a problem is parsed again with hclsyntax.
				p.AddFile(name, &hcl.File{Body: hcl.EmptyBody(), Bytes: srcs[i]})
			}
			cfg, diags = build(fb)
			return cfg, diags, true
		}
	}
	var parsed []*hcl.File
	for i, name := range names {
		f, ds := parseSyntax(srcs[i], name)
		p.AddFile(name, f)
		diags = append(diags, ds...)
		parsed = append(parsed, f)
	}
	if diags.HasErrors() {
		return nil, sortDiags(diags), false
	}
	cfg, diags = decode(parsed)
	return cfg, diags, false
}

// Parse reads one configuration from src; filename names it in
// diagnostics. It returns what [Load] does.
func Parse(src []byte, filename string) (*model.Config, map[string]*hcl.File, hcl.Diagnostics) {
	cfg, files, diags, fast := parse(src, filename, true)
	if len(diags) > 0 && fast {
		cfg, files, diags, _ = parse(src, filename, false)
	}
	return cfg, files, diags
}

func parse(src []byte, filename string, allowFast bool) (*model.Config, map[string]*hcl.File, hcl.Diagnostics, bool) {
	p := hclparse.NewParser()
	if ds := checkLimits(src, filename, &budget{}); ds.HasErrors() {
		p.AddFile(filename, &hcl.File{Body: hcl.EmptyBody(), Bytes: src})
		return nil, p.Files(), ds, false
	}
	cfg, diags, fast := decodeSources(p, []string{filename}, [][]byte{src}, allowFast)
	return cfg, p.Files(), limitDiags(diags), fast
}

// readLimited reads the file name, refusing one larger than max bytes
// before reading it (the file may also grow while it is read).
func readLimited(name string, max int) ([]byte, error) {
	f, fi, err := regular.Open(name, 0)
	var nr *regular.NotRegularError
	if errors.As(err, &nr) {
		return nil, fmt.Errorf("%v; give the configuration file itself", err)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi.Size() > int64(max) {
		return nil, fmt.Errorf("the file %s is %d bytes, and lvsctl reads a configuration of at most %s (a 10,000-service configuration is 4.2 MB); check that it is the file you meant", name, fi.Size(), quote.Size(MaxFileSize))
	}
	src, err := regular.ReadAll(f, fi, int64(max))
	if errors.Is(err, regular.ErrTooLarge) {
		return nil, fmt.Errorf("the file %s makes the configuration more than %s, the most lvsctl reads; check that it is the file you meant", name, quote.Size(MaxFileSize))
	}
	return src, err
}

// readDetail is the detail of a diagnostic about a file that could not be
// read: "reading lvsctl.hcl: permission denied", as the system says it, or
// lvsctl's own sentence.
func readDetail(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return regular.Reading(err).Error()
	}
	return sentence(err.Error())
}

// decode builds the configuration from the parsed files; it is nil when
// the diagnostics have errors.
func decode(files []*hcl.File) (*model.Config, hcl.Diagnostics) {
	bodies := make([]hcl.Body, 0, len(files))
	for _, f := range files {
		bodies = append(bodies, f.Body)
	}
	body := bodies[0]
	if len(bodies) > 1 {
		body = hcl.MergeBodies(bodies)
	}
	var fb fileBlock
	b := &builder{}
	b.diags = dedup(decodeBody(body, &fb))
	b.decoded = len(b.diags)
	return b.finish(&fb)
}

// build builds the configuration from fb, decoded without a diagnostic.
func build(fb *fileBlock) (*model.Config, hcl.Diagnostics) {
	return (&builder{}).finish(fb)
}

// finish builds the configuration from fb and what b has found so far.
func (b *builder) finish(fb *fileBlock) (*model.Config, hcl.Diagnostics) {
	t, drain := b.build(fb)
	if b.diags.HasErrors() {
		return nil, sortDiags(b.diags)
	}
	model.SetSysctls(t, b.sysctls, b.forwardingUnmanaged)
	t.Normalize()
	cfg := &model.Config{Table: t, DrainTimeout: drain, Pulse: b.pulse, ForwardingUnmanaged: b.forwardingUnmanaged}
	if len(b.services) > 0 {
		cfg.Services = b.services
	}
	return cfg, sortDiags(b.diags)
}

// sortDiags orders diagnostics by position, so that a file's problems read
// top to bottom whatever order they were found in (gohcl walks attributes
// in map order).
func sortDiags(diags hcl.Diagnostics) hcl.Diagnostics {
	slices.SortStableFunc(diags, func(a, b *hcl.Diagnostic) int {
		switch {
		case a.Subject == nil && b.Subject == nil:
			return 0
		case a.Subject == nil:
			return -1
		case b.Subject == nil:
			return 1
		}
		if c := cmp.Compare(a.Subject.Filename, b.Subject.Filename); c != 0 {
			return c
		}
		return cmp.Compare(a.Subject.Start.Byte, b.Subject.Start.Byte)
	})
	return diags
}

// globEscape quotes the glob metacharacters in a directory name.
func globEscape(dir string) string {
	out := make([]byte, 0, len(dir))
	for i := 0; i < len(dir); i++ {
		switch dir[i] {
		case '*', '?', '[', '\\':
			out = append(out, '\\')
		}
		out = append(out, dir[i])
	}
	return string(out)
}
