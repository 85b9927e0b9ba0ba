package ipvsadm

import (
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/lvsctl/lvsctl/internal/services"
	"github.com/lvsctl/lvsctl/lvs"
)

// netbase is the part of Debian's /etc/services a director's dump uses.
const netbase = "domain 53/tcp\ndomain 53/udp\nhttp 80/tcp www\nhttps 443/tcp\nhttps 443/udp\nsip 5060/udp\nhttp-alt 8080/tcp webcache\n"

func testNames(hosts map[string]string) Names {
	db := services.Parse([]byte(netbase), "/etc/services")
	return Names{
		Port: func(name, proto string) (uint16, bool, string, error) {
			p, ok := db.Port(name, proto)
			return p, ok, db.Source, nil
		},
		Host: func(name string) (netip.Addr, error) {
			if a, ok := hosts[name]; ok {
				return netip.MustParseAddr(a), nil
			}
			return netip.Addr{}, fmt.Errorf("lookup %s: no such host", name)
		},
	}
}

// What ipvsadm -S (without -n) writes, as /etc/sysconfig/ipvsadm holds
// it: port names, per protocol, for services and real servers; a
// firewall-mark service's real servers take TCP names.
func TestNamesParseSave(t *testing.T) {
	in := "-A -t 10.0.0.2:http -s wlc\n" +
		"-a -t 10.0.0.2:http -r 192.168.10.1:webcache -m -w 1\n" +
		"-a -t 10.0.0.2:http -r 192.168.10.2:http -m -w 1\n" +
		"-A -u 10.0.0.3:domain -s rr\n" +
		"-a -u 10.0.0.3:domain -r 192.168.10.53:domain -m -w 1\n" +
		"-A -u 10.0.0.4:sip -s sh\n" +
		"-A -f 100 -s rr\n" +
		"-a -f 100 -r 192.168.10.20:https -g -w 1\n"
	tab, err := testNames(nil).ParseSave(strings.NewReader(in), "ipvsadm")
	if err != nil {
		t.Fatal(err)
	}
	want, err := ParseSave(strings.NewReader(
		"-A -t 10.0.0.2:80 -s wlc\n"+
			"-a -t 10.0.0.2:80 -r 192.168.10.1:8080 -m -w 1\n"+
			"-a -t 10.0.0.2:80 -r 192.168.10.2:80 -m -w 1\n"+
			"-A -u 10.0.0.3:53 -s rr\n"+
			"-a -u 10.0.0.3:53 -r 192.168.10.53:53 -m -w 1\n"+
			"-A -u 10.0.0.4:5060 -s sh\n"+
			"-A -f 100 -s rr\n"+
			"-a -f 100 -r 192.168.10.20:443 -g -w 1\n"), "numeric")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(tab, want) {
		t.Errorf("got\n%v\nwant\n%v", tab, want)
	}
}

