package lab

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// requiredModules are loaded at boot; the lab fails to build when the kernel
// has none of them (neither as a module nor built in).
var requiredModules = []string{
	"ip_vs",
	"ip_vs_rr", "ip_vs_wrr", "ip_vs_lc", "ip_vs_wlc", "ip_vs_lblc", "ip_vs_lblcr",
	"ip_vs_dh", "ip_vs_sh", "ip_vs_sed", "ip_vs_nq", "ip_vs_fo", "ip_vs_ovf", "ip_vs_mh",
	"ip_vs_pe_sip",
	"nf_conntrack", "nf_nat",
	"veth", "bridge", "dummy",
	"ipip", "tunnel4", "ip_tunnel", "fou", "fou6", "ip_gre", "gre", "ip6_tunnel", "ip6_gre",
	"sctp",
}

// optionalModules are loaded when the kernel has them: twos arrived in Linux
// 6.7, and ip_vs_ftp is only needed for FTP services.
var optionalModules = []string{"ip_vs_twos", "ip_vs_ftp"}

// moduleIndex is what depmod knows about a kernel's modules.
type moduleIndex struct {
	paths   map[string]string   // module name -> path relative to the modules directory
	deps    map[string][]string // module name -> dependency names, as modules.dep lists them
	softPre map[string][]string // module name -> names or aliases to load before it
	aliases map[string][]string // alias -> module names
	builtin map[string]bool
}

// modName turns a module path or name into the kernel's module name:
// "kernel/net/ipv4/ip_gre.ko" -> "ip_gre"; dashes and underscores are the
// same to the kernel.
func modName(p string) string {
	b := path.Base(p)
	for _, ext := range []string{".ko.xz", ".ko.zst", ".ko.gz", ".ko"} {
		if strings.HasSuffix(b, ext) {
			b = strings.TrimSuffix(b, ext)
			break
		}
	}
	return strings.ReplaceAll(b, "-", "_")
}

// readModuleIndex reads modules.dep, modules.softdep, modules.alias and
// modules.builtin from dir (lib/modules/VERSION). Only modules.dep is
// mandatory: it is what "depmod" writes.
func readModuleIndex(dir string) (*moduleIndex, error) {
	idx := &moduleIndex{
		paths: map[string]string{}, deps: map[string][]string{},
		softPre: map[string][]string{}, aliases: map[string][]string{}, builtin: map[string]bool{},
	}
	files := []struct {
		name     string
		optional bool
		parse    func(io.Reader) error
	}{
		{"modules.dep", false, idx.parseDep},
		{"modules.softdep", true, idx.parseSoftdep},
		{"modules.alias", true, idx.parseAlias},
		{"modules.builtin", true, idx.parseBuiltin},
	}
	for _, f := range files {
		r, err := os.Open(filepath.Join(dir, f.name))
		if err != nil {
			if f.optional && os.IsNotExist(err) {
				continue
			}
			return nil, fmt.Errorf("reading the module index: %w (run depmod -b ROOT VERSION first)", err)
		}
		err = f.parse(r)
		r.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, f.name), err)
		}
	}
	return idx, nil
}

// eachLine calls fn with every non-empty, non-comment line of r and its number.
func eachLine(r io.Reader, fn func(n int, line string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := fn(n, line); err != nil {
			return err
		}
	}
	return sc.Err()
}

// parseDep reads "kernel/a.ko: kernel/b.ko kernel/c.ko" lines.
func (idx *moduleIndex) parseDep(r io.Reader) error {
	return eachLine(r, func(n int, line string) error {
		mod, deps, ok := strings.Cut(line, ":")
		if !ok {
			return fmt.Errorf("line %d: want \"module.ko: deps...\", got %q", n, line)
		}
		name := modName(mod)
		idx.paths[name] = strings.TrimSpace(mod)
		var names []string
		for _, d := range strings.Fields(deps) {
			names = append(names, modName(d))
		}
		idx.deps[name] = names
		return nil
	})
}

// parseSoftdep reads "softdep libcrc32c pre: crc32c post: x" lines; only the
// "pre:" part matters for loading in order.
func (idx *moduleIndex) parseSoftdep(r io.Reader) error {
	return eachLine(r, func(n int, line string) error {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "softdep" {
			return nil
		}
		name := modName(f[1])
		pre := false
		for _, w := range f[2:] {
			switch w {
			case "pre:":
				pre = true
			case "post:":
				pre = false
			default:
				if pre {
					idx.softPre[name] = append(idx.softPre[name], w)
				}
			}
		}
		return nil
	})
}

// parseAlias reads "alias NAME module" lines, keeping exact aliases only:
// wildcard aliases are for hardware matching, which the lab never needs.
func (idx *moduleIndex) parseAlias(r io.Reader) error {
	return eachLine(r, func(n int, line string) error {
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != "alias" || strings.ContainsAny(f[1], "*?[") {
			return nil
		}
		idx.aliases[f[1]] = append(idx.aliases[f[1]], modName(f[2]))
		return nil
	})
}

func (idx *moduleIndex) parseBuiltin(r io.Reader) error {
	return eachLine(r, func(n int, line string) error {
		idx.builtin[modName(line)] = true
		return nil
	})
}

// loadStep is one module to insert at boot, in order.
type loadStep struct {
	Name string
	Path string // relative to lib/modules/VERSION
	// Soft steps come from soft dependencies (such as the crc32c
	// implementations libcrc32c asks for); one of several may fail to load
	// on a given CPU without harm.
	Soft bool
}

// loadOrder returns the modules to insert so that every module comes after
// what it depends on: the required modules (an error if the kernel has one
// neither as a module nor built in), the optional ones it has, and their
// hard and soft dependencies. Built-in modules are left out.
func (idx *moduleIndex) loadOrder(required, optional []string) ([]loadStep, error) {
	var order []loadStep
	pos := map[string]int{} // name -> index in order
	visiting := map[string]bool{}

	var visit func(name string, soft bool)
	visit = func(name string, soft bool) {
		if idx.builtin[name] {
			return
		}
		if i, ok := pos[name]; ok {
			if !soft {
				order[i].Soft = false
			}
			return
		}
		if visiting[name] {
			return // a dependency cycle; depmod refuses those, so this is only a guard
		}
		p, ok := idx.paths[name]
		if !ok {
			return
		}
		visiting[name] = true
		for _, pre := range idx.softPre[name] {
			for _, m := range idx.resolve(pre) {
				visit(m, true)
			}
		}
		// modules.dep lists dependencies so that loading from the last one
		// to the first satisfies each in turn, as modprobe does.
		deps := idx.deps[name]
		for i := len(deps) - 1; i >= 0; i-- {
			visit(deps[i], soft)
		}
		visiting[name] = false
		pos[name] = len(order)
		order = append(order, loadStep{Name: name, Path: p, Soft: soft})
	}

	var missing []string
	for _, name := range required {
		name = modName(name)
		if _, ok := idx.paths[name]; !ok && !idx.builtin[name] {
			missing = append(missing, name)
			continue
		}
		visit(name, false)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("the kernel has no module %s (neither in modules.dep nor in modules.builtin); use a kernel with IPVS and tunnels, such as Debian's linux-image-*-amd64", strings.Join(missing, ", "))
	}
	for _, name := range optional {
		visit(modName(name), false)
	}
	return order, nil
}

// resolve turns a module name or alias into module names.
func (idx *moduleIndex) resolve(name string) []string {
	if n := modName(name); idx.paths[n] != "" || idx.builtin[n] {
		return []string{n}
	}
	return idx.aliases[name]
}
