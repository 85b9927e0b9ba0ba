package keepalived

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// linesOf writes the nodes of f one per line, their words joined, with
// "{" and "}" around blocks: the configuration as keepalived's parser sees
// it once its lines are expanded.
func linesOf(ns []*Node, indent string, b *strings.Builder) {
	for _, n := range ns {
		var ws []string
		for _, w := range n.Words {
			ws = append(ws, w.Text)
		}
		b.WriteString(indent + strings.Join(ws, " "))
		if n.HasBlock {
			b.WriteString(" {\n")
			linesOf(n.Block, indent+"  ", b)
			b.WriteString(indent + "}")
		}
		b.WriteString("\n")
	}
}

func expand(t *testing.T, src string) (*File, string) {
	t.Helper()
	f, err := Parse([]byte(src), "k.conf", t.TempDir(), testOptions)
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	var b strings.Builder
	linesOf(f.Nodes, "", &b)
	return f, b.String()
}

// Definitions, their substitution and ~SEQ lines expand as keepalived's
// read_line expands them (lib/parser.c: check_definition, replace_param,
// add_seq).
func TestDefinitions(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"substitution", "$VIP=10.0.0.1\n$PORT=80\nvirtual_server $VIP $PORT {\n}\n", "virtual_server 10.0.0.1 80 {\n}\n"},
		// $NAME only before a blank, ",", ")" or the end; ${NAME} anywhere.
		{"braces", "$NET=192.168.10\nreal_server $NET.1 80\nreal_server ${NET}.2 80\n", "real_server $NET.1 80\nreal_server 192.168.10.2 80\n"},
		{"undefined stays", "notify_up \"/bin/x $NOTHING\"\n", "notify_up /bin/x $NOTHING\n"},
		{"redefined", "$W=1\nweight $W\n$W=2\nweight $W\n", "weight 1\nweight 2\n"},
		{"value names another", "$A=10.0.0\n$B=${A}.7\nip $B\n", "ip 10.0.0.7\n"},
		{"blank value", "$E=\nx $E y\n", "x y\n"},
		{"not a definition: blank before =", "$X =1\n", "$X =1\n"},
		{"comment in a value", "$C=a # not in it\nx $C\n", "x a\n"},
		{"hash and bang", "x ${_HASH}y\n", "x\n"},
		{"instance", "router_id ${_INSTANCE}\n", "router_id high\n"},
		// A multiline definition stands in at the end of a line, its
		// further lines following; a blank line ends it.
		{"multiline", "$RS=real_server 192.168.10.1 80 { \\\n   weight 2   \\\n}\nvirtual_server 10.0.0.1 80 {\n $RS\n}\n",
			"virtual_server 10.0.0.1 80 {\n  real_server 192.168.10.1 80 {\n    weight 2\n  }\n}\n"},
		{"multiline ended by a blank line", "$M=a \\\nb \\\n\nx $M y\n$M\nx $M\n", "x $M y\na\nb\nx a\nb\n"},
		{"multiline from the next line", "$M=\\\nweight 3\n$M\n", "weight 3\n"},
		// ~SEQ: one to three numbers, strtol's forms, hex with ~SEQx.
		{"seq", "virtual_server 10.0.0.1 80 {\n ~SEQ(n, 1, 3) real_server 192.168.10.$n 80\n}\n",
			"virtual_server 10.0.0.1 80 {\n  real_server 192.168.10.1 80\n  real_server 192.168.10.2 80\n  real_server 192.168.10.3 80\n}\n"},
		{"seq end only", "~SEQ(i, 3) x $i\n~SEQ(i, 0) y $i\n~SEQ(i, -2) z $i\n", "x 1\nx 2\nx 3\ny 1\ny 0\nz -1\nz -2\n"},
		{"seq down", "~SEQ(i, 5, 3) x $i\n~SEQ(i, 10, -5, 0) y $i\n", "x 5\nx 4\nx 3\ny 10\ny 5\ny 0\n"},
		{"seq strtol", "~SEQ(i, 0x0f, 2, 021) x $i\n", "x 15\nx 17\n"},
		{"seqx", "~SEQx(h, 9, 11) fe80::${h}\n", "fe80::9\nfe80::a\nfe80::b\n"},
		{"seq missing number", "~SEQ(i, , 2) x $i\n", "x 0\nx 1\nx 2\n"},
		{"seq any variable name", "~SEQ(9i, 2) x\n", "x\nx\n"},
		{"seq from definitions", "$N=2\n~SEQ(i, $N) x $i\n", "x 1\nx 2\n"},
		{"nested seq", "~SEQ(a, 1, 2) ~SEQ(b, 1, 2) real_server 10.1.${a}.${b} 80\n",
			"real_server 10.1.1.1 80\nreal_server 10.1.1.2 80\nreal_server 10.1.2.1 80\nreal_server 10.1.2.2 80\n"},
		// A definition's value is substituted where it is used.
		{"seq defines", "~SEQ(i, 2) $LAST=n$i\nx $LAST\n", "x n2\n"},
		{"seq variable stays", "~SEQ(i, 2) x\ny $i\n", "x\nx\ny 2\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, got := expand(t, tc.src)
			if got != tc.want {
				t.Errorf("expanded:\n%s\nwant:\n%s\nfrom:\n%s", got, tc.want, tc.src)
			}
		})
	}
}

