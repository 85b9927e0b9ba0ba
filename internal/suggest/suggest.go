// Package suggest finds the word a misspelt one was meant to be, for the
// "did you mean …?" of a diagnostic.
package suggest

import (
	"strings"

	"github.com/hbollon/go-edlib"
)

// maxLen bounds the words compared: no key or option is longer, and
// hostile input costs nothing.
const maxLen = 64

// Closest returns the candidate nearest to word by edit distance (letters
// inserted, deleted or replaced, or two neighbours swapped, case ignored),
// or "" when none is near enough to be a misspelling: at most one edit for
// words of up to three letters, two for longer ones. A swap counts as one
// edit because it is one slip of the fingers: "upd" is a typo of "udp",
// "wcl" of "wlc". Of equally near candidates, the first wins. A candidate
// equal to word is not a suggestion.
func Closest(word string, candidates []string) string {
	if word == "" || len(word) > maxLen {
		return ""
	}
	w := strings.ToLower(word)
	limit := 2
	if len(w) <= 3 {
		limit = 1
	}
	best, bestDist := "", limit+1
	for _, c := range candidates {
		if c == word || len(c) > maxLen || len(c) > len(w)+limit || len(w) > len(c)+limit {
			continue
		}
		// The optimal string alignment distance: Levenshtein's with
		// swaps of neighbours (Damerau's), each letter edited once.
		if d := edlib.OSADamerauLevenshteinDistance(w, strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}