func TestParseSaveNameErrors(t *testing.T) {
	names := testNames(map[string]string{"web1.example.com": "192.168.10.1", "lb.example.com": "10.0.0.2"})
	for _, tc := range []struct{ in, want string }{
		// Protocol-aware: sip is UDP only here, http TCP only.
		{"-A -t 10.0.0.2:sip\n", `d:1:16: invalid port "sip" in "10.0.0.2:sip": /etc/services has no tcp service of that name; write the port number`},
		{"-A -u 10.0.0.2:http\n", `d:1:16: invalid port "http" in "10.0.0.2:http": /etc/services has no udp service of that name; write the port number`},
		// Case matters, as for getservbyname.
		{"-A -t 10.0.0.2:HTTP\n", `d:1:16: invalid port "HTTP" in "10.0.0.2:HTTP": /etc/services has no tcp service of that name`},
		// A real server before its service: no protocol to look it up for.
		{"-a -r 192.168.10.1:http -t 10.0.0.2:80\n", `d:1:20: port name "http" in "192.168.10.1:http" comes before the service's protocol`},
		// An IPv6 host name, which ipvsadm cannot read back.
		{"-A -t [www6.example.com]:http\n", `d:1:7: virtual service "[www6.example.com]:http" names an IPv6 host, which ipvsadm cannot read back either; save the table with ipvsadm -S -n`},
		// A host name that does not resolve.
		{"-A -t nosuch.example.com:80\n", `d:1:7: virtual service "nosuch.example.com:80": the host name "nosuch.example.com" does not resolve to an IPv4 address (lookup nosuch.example.com: no such host); save the table with ipvsadm -S -n`},
	} {
		_, err := names.ParseSave(strings.NewReader(tc.in), "d")
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q:\n got %v\nwant %s", tc.in, err, tc.want)
		}
	}
	// Host names resolve when asked (--resolve).
	tab, err := names.ParseSave(strings.NewReader("-A -t lb.example.com:http\n-a -t lb.example.com:http -r web1.example.com:http -m\n"), "d")
	if err != nil {
		t.Fatal(err)
	}
	s := tab.Service(lvs.AddrKey(lvs.TCP, netip.MustParseAddrPort("10.0.0.2:80")))
	if s == nil || len(s.Dests) != 1 || s.Dests[0].Addr != netip.MustParseAddrPort("192.168.10.1:80") {
		t.Errorf("got %v", tab)
	}
	// Without a host resolver, a host name is refused with the advice.
	names.Host = nil
	_, err = names.ParseSave(strings.NewReader("-A -t lb.example.com:http\n"), "d")
	if err == nil || !strings.Contains(err.Error(), `names the host "lb.example.com": ipvsadm -S without -n writes host names; save the table with ipvsadm -S -n, or pass --resolve`) {
		t.Errorf("got %v", err)
	}
}

// Every bad line is reported in one pass, with its column, its line and a
// suggestion for a misspelt option or scheduler; lines about a service or
// real server whose own line was bad are not reported again.
func TestParseSaveAllErrors(t *testing.T) {
	in := "-A -t 10.0.0.2:80 -s wrrr\n" + // 1: bad scheduler: the service is unknown
		"-a -t 10.0.0.2:80 -r 192.168.10.1:80 -m\n" + // 2: a consequence
		"-A -t 10.0.0.3:80 -s rr\n" + // 3
		"-a -t 10.0.0.3:80 -r 192.168.10.1:80 -m --weigth 2\n" + // 4: misspelt option
		"-e -t 10.0.0.3:80 -r 192.168.10.1:80 -m -w 3\n" + // 5: a consequence
		"-a -t 10.0.0.3:80 -r 192.168.10.2:80 -m -w heavy\n" + // 6
		"-a -t 10.0.0.9:80 -r 192.168.10.3:80 -m\n" + // 7: no such service
		"-A -t 10.0.0.3:80\n" // 8: twice
	_, err := ParseSave(strings.NewReader(in), "d")
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("got %T %v", err, err)
	}
	want := []string{
		`d:1:22: unknown scheduler "wrrr": the kernel has rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh, twos; did you mean wrr?`,
		`d:4:41: unknown option "--weigth"; did you mean --weight?`,
		`d:6:44: invalid weight "heavy": a whole number from 0 to 65535`,
		`d:7:4: there is no service tcp 10.0.0.9:80 (add it with -A before its real servers)`,
		`d:8:4: service tcp 10.0.0.3:80 already exists (added on line 3)`,
	}
	if got := strings.Split(es.Error(), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", es, strings.Join(want, "\n"))
	}
	if x := es[2].Excerpt(); x != "    | -a -t 10.0.0.3:80 -r 192.168.10.2:80 -m -w heavy\n    |                                            ^" {
		t.Errorf("excerpt:\n%s", x)
	}
}

// Past MaxErrors, one more error counts the rest.
func TestParseSaveTooManyErrors(t *testing.T) {
	_, err := ParseSave(strings.NewReader(strings.Repeat("-A -t 10.0.0.2:80 -s nonsense\n", 80)), "d")
	var es Errors
	if !errors.As(err, &es) || len(es) != MaxErrors+1 {
		t.Fatalf("got %d errors: %v", len(es), err)
	}
	if last := es[MaxErrors]; last.Msg != "30 more errors not shown (lvsctl shows the first 50); fix these first" {
		t.Errorf("last: %v", last)
	}
}
