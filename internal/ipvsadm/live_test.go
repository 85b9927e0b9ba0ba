package ipvsadm

import (
	"os"
	"strings"
	"testing"

	"github.com/lvsctl/lvsctl/lvs"
)

// ParseLive marks what the dump does not carry: ipvsadm -S writes no
// timeouts and no thresholds, and before 1.30 no tunnel types.
func TestParseLiveUnknown(t *testing.T) {
	for _, tc := range []struct {
		name, dump string
		want       lvs.Unknown
	}{
		{"ipvsadm -S -n", "-A -t 10.0.0.2:80 -s wlc\n-a -t 10.0.0.2:80 -r 192.168.10.100:80 -m -w 1\n", lvs.UnknownTimeouts | lvs.UnknownThresholds},
		{"with --set", "--set 3600 60 120\n-A -t 10.0.0.2:80 -s wlc\n", lvs.UnknownThresholds},
		{"--set leaving udp", "--set 3600 60 0\n-A -t 10.0.0.2:80 -s wlc\n", lvs.UnknownUDPTimeout | lvs.UnknownThresholds},
		{"with a threshold", "-A -t 10.0.0.2:80 -s wlc\n-a -t 10.0.0.2:80 -r 192.168.10.100:80 -m -w 1 -x 10\n-a -t 10.0.0.2:80 -r 192.168.10.101:80 -m\n", lvs.UnknownTimeouts},
		{"tunnel types", "-A -u 10.0.0.3:53 -s rr\n-a -u 10.0.0.3:53 -r 172.16.1.20:53 -i -w 1 --tun-type ipip\n", lvs.UnknownTimeouts | lvs.UnknownThresholds},
		{"a tunnel before 1.30", "-A -u 10.0.0.3:53 -s rr\n-a -u 10.0.0.3:53 -r 172.16.1.20:53 -i -w 1\n-a -u 10.0.0.3:53 -r 172.16.1.21:53 -i -w 1 --tun-type gue --tun-port 6080\n",
			lvs.UnknownTimeouts | lvs.UnknownThresholds | lvs.UnknownTunnel},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tab, err := ParseLive(strings.NewReader(tc.dump), "dump")
			if err != nil {
				t.Fatal(err)
			}
			if tab.Unknown != tc.want {
				t.Errorf("Unknown = %v, want %v", tab.Unknown, tc.want)
			}
			for _, s := range tab.Services {
				for _, d := range s.Dests {
					if tc.want&lvs.UnknownTunnel != 0 && (d.Opts.TunnelType != lvs.IPIP || d.Opts.TunnelPort != 0) {
						t.Errorf("an unknown tunnel keeps its options: %+v", d.Opts)
					}
				}
			}
			// ParseSave reads the same values and knows nothing of it.
			saved, err := ParseSave(strings.NewReader(tc.dump), "dump")
			if err != nil || saved.Unknown != 0 {
				t.Fatalf("ParseSave: %v, unknown %v", err, saved.Unknown)
			}
		})
	}
}

// What ipvsadm 1.31 printed for the every-feature table in the lab (see
// testdata/proof): timeouts and thresholds unknown, tunnels known.
func TestParseLiveEverything(t *testing.T) {
	f, err := os.Open("../../testdata/proof/everything.ipvsadm")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tab, err := ParseLive(f, "everything.ipvsadm")
	if err != nil {
		t.Fatal(err)
	}
	if want := lvs.UnknownTimeouts | lvs.UnknownThresholds; tab.Unknown != want {
		t.Errorf("Unknown = %v, want %v", tab.Unknown, want)
	}
}

// ParseDump keeps the values a dump writes and says what it lacks; a
// tunnel type given beside one left out stays for a conversion.
func TestParseDumpKeepsValues(t *testing.T) {
	const dump = "-A -u 10.0.0.3:53 -s rr\n-a -u 10.0.0.3:53 -r 172.16.1.20:53 -i -w 1\n-a -u 10.0.0.3:53 -r 172.16.1.21:53 -i -w 1 --tun-type gue --tun-port 6080\n"
	tab, u, err := ParseDump(strings.NewReader(dump), "dump")
	if err != nil {
		t.Fatal(err)
	}
	if u != lvs.UnknownTimeouts|lvs.UnknownThresholds|lvs.UnknownTunnel || tab.Unknown != 0 {
		t.Errorf("unknown %v, table's %v", u, tab.Unknown)
	}
	if d := tab.Services[0].Dests[1]; d.Opts.TunnelType != lvs.GUE || d.Opts.TunnelPort != 6080 {
		t.Errorf("the GUE tunnel was not kept: %+v", d.Opts)
	}
}
