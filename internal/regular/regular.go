// Package regular opens the files lvsctl reads from outside — configurations,
// saved plans and tables, keys, state files — as regular files only.
//
// Opening a FIFO for reading blocks until someone opens it for writing, so
// a FIFO (or a device such as /dev/zero) where a file was expected would
// hang a one-shot command, or a daemon reloading its configuration. Open
// never blocks: it opens with O_NONBLOCK and refuses anything but a
// regular file before a byte is read.
package regular

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// NotRegularError is the refusal of a file that is not a regular one.
type NotRegularError struct {
	Path string
	Mode fs.FileMode
}

func (e *NotRegularError) Error() string {
	return fmt.Sprintf("%s is not a regular file (%s)", e.Path, Kind(e.Mode))
}

// Kind names the type of a file for people: "a named pipe", "a directory".
func Kind(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return m.Type().String()
}

// Open opens path read-only, with the extra open flags given (such as
// syscall.O_NOFOLLOW), without blocking, and returns it with its FileInfo.
// A file that is not regular is closed and refused with a
// *NotRegularError. Errors of the open itself are returned as they are, so
// that callers can tell fs.ErrNotExist and syscall.ELOOP apart.
func Open(path string, flag int) (*os.File, fs.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC|flag, 0)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, &NotRegularError{Path: path, Mode: fi.Mode()}
	}
	return f, fi, nil
}

// ErrTooLarge is the refusal of a file larger than the most its reader
// takes.
var ErrTooLarge = errors.New("larger than the most lvsctl reads")

// ReadAll reads f, opened by Open with fi, refusing with ErrTooLarge a
// file whose size is over max before reading it, and one that grew past
// max while it was read, having read max+1 bytes at most.
func ReadAll(f *os.File, fi fs.FileInfo, max int64) ([]byte, error) {
	if fi.Size() > max {
		return nil, ErrTooLarge
	}
	data := make([]byte, 0, fi.Size()+1)
	data, err := readFull(io.LimitReader(f, max+1), data)
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, ErrTooLarge
	}
	return data, nil
}

// readFull appends all of r to buf, as io.ReadAll does, but starting with
// buf's capacity (the file's size), so that a file is read without the
// doubling copies of a growing slice.
func readFull(r io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// Reading words err, a failure to open or read a file, as "reading PATH:
// what went wrong" when it is an *fs.PathError, whose own words ("open
// PATH: ...", "stat PATH: ...") name a system call; any other error is
// returned as it is. errors.Is still finds the errno.
func Reading(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("reading %s: %w", pe.Path, pe.Err)
	}
	return err
}
