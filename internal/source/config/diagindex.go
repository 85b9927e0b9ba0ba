package config

import (
	"slices"

	"github.com/hashicorp/hcl/v2"
)

// A spanSet holds byte ranges of one file and answers whether one of them
// lies within a given range, in logarithmic time: a file with a hundred
// thousand errors made the linear scans of dedup and hasError quadratic.
// The starts of the ranges that will be added must be given up front.
type spanSet struct {
	starts []int // sorted, distinct
	// tree is a Fenwick tree over the starts in reverse order, holding the
	// least end of the ranges added at or after each start.
	tree []int
}

const noEnd = int(^uint(0) >> 1)

func newSpanSet(starts []int) *spanSet {
	slices.Sort(starts)
	starts = slices.Compact(starts)
	tree := make([]int, len(starts)+1)
	for i := range tree {
		tree[i] = noEnd
	}
	return &spanSet{starts: starts, tree: tree}
}

// add adds the range [start, end); start must be one given to newSpanSet.
func (s *spanSet) add(start, end int) {
	i, _ := slices.BinarySearch(s.starts, start)
	for p := len(s.starts) - i; p < len(s.tree); p += p & -p {
		s.tree[p] = min(s.tree[p], end)
	}
}

// within reports whether a range added lies within [start, end): one that
// starts at or after start and ends at or before end (a range ends no
// earlier than it starts).
func (s *spanSet) within(start, end int) bool {
	i, _ := slices.BinarySearch(s.starts, start)
	least := noEnd
	for p := len(s.starts) - i; p > 0; p -= p & -p {
		least = min(least, s.tree[p])
	}
	return least <= end
}

// rangeKey identifies a diagnostic's range.
type rangeKey struct {
	file       string
	start, end int
	sev        hcl.DiagnosticSeverity
}

func keyOf(r *hcl.Range, sev hcl.DiagnosticSeverity) rangeKey {
	return rangeKey{r.Filename, r.Start.Byte, r.End.Byte, sev}
}

// fileSev groups the ranges a spanSet holds.
type fileSev struct {
	file string
	sev  hcl.DiagnosticSeverity
}

// dedup drops errors about a value that an earlier error already covers:
// hcl reports a variable reference both as not allowed and as an unknown
// value of the wrong type, and the second says nothing new. A diagnostic
// goes when one kept before it, of the same severity, has the same subject
// or a subject within its context.
func dedup(diags hcl.Diagnostics) hcl.Diagnostics {
	starts := map[fileSev][]int{}
	for _, d := range diags {
		if d.Subject != nil {
			k := fileSev{d.Subject.Filename, d.Severity}
			starts[k] = append(starts[k], d.Subject.Start.Byte)
		}
	}
	sets := make(map[fileSev]*spanSet, len(starts))
	for k, s := range starts {
		sets[k] = newSpanSet(s)
	}
	kept := map[rangeKey]bool{}
	var out hcl.Diagnostics
	for _, d := range diags {
		if d.Subject != nil {
			if kept[keyOf(d.Subject, d.Severity)] {
				continue
			}
			if c := d.Context; c != nil {
				if s := sets[fileSev{c.Filename, d.Severity}]; s != nil && s.within(c.Start.Byte, c.End.Byte) {
					continue
				}
			}
			kept[keyOf(d.Subject, d.Severity)] = true
			sets[fileSev{d.Subject.Filename, d.Severity}].add(d.Subject.Start.Byte, d.Subject.End.Byte)
		}
		out = append(out, d)
	}
	return out
}

// errorIndex is what builder.hasError looks errors up in.
type errorIndex struct {
	// decoded holds the subjects of the errors of decoding, by file.
	decoded map[string]*spanSet
	// subjects holds the subjects of b.diags[:indexed] that are errors.
	subjects map[rangeKey]bool
	indexed  int
}

// hasError reports whether an error already points at r. The errors of
// decoding (a wrong type, a variable) point somewhere inside the value; the
// later ones point at the whole value or at a block.
func (b *builder) hasError(r hcl.Range) bool {
	x := &b.errIndex
	if x.subjects == nil {
		x.subjects = map[rangeKey]bool{}
		starts := map[string][]int{}
		for _, d := range b.diags[:b.decoded] {
			if d.Severity == hcl.DiagError && d.Subject != nil {
				starts[d.Subject.Filename] = append(starts[d.Subject.Filename], d.Subject.Start.Byte)
			}
		}
		x.decoded = make(map[string]*spanSet, len(starts))
		for f, s := range starts {
			x.decoded[f] = newSpanSet(s)
		}
		for _, d := range b.diags[:b.decoded] {
			if d.Severity == hcl.DiagError && d.Subject != nil {
				x.decoded[d.Subject.Filename].add(d.Subject.Start.Byte, d.Subject.End.Byte)
			}
		}
	}
	// Errors are only ever appended to b.diags: index the new ones.
	for _, d := range b.diags[x.indexed:] {
		if d.Severity == hcl.DiagError && d.Subject != nil {
			x.subjects[keyOf(d.Subject, hcl.DiagError)] = true
		}
	}
	x.indexed = len(b.diags)
	if x.subjects[keyOf(&r, hcl.DiagError)] {
		return true
	}
	s := x.decoded[r.Filename]
	return s != nil && s.within(r.Start.Byte, r.End.Byte)
}
