package config

import (
	"strconv"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/lvsctl/lvsctl/lvs"
)

// manageForwarding is the sysctl block's switch for the forwarding
// settings that NAT needs (see model.SetSysctls).
const manageForwarding = "manage_forwarding"

// sysctlSchema is the sysctl block's: one optional attribute per key of
// lvs.Sysctls, and manage_forwarding. Content reports any other attribute
// as unsupported, with hcl's "Did you mean" for a misspelt one.
var sysctlSchema = func() *hcl.BodySchema {
	s := &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: manageForwarding}}}
	for _, k := range lvs.SysctlKeys {
		s.Attributes = append(s.Attributes, hcl.AttributeSchema{Name: k})
	}
	return s
}()

// buildSysctls reads the sysctl block: each key a whole number in the
// kernel setting's range, manage_forwarding a bool.
func (b *builder) buildSysctls(sb *sysctlBlock) {
	content, diags := sb.Body.Content(sysctlSchema)
	b.diags = append(b.diags, dedup(diags)...)
	if content == nil {
		return
	}
	for name, a := range content.Attributes {
		r := a.Expr.Range()
		if name == manageForwarding {
			v, ds := decodeScalar[bool](a.Expr)
			if ds.HasErrors() {
				b.errorAt(r, "Invalid manage_forwarding", "manage_forwarding is true (lvsctl sets the forwarding that NAT needs: net.ipv4.ip_forward, net.ipv6.conf.all.forwarding) or false (they are managed elsewhere)")
				continue
			}
			if on, ok := v.(bool); ok {
				b.forwardingUnmanaged = !on
			}
			continue
		}
		info, _ := lvs.LookupSysctlKey(name)
		v, ds := decodeScalar[int64](a.Expr)
		if ds.HasErrors() {
			// decodeScalar's message says a number is required; say
			// which numbers.
			b.errorAt(r, "Invalid sysctl value", "%s sets %s, a whole number from %d to %d", name, info.Name, info.Min, info.Max)
			continue
		}
		n, ok := v.(int64)
		if !ok {
			continue // null: as if absent
		}
		if n < info.Min || n > info.Max {
			b.errorAt(r, "Invalid sysctl value", "%s sets %s, a whole number from %d to %d, not %d", name, info.Name, info.Min, info.Max, n)
			continue
		}
		b.sysctls = append(b.sysctls, lvs.Sysctl{Name: info.Name, Value: strconv.FormatInt(n, 10)})
	}
}

// sysctls writes the sysctl block of cfg: the settings its
// configuration named (those its forwarding needs are not written: they
// follow from the services when the file is read) and manage_forwarding
// when it is off.
func (wr *writer) sysctls(body *wbody, named []lvs.Sysctl, unmanaged bool) {
	sb := wr.block(body, "sysctl", nil, "sysctl")
	for _, s := range named {
		info, _ := lvs.LookupSysctl(s.Name)
		n, _ := strconv.ParseInt(s.Value, 10, 64)
		wr.attr(sb, num(n), "sysctl", info.Key)
	}
	if unmanaged {
		wr.attr(sb, cty.False, "sysctl", manageForwarding)
	}
}

// namedSysctls are the settings of t that a configuration names, in
// order: those with no reason of their own (see lvs.Sysctl).
func namedSysctls(t *lvs.Table) []lvs.Sysctl {
	var out []lvs.Sysctl
	for _, s := range t.Sysctls {
		if info, ok := lvs.LookupSysctl(s.Name); ok && info.Key != "" && s.Reason == "" {
			out = append(out, s)
		}
	}
	return out
}
