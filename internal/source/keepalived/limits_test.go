package keepalived

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lvsctl/lvsctl/internal/diag"
)

// maxExcerpt bounds an error's excerpt: a line of at most diag.MaxLine
// characters of up to 4 bytes each, the marker line under it, and the line
// numbers.
const maxExcerpt = 5*diag.MaxLine + 64

// A 3 MB line of NUL bytes is one short error, not a 3 MB message.
func TestNULLine(t *testing.T) {
	es := parseErrors(t, "global_defs {\n"+strings.Repeat("\x00", 3<<20)+"\n}\n")
	if len(es) != 1 || !strings.Contains(es[0].Error(), "k.conf:2:1: the line is 3145728 bytes long") || len(es[0].Error()) > 400 {
		t.Fatalf("got %d errors: %.500v", len(es), es)
	}
}

// Long or binary words are quoted as short excerpts wherever they are.
func TestShortMessages(t *testing.T) {
	long := strings.Repeat("\x01é", 20000)
	for _, src := range []string{
		long + " {\n}\n",
		"virtual_server " + long + " 80 {\n}\n",
		"virtual_server 10.0.0.1 " + long + " {\n}\n",
		"virtual_server 10.0.0.1 80 {\n lb_algo " + long + "\n}\n",
		"virtual_server 10.0.0.1 80 {\n " + long + "\n}\n",
		"virtual_server 10.0.0.1 80 {\n real_server 1.1.1.1 80 {\n  weight " + long + "\n }\n}\n",
		"virtual_server_group G {\n " + long + " 80\n}\nvirtual_server group G {\n real_server 1.1.1.1 80\n}\n",
		"vrrp_instance V {\n state " + long + "\n}\n",
		"include " + long + "\n",
	} {
		for _, e := range parseErrors(t, src) {
			if x := e.Excerpt(""); len(e.Error()) > 400 || len(x) > maxExcerpt {
				t.Errorf("%.40q: a %d-byte message or a %d-byte excerpt: %.400s", src, len(e.Error()), len(x), e)
			}
		}
	}
}

func TestTooManyErrors(t *testing.T) {
	es := parseErrors(t, "global_defs {\n"+strings.Repeat("nonsense 1\n", 1000)+"}\n")
	if len(es) != MaxErrors+1 || !strings.Contains(es[MaxErrors].Msg, "more errors not shown") {
		t.Fatalf("got %d errors, last %v", len(es), es[len(es)-1])
	}
}

func TestTooLarge(t *testing.T) {
	_, err := Parse(make([]byte, MaxSize+1), "k.conf", ".", Options{})
	if err == nil || !strings.Contains(err.Error(), "lvsctl reads keepalived configurations of at most 16 MiB") {
		t.Fatalf("got %v", err)
	}
}

// A group that expands past MaxServices is refused, not built.
func TestTooManyServices(t *testing.T) {
	var b strings.Builder
	b.WriteString("virtual_server_group G {\n")
	for i := range 2 {
		fmt.Fprintf(&b, " 10.%d.0.0/16 80\n", i)
	}
	b.WriteString("}\nvirtual_server group G {\n protocol TCP\n real_server 1.1.1.1 80\n}\n")
	es := parseErrors(t, b.String())
	if !strings.Contains(es.Error(), fmt.Sprintf("more than %d virtual services", MaxServices)) {
		t.Fatalf("got %v", es)
	}
}

// Blocks nested past MaxDepth are an error.
func TestDeepBlocks(t *testing.T) {
	es := parseErrors(t, strings.Repeat("a {\n", MaxDepth+5)+strings.Repeat("}\n", MaxDepth+5))
	if !strings.Contains(es.Error(), "nested more than 32 deep") {
		t.Fatalf("got %v", es)
	}
}

// Hostile definitions and ~SEQ lines stop at the bounds, each with one
// error at the line that goes past them, in bounded time.
func TestExpansionBounded(t *testing.T) {
	long := strings.Repeat("x", 60000)
	for _, tc := range []struct{ src, want string }{
		// A billion lines from three nested ~SEQ.
		{"global_defs {\n ~SEQ(a, 1000) ~SEQ(b, 1000) ~SEQ(c, 1000) router_id r\n}\n", "k.conf:2:30: the ~SEQ lines and multiline definitions make more than 262144 lines"},
		// A long line with many references, repeated.
		{"$E=\n~SEQ(i, 100000) " + long + strings.Repeat(" $E", 1000) + "\n", "the substitutions of the definitions copy more than 32 MiB"},
		// Lines that double at each level of nested multiline definitions.
		{"$A=x \\\nx\n\n$B=$A \\\n$A\n\n$C=$B \\\n$B\n\n$D=$C \\\n$C\n\n$E=$D \\\n$D\n\n$F=$E \\\n$E\n\n$G=$F \\\n$F\n\n$H=$G \\\n$G\n\n$I=$H \\\n$H\n\n$I\n", "expansions are nested more than 8 deep"},
		// A value that doubles at each substitution.
		{"$A=$B$B\n$B=${A}\nx $A\n", "k.conf:3:3: the line makes more than 1000 substitutions"},
	} {
		start := time.Now()
		es := parseErrors(t, tc.src)
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%.60q took %s", tc.src, d)
		}
		if len(es) != 1 || !strings.Contains(es[0].Error(), tc.want) {
			t.Errorf("%.60q: got %d errors: %.300v\nwant one saying %s", tc.src, len(es), es, tc.want)
		}
	}
}
