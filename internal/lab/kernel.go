package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Kernel is a Debian kernel unpacked in the cache.
type Kernel struct {
	Version string // uname -r, such as "6.1.0-56-amd64"
	Image   string // path of vmlinuz
	Modules string // path of lib/modules/VERSION, indexed by depmod
}

// CacheDir returns the lab's cache directory: $LVSCTL_LAB_CACHE, or
// $HOME/.cache/lvsctl-lab.
func CacheDir() (string, error) {
	if d := os.Getenv("LVSCTL_LAB_CACHE"); d != "" {
		return filepath.Abs(d)
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory: set LVSCTL_LAB_CACHE (%w)", err)
	}
	return filepath.Join(home, ".cache", "lvsctl-lab"), nil
}

// completeMark is written last into a kernel's directory, so that a download
// interrupted half-way is never mistaken for a kernel.
const completeMark = ".complete"

// EnsureKernel returns a kernel from the cache, downloading one first when
// the cache has none: the version in $LVSCTL_LAB_KERNEL, or else the newest
// cached kernel, or else the one Debian's linux-image-amd64 depends on. The
// download runs once even when several processes ask at the same time.
// Progress goes to log (which may be nil).
func EnsureKernel(ctx context.Context, log io.Writer) (*Kernel, error) {
	if log == nil {
		log = io.Discard
	}
	cache, err := CacheDir()
	if err != nil {
		return nil, err
	}
	want := os.Getenv("LVSCTL_LAB_KERNEL")
	if k := cachedKernel(cache, want); k != nil {
		return k, nil
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return nil, fmt.Errorf("creating the lab cache: %w", err)
	}
	unlock, err := lockFile(ctx, filepath.Join(cache, "download.lock"))
	if err != nil {
		return nil, err
	}
	defer unlock()
	// Someone else may have finished the download while we waited.
	if k := cachedKernel(cache, want); k != nil {
		return k, nil
	}
	return downloadKernel(ctx, cache, want, log)
}

// cachedKernel returns the cached kernel of that version, or the newest
// cached kernel when version is "", or nil.
func cachedKernel(cache, version string) *Kernel {
	dir := filepath.Join(cache, "kernels")
	var versions []string
	if version != "" {
		versions = []string{version}
	} else {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			versions = append(versions, e.Name())
		}
		slices.SortFunc(versions, compareVersions)
		slices.Reverse(versions)
	}
	for _, v := range versions {
		k := kernelAt(filepath.Join(dir, v), v)
		if _, err := os.Stat(filepath.Join(dir, v, completeMark)); err == nil {
			return k
		}
	}
	return nil
}

func kernelAt(dir, version string) *Kernel {
	return &Kernel{
		Version: version,
		Image:   filepath.Join(dir, "boot", "vmlinuz-"+version),
		Modules: filepath.Join(dir, "lib", "modules", version),
	}
}

// compareVersions orders "6.1.0-9-amd64" before "6.1.0-56-amd64": numbers
// compare as numbers.
func compareVersions(a, b string) int {
	pa, pb := versionPartRE.FindAllString(a, -1), versionPartRE.FindAllString(b, -1)
	for i := 0; i < len(pa) && i < len(pb); i++ {
		na, ea := strconv.Atoi(pa[i])
		nb, eb := strconv.Atoi(pb[i])
		if ea == nil && eb == nil {
			if na != nb {
				return na - nb
			}
			continue
		}
		if c := strings.Compare(pa[i], pb[i]); c != 0 {
			return c
		}
	}
	return len(pa) - len(pb)
}

var versionPartRE = regexp.MustCompile(`\d+|\D+`)

// kernelPackageRE matches Debian's versioned kernel image packages.
var kernelPackageRE = regexp.MustCompile(`^linux-image-(\d+\.\d+\.\d+-\d+-amd64)$`)

