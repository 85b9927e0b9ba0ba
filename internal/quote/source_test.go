package quote

import (
	"strings"
	"testing"
)

func TestSource(t *testing.T) {
	for _, c := range []struct {
		line string
		col  int
		want string
	}{
		{"\tweight = heavy", 11, "    |  weight = heavy\n    |           ^"},
		{"-a -t 10.0.0.2:80 -r 10.0.0.5 -w x", 34, "    | -a -t 10.0.0.2:80 -r 10.0.0.5 -w x\n    |                                  ^"},
		{"syncd_id =", 11, "    | syncd_id =\n    |           ^"},
		{"port = 80", 0, "    | port = 80"},
		{"", 1, ""},
		{"a\x00b", 2, "    | a b\n    |  ^"},
	} {
		if got := Source(c.line, c.col); got != c.want {
			t.Errorf("Source(%q, %d) =\n%s\nwant\n%s", c.line, c.col, got, c.want)
		}
	}
}

// A long line shows a window around the column, and the caret stays
// under its character.
func TestSourceLong(t *testing.T) {
	line := strings.Repeat("x", 1000) + "Y" + strings.Repeat("z", 1000)
	got := Source(line, 1001)
	lines := strings.Split(got, "\n")
	if len(lines) != 2 || len(got) > 200 {
		t.Fatalf("got %q", got)
	}
	at := strings.Index(lines[1], "^")
	if r := []rune(lines[0]); at >= len(r) || r[at] != 'Y' {
		t.Errorf("the caret is not under Y:\n%s", got)
	}
}
