// Package netns names network namespaces the way --netns spells them and
// runs code inside one. It is the one place where lvsctl moves a thread
// into another namespace.
package netns

import (
	"fmt"
	"strings"
)

// Path returns the namespace file for a --netns value: "" for the calling
// thread's own namespace, a value with a slash as the path it is, and any
// other value as a name under /run/netns, as "ip netns" keeps them.
func Path(netns string) (string, error) {
	switch {
	case netns == "":
		return "", nil
	case strings.Contains(netns, "/"):
		return netns, nil
	case netns == "." || netns == "..":
		return "", fmt.Errorf("%q is not a network namespace name", netns)
	}
	return "/run/netns/" + netns, nil
}
