package lab

import (
	"debug/elf"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// libraryDirs are where the dynamic loader of a Debian system looks for
// shared libraries, in its order. The guest gets every library at the path
// it has here, so the guest's loader finds it the same way.
var libraryDirs = []string{
	"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
	"/lib64", "/usr/lib64", "/lib", "/usr/lib",
}

// sharedLibraries returns the host paths of the dynamic loader and every
// shared library the ELF executable at file needs, transitively. A static
// executable, or a file that is not ELF (a script), needs none.
func sharedLibraries(file string) ([]string, error) {
	if ok, err := isELF(file); err != nil || !ok {
		return nil, err
	}
	var out []string
	seen := map[string]bool{}
	queue := []string{file}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		f, err := elf.Open(cur)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", cur, err)
		}
		needed, err := f.ImportedLibraries()
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("reading the shared libraries of %s: %w", cur, err)
		}
		dirs, err := searchDirs(f, cur)
		interp := interpreter(f)
		f.Close()
		if err != nil {
			return nil, err
		}
		if interp != "" && !seen[interp] {
			if _, err := os.Stat(interp); err != nil {
				return nil, fmt.Errorf("%s needs the dynamic loader %s: %w", cur, interp, err)
			}
			seen[interp] = true
			out = append(out, interp)
		}
		for _, lib := range needed {
			p, err := findLibrary(lib, dirs)
			if err != nil {
				return nil, fmt.Errorf("%s needs %s: %w", cur, lib, err)
			}
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
				queue = append(queue, p)
			}
		}
	}
	return out, nil
}

func isELF(file string) (bool, error) {
	f, err := os.Open(file)
	if err != nil {
		return false, err
	}
	defer f.Close()
	var magic [4]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil {
		return false, nil // shorter than any ELF file
	}
	return string(magic[:]) == elf.ELFMAG, nil
}

func interpreter(f *elf.File) string {
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b := make([]byte, p.Filesz)
			if _, err := p.ReadAt(b, 0); err != nil {
				return ""
			}
			return strings.TrimRight(string(b), "\x00")
		}
	}
	return ""
}

// searchDirs returns the binary's own RUNPATH/RPATH directories ($ORIGIN
// expanded) followed by the system directories.
func searchDirs(f *elf.File, file string) ([]string, error) {
	var dirs []string
	for _, tag := range []elf.DynTag{elf.DT_RUNPATH, elf.DT_RPATH} {
		vals, err := f.DynString(tag)
		if err != nil {
			return nil, fmt.Errorf("reading the library path of %s: %w", file, err)
		}
		for _, v := range vals {
			for _, d := range strings.Split(v, ":") {
				d = strings.ReplaceAll(d, "$ORIGIN", filepath.Dir(file))
				d = strings.ReplaceAll(d, "${ORIGIN}", filepath.Dir(file))
				if d != "" {
					dirs = append(dirs, d)
				}
			}
		}
	}
	return append(dirs, libraryDirs...), nil
}

func findLibrary(lib string, dirs []string) (string, error) {
	if strings.Contains(lib, "/") {
		if _, err := os.Stat(lib); err != nil {
			return "", err
		}
		return lib, nil
	}
	for _, d := range dirs {
		p := filepath.Join(d, lib)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("not found in %s", strings.Join(dirs, ", "))
}
