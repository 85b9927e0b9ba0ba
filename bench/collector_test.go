package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// The host keeps the results the guest emits, in pieces as they come, and
// passes every other line on.
func TestCollectorKeepsResults(t *testing.T) {
	var guest bytes.Buffer
	r := result{What: "cold apply, 1000 × 4", LVSCTL: []time.Duration{time.Second}, Other: []time.Duration{2 * time.Second}, Against: "ipvsadm -R", Target: coldTarget}
	guest.WriteString("== 1000 services\n")
	b, _ := captureEmit(r)
	guest.WriteString(b)
	guest.WriteString("  rep 1 lvsctl 1.000s\n")
	var out bytes.Buffer
	c := &collector{out: &out}
	for _, chunk := range bytes.SplitAfter(guest.Bytes(), []byte("r")) { // arbitrary pieces
		c.Write(chunk)
	}
	if len(c.results) != 1 || c.results[0].What != r.What || c.results[0].ratio() != 0.5 {
		t.Fatalf("results %+v", c.results)
	}
	if got := out.String(); got != "== 1000 services\n  rep 1 lvsctl 1.000s\n" || strings.Contains(got, resultPrefix) {
		t.Errorf("passed on %q", got)
	}
}

func captureEmit(r result) (string, error) {
	var b strings.Builder
	b.WriteString(resultPrefix)
	j, err := jsonOf(r)
	b.WriteString(j + "\n")
	return b.String(), err
}
