package cmd

import (
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/lvsctl/lvsctl/lvs"
)

// FuzzParseLive feeds `plan --live FILE`'s reader arbitrary files, in
// either form (lvsctl's JSON or an ipvsadm -S -n dump). It must not panic,
// and a table it reads, written as show --json writes it and read again,
// is the same table.
func FuzzParseLive(f *testing.F) {
	f.Add([]byte(`{"services": [{"protocol": "tcp", "address": "10.0.0.2:80", "scheduler": "rr", "real_servers": [{"address": "10.0.1.1:80", "weight": 2, "forwarding": "dr"}]}], "timeouts": {"tcp": 900, "tcp_fin": 120, "udp": 300}}`))
	f.Add([]byte("-A -t 10.0.0.2:80 -s wlc -p 360\n-a -t 10.0.0.2:80 -r 10.0.1.1:80 -g -w 1\n-A -f 7 -s sh -b sh-port\n-a -f 7 -r 10.0.1.2:0 -i -w 3\n"))
	f.Add([]byte("-A -u [2001:db8::2]:53 -s mh -M 64 -p 60\n-a -u [2001:db8::2]:53 -r [2001:db8::10]:53 -m -w 0 -x 100 -y 10\n"))
	f.Add([]byte("--set 3600 0 120\n-A -u 10.0.0.3:53 -s rr\n-a -u 10.0.0.3:53 -r 172.16.1.20:53 -i -w 1\n-a -u 10.0.0.3:53 -r 172.16.1.21:53 -i --tun-type gue --tun-port 6080 -x 5\n"))
	f.Add([]byte(`{"services": [], "timeouts": {"tcp": 0, "tcp_fin": 120, "udp": 0}}`))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		tab, err := parseLive(Env{Stderr: io.Discard}, "live", data, false)
		if err != nil {
			return
		}
		b, err := tab.MarshalJSON()
		if err != nil {
			t.Fatalf("a table that was read cannot be written: %v", err)
		}
		back, err := parseLive(Env{Stderr: io.Discard}, "live.json", b, false)
		if err != nil {
			t.Fatalf("re-reading %s: %v", b, err)
		}
		// The JSON form does not say what the dump lacked; its values are
		// the same.
		back.Forget(tab.Unknown)
		if !reflect.DeepEqual(tab, back) {
			t.Fatalf("written as JSON and read again, the table changed:\n%+v\nthen\n%+v\njson:\n%s", tab, back, b)
		}
	})
}

// TestReadLiveLimit: a saved table larger than ipvsadm's input limit is
// refused without being parsed.
func TestReadLiveLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "live.json")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(`{"services": [`); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(64<<20 + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	var tab *lvs.Table
	if tab, _, err = readLive(Env{}, path, false); err == nil || !strings.Contains(err.Error(), "larger than 64 MiB") {
		t.Errorf("a 64 MiB table: %v, %v", tab, err)
	}
}
