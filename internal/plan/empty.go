package plan

import "github.com/lvsctl/lvsctl/lvs"

// ManagedServices returns how many services of t ignore leaves to lvsctl:
// those that ignore does not select. A nil table has none.
func ManagedServices(t *lvs.Table, ignore lvs.Ignore) int {
	if t == nil {
		return 0
	}
	n := 0
	for _, s := range t.Services {
		if ignore.IsZero() || !ignore.Matches(s.Key) {
			n++
		}
	}
	return n
}

// DeletesEverything reports whether converging live to desired would delete
// services and leave none that lvsctl manages: live has at least one service
// that desired.Ignore does not select, and desired has no service that
// desired.Ignore does not select. That is what a configuration truncated to
// nothing, or with every virtual server commented out, asks for; callers
// refuse it unless told otherwise. A configuration that replaces every live
// service with new ones is not this case, nor is an empty configuration on
// a table with no managed services (there is nothing to delete).
//
// Only services count: timeouts, real servers and the drain option do not
// matter (with drain the first plan may only drain; where it ends is the
// same). Services that desired.Ignore selects (kube-proxy's, say) are never
// counted, in live or in desired, since [Diff] neither deletes nor adds
// them. A nil table counts as one with no services and no ignore block.
// When it is true, ManagedServices(live, desired.Ignore) services would be
// deleted. It is pure.
func DeletesEverything(live, desired *lvs.Table) bool {
	var ignore lvs.Ignore
	if desired != nil {
		ignore = desired.Ignore
	}
	return ManagedServices(live, ignore) > 0 && ManagedServices(desired, ignore) == 0
}
