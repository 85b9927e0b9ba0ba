// Package services reads the service names of /etc/services, as the C
// library's getservbyname(3) finds them: ipvsadm writes port names from
// there into a dump saved without -n (":http"), and reads them back so.
package services

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"sync"

	"github.com/lvsctl/lvsctl/internal/regular"
)

// DefaultPath is the services database of the C library.
const DefaultPath = "/etc/services"

// MaxSize is the largest services file read, in bytes: Debian's is 12 KB,
// IANA's whole registry under 2 MB.
const MaxSize = 8 << 20

// A DB maps service names and aliases, per protocol, to ports.
type DB struct {
	// Source says where the names come from, for messages: a path, or
	// "lvsctl's built-in table".
	Source string
	ports  map[key]uint16
}

type key struct{ name, proto string }

// Port returns the port of name for proto ("tcp", "udp" or "sctp"), as
// getservbyname(name, proto) does: names and aliases alike, case
// sensitive, the first line that has it winning.
func (db *DB) Port(name, proto string) (uint16, bool) {
	p, ok := db.ports[key{name, proto}]
	return p, ok
}

// Parse reads a services file: lines of `NAME PORT/PROTOCOL [ALIAS...]`,
// with # starting a comment anywhere. Like the C library, it skips lines
// it cannot read rather than failing on them.
func Parse(src []byte, source string) *DB {
	db := &DB{Source: source, ports: map[key]uint16{}}
	for line := range strings.Lines(string(src)) {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		num, proto, ok := strings.Cut(f[1], "/")
		if !ok || proto == "" {
			continue
		}
		port, err := strconv.ParseUint(num, 10, 16)
		if err != nil {
			continue
		}
		for _, name := range append(f[:1:1], f[2:]...) {
			k := key{name, proto}
			if _, seen := db.ports[k]; !seen {
				db.ports[k] = uint16(port)
			}
		}
	}
	return db
}

// Load reads the services file at path through package regular (a FIFO
// or a device is refused, a file over MaxSize too). A missing file is an
// error that wraps fs.ErrNotExist.
func Load(path string) (*DB, error) {
	f, fi, err := regular.Open(path, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	src, err := regular.ReadAll(f, fi, MaxSize)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return Parse(src, path), nil
}

// Lookup returns a function that resolves port names with the services
// file at path ("" is DefaultPath), read on its first use only, so that a
// dump without names never reads it. When the file does not exist, the
// built-in table stands in (see Builtin).
func Lookup(path string) func(name, proto string) (port uint16, ok bool, db *DB, err error) {
	if path == "" {
		path = DefaultPath
	}
	load := sync.OnceValues(func() (*DB, error) {
		db, err := Load(path)
		if errors.Is(err, fs.ErrNotExist) {
			return Builtin(), nil
		}
		return db, err
	})
	return func(name, proto string) (uint16, bool, *DB, error) {
		db, err := load()
		if err != nil {
			return 0, false, nil, err
		}
		p, ok := db.Port(name, proto)
		return p, ok, db, nil
	}
}

// Builtin returns the names of Debian's netbase services file for the
// services directors balance, for a host without /etc/services (a minimal
// container or image). BuiltinSource is its Source.
func Builtin() *DB {
	db := &DB{Source: BuiltinSource, ports: map[key]uint16{}}
	for _, s := range builtin {
		for _, proto := range strings.Split(s.protos, ",") {
			for _, name := range s.names {
				db.ports[key{name, proto}] = s.port
			}
		}
	}
	return db
}

// BuiltinSource is the Source of Builtin's table.
const BuiltinSource = "lvsctl's built-in table of common services (no /etc/services)"

var builtin = []struct {
	names  []string
	port   uint16
	protos string
}{
	{[]string{"ftp-data"}, 20, "tcp"},
	{[]string{"ftp"}, 21, "tcp"},
	{[]string{"ssh"}, 22, "tcp"},
	{[]string{"telnet"}, 23, "tcp"},
	{[]string{"smtp", "mail"}, 25, "tcp"},
	{[]string{"domain"}, 53, "tcp,udp"},
	{[]string{"bootps"}, 67, "udp"},
	{[]string{"bootpc"}, 68, "udp"},
	{[]string{"tftp"}, 69, "udp"},
	{[]string{"gopher"}, 70, "tcp"},
	{[]string{"finger"}, 79, "tcp"},
	{[]string{"http", "www"}, 80, "tcp"},
	{[]string{"kerberos", "kerberos5", "krb5", "kerberos-sec"}, 88, "tcp,udp"},
	{[]string{"pop3", "pop-3"}, 110, "tcp"},
	{[]string{"sunrpc", "portmapper"}, 111, "tcp,udp"},
	{[]string{"nntp", "readnews", "untp"}, 119, "tcp"},
	{[]string{"ntp"}, 123, "udp"},
	{[]string{"imap2", "imap"}, 143, "tcp"},
	{[]string{"snmp"}, 161, "tcp,udp"},
	{[]string{"ldap"}, 389, "tcp,udp"},
	{[]string{"https"}, 443, "tcp,udp,sctp"},
	{[]string{"microsoft-ds"}, 445, "tcp"},
	{[]string{"submissions", "ssmtp", "smtps", "urd"}, 465, "tcp"},
	{[]string{"syslog"}, 514, "udp"},
	{[]string{"rtsp"}, 554, "tcp,udp"},
	{[]string{"submission"}, 587, "tcp"},
	{[]string{"ldaps"}, 636, "tcp,udp"},
	{[]string{"rsync"}, 873, "tcp"},
	{[]string{"imaps"}, 993, "tcp"},
	{[]string{"pop3s"}, 995, "tcp"},
	{[]string{"openvpn"}, 1194, "tcp,udp"},
	{[]string{"ms-sql-s"}, 1433, "tcp"},
	{[]string{"radius"}, 1812, "tcp,udp"},
	{[]string{"nfs"}, 2049, "tcp,udp,sctp"},
	{[]string{"mysql"}, 3306, "tcp"},
	{[]string{"sip"}, 5060, "tcp,udp"},
	{[]string{"sip-tls"}, 5061, "tcp,udp"},
	{[]string{"postgresql", "postgres"}, 5432, "tcp"},
	{[]string{"x11", "x11-0"}, 6000, "tcp"},
	{[]string{"http-alt", "webcache"}, 8080, "tcp"},
}
