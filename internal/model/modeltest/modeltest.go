// Package modeltest holds what tests of the configuration sources share
// to compare model values.
package modeltest

import (
	"net/netip"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// CmpOptions compare model.Config and lvs.Table values with go-cmp: the
// netip types by value, and an empty slice or map as equal to nil (a
// source may build either).
var CmpOptions = cmp.Options{
	cmpopts.EquateComparable(netip.Addr{}, netip.AddrPort{}, netip.Prefix{}),
	cmpopts.EquateEmpty(),
}
