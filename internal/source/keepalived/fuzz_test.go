package keepalived

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse checks that no input makes Parse or Convert panic or hang,
// that every error points at a line, that messages stay short, and that a
// configuration returned is valid. The samples seed it; the seeds below
// add the shapes of the errors and the limits. Includes are read from an
// empty directory.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/samples/*.conf")
	own, _ := filepath.Glob("testdata/*.conf")
	for _, name := range append(files, own...) {
		src, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	for _, s := range []string{
		"{", "}", "a {\n", "virtual_server 1.2.3.4 80 { real_server 1.1.1.1 80 { TCP_CHECK { } } }",
		"virtual_server_group G { 10.0.0.1-255 80\n10.0.0.0/22 1 }\nvirtual_server group G { real_server 1.1.1.1 1 }",
		"virtual_server_group G { ::1-ffff 80 }\nvirtual_server group G { real_server ::2 1 }",
		"\"", "x \"y", "a \\# b ! c", "@id x\n@^id y\n@\n", "$X=1\n", "~SEQ(", "include /nonexistent/*\n",
		"include " + strings.Repeat("*", 100) + "\n", "vrrp_instance V { unicast_src_ip 1.1.1.1\nunicast_peer { 1.1.1.2 }\nvirtual_ipaddress { 1.1.1.3/24 dev eth0 }\nstate MASTER }",
		"virtual_server fwmark 1 { lb_kind TUN type gue port 1 remcsum\n real_server ::1 }\n",
		"\x00\n", "\r\r\n", strings.Repeat("{", 200), strings.Repeat("a {\n", 100),
		// Definitions and ~SEQ: each form, and the shapes of the limits.
		"$VIP=10.0.0.1\n$P=80\nvirtual_server $VIP $P {\n protocol TCP\n real_server ${VIP}0 $P\n}\n",
		"$RS=real_server 10.1.1.1 80 { \\\n weight 2 \\\n}\nvirtual_server 10.0.0.1 80 {\n $RS\n}\n",
		"$M=\\\n\n$M\n", "$M=a \\\n$M \\\n\n$M\n", "$A=$A\n$A\n", "$A=${A}${A}\nx $A\n", "$A=${B}\n$B=${A}\nx $A\n",
		"virtual_server 10.0.0.1 80 {\n ~SEQ(i, 1, 3) real_server 10.1.1.$i 80\n}\n",
		"~SEQx(h, 0x9, 0xb) x ${h}\n", "~SEQ(i, -3) x $i\n", "~SEQ(i, 5, -2, 1) x $i\n", "~SEQ(a, 2) ~SEQ(b, 2) ~SEQ(c, 2) x ${a}${b}${c}\n",
		"~SEQ(i, 1, 9223372036854775807) x\n", "~SEQ(i, -9223372036854775808, 9223372036854775807) x\n", "~SEQ(i, 1, 0, 1) x\n",
		"$N=3\n~SEQ(i, $N) $L=$i\nx $L ${_HASH} ${_BANG} ${_PWD} ${_INSTANCE} ${_RANDOM} ${_ENV X}\n",
		"~SEQ(i", "~SEQ(i,", "~SEQ(,1) x", "~SEQ({,1) x", "~SEQ(i,1)", "$", "$=", "$1=x", "${", "${X", "${X }", "~LST{a} x",
	} {
		f.Add([]byte(s))
	}
	f.Add([]byte("virtual_server 1.1.1.1 80 {\n" + strings.Repeat("x", MaxLineLength+1) + "\n}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		file, err := Parse(src, "fuzz.conf", t.TempDir(), Options{ConfigID: "id"})
		if err == nil {
			if file == nil {
				t.Fatal("no File and no error")
			}
			_, _, notes, cerr := file.Convert()
			err = cerr
			for _, n := range notes {
				if n.Line < 1 {
					t.Fatalf("note without a line: %v", n)
				}
			}
		}
		if err != nil {
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error %T %v is not Errors", err, err)
			}
			if len(es) > MaxErrors+1 {
				t.Fatalf("%d errors", len(es))
			}
			for _, e := range es {
				if e.Line < 1 && len(src) <= MaxSize {
					t.Fatalf("error without a line: %v", e)
				}
				if x := e.Excerpt(""); len(e.Error()) > 600 || len(x) > maxExcerpt {
					t.Fatalf("a %d-byte message or a %d-byte excerpt: %.600s", len(e.Error()), len(x), e)
				}
			}
			return
		}
		Detect(src)
		Looks(src)
	})
}
