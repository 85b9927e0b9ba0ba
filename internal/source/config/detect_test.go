package config

import "testing"

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		name, content string
		want          bool
	}{
		{"web.hcl", "", true},
		{"web.conf", "virtual_server \"web\" {\n  address = \"10.0.0.2:80\"\n}\n", true},
		{"web.plan", `{"kind": "lvsctl-plan"}`, false},
		{"table.json", `[]`, false},
		{"save.txt", "-A -t 10.0.0.2:80 -s wlc\n", false},
		{"notes", "just words\n", false},
		{"settings", "a = 1\n", false},
	} {
		if got := Detect(tc.name, []byte(tc.content)); got != tc.want {
			t.Errorf("Detect(%q, %q) = %v", tc.name, tc.content, got)
		}
	}
}

// FuzzDetect: Detect looks at any file given in a plan's place, and must
// never panic on one.
func FuzzDetect(f *testing.F) {
	f.Add("web", []byte("virtual_server \"web\" {\n}\n"))
	f.Add("x", []byte(`{"kind": "lvsctl-plan"}`))
	f.Add("x", []byte("-A -t 10.0.0.2:80\n"))
	f.Fuzz(func(t *testing.T, name string, content []byte) {
		Detect(name, content)
	})
}
