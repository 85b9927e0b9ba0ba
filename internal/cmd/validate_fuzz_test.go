package cmd

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/lvsctl/lvsctl/internal/diag"
	"github.com/lvsctl/lvsctl/internal/diag/diagtest"
)

// FuzzValidateJSON feeds `validate --json` arbitrary files, named as an
// HCL file, an lvs.cf or a dump (the content decides too): whatever they
// hold, stdout is one valid JSON document within bounds, stderr is empty,
// and the status is 1 exactly when the document says it is not valid.
func FuzzValidateJSON(f *testing.F) {
	f.Add(byte(0), []byte("virtual_server \"w\" {\n  address = \"10.0.0.2:80\"\n  scheduler = \"x\"\n}\n"))
	f.Add(byte(0), []byte("virtual_server \"w\" {\n  x = \"\x00\xff\x1b[2J\"\n  y = }\n"))
	f.Add(byte(1), []byte("serial_no=3\nvirtual web {\n active = 1\n address = 10.0.0.300 eth0:1\n}\n"))
	f.Add(byte(2), []byte("-A -t 10.0.0.2:80 -s wlc\n-a -t 10.0.0.2:80 -r 10.0.0.3:80x -m\n"))
	f.Add(byte(2), []byte("-A -t 10.0.0.2:80 -s wlc\n-a -t 10.0.0.2:80 -r 10.0.0.3:80 -m\n"))
	f.Fuzz(func(t *testing.T, kind byte, src []byte) {
		name := []string{"f.hcl", "lvs.cf", "dump.txt"}[int(kind)%3]
		path := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(path, src, 0o600); err != nil {
			t.Fatal(err)
		}
		var stdout, stderr bytes.Buffer
		err := runValidate(Env{Stdout: &stdout, Stderr: &stderr}, path, true)
		var ee exitError
		if err != nil && (!errors.As(err, &ee) || ee.code != 1) {
			t.Fatalf("error %v", err)
		}
		if stderr.Len() > 0 {
			t.Fatalf("stderr: %s", stderr.Bytes())
		}
		var r diag.Report
		if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
			t.Fatalf("%v:\n%s", err, stdout.Bytes())
		}
		if r.Valid != (err == nil) || stdout.Len() > diagtest.MaxJSON(diag.MaxDiagnostics+1) {
			t.Fatalf("valid %v, error %v, %d bytes", r.Valid, err, stdout.Len())
		}
		diagtest.CheckJSON(t, src, checkConfig(Env{}, path, true).diagnostics())
	})
}
