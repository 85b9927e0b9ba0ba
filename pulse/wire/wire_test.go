package wire

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var key = bytes.Repeat([]byte("k"), 32)

func TestRoundTrip(t *testing.T) {
	p := Packet{State: Active, Role: Backup, Epoch: 1700000000123456789, Seq: 42}
	b := Encode(p, key)
	if len(b) != Size {
		t.Fatalf("len = %d, want %d", len(b), Size)
	}
	got, err := Decode(b, key)
	if err != nil || got != p {
		t.Fatalf("Decode = %+v, %v; want %+v", got, err, p)
	}
}

func TestDecodeRefuses(t *testing.T) {
	good := Encode(Packet{State: Standby, Role: Primary, Epoch: 1, Seq: 1}, key)
	flip := func(i int) []byte { b := bytes.Clone(good); b[i] ^= 1; return b }
	otherKey := bytes.Repeat([]byte("x"), 32)
	for _, tc := range []struct {
		name string
		b    []byte
		key  []byte
		want error
	}{
		{"short", good[:Size-1], key, ErrMalformed},
		{"long", append(bytes.Clone(good), 0), key, ErrMalformed},
		{"empty", nil, key, ErrMalformed},
		{"magic", flip(0), key, ErrMalformed},
		{"state bit", flip(5), key, ErrForged},
		{"seq bit", flip(23), key, ErrForged},
		{"mac bit", flip(Size - 1), key, ErrForged},
		{"other key", good, otherKey, ErrForged},
		{"version", Encode(Packet{State: Standby, Role: Primary, Epoch: 1, Seq: 1}, key), key, nil},
		{"bad state", Encode(Packet{State: 3, Role: Primary, Epoch: 1, Seq: 1}, key), key, ErrMalformed},
		{"bad role", Encode(Packet{State: Active, Role: 0, Epoch: 1, Seq: 1}, key), key, ErrMalformed},
		{"seq 0", Encode(Packet{State: Active, Role: Primary, Epoch: 1, Seq: 0}, key), key, ErrMalformed},
	} {
		_, err := Decode(tc.b, tc.key)
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestDecodeRefusesOtherVersion(t *testing.T) {
	b := Encode(Packet{State: Active, Role: Primary, Epoch: 1, Seq: 1}, key)
	b[4] = 2
	// Re-sign so that only the version is wrong.
	b = append(b[:24], sign(b[:24])...)
	if _, err := Decode(b, key); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "version 2") {
		t.Fatalf("err = %v", err)
	}
}

func sign(head []byte) []byte {
	m := newMAC(key)
	m.Write(head)
	return m.Sum(nil)
}

func TestVerifier(t *testing.T) {
	v := &Verifier{Key: key, Self: Primary}
	s := &Sender{Role: Backup, Epoch: 100, Key: key}
	p1 := s.Next(Active)
	p2 := s.Next(Standby)
	if _, err := v.Check(p1); err != nil {
		t.Fatal(err)
	}
	// The same packet over the second heartbeat path.
	if _, err := v.Check(p1); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("second copy: %v", err)
	}
	got, err := v.Check(p2)
	if err != nil || got.Seq != 2 || got.State != Standby {
		t.Fatalf("p2: %+v %v", got, err)
	}
	if _, err := v.Check(p1); !errors.Is(err, ErrReplayed) {
		t.Fatalf("old seq: %v", err)
	}
	// A restarted peer has a larger epoch and starts at 1 again.
	s2 := &Sender{Role: Backup, Epoch: 200, Key: key}
	if _, err := v.Check(s2.Next(Standby)); err != nil {
		t.Fatalf("new epoch: %v", err)
	}
	// The old run's later packets are now replays.
	if _, err := v.Check(s.Next(Active)); !errors.Is(err, ErrReplayed) {
		t.Fatalf("old epoch: %v", err)
	}
	// Our own packets reflected back.
	own := &Sender{Role: Primary, Epoch: 300, Key: key}
	if _, err := v.Check(own.Next(Active)); !errors.Is(err, ErrReflected) {
		t.Fatalf("reflected: %v", err)
	}
	forged := (&Sender{Role: Backup, Epoch: 400, Key: bytes.Repeat([]byte("z"), 32)}).Next(Active)
	if _, err := v.Check(forged); !errors.Is(err, ErrForged) {
		t.Fatalf("forged: %v", err)
	}
	if _, err := v.Check([]byte("junk")); !errors.Is(err, ErrMalformed) {
		t.Fatalf("junk: %v", err)
	}
	want := Counts{Accepted: 3, Replayed: 2, Duplicate: 1, Reflected: 1, Forged: 1, Malformed: 1}
	if v.Counts != want {
		t.Fatalf("counts = %+v, want %+v", v.Counts, want)
	}
}

func TestPiranha(t *testing.T) {
	// The bytes piranha's pulse sends on x86.
	if got := EncodePiranha(Active); !bytes.Equal(got, []byte{0xda, 0xdb, 0xad, 0xbd}) {
		t.Fatalf("RUNNING = % x", got)
	}
	if got := EncodePiranha(Standby); !bytes.Equal(got, []byte{0xbd, 0xda, 0xbd, 0xad}) {
		t.Fatalf("STOPPED = % x", got)
	}
	for _, s := range []State{Active, Standby} {
		if got, err := DecodePiranha(EncodePiranha(s)); err != nil || got != s {
			t.Fatalf("%v: %v %v", s, got, err)
		}
	}
	for _, b := range [][]byte{nil, {1, 2, 3}, {0xbd, 0xad, 0xdb, 0xda}, {0xef, 0xbe, 0xad, 0xde}, EncodePiranha(Active)[:3]} {
		if _, err := DecodePiranha(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("% x: err = %v", b, err)
		}
	}
}

func TestLoadKey(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good", key, 0o600)
	if k, err := LoadKey(good); err != nil || !bytes.Equal(k, key) {
		t.Fatalf("good: %q %v", k, err)
	}
	long := bytes.Repeat([]byte{7}, 5000)
	if k, err := LoadKey(write("long", long, 0o400)); err != nil || !bytes.Equal(k, long) {
		t.Fatalf("long: %d %v", len(k), err)
	}
	for _, tc := range []struct{ path, want string }{
		{filepath.Join(dir, "missing"), "does not exist: make one on the first director with: install -m 0600 /dev/null"},
		{write("group", key, 0o640), "mode 0640, open to group or others: run chmod 0600"},
		{write("world", key, 0o604), "mode 0604"},
		{write("short", key[:31], 0o600), "holds 31 bytes, fewer than 32: make one"},
		{write("empty", nil, 0o600), "holds 0 bytes"},
		{dir, "is not a regular file"},
	} {
		_, err := LoadKey(tc.path)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to contain %q", tc.path, err, tc.want)
		}
	}
	_, err := LoadKey(filepath.Join(dir, "missing"))
	if !strings.Contains(err.Error(), "head -c 32 /dev/urandom > "+filepath.Join(dir, "missing")) {
		t.Errorf("help does not name the path: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(Encode(Packet{State: Active, Role: Primary, Epoch: 1, Seq: 1}, key))
	f.Add([]byte("LVSP"))
	f.Add(EncodePiranha(Active))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Decode(b, key)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrForged) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		// Whatever decodes re-encodes to the same bytes, except the
		// ignored flags byte.
		again := Encode(p, key)
		b2 := bytes.Clone(b)
		b2[7] = 0
		if b[7] == 0 && !bytes.Equal(again, b2) {
			t.Fatalf("re-encoding differs:\n% x\n% x", again, b)
		}
		_, _ = DecodePiranha(b)
	})
}
