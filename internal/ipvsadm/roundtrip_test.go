package ipvsadm

import (
	"bytes"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lvsctl/lvsctl/lvs"
)

// randomTable returns a random table that lvs.Validate accepts.
func randomTable(r *rand.Rand) *lvs.Table {
	t := &lvs.Table{Timeouts: lvs.Timeouts{TCP: time.Duration(r.IntN(1000)) * time.Second}}
	seen := map[lvs.ServiceKey]bool{}
	for range r.IntN(8) {
		s := randomService(r)
		if seen[s.Key] {
			continue
		}
		seen[s.Key] = true
		t.Services = append(t.Services, s)
	}
	return t
}

func randomAddr(r *rand.Rand, f lvs.Family) netip.Addr {
	for {
		var a netip.Addr
		if f == lvs.IPv4 {
			// Few first octets, so that the wrapping comparisons and
			// equal prefixes both occur.
			a = netip.AddrFrom4([4]byte{[]byte{1, 10, 127, 128, 172, 192, 255}[r.IntN(7)], byte(r.IntN(3)), 0, byte(r.IntN(256))})
		} else {
			var b [16]byte
			b[0], b[1] = 0x20, 0x01
			b[2] = byte(r.IntN(3)) * 0x80
			b[15] = byte(r.IntN(256))
			a = netip.AddrFrom16(b)
		}
		if !a.IsUnspecified() {
			return a
		}
	}
}

func randomService(r *rand.Rand) lvs.Service {
	fam := lvs.IPv4
	if r.IntN(3) == 0 {
		fam = lvs.IPv6
	}
	var s lvs.Service
	if r.IntN(4) == 0 {
		mark := uint32(1 + r.IntN(10))
		if r.IntN(4) == 0 {
			mark = r.Uint32() | 1
		}
		s.Key = lvs.MarkKey(fam, mark)
	} else {
		proto := []lvs.Protocol{lvs.TCP, lvs.UDP, lvs.SCTP}[r.IntN(3)]
		port := uint16([]int{0, 80, 443, 53, 65535}[r.IntN(5)])
		s.Key = lvs.AddrKey(proto, netip.AddrPortFrom(randomAddr(r, fam), port))
	}
	o := &s.Opts
	o.Scheduler = lvs.Schedulers[r.IntN(len(lvs.Schedulers))]
	if o.Scheduler == "sh" || o.Scheduler == "mh" {
		// -S cannot name flag-3 for these (see TestWriteSave).
		o.SchedFlags = lvs.SchedFlags(r.IntN(4))
	} else {
		o.SchedFlags = lvs.SchedFlags(r.IntN(8))
	}
	o.Persistent = r.IntN(2) == 0 || (!s.Key.IsFWMark() && s.Key.Port == 0)
	if o.Persistent {
		o.Timeout = uint32(1 + r.IntN(lvs.MaxPersistTimeout))
		if fam == lvs.IPv6 {
			o.Netmask = uint8(1 + r.IntN(128))
		} else {
			o.Netmask = uint8(r.IntN(33))
		}
		if r.IntN(3) == 0 {
			o.PE = "sip"
		}
	}
	o.OnePacket = (s.Key.IsFWMark() || s.Key.Protocol == lvs.UDP) && r.IntN(2) == 0
	seen := map[netip.AddrPort]bool{}
	for range r.IntN(6) {
		d := randomDest(r, s.Key)
		if seen[d.Addr] {
			continue
		}
		seen[d.Addr] = true
		s.Dests = append(s.Dests, d)
	}
	return s
}

