package suggest

import (
	"strings"
	"testing"
)

func TestClosest(t *testing.T) {
	keys := []string{"scheduler", "persistent", "pmask", "port", "protocol", "active", "address", "add-server", "weight"}
	for _, c := range []struct{ word, want string }{
		{"schedular", "scheduler"}, // one replaced
		{"sheduler", "scheduler"},  // one deleted
		{"persistant", "persistent"},
		{"Scheduler", "scheduler"}, // case
		{"prot", "port"},           // short: one edit
		{"adress", "address"},
		{"wieght", "weight"}, // a swap is one edit
		{"pmaks", "pmask"},
		{"prto", "port"},
		{"pmsk", "pmask"},
		{"color", ""},
		{"scheduler", ""}, // itself is not a suggestion
		{"", ""},
		{strings.Repeat("x", 100000), ""},
	} {
		if got := Closest(c.word, keys); got != c.want {
			t.Errorf("Closest(%.20q) = %q, want %q", c.word, got, c.want)
		}
	}
}

// A swap of two neighbours is one edit, so that a three-letter word with
// two letters swapped has its suggestion.
func TestClosestSwap(t *testing.T) {
	for _, c := range []struct{ word, want string }{
		{"upd", "udp"}, {"wcl", "wlc"}, {"nta", "nat"}, {"WCL", "wlc"},
		{"dpu", ""}, // two swaps, or two replacements
	} {
		if got := Closest(c.word, []string{"tcp", "udp", "rr", "wlc", "nat"}); got != c.want {
			t.Errorf("Closest(%q) = %q, want %q", c.word, got, c.want)
		}
	}
}

// Equally near candidates: the first listed wins, so that a suggestion
// does not change from run to run.
func TestClosestFirstWins(t *testing.T) {
	if got := Closest("rr1", []string{"rr", "wrr"}); got != "rr" {
		t.Errorf("got %q, want rr", got)
	}
}
