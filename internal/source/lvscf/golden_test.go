package lvscf

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/lvsctl/lvsctl/internal/golden"

	"github.com/lvsctl/lvsctl/lvs"
)

// TestGolden parses every testdata/*.cf and compares a dump of the File,
// its warnings and its table (or the errors) with testdata/*.golden.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.cf")
	if err != nil || len(files) < 4 {
		t.Fatalf("testdata: %v, %d files", err, len(files))
	}
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			src, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			got := dumpAll(filepath.Base(name), src)
			golden.Check(t, strings.TrimSuffix(name, ".cf")+".golden", []byte(got))
		})
	}
}

// The four real files must parse cleanly and give lvsd's table.
func TestRealFilesParse(t *testing.T) {
	for _, name := range []string{
		"01-piranha-upstream-sample.cf",
		"02-tigerlinux-sip-fwmark-dr.cf",
		"03-tigerlinux-sip-syncdaemon-timeouts.cf",
		"04-piranha-fork-active-cmd-edgecases.cf",
	} {
		src, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		f, _, err := Parse(bytes.NewReader(src), name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := f.Table(); err != nil {
			t.Fatalf("%s: table: %v", name, err)
		}
		if !Detect(name, src) || !Detect("config", src) {
			t.Errorf("%s: not detected as an lvs.cf", name)
		}
	}
}

func dumpAll(name string, src []byte) string {
	var b strings.Builder
	f, warns, err := Parse(bytes.NewReader(src), name)
	if len(warns) > 0 {
		b.WriteString("== warnings\n")
		for _, w := range warns {
			fmt.Fprintln(&b, w)
		}
	}
	if err != nil {
		b.WriteString("== errors\n")
		fmt.Fprintln(&b, err)
		return b.String()
	}
	b.WriteString("== file\n")
	dumpFile(&b, f)
	tb, err := f.Table()
	if err != nil {
		b.WriteString("== table errors\n")
		fmt.Fprintln(&b, err)
		return b.String()
	}
	b.WriteString("== table\n")
	dumpTable(&b, tb)
	return b.String()
}

func dumpFile(b *strings.Builder, f *File) {
	dumpStruct(b, "", reflect.ValueOf(f.Globals))
	dumpSettings(b, "", f.Settings)
	for _, v := range append(append([]*Virtual{}, f.Virtuals...), f.Failovers...) {
		fmt.Fprintf(b, "%s %s (lines %d-%d)\n", v.Kind(), v.Name, v.Line, v.EndLine)
		dumpComments(b, "  ", "before", v.Comments)
		dumpStruct(b, "  ", reflect.ValueOf(*v))
		dumpSettings(b, "  ", v.Settings)
		for _, s := range v.Servers {
			fmt.Fprintf(b, "  server %s (lines %d-%d)\n", s.Name, s.Line, s.EndLine)
			dumpComments(b, "    ", "before", s.Comments)
			dumpStruct(b, "    ", reflect.ValueOf(*s))
			dumpSettings(b, "    ", s.Settings)
			dumpComments(b, "    ", "before }", s.EndComments)
		}
		dumpComments(b, "  ", "before }", v.EndComments)
	}
	dumpComments(b, "", "trailing", f.TrailingComments)
}

// dumpStruct prints the value fields of a struct, skipping the structure
// that the dump shows otherwise.
func dumpStruct(b *strings.Builder, indent string, v reflect.Value) {
	t := v.Type()
	for i := range t.NumField() {
		switch t.Field(i).Name {
		case "Name", "Line", "EndLine", "Comments", "EndComments", "Settings", "Servers", "Failover", "Trailing", "EndTrailing":
			continue
		}
		if !t.Field(i).IsExported() {
			continue
		}
		fmt.Fprintf(b, "%s%s: %s\n", indent, t.Field(i).Name, dumpValue(v.Field(i)))
	}
}

func dumpValue(v reflect.Value) string {
	switch x := v.Interface().(type) {
	case netip.Addr:
		if !x.IsValid() {
			return "unset"
		}
		return x.String()
	case Quoted:
		if !x.IsSet() {
			return "unset"
		}
		return fmt.Sprintf("raw=%s arg=%s", x.Raw(), x.Arg())
	case string:
		return fmt.Sprintf("%q", x)
	}
	return fmt.Sprint(v.Interface())
}

func dumpSettings(b *strings.Builder, indent string, ss Settings) {
	for _, s := range ss {
		dumpComments(b, indent, "before "+s.Key, s.Comments)
		fmt.Fprintf(b, "%sline %d: %s = %q\n", indent, s.Line, s.Key, s.Args)
		if s.Trailing != "" {
			fmt.Fprintf(b, "%s  trailing %q\n", indent, s.Trailing)
		}
	}
}

func dumpComments(b *strings.Builder, indent, where string, cs []Comment) {
	if len(cs) == 0 {
		return
	}
	fmt.Fprintf(b, "%s%d comment lines %s: %d-%d\n", indent, len(cs), where, cs[0].Line, cs[len(cs)-1].Line)
}

func dumpTable(b *strings.Builder, t *lvs.Table) {
	fmt.Fprintf(b, "timeouts tcp=%v tcpfin=%v udp=%v\n", t.Timeouts.TCP, t.Timeouts.TCPFin, t.Timeouts.UDP)
	for _, s := range t.Services {
		o := s.Opts
		fmt.Fprintf(b, "service %q %s scheduler=%s", s.Name, s.Key, o.Scheduler)
		if o.Persistent {
			fmt.Fprintf(b, " persistent=%d netmask=/%d", o.Timeout, o.Netmask)
		}
		b.WriteString("\n")
		for _, d := range s.Dests {
			fmt.Fprintf(b, "  dest %q %s %s weight=%d\n", d.Name, d.Addr, d.Opts.Forward, d.Opts.Weight)
		}
	}
}
