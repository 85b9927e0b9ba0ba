package lvs

import (
	"bytes"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// FuzzTableUnmarshalJSON feeds the reader of `show --json` (and of
// `plan --live FILE`) arbitrary input. It must not panic; its first pass
// (checkJSONShape) must refuse only tables that decoding refuses too; a
// table it reads is valid, and written back and read again it is the same
// table and the same text.
func FuzzTableUnmarshalJSON(f *testing.F) {
	b, err := sampleTable().MarshalJSON()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"services": []}`))
	f.Add([]byte(`{"services": [{"protocol": "tcp", "address": "10.0.0.2:80", "persistence": {"netmask": "/24"}, "real_servers": [{"address": "10.0.1.1"}]}]}`))
	f.Add([]byte(`{"services": [{"fwmark": 1, "family": "ipv6", "persistence": {"timeout": 60, "netmask": 64}, "real_servers": []}], "timeouts": {"tcp": 900}, "ignore": {"prefixes": ["10.96.0.0/12"]}}`))
	f.Add([]byte(`{"services": [], "sysctls": [{"name": "net.ipv4.vs.sloppy_tcp", "value": 1}, {"name": "net.ipv4.ip_forward", "value": 0}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var tab Table
		if err := tab.UnmarshalJSON(data); err != nil {
			if tab.Services != nil || tab.Timeouts != (Timeouts{}) || tab.Sysctls != nil {
				t.Fatalf("a failed read changed the table: %v", err)
			}
			// The first pass refuses only what decoding refuses too.
			if shapeErr := checkJSONShape(data); shapeErr != nil && len(data) < 4096 {
				var full Table
				if full.decodeJSON(data) == nil {
					t.Fatalf("the first pass refused a table that decodes: %v", shapeErr)
				}
			}
			return
		}
		if ps := tab.Validate(); len(ps) > 0 {
			t.Fatalf("read an invalid table: %v", ps)
		}
		out, err := tab.MarshalJSON()
		if err != nil {
			t.Fatalf("a table that was read cannot be written: %v", err)
		}
		var back Table
		if err := back.UnmarshalJSON(out); err != nil {
			t.Fatalf("re-reading %s: %v", out, err)
		}
		if !reflect.DeepEqual(tab, back) {
			t.Fatalf("round trip changed the table:\n%+v\nthen\n%+v\njson:\n%s", tab, back, out)
		}
		again, err := back.MarshalJSON()
		if err != nil || !bytes.Equal(out, again) {
			t.Fatalf("written twice differently (%v):\n%s\nthen\n%s", err, out, again)
		}
	})
}

// TestTableUnmarshalJSONBounded reads a mebibyte of the shapes that cost
// the JSON reader most per byte: what it allocates stays within a bounded
// multiple of the input.
func TestTableUnmarshalJSONBounded(t *testing.T) {
	svc := `{"protocol":"tcp","address":"10.0.0.2:80","real_servers":[`
	inputs := map[string]string{
		"empty services":     `{"services": [` + strings.Repeat(`{},`, 1<<20/3) + `{}]}`,
		"empty real servers": `{"services": [` + svc + strings.Repeat(`{},`, 1<<20/3) + `{}]}]}`,
		"nesting":            strings.Repeat(`{"services":[`, 1<<20/13),
		"prefixes":           `{"services": [], "ignore": {"prefixes": [` + strings.Repeat(`"0/0",`, 1<<20/6) + `"0/0"]}}`,
		"marks":              `{"services": [], "ignore": {"fwmarks": [` + strings.Repeat(`0,`, 1<<20/2) + `0]}}`,
		"keys":               `{"services": [], ` + strings.Repeat(`"a":0,`, 1<<20/6) + `"b":0}`,
		"escaped keys":       `{"services": [], ` + strings.Repeat(`"\u0041":0,`, 1<<20/11) + `"b":0}`,
		"service keys":       `{"services": [{"fwmark": 1, ` + strings.Repeat(`"pe":"",`, 1<<20/8) + `"pe":""}]}`,
		"scheduler flags":    `{"services": [{"fwmark": 1, "scheduler_flags": [` + strings.Repeat(`"",`, 1<<20/3) + `""]}]}`,
		"same service":       `{"services": [` + strings.Repeat(`{"fwmark":1},`, 1<<20/13) + `{"fwmark":1}]}`,
	}
	var distinct strings.Builder
	distinct.WriteString(`{"services": [{"fwmark":1}`)
	for i := 2; distinct.Len() < 1<<20; i++ {
		fmt.Fprintf(&distinct, `,{"fwmark":%d}`, i)
	}
	inputs["valid services"] = distinct.String() + "]}"
	for name, in := range inputs {
		var tab Table
		var err error
		alloc := allocated(func() { err = tab.UnmarshalJSON([]byte(in)) })
		// The densest valid table, services of about 14 bytes
		// ({"fwmark":1234}), takes about 90 times its size: a service
		// is over a kilobyte in memory, its decoded JSON and the
		// Service it becomes; the same service again and again adds
		// what Validate keeps of each duplicate.
		if limit := uint64(160 * len(in)); alloc > limit {
			t.Errorf("%s: reading %d bytes allocated %d, more than %d", name, len(in), alloc, limit)
		}
		t.Logf("%s: %d bytes in, %d allocated (%v)", name, len(in), alloc, err != nil)
	}
}

// allocated returns how many bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestJSONProblemsCapped: a table with thousands of problems is refused
// with the first 50 and a count of the others, not thousands of lines.
func TestJSONProblemsCapped(t *testing.T) {
	in := `{"services": [` + strings.Repeat(`{"fwmark":1},`, 1000) + `{"fwmark":1}]}`
	var tab Table
	err := tab.UnmarshalJSON([]byte(in))
	if err == nil {
		t.Fatal("accepted")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 51 || lines[50] != "and 950 more problems" || !strings.HasPrefix(lines[0], "services[1]: ") {
		t.Errorf("%d lines, first %q, last %q", len(lines), lines[0], lines[len(lines)-1])
	}
}

// TestJSONShapeKeys: the first pass matches names as encoding/json does,
// escapes, case and the two non-ASCII runes that fold to ASCII included.
func TestJSONShapeKeys(t *testing.T) {
	for _, in := range []string{
		`{"Services": [{"FWMark": 1}]}`,
		`{"\u0073ervices": [{"fwmar\u212a": 1}]}`,
		`{"ſervices": [{"protocol": "tcp", "ADDRESS": "10.0.0.2:80", "Real_Servers": [{"addreſſ": "10.0.0.3"}]}]}`,
	} {
		var tab Table
		if err := tab.UnmarshalJSON([]byte(in)); err != nil || len(tab.Services) != 1 {
			t.Errorf("%s: %v", in, err)
		}
	}
	for in, want := range map[string]string{
		`{"services": [{"protocol": "tcp"}, {}]}`:                                                 "services[0]: a service needs protocol and address, or fwmark",
		`{"services": [{"fwmark": 1, "real_servers": [{"address": "10.0.0.3"}, {"weight": 1}]}]}`: `services[0].real_servers[1].address: invalid address ""`,
		`{"SERVICES": [{"fwmark": 1}, {"fwmark": 2, "REAL_SERVERS": [{}]}]}`:                      `services[1].real_servers[0].address: invalid address ""`,
	} {
		var tab Table
		if err := tab.UnmarshalJSON([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v; want %q", in, err, want)
		}
	}
}
