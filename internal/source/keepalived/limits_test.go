package keepalived

import (
	"fmt"
	"strings"
	"testing"

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
