package lvscf

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func parseErrors(t *testing.T, src string) Errors {
	t.Helper()
	_, _, err := Parse(strings.NewReader(src), "lvs.cf")
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("got %v, want Errors", err)
	}
	return es
}

// TestParseNULLine is the 3 MB line of NUL bytes: it gave a 12 MB
// message, the whole line quoted.
func TestParseNULLine(t *testing.T) {
	es := parseErrors(t, "serial_no = 1\n"+strings.Repeat("\x00", 3<<20)+"\nprimary = 10.0.0.1\n")
	if len(es) != 1 {
		t.Fatalf("got %d errors, want 1: %.500v", len(es), es)
	}
	want := `lvs.cf:2:1: line too long: the line is 3145728 bytes long, and lvsctl reads lines of up to 65536 bytes (piranha's GUI writes lines of under 100); it starts "` + strings.Repeat(`\x00`, 14) + `…"`
	if got := es.Error(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// TestParseShortMessages checks that a message quotes at most a short
// excerpt of a long or binary token, wherever the token is.
func TestParseShortMessages(t *testing.T) {
	long := strings.Repeat("\x01é", 20000) // 60 KB, under the line limit
	for _, src := range []string{
		long + " = 1\n",
		"primary = " + long + "\n",
		"keepalive = " + long + "\n",
		"keepalive = 1" + strings.Repeat("0", 50000) + "\n",
		"heartbeat_port = " + long + "\n",
		"nat_nmask = " + long + "\n",
		"virtual " + long + " {\n active = 1\n",
		"virtual v " + long + "\n",
		"virtual v {\n active = " + long + "\n}\n",
		"virtual v {\n scheduler = " + long + "\n}\n",
		"virtual v {\n sorry_server = " + long + "\n}\n",
		"virtual v {\n server " + long + " {\n",
	} {
		for _, e := range parseErrors(t, src) {
			if len(e.Error()) > 400 {
				t.Errorf("%.40q: a %d-byte message: %.400s", src, len(e.Error()), e)
			}
		}
	}
}

func TestParseTooManyErrors(t *testing.T) {
	es := parseErrors(t, strings.Repeat("nonsense = 1\n", 1000))
	if len(es) != MaxErrors+1 {
		t.Fatalf("got %d errors, want %d", len(es), MaxErrors+1)
	}
	// Every line is read, so that the count of the rest is exact.
	if last := es[MaxErrors]; last.Msg != MsgTooMany || !strings.Contains(last.Detail, "950 more errors not shown") {
		t.Errorf("last error: %v", last)
	}
}

func TestParseTooManyWarnings(t *testing.T) {
	// Each keepalive line warns twice (no blanks, repeated) but the first,
	// and the file has no active virtual.
	_, warns := parse(t, "serial_no = 1\n"+strings.Repeat("keepalive=1\n", 1000)+"primary = 10.0.0.1\n")
	if len(warns) != MaxWarnings+1 {
		t.Fatalf("got %d warnings, want %d", len(warns), MaxWarnings+1)
	}
	if got, want := warns[MaxWarnings].String(), fmt.Sprintf("lvs.cf: %d more warnings not shown (lvsctl shows the first %d)", 2*1000-MaxWarnings, MaxWarnings); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// TestDetectLongLine checks that Detect looks at no more than it needs:
// it split the whole file into lines and tokenized the first one, 400 MB
// for an 8 MB line of words.
func TestDetectLongLine(t *testing.T) {
	src := []byte("# comment\n\nserial_no = 1\n" + strings.Repeat("x ", 4<<20) + "\n")
	var ok bool
	_, size := allocations(func() { ok = Detect("x", src) })
	if !ok || size > 1<<20 {
		t.Errorf("Detect: %v, %d KB allocated", ok, int(size)>>10)
	}
	long := []byte(strings.Repeat("x ", 4<<20) + "\n")
	_, size = allocations(func() { ok = Detect("x", long) })
	if ok || size > 1<<20 {
		t.Errorf("Detect of a long line: %v, %d KB allocated", ok, int(size)>>10)
	}
}