// debianKernelVersion asks apt which kernel version Debian ships now: the one
// the linux-image-amd64 metapackage depends on or, failing that, the newest
// linux-image-*-amd64 package apt knows.
func debianKernelVersion(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "apt-cache", "depends", "linux-image-amd64").Output()
	if err == nil {
		if v := parseDepends(out); v != "" {
			return v, nil
		}
	}
	out, err2 := exec.CommandContext(ctx, "apt-cache", "search", "--names-only", `^linux-image-[0-9.]+-[0-9]+-amd64$`).Output()
	if err2 == nil {
		var versions []string
		for _, line := range strings.Split(string(out), "\n") {
			name, _, _ := strings.Cut(line, " ")
			if m := kernelPackageRE.FindStringSubmatch(name); m != nil {
				versions = append(versions, m[1])
			}
		}
		if len(versions) > 0 {
			return slices.MaxFunc(versions, compareVersions), nil
		}
	}
	return "", fmt.Errorf("apt knows no linux-image-*-amd64 package (apt-cache: %v); run apt-get update, or set LVSCTL_LAB_KERNEL_DEB to a downloaded linux-image .deb", errors.Join(err, err2))
}

// parseDepends picks the kernel version out of "apt-cache depends
// linux-image-amd64" output ("  Depends: linux-image-6.1.0-56-amd64").
func parseDepends(out []byte) string {
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && strings.TrimPrefix(f[0], "|") == "Depends:" {
			if m := kernelPackageRE.FindStringSubmatch(f[1]); m != nil {
				return m[1]
			}
		}
	}
	return ""
}

// downloadKernel fetches, unpacks and indexes a kernel into the cache. It
// works in a scratch directory next to the final one and renames it into
// place, so a failure leaves nothing half-done behind.
func downloadKernel(ctx context.Context, cache, version string, log io.Writer) (*Kernel, error) {
	tmp, err := os.MkdirTemp(cache, "download-")
	if err != nil {
		return nil, fmt.Errorf("creating a download directory: %w", err)
	}
	defer os.RemoveAll(tmp)

	deb := os.Getenv("LVSCTL_LAB_KERNEL_DEB")
	if deb == "" {
		if version == "" {
			if version, err = debianKernelVersion(ctx); err != nil {
				return nil, err
			}
		}
		pkg := "linux-image-" + version
		fmt.Fprintf(log, "lab: downloading %s with apt-get (once; cached in %s)\n", pkg, cache)
		// apt's sandbox user cannot write into root's cache; let it.
		_ = os.Chmod(tmp, 0o777)
		if err := run(ctx, tmp, "apt-get", "download", pkg); err != nil {
			return nil, fmt.Errorf("downloading %s: %w (is apt-get update done? is %s still in the archive? LVSCTL_LAB_KERNEL picks another version)", pkg, err, pkg)
		}
		debs, _ := filepath.Glob(filepath.Join(tmp, pkg+"_*.deb"))
		if len(debs) != 1 {
			return nil, fmt.Errorf("apt-get download %s left %d .deb files, want 1", pkg, len(debs))
		}
		deb = debs[0]
	}
	root := filepath.Join(tmp, "root")
	fmt.Fprintf(log, "lab: unpacking %s\n", filepath.Base(deb))
	if err := run(ctx, tmp, "dpkg-deb", "-x", deb, root); err != nil {
		return nil, fmt.Errorf("unpacking %s: %w", deb, err)
	}
	found, _ := filepath.Glob(filepath.Join(root, "boot", "vmlinuz-*"))
	if len(found) != 1 {
		return nil, fmt.Errorf("%s holds %d kernel images (boot/vmlinuz-*), want 1", deb, len(found))
	}
	got := strings.TrimPrefix(filepath.Base(found[0]), "vmlinuz-")
	if version != "" && got != version {
		return nil, fmt.Errorf("%s holds kernel %s, but %s was asked for", deb, got, version)
	}
	version = got
	if err := run(ctx, tmp, "depmod", "-b", root, version); err != nil {
		return nil, fmt.Errorf("indexing the modules of %s: %w", version, err)
	}
	if err := os.WriteFile(filepath.Join(root, completeMark), nil, 0o644); err != nil {
		return nil, err
	}
	final := filepath.Join(cache, "kernels", version)
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return nil, err
	}
	_ = os.RemoveAll(final) // an incomplete earlier attempt
	if err := os.Rename(root, final); err != nil {
		return nil, fmt.Errorf("moving the kernel into the cache: %w", err)
	}
	fmt.Fprintf(log, "lab: kernel %s ready in %s\n", version, final)
	return kernelAt(final, version), nil
}

// run runs a helper program, returning its stderr in the error.
func run(ctx context.Context, dir, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return fmt.Errorf("%s: %w: %s", name, err, msg)
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}
