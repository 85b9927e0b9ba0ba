package ipvsadm

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/lvsctl/lvsctl/internal/quote"
)

func TestExcerpt(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", `""`},
		{"abc", `"abc"`},
		{strings.Repeat("a", 60), `"` + strings.Repeat("a", 60) + `"`},
		{strings.Repeat("a", 61), `"` + strings.Repeat("a", 59) + `…"`},
		{strings.Repeat("\x00", 3<<20), `"` + strings.Repeat(`\x00`, 14) + `…"`},
		{"é\"\n\xff", `"é\"\n\xff"`},
	} {
		got := quote.Excerpt(tc.in)
		if got != tc.want {
			t.Errorf("quote.Excerpt(%.20q): got %s, want %s", tc.in, got, tc.want)
		}
		if n := utf8.RuneCountInString(got); n > quote.Max+2 {
			t.Errorf("quote.Excerpt(%.20q) is %d characters", tc.in, n)
		}
	}
	long := strings.Repeat("y", 1000)
	msg := quote.Clip(fmt.Sprintf("unknown option %q after %q", "--"+long, "-x"))
	if want := `unknown option "--` + strings.Repeat("y", 57) + `…" after "-x"`; msg != want {
		t.Errorf("clipQuoted: got %s, want %s", msg, want)
	}
}

// TestParseSaveLimits checks that each limit is refused with its place and
// a message that says what the limit is, and that no message quotes more
// than a short excerpt of the input.
func TestParseSaveLimits(t *testing.T) {
	defer func(i, o int) { maxInput, maxObjects = i, o }(maxInput, maxObjects)
	huge := strings.Repeat("\x00", 60000)
	for _, tc := range []struct {
		name, in, want string
		input, objects int
	}{
		{"line", "-A -t 10.0.0.2:80\n" + strings.Repeat("x", MaxLineLength+1) + "\n",
			"d:2:1: line is longer than 65536 bytes", 0, 0},
		{"line without a newline", "-A -t 10.0.0.2:80\n" + strings.Repeat("x", MaxLineLength+1),
			"d:2:1: line is longer than 65536 bytes", 0, 0},
		{"input", strings.Repeat("# a comment line that fills the input\n", 30),
			"d:27:1: the input is larger than 1000 bytes", 1000, 0},
		{"objects", "-A -t 10.0.0.2:80\n" + strings.Repeat("-a -t 10.0.0.2:80 -r 10.0.0.3\n-d -t 10.0.0.2:80 -r 10.0.0.3\n", 5),
			"d:10:1: more than 5 services and real servers", 0, 5},
		{"a huge option", "-A -t 10.0.0.2:80 --" + huge + "\n",
			`d:1:19: unknown option "--\x00\x00`, 0, 0},
		{"a huge command", huge + "\n", `d:1:1: "\x00\x00`, 0, 0},
		{"a huge address", "-A -t " + huge + "\n", `d:1:7: invalid virtual service "\x00`, 0, 0},
	} {
		maxInput, maxObjects = MaxInputSize, MaxObjects
		if tc.input != 0 {
			maxInput = tc.input
		}
		if tc.objects != 0 {
			maxObjects = tc.objects
		}
		_, err := ParseSave(strings.NewReader(tc.in), "d")
		var pe *Error
		if !errors.As(err, &pe) {
			t.Errorf("%s: got %v, want an *Error", tc.name, err)
			continue
		}
		if !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: got %.200s, want it to start with %s", tc.name, err, tc.want)
		}
		// A line over a limit is not shown, nor another line in its
		// place.
		if strings.HasPrefix(tc.name, "line") || tc.name == "input" {
			if pe.Source != "" {
				t.Errorf("%s: the excerpt shows %.40q", tc.name, pe.Source)
			}
		}
		if len(err.Error()) > 300 {
			t.Errorf("%s: the message is %d bytes: %.300s", tc.name, len(err.Error()), err)
		}
	}
}

