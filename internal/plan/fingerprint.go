package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strconv"

	"github.com/lvsctl/lvsctl/lvs"
)

// Fingerprint identifies the part of a live table that a plan depends on:
// the services that ignore does not select, their options, their
// destinations' addresses and options, the connection timeouts, and the
// kernel settings read with it. Names,
// counters and connection numbers are left out, so traffic does not make a
// saved plan stale, and so is the order of services and destinations.
//
// It is "sha256:" and the hex digest of a canonical text encoding of the
// lvs values, one line for the timeouts, each service and each of its
// destinations, services sorted by key and destinations by address:
//
//	sysctl <name> <value>   (only for a table read with its settings, by name)
//	timeouts <lvs.Timeouts>
//	unknown <lvs.Unknown>      (only when the table lacks settings)
//	service <lvs.ServiceKey> | <lvs.ServiceOpts>
//	dest <address> | <lvs.DestOpts>
//
// A struct is its fields in declaration order, separated by spaces:
// integers in decimal (enumerations by their kernel values, durations in
// nanoseconds), booleans as true or false, strings quoted as
// strconv.Quote quotes them, and addresses (net/netip) as their String
// method writes them. The fields are found by reflection, so that a field added to one
// of these types is part of the fingerprint without a change here.
func Fingerprint(live *lvs.Table, ignore lvs.Ignore) string {
	svcs := make([]*lvs.Service, 0, len(live.Services))
	for i := range live.Services {
		if s := &live.Services[i]; ignore.IsZero() || !ignore.Matches(s.Key) {
			svcs = append(svcs, s)
		}
	}
	slices.SortFunc(svcs, func(a, b *lvs.Service) int { return a.Key.Compare(b.Key) })
	h := sha256.New()
	var b []byte
	ss := slices.Clone(live.Sysctls)
	lvs.SortSysctls(ss)
	for _, s := range ss {
		b = append(b, "sysctl "...)
		b = strconv.AppendQuote(b, s.Name)
		b = append(b, ' ')
		b = strconv.AppendQuote(b, s.Value)
		b = append(b, '\n')
	}
	b = append(b, "timeouts "...)
	b = append(b, canonical(nil, reflect.ValueOf(live.Timeouts))...)
	b = append(b, '\n')
	if u := live.Unknown & lvs.UnknownAll; u != 0 {
		// Only then, so that the fingerprints of tables that know
		// everything stay what they were.
		b = append(b, "unknown "...)
		b = strconv.AppendUint(b, uint64(u), 10)
		b = append(b, '\n')
	}
	var dests []*lvs.Dest
	for _, s := range svcs {
		b = append(b, "service "...)
		b = canonical(b, reflect.ValueOf(s.Key))
		b = append(b, " | "...)
		b = canonical(b, reflect.ValueOf(s.Opts))
		b = append(b, '\n')
		dests = dests[:0]
		for i := range s.Dests {
			dests = append(dests, &s.Dests[i])
		}
		slices.SortFunc(dests, func(a, b *lvs.Dest) int { return a.Addr.Compare(b.Addr) })
		for _, d := range dests {
			b = append(b, "dest "...)
			b = append(b, d.Addr.String()...)
			b = append(b, " | "...)
			b = canonical(b, reflect.ValueOf(d.Opts))
			b = append(b, '\n')
		}
		h.Write(b)
		b = b[:0]
	}
	h.Write(b)
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// canonical appends the canonical text of v (see [Fingerprint]). It
// panics on a kind of value the encoding has no text for, so that a new
// field of such a kind fails the tests rather than go unnoticed.
func canonical(b []byte, v reflect.Value) []byte {
	switch v.Kind() {
	case reflect.Bool:
		return strconv.AppendBool(b, v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.AppendInt(b, v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.AppendUint(b, v.Uint(), 10)
	case reflect.String:
		return strconv.AppendQuote(b, v.String())
	case reflect.Struct:
		switch a := v.Interface().(type) {
		case netip.Addr:
			return append(b, a.String()...)
		case netip.AddrPort:
			return append(b, a.String()...)
		case netip.Prefix:
			return append(b, a.String()...)
		}
		for i := range v.NumField() {
			if i > 0 {
				b = append(b, ' ')
			}
			b = canonical(b, v.Field(i))
		}
		return b
	}
	panic(fmt.Sprintf("plan: the fingerprint has no canonical text for a %s", v.Type()))
}
