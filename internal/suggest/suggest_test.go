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
		{"wieght", "weight"}, // a swap is two edits
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

// Equally near candidates: the first listed wins, so that a suggestion
// does not change from run to run.
func TestClosestFirstWins(t *testing.T) {
	if got := Closest("rr1", []string{"rr", "wrr"}); got != "rr" {
		t.Errorf("got %q, want rr", got)
	}
}
