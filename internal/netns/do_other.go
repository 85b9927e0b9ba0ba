//go:build !linux

package netns

import "errors"

// Do runs fn; network namespaces exist on Linux only, so a path other than
// "" is an error.
func Do(path string, fn func() error) error {
	if path != "" {
		return errors.New("network namespaces exist on Linux only")
	}
	return fn()
}
