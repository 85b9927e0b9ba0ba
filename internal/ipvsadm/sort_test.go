package ipvsadm

import (
	"bufio"
	"encoding/binary"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lvsctl/lvsctl/lvs"
)

// TestSortOrder checks the sort against testdata/sortorder.txt, which
// glibc's qsort wrote with ipvsadm's comparators (testdata/sortgen). The
// lists are full of differences of 2^31 and more, where the comparators
// wrap around and stop being transitive, so only the same algorithm gives
// the same order.
func TestSortOrder(t *testing.T) {
	f, err := os.Open("testdata/sortorder.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var svcs []lvs.Service
	var dests []lvs.Dest
	cases := 0
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		fs := strings.Fields(sc.Text())
		switch fs[0] {
		case "svc":
			n := nums(t, fs[1:], 3, 6)
			var s lvs.Service
			fam := lvs.Family(n[1])
			if n[0] != 0 {
				s.Key = lvs.MarkKey(fam, uint32(n[0]))
			} else {
				s.Key = lvs.ServiceKey{Family: fam, Protocol: lvs.Protocol(n[2]), Addr: wordsAddr(fam, n[3:7]), Port: uint16(n[7])}
			}
			svcs = append(svcs, s)
		case "dst":
			n := nums(t, fs[1:], 1, 4)
			dests = append(dests, lvs.Dest{Addr: netip.AddrPortFrom(wordsAddr(lvs.Family(n[0]), n[1:5]), uint16(n[5]))})
		case "sorted":
			cases++
			want := nums(t, fs[1:], -1, -1)
			if svcs != nil {
				got := sortedServices(&lvs.Table{Services: svcs}, true)
				for i, w := range want {
					if got[i].Key != svcs[w].Key {
						t.Errorf("line %d: position %d is %s, want %s", line, i, got[i].Key, svcs[w].Key)
						break
					}
				}
			} else {
				got := slices.Clone(dests)
				msort(got, cmpDests)
				for i, w := range want {
					if got[i].Addr != dests[w].Addr {
						t.Errorf("line %d: position %d is %s, want %s", line, i, got[i].Addr, dests[w].Addr)
						break
					}
				}
			}
			svcs, dests = nil, nil
		}
	}
	if cases != 600 {
		t.Fatalf("read %d cases, want 600", cases)
	}
}

// nums reads decimal numbers, and hexadecimal address words from field
// hexFrom to hexTo.
func nums(t *testing.T, fs []string, hexFrom, hexTo int) []uint64 {
	t.Helper()
	var n []uint64
	for i, f := range fs {
		base := 10
		if i >= hexFrom && i <= hexTo {
			base = 16
		}
		v, err := strconv.ParseUint(f, base, 64)
		if err != nil {
			t.Fatal(err)
		}
		n = append(n, v)
	}
	return n
}

func wordsAddr(f lvs.Family, w []uint64) netip.Addr {
	if f == lvs.IPv4 {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], uint32(w[0]))
		return netip.AddrFrom4(b)
	}
	var b [16]byte
	for i := range 4 {
		binary.BigEndian.PutUint32(b[4*i:], uint32(w[i]))
	}
	return netip.AddrFrom16(b)
}

func TestComparatorsWrap(t *testing.T) {
	a := lvs.Service{Key: lvs.AddrKey(lvs.TCP, netip.MustParseAddrPort("10.0.0.1:80"))}
	b := lvs.Service{Key: lvs.AddrKey(lvs.TCP, netip.MustParseAddrPort("192.168.0.1:80"))}
	if cmpServices(&a, &b) <= 0 {
		t.Errorf("10.0.0.1 sorts before 192.168.0.1; ipvsadm's wrapping difference puts it after")
	}
	m := lvs.Service{Key: lvs.MarkKey(lvs.IPv4, 0x80000001)}
	if cmpServices(&a, &m) <= 0 {
		t.Errorf("an address service sorts before fwmark 0x80000001; ipvsadm puts it after")
	}
	small := lvs.Service{Key: lvs.MarkKey(lvs.IPv4, 5)}
	if cmpServices(&a, &small) >= 0 {
		t.Errorf("an address service sorts after fwmark 5; ipvsadm puts it before")
	}
	d1 := lvs.Dest{Addr: netip.MustParseAddrPort("10.0.0.1:80")}
	d2 := lvs.Dest{Addr: netip.MustParseAddrPort("10.0.0.1:8080")}
	if cmpDests(&d1, &d2) >= 0 {
		t.Errorf("port 80 sorts after 8080")
	}
}