// TestParseSaveDeletes checks that deleted services and real servers are
// gone, and that one added again comes last, as ipvsadm -R leaves them.
func TestParseSaveDeletes(t *testing.T) {
	tab := mustParse(t, "-A -t 10.0.0.2:80\n"+
		"-a -t 10.0.0.2:80 -r 10.0.0.3:80 -m\n"+
		"-a -t 10.0.0.2:80 -r 10.0.0.4:80 -m\n"+
		"-a -t 10.0.0.2:80 -r 10.0.0.5:80 -m\n"+
		"-d -t 10.0.0.2:80 -r 10.0.0.4:80\n"+
		"-e -t 10.0.0.2:80 -r 10.0.0.5:80 -m -w 7\n"+
		"-a -t 10.0.0.2:80 -r 10.0.0.4:80 -m -w 3\n"+
		"-A -t 10.0.0.9:80\n"+
		"-a -t 10.0.0.9:80 -r 10.0.0.3:80 -m\n"+
		"-D -t 10.0.0.9:80\n"+
		"-A -t 10.0.0.9:80\n"+
		"-a -t 10.0.0.9:80 -r 10.0.0.6:80 -m\n")
	var b bytes.Buffer
	if err := WriteSave(&b, tab); err != nil {
		t.Fatal(err)
	}
	want := "-A -t 10.0.0.2:80 -s wlc\n" +
		"-a -t 10.0.0.2:80 -r 10.0.0.3:80 -m -w 1\n" +
		"-a -t 10.0.0.2:80 -r 10.0.0.4:80 -m -w 3\n" +
		"-a -t 10.0.0.2:80 -r 10.0.0.5:80 -m -w 7\n" +
		"-A -t 10.0.0.9:80 -s wlc\n" +
		"-a -t 10.0.0.9:80 -r 10.0.0.6:80 -m -w 1\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	for _, tc := range []struct{ in, want string }{
		{"-A -t 10.0.0.2:80\n-a -t 10.0.0.2:80 -r 10.0.0.3:80\n-d -t 10.0.0.2:80 -r 10.0.0.3:80\n-e -t 10.0.0.2:80 -r 10.0.0.3:80\n",
			"d:4:19: -e: there is no real server 10.0.0.3:80 in tcp 10.0.0.2:80"},
		{"-A -t 10.0.0.2:80\n-a -t 10.0.0.2:80 -r 10.0.0.3:80\n-D -t 10.0.0.2:80\n-A -t 10.0.0.2:80\n-d -t 10.0.0.2:80 -r 10.0.0.3:80\n",
			"d:5:19: -d: there is no real server 10.0.0.3:80 in tcp 10.0.0.2:80"},
		{"-A -t 10.0.0.2:80\n-a -t 10.0.0.2:80 -r 10.0.0.3:80\n-a -t 10.0.0.2:80 -r 10.0.0.3:80\n",
			"d:3:19: real server 10.0.0.3:80 already exists in tcp 10.0.0.2:80 (added on line 2)"},
	} {
		_, err := ParseSave(strings.NewReader(tc.in), "d")
		if err == nil || err.Error() != tc.want {
			t.Errorf("got %v, want %s", err, tc.want)
		}
	}
}

// oneService is a dump of one service with n real servers.
func oneService(n int) []byte {
	var b bytes.Buffer
	b.WriteString("-A -t 10.0.0.1:80 -s wlc\n")
	for i := range n {
		fmt.Fprintf(&b, "-a -t 10.0.0.1:80 -r 172.%d.%d.%d:80 -m -w 1\n", 16+i>>16, i>>8&255, i&255)
	}
	return b.Bytes()
}

// TestParseSaveLinear checks that reading a service with 80,000 real
// servers costs about four times what 20,000 cost, in allocations and in
// bytes allocated: each real server was looked up with a scan of those
// before it.
func TestParseSaveLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("parses 100,000 lines")
	}
	cost := func(n int) (allocs, size float64) {
		in := oneService(n)
		var err error
		allocs, size = allocations(func() {
			_, err = ParseSave(bytes.NewReader(in), "d")
		})
		if err != nil {
			t.Fatal(err)
		}
		return allocs, size
	}
	a1, b1 := cost(20000)
	a4, b4 := cost(80000)
	t.Logf("20k: %.0f allocations, %.1f MB; 80k: %.0f allocations, %.1f MB", a1, b1/1e6, a4, b4/1e6)
	if r := a4 / a1; r > 4.5 {
		t.Errorf("80k real servers make %.1f× the allocations of 20k; want about 4×", r)
	}
	if r := b4 / b1; r > 5 {
		t.Errorf("80k real servers allocate %.1f× the bytes of 20k; want about 4×", r)
	}
}

// allocations returns how many allocations f makes, and how many bytes
// they take.
func allocations(f func()) (allocs, size float64) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return float64(after.Mallocs - before.Mallocs), float64(after.TotalAlloc - before.TotalAlloc)
}