func randomDest(r *rand.Rand, k lvs.ServiceKey) lvs.Dest {
	var d lvs.Dest
	o := &d.Opts
	o.Forward = []lvs.Forward{lvs.Masq, lvs.Route, lvs.Tunnel, lvs.Local}[r.IntN(4)]
	fam := k.Family
	if o.Forward == lvs.Tunnel && r.IntN(3) == 0 {
		fam = lvs.IPv4 + lvs.IPv6 - fam
	}
	port := k.Port
	if k.IsFWMark() || o.Forward == lvs.Masq {
		port = uint16(r.IntN(3) * 4000)
		if port == 0 && !k.IsFWMark() && k.Port != 0 {
			port = 8080
		}
	}
	d.Addr = netip.AddrPortFrom(randomAddr(r, fam), port)
	o.Weight = []int{0, 1, 2, 100, 65535}[r.IntN(5)]
	o.UpperThreshold = uint32(r.IntN(3) * 100)
	o.LowerThreshold = o.UpperThreshold / 2
	d.Live.ActiveConns = uint32(r.IntN(10))
	if o.Forward == lvs.Tunnel {
		o.TunnelType = lvs.TunnelType(r.IntN(3))
		switch o.TunnelType {
		case lvs.GUE:
			o.TunnelPort = uint16(1 + r.IntN(65535))
			o.TunnelFlags = []lvs.TunnelFlags{0, lvs.TunnelCsum, lvs.TunnelRemCsum}[r.IntN(3)]
		case lvs.GRE:
			o.TunnelFlags = []lvs.TunnelFlags{0, lvs.TunnelCsum}[r.IntN(2)]
		}
	}
	return d
}

// saved is what a dump of t keeps: no thresholds, no timeouts, no
// counters, and Local saved as -g.
func saved(t *lvs.Table) *lvs.Table {
	c := t.Clone()
	c.Timeouts = lvs.Timeouts{}
	for i := range c.Services {
		s := &c.Services[i]
		s.Stats = lvs.Stats{}
		for j := range s.Dests {
			d := &s.Dests[j]
			d.Opts.UpperThreshold, d.Opts.LowerThreshold = 0, 0
			d.Live = lvs.DestLive{}
			if d.Opts.Forward == lvs.Local {
				d.Opts.Forward = lvs.Route
			}
		}
	}
	c.Normalize()
	return c
}

// ParseSave(WriteSave(t)) gives t back, less what -S does not save.
func TestRoundTripTable(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 1000 {
		tab := randomTable(r)
		if ps := tab.Validate(); len(ps) > 0 {
			t.Fatalf("table %d: the generator made an invalid table: %v", i, ps)
		}
		tab.Normalize()
		var b bytes.Buffer
		if err := WriteSave(&b, tab); err != nil {
			t.Fatal(err)
		}
		got, err := ParseSave(bytes.NewReader(b.Bytes()), "saved")
		if err != nil {
			t.Fatalf("table %d: reading its own dump:\n%s\n%v", i, b.String(), err)
		}
		// DeepEqual first: cmp.Diff is slow, and only needed to explain.
		if want := saved(tab); !reflect.DeepEqual(want, got) {
			t.Fatalf("table %d, dump:\n%s\n(-want +got):\n%s", i, b.String(), cmp.Diff(want, got, cmpAddrs))
		}
		// A dump is canonical: writing what was read gives it back.
		var again bytes.Buffer
		if err := WriteSave(&again, got); err != nil {
			t.Fatal(err)
		}
		if again.String() != b.String() {
			t.Fatalf("table %d: dump changed on a second round:\n%s\nthen\n%s", i, b.String(), again.String())
		}
	}
}

// WriteSave(ParseSave(x)) == x for the canonical dumps in testdata/save,
// each written as ipvsadm -S -n would print it.
func TestRoundTripDumps(t *testing.T) {
	files, err := filepath.Glob("testdata/save/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no dumps in testdata/save: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			in, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			tab, err := ParseSave(bytes.NewReader(in), f)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := WriteSave(&out, tab); err != nil {
				t.Fatal(err)
			}
			if out.String() != string(in) {
				t.Errorf("dump changed:\n%s\nwant:\n%s", out.String(), in)
			}
		})
	}
}

// Reading a dump with its lines shuffled gives the same table: a dump
// holds no order that matters beyond "-A before its -a".
func TestParseSaveOrderFree(t *testing.T) {
	in, err := os.ReadFile("testdata/save/mixed.txt")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(strings.TrimSuffix(string(in), "\n"), "\n")
	var adds, dests []string
	for _, l := range lines {
		l = strings.TrimSuffix(l, "\n") + "\n"
		if strings.HasPrefix(l, "-A") {
			adds = append(adds, l)
		} else {
			dests = append(dests, l)
		}
	}
	slices.Reverse(adds)
	slices.Reverse(dests)
	want, err := ParseSave(bytes.NewReader(in), "a")
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseSave(strings.NewReader(strings.Join(adds, "")+strings.Join(dests, "")), "b")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got, cmpAddrs); d != "" {
		t.Errorf("(-in order +shuffled):\n%s", d)
	}
}
