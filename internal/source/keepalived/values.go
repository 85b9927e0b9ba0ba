package keepalived

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// The value readers report a bad value at its word and return ok false.

// unsigned reads a decimal whole number from lo to hi, as keepalived's
// read_unsigned_strvec does.
func (c *conv) unsigned(t Token, what string, lo, hi uint64) (uint64, bool) {
	v, err := strconv.ParseUint(t.Text, 10, 64)
	if err != nil || v < lo || v > hi {
		c.errorf(t.Pos, "%s %s is not a whole number from %d to %d", what, show(t.Text), lo, hi)
		return 0, false
	}
	return v, true
}

// timer reads keepalived's timers: seconds, with up to six decimals
// (read_timer, TIMER_HZ_DIGITS), from at least lo.
func (c *conv) timer(t Token, what string, lo time.Duration) (time.Duration, bool) {
	s := t.Text
	whole, frac, dot := strings.Cut(s, ".")
	bad := whole == "" || strings.Trim(whole, "0123456789") != "" || len(whole) > 9 ||
		dot && (frac == "" || len(frac) > 6 || strings.Trim(frac, "0123456789") != "")
	if bad {
		c.errorf(t.Pos, "%s %s is not a number of seconds (such as 3 or 1.5)", what, show(s))
		return 0, false
	}
	w, _ := strconv.ParseInt(whole, 10, 64)
	d := time.Duration(w) * time.Second
	if dot {
		f, _ := strconv.ParseInt((frac + "000000")[:6], 10, 64)
		d += time.Duration(f) * time.Microsecond
	}
	if d < lo {
		c.errorf(t.Pos, "%s %s is too short: keepalived takes at least %s", what, show(s), lo)
		return 0, false
	}
	return d, true
}

// boolArg reads the optional true/false of a flag such as
// inhibit_on_failure (keepalived's check_true_false): no value is true.
func (c *conv) boolArg(n *Node) (bool, bool) {
	if len(n.Words) < 2 {
		return true, true
	}
	switch a := n.Words[1]; a.Text {
	case "true", "on", "yes":
		return true, true
	case "false", "off", "no":
		return false, true
	default:
		c.errorf(a.Pos, "%s takes true, false, on, off, yes or no, not %s", n.Key(), show(a.Text))
		return false, false
	}
}

// addr reads an IP address as keepalived's inet_stosockaddr does, which
// also takes IPv6 addresses in brackets.
func (c *conv) addr(t Token, what string) (netip.Addr, bool) {
	s := t.Text
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		s = s[1 : len(s)-1]
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		c.errorf(t.Pos, "%s %s is not an IP address (lvsctl does not resolve host names)", what, show(t.Text))
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// port reads a port; keepalived reads 0 (and a missing port) as none.
func (c *conv) port(t Token, what string) (uint16, bool) {
	v, ok := c.unsigned(t, what, 0, 65535)
	return uint16(v), ok
}

// args checks that n has from lo to hi words after its keyword (hi < 0:
// any number), and reports it otherwise.
func (c *conv) args(n *Node, lo, hi int) bool {
	k := len(n.Words) - 1
	switch {
	case k < lo:
		at := n.Words[len(n.Words)-1].Pos
		at.Col += len(n.Words[len(n.Words)-1].Text)
		if lo == 1 && hi == 1 {
			c.errorf(at, "%s needs a value", n.Key())
		} else {
			c.errorf(at, "%s needs at least %d values", n.Key(), lo)
		}
		return false
	case hi >= 0 && k > hi:
		if hi == 0 {
			c.errorf(n.Words[1].Pos, "%s takes no value; remove %s", n.Key(), show(n.Words[1].Text))
		} else {
			c.errorf(n.Words[hi+1].Pos, "%s takes %s, and %s is one too many", n.Key(), plural(hi, "value"), show(n.Words[hi+1].Text))
		}
		return false
	}
	return true
}

// noBlock reports a block after a keyword that takes none.
func (c *conv) noBlock(n *Node) bool {
	if n.HasBlock {
		c.errorf(n.Pos(), "%s takes no block; remove the braces after it", n.Key())
		return false
	}
	return true
}

// block reports a keyword that needs a block and has none.
func (c *conv) block(n *Node) bool {
	if !n.HasBlock {
		c.errorf(n.Pos(), "%s needs a block: %s ... { ... }", n.Key(), n.Key())
		return false
	}
	return true
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// words joins the words of n after the keyword, for notes.
func words(n *Node) string {
	var b strings.Builder
	for i, w := range n.Words {
		if i > 0 {
			b.WriteByte(' ')
		}
		if w.Quoted {
			b.WriteString(`"` + w.Text + `"`)
		} else {
			b.WriteString(w.Text)
		}
	}
	s := b.String()
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return strings.ToValidUTF8(s, "?")
}
