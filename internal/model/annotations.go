package model

import (
	"iter"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Annotations are what a converter adds to a configuration it writes
// beyond its values: comment lines above blocks and attributes, and the
// order in which to write the virtual and real servers. A source that
// converts (lvscf) makes them; a writer (config.Write) follows them.
//
// A place is named by a path of block types, labels and attribute names,
// as in ("virtual_server", "web", "real_server", "real1", "weight") or
// ("pulse", "keepalive"); see [Annotations.Add]. Comments for a place that
// is not written (an attribute left at its default, say) go to the nearest
// enclosing place that is, so that none is lost.
type Annotations struct {
	// Header and Footer are comment lines at the top and the end of the
	// file.
	Header, Footer []string
	// Order lists virtual server names in the order to write them; names
	// not listed follow in the table's order.
	Order []string
	// RealOrder lists, per virtual server name, its real server names in
	// the order to write them.
	RealOrder map[string][]string

	before map[string][]string // by PathKey
}

// Add puts comment lines above the place named by path. A line that does
// not start with "#" is written as "# " and the line; a text with newlines
// is several lines.
func (a *Annotations) Add(text string, path ...string) {
	if a.before == nil {
		a.before = map[string][]string{}
	}
	k := PathKey(path...)
	a.before[k] = append(a.before[k], strings.Split(text, "\n")...)
}

// Comments returns the lines added above path.
func (a *Annotations) Comments(path ...string) []string {
	if a == nil {
		return nil
	}
	return a.before[PathKey(path...)]
}

// Places yields the [PathKey] of each place that has comments, and its
// lines, in no particular order.
func (a *Annotations) Places() iter.Seq2[string, []string] {
	if a == nil {
		return maps.All(map[string][]string(nil))
	}
	return maps.All(a.before)
}

// PathSep separates the names of a place in its [PathKey]: a byte that no
// name contains (lvsctl's names have no control characters).
const PathSep = '\x00'

// PathKey is the key of the place named by path: its names joined with
// [PathSep]. The key of an enclosing place is a prefix of it, up to a
// PathSep.
func PathKey(path ...string) string { return strings.Join(path, string(PathSep)) }

// CheckPath names the place of check i (0 for the first) of the real
// server whose place is rp: its health_check block, and for a further
// check the health_check block and its number ("health_check", "2"), a
// place whose comments go to the first block's when it is not written.
func CheckPath(rp []string, i int) []string {
	p := append(slices.Clone(rp), "health_check")
	if i > 0 {
		p = append(p, strconv.Itoa(i+1))
	}
	return p
}
