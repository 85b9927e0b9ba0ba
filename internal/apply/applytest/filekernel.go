package applytest

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"syscall"

	"github.com/lvsctl/lvsctl/internal/apply"
	"github.com/lvsctl/lvsctl/kernel"
	"github.com/lvsctl/lvsctl/lvs"
)

// FileKernel is a [Kernel] kept in a JSON [File], for CLI tests in which
// every command is a new process. Each call takes an flock on PATH.lock,
// loads the file, makes the call and, for a mutation, saves the file again,
// so that concurrent processes see each other's changes and staged faults
// ("fail" in the file) fire in the middle of an apply. A missing file is an
// empty kernel.
type FileKernel struct {
	path string
}

var _ apply.Kernel = (*FileKernel)(nil)

// OpenFile returns the kernel kept at path. The file need not exist yet,
// but if it does it must be a valid [File].
func OpenFile(path string) (*FileKernel, error) {
	if path == "" {
		return nil, errors.New("no fake kernel file given")
	}
	data, err := os.ReadFile(path)
	switch {
	case isNotExist(err):
	case err != nil:
		return nil, err
	default:
		f, err := decodeFile(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if err := New().setFile(f, path); err != nil {
			return nil, err
		}
	}
	return &FileKernel{path: path}, nil
}

// Path returns the file the kernel is kept in.
func (fk *FileKernel) Path() string { return fk.path }

// Close releases nothing: every call opens and closes the file itself.
func (fk *FileKernel) Close() error { return nil }

// Kernel returns the kernel as the file holds it now, for inspection.
func (fk *FileKernel) Kernel() (*Kernel, error) {
	var k *Kernel
	err := fk.with(syscall.LOCK_SH, func(kk *Kernel) (bool, error) {
		k = kk
		return false, nil
	})
	return k, err
}

// with runs f on the kernel loaded from the file under an flock of kind
// how, and saves the kernel afterwards if f says so (whatever f's error).
func (fk *FileKernel) with(how int, f func(*Kernel) (save bool, err error)) error {
	lf, err := os.OpenFile(fk.path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer lf.Close()
	if err := flock(lf, how); err != nil {
		return fmt.Errorf("lock %s: %w", lf.Name(), err)
	}
	k := New()
	if err := k.Load(fk.path); err != nil && !isNotExist(err) {
		return err
	}
	save, ferr := f(k)
	if save {
		if err := k.Save(fk.path); err != nil {
			return err
		}
	}
	return ferr
}

func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

func (fk *FileKernel) mutate(f func(*Kernel) error) error {
	return fk.with(syscall.LOCK_EX, func(k *Kernel) (bool, error) { return true, f(k) })
}

// Table returns the table in the file.
func (fk *FileKernel) Table() (*lvs.Table, error) {
	var t *lvs.Table
	err := fk.with(syscall.LOCK_SH, func(k *Kernel) (bool, error) {
		var err error
		t, err = k.Table()
		return false, err
	})
	return t, err
}

// AddService adds a service; see [Kernel.AddService].
func (fk *FileKernel) AddService(s lvs.Service) error {
	return fk.mutate(func(k *Kernel) error { return k.AddService(s) })
}

// EditService edits a service; see [Kernel.EditService].
func (fk *FileKernel) EditService(s lvs.Service) error {
	return fk.mutate(func(k *Kernel) error { return k.EditService(s) })
}

// DeleteService deletes a service; see [Kernel.DeleteService].
func (fk *FileKernel) DeleteService(key lvs.ServiceKey) error {
	return fk.mutate(func(k *Kernel) error { return k.DeleteService(key) })
}

// AddDest adds a destination; see [Kernel.AddDest].
func (fk *FileKernel) AddDest(key lvs.ServiceKey, d lvs.Dest) error {
	return fk.mutate(func(k *Kernel) error { return k.AddDest(key, d) })
}

// EditDest edits a destination; see [Kernel.EditDest].
func (fk *FileKernel) EditDest(key lvs.ServiceKey, d lvs.Dest) error {
	return fk.mutate(func(k *Kernel) error { return k.EditDest(key, d) })
}

// DeleteDest deletes a destination; see [Kernel.DeleteDest].
func (fk *FileKernel) DeleteDest(key lvs.ServiceKey, addr netip.AddrPort) error {
	return fk.mutate(func(k *Kernel) error { return k.DeleteDest(key, addr) })
}

// Sysctl returns the value of a kernel setting of the shared kernel.
func (fk *FileKernel) Sysctl(name string) (string, error) {
	var v string
	err := fk.with(syscall.LOCK_SH, func(k *Kernel) (bool, error) {
		var err error
		v, err = k.Sysctl(name)
		return false, err
	})
	return v, err
}

// SetSysctl writes a kernel setting of the shared kernel.
func (fk *FileKernel) SetSysctl(name, value string) error {
	return fk.mutate(func(k *Kernel) error { return k.SetSysctl(name, value) })
}

// SetTimeouts sets the connection timeouts; see [Kernel.SetTimeouts].
func (fk *FileKernel) SetTimeouts(t lvs.Timeouts) error {
	return fk.mutate(func(k *Kernel) error { return k.SetTimeouts(t) })
}

// Batching returns fk as an [apply.Batcher] that batches as the
// production kernel handle does, so that a CLI takes the same path with it
// as with the real kernel. fk itself does not batch.
func (fk *FileKernel) Batching() *BatchFileKernel { return &BatchFileKernel{fk} }

// A BatchFileKernel is a [FileKernel] that batches; see
// [FileKernel.Batching].
type BatchFileKernel struct {
	*FileKernel
}

var _ apply.Batcher = (*BatchFileKernel)(nil)

// Batch makes cs in one load and save of the file, batched as
// [BatchKernel.Batch] does. A file that cannot be read or written fails
// every change: then none was made.
func (b *BatchFileKernel) Batch(cs []kernel.Change) []error {
	fk := b.FileKernel
	var errs []error
	err := fk.mutate(func(k *Kernel) error {
		errs = k.batch(cs)
		return nil
	})
	if err != nil {
		errs = make([]error, len(cs))
		for i := range errs {
			errs[i] = err
		}
	}
	return errs
}

// SetConns sets a destination's connection counters in the file.
func (fk *FileKernel) SetConns(key lvs.ServiceKey, addr netip.AddrPort, active, inactive uint32) error {
	return fk.with(syscall.LOCK_EX, func(k *Kernel) (bool, error) {
		err := k.SetConns(key, addr, active, inactive)
		return err == nil, err
	})
}

// SeedSysctl sets or, with "", removes a kernel setting of the shared
// kernel; see [Kernel.SeedSysctl].
func (fk *FileKernel) SeedSysctl(name, value string) error {
	return fk.with(syscall.LOCK_EX, func(k *Kernel) (bool, error) {
		k.SeedSysctl(name, value)
		return true, nil
	})
}
