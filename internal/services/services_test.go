package services

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An excerpt of Debian's netbase /etc/services, with the shapes the
// parser must take: aliases, comments, a protocol of its own per line.
const netbase = `# Network services, Internet style
tcpmux		1/tcp				# TCP port service multiplexer
domain		53/tcp				# Domain Name Server
domain		53/udp
http		80/tcp		www		# WorldWideWeb HTTP
https		443/tcp				# http protocol over TLS/SSL
https		443/udp				# HTTP/3
https		443/sctp
ntp		123/udp				# Network Time Protocol
submissions	465/tcp		ssmtp smtps urd	# Submission over TLS [RFC8314]
http-alt	8080/tcp	webcache	# WWW caching service
broken		notaport/tcp
also-broken	80
www		81/tcp				# a later line does not win
`

func TestParse(t *testing.T) {
	db := Parse([]byte(netbase), "services")
	for _, c := range []struct {
		name, proto string
		port        uint16
		ok          bool
	}{
		{"http", "tcp", 80, true},
		{"www", "tcp", 80, true}, // an alias; the first line wins
		{"http", "udp", 0, false},
		{"https", "udp", 443, true},
		{"https", "sctp", 443, true},
		{"domain", "udp", 53, true},
		{"ntp", "tcp", 0, false},
		{"smtps", "tcp", 465, true},
		{"webcache", "tcp", 8080, true},
		{"HTTP", "tcp", 0, false}, // case sensitive, as the C library
		{"broken", "tcp", 0, false},
		{"also-broken", "tcp", 0, false},
		{"tcp", "tcp", 0, false},
		{"#", "tcp", 0, false},
	} {
		p, ok := db.Port(c.name, c.proto)
		if p != c.port || ok != c.ok {
			t.Errorf("Port(%q, %q) = %d, %v; want %d, %v", c.name, c.proto, p, ok, c.port, c.ok)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "services")
	if err := os.WriteFile(path, []byte(netbase), 0o644); err != nil {
		t.Fatal(err)
	}
	look := Lookup(path)
	if p, ok, db, err := look("https", "tcp"); p != 443 || !ok || err != nil || db.Source != path {
		t.Errorf("https/tcp = %d, %v, %v", p, db, err)
	}
	if p, ok, _, err := look("sip", "udp"); p != 0 || ok || err != nil {
		t.Errorf("sip/udp is not in the file, and the file is there: got %d, %v", p, err)
	}
	// No file: the built-in table.
	look = Lookup(filepath.Join(dir, "none"))
	if p, ok, db, err := look("sip", "udp"); p != 5060 || !ok || err != nil || db.Source != BuiltinSource {
		t.Errorf("sip/udp without a file = %d, %v, %v", p, db, err)
	}
	// Not a regular file, and too large: errors.
	if _, _, _, err := Lookup(dir)("http", "tcp"); err == nil {
		t.Error("a directory was read as a services file")
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, []byte(strings.Repeat("#\n", MaxSize/2+1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big); err == nil {
		t.Error("a file over MaxSize was read")
	}
	if _, err := Load(filepath.Join(dir, "none")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing file: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(netbase))
	f.Add([]byte("a 1/tcp b c\n\x00 2/udp\n#x 3/tcp\nd 70000/tcp\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		db := Parse(src, "fuzz")
		for k, p := range db.ports {
			if k.name == "" || k.proto == "" || strings.ContainsAny(k.name+k.proto, " \t\n#") {
				t.Fatalf("entry %q/%q = %d", k.name, k.proto, p)
			}
		}
	})
}
