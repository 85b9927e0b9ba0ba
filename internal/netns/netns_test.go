package netns

import "testing"

func TestPath(t *testing.T) {
	for in, want := range map[string]string{"": "", "blue": "/run/netns/blue", "/proc/1/ns/net": "/proc/1/ns/net", "./x": "./x", "a.b": "/run/netns/a.b"} {
		if got, err := Path(in); got != want || err != nil {
			t.Errorf("Path(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{".", ".."} {
		if got, err := Path(in); err == nil {
			t.Errorf("Path(%q) = %q, want an error", in, got)
		}
	}
}

func TestDoHere(t *testing.T) {
	ran := false
	if err := Do("", func() error { ran = true; return nil }); err != nil || !ran {
		t.Errorf(`Do("") = %v, ran %v`, err, ran)
	}
}