// A word that a substitution made is placed at its "$", a line a ~SEQ
// made at its own place in the ~SEQ's line, and a multiline definition's
// further lines at the reference.
func TestDefinitionPositions(t *testing.T) {
	f, _ := expand(t, "$VIP=10.0.0.1\n$M=weight 2 \\\nlb_algo rr\n\nvirtual_server   $VIP 80 {\n  ~SEQ(i, 2) real_server 10.1.1.$i 80\n   $M\n}\n")
	vs := f.Nodes[0]
	if p := vs.Words[1].Pos; p.Line != 5 || p.Col != 18 {
		t.Errorf("substituted word at %v, want 5:18", p)
	}
	if p := vs.Words[2].Pos; p.Line != 5 || p.Col != 23 {
		t.Errorf("the word after it at %v, want 5:23", p)
	}
	rs := vs.Block[1]
	if rs.Key() != "real_server" || rs.Words[0].Pos.Line != 6 || rs.Words[0].Pos.Col != 14 || rs.Words[1].Pos.Col != 26 {
		t.Errorf("~SEQ line %v at %v %v, want real_server at 6:14, its address at 6:26", rs.Words, rs.Words[0].Pos, rs.Words[1].Pos)
	}
	if w, lb := vs.Block[2], vs.Block[3]; w.Key() != "weight" || w.Pos().Line != 7 || w.Pos().Col != 4 || lb.Key() != "lb_algo" || lb.Pos().Line != 7 || lb.Pos().Col != 4 {
		t.Errorf("multiline lines at %v and %v, want both at 7:4", w.Pos(), lb.Pos())
	}
}

// Definitions hold across includes, in the order keepalived reads them.
func TestDefinitionsAcrossIncludes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) {
		t.Helper()
		if err := writeFile(dir, name, src); err != nil {
			t.Fatal(err)
		}
	}
	write("defs.conf", "$VIP=10.0.0.9\n")
	write("keepalived.conf", "include defs.conf\nvirtual_server $VIP 80 {\n protocol TCP\n ~SEQ(i, 2) real_server 10.1.1.$i 80\n}\n")
	f, err := Load(dir+"/keepalived.conf", testOptions)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _, err := f.Config()
	if err != nil {
		t.Fatal(err)
	}
	if s := cfg.Table.Services; len(s) != 1 || s[0].Key != tcp("10.0.0.9:80") || len(s[0].Dests) != 2 {
		t.Errorf("services %+v", s)
	}
}

func writeFile(dir, name, src string) error {
	return os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644)
}
