package health

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A write that fails half-way leaves the published file as it was. (The
// first WriteState dropped the error of a short write, in a shadowed err,
// and renamed the truncated file over the good one.)
func TestWriteStateFailureKeepsOld(t *testing.T) {
	cfg := loadConfig(t, desiredSrc)
	path := filepath.Join(t.TempDir(), "run", "health.json")
	good := NewStateFile(Targets(cfg), States{kA: {Down: true, Reason: "refused"}}, nil, Policy{}, t0)
	if err := WriteState(path, good); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	big := NewStateFile(Targets(cfg), States{kA: {Down: true, Reason: strings.Repeat("x", 64<<10)}}, nil, Policy{}, t0.Add(time.Second))

	// The file size limit makes the write short (EFBIG), as a full disk
	// would. Go ignores the SIGXFSZ that comes with it.
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Skip(err)
	}
	lim := old
	lim.Cur = uint64(len(before)) + 100
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Skip(err)
	}
	err = WriteState(path, big)
	if rerr := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); rerr != nil {
		t.Fatal(rerr)
	}
	if err == nil {
		t.Fatal("WriteState beyond the file size limit succeeded")
	}
	after, rerr := os.ReadFile(path)
	if rerr != nil || string(after) != string(before) {
		t.Errorf("after a failed write (%v) the file holds %d bytes (%v), want the %d it had", err, len(after), rerr, len(before))
	}
	if f, err := ReadState(path); err != nil || !f.Updated.Equal(t0) {
		t.Errorf("ReadState after a failed write: %+v, %v", f, err)
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*"))
	if len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v, %v; want 0600", fi.Mode(), err)
	}
}

func TestWriteStateRefusesOpenDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := WriteState(filepath.Join(dir, "health.json"), &StateFile{Version: StateFileVersion}); err == nil || !strings.Contains(err.Error(), "chmod 0700") {
		t.Errorf("WriteState into a 0777 directory: %v", err)
	}
}

func TestStateFileMaxInterval(t *testing.T) {
	cfg := loadConfig(t, `
virtual_server "web" {
  address = "10.0.0.1:80"
  health_check {
    type     = "tcp"
    interval = "2s"
  }
  real_server "a" {
    address = "10.0.1.1"
  }
  real_server "b" {
    address = "10.0.1.2"
    health_check {
      interval = "45s"
    }
  }
}
`)
	f := NewStateFile(Targets(cfg), States{}, nil, Policy{}, t0)
	if got := time.Duration(f.MaxInterval); got != 45*time.Second {
		t.Errorf("MaxInterval = %s, want 45s (the longest, even of servers with no state yet)", got)
	}
	path := filepath.Join(t.TempDir(), "h.json")
	if err := WriteState(path, f); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(path); !strings.Contains(string(data), `"max_interval": "45s"`) {
		t.Errorf("state file:\n%s", data)
	}
	back, err := ReadState(path)
	if err != nil || back.MaxInterval != f.MaxInterval {
		t.Errorf("read back %+v, %v", back, err)
	}
}

func TestStateFileStale(t *testing.T) {
	every := func(d time.Duration) *StateFile {
		return &StateFile{Version: StateFileVersion, Updated: t0, MaxInterval: Duration(d)}
	}
	for _, tc := range []struct {
		f    *StateFile
		age  time.Duration
		want string // "" for fresh
	}{
		{every(2 * time.Second), 0, ""},
		{every(2 * time.Second), 9 * time.Second, ""}, // 3 × 2s is below the 10s floor
		{every(2 * time.Second), 11 * time.Second, "is 11s old (check runs every 2s): ignored; is lvsctl check running?"},
		{every(2 * time.Second), 2 * time.Hour, "is 2h old (check runs every 2s)"},
		{every(2 * time.Second), 400 * 24 * time.Hour, "is 400d old"},
		{every(time.Minute), 170 * time.Second, ""},
		{every(time.Minute), 181 * time.Second, "is 3m old (check runs every 1m0s)"},
		{every(0), 9 * time.Second, ""}, // written before max_interval
		{every(0), 11 * time.Second, "is 11s old: ignored"},
		{every(2 * time.Second), -5 * time.Second, ""}, // a clock a little behind
		{every(2 * time.Second), -time.Hour, "1h in the future: ignored; check the clock"},
	} {
		err := tc.f.Stale(t0.Add(tc.age))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("every %s, %s old: %v, want fresh", time.Duration(tc.f.MaxInterval), tc.age, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("every %s, %s old: %v, want %q", time.Duration(tc.f.MaxInterval), tc.age, err, tc.want)
		}
	}
	err := every(2 * time.Second).Stale(t0.Add(2 * time.Hour))
	if want := fmt.Sprintf("health published by lvsctl check at %s is 2h old", t0.Local().Format(time.RFC3339)); err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("%v, want it to start %q", err, want)
	}
}

// The state file is read as every file of the state directory is: never
// through a symbolic link (it could point anywhere root can read), and a
// FIFO is refused at once instead of blocking plan, apply and show.
func TestReadStateRefusesLinksAndFIFOs(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "elsewhere.json")
	if err := os.WriteFile(target, []byte(`{"version": 1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "health-link.json")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if f, err := ReadState(link); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("ReadState of a symbolic link: %v, %v", f, err)
	}
	fifo := filepath.Join(dir, "health-fifo.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := ReadState(fifo); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("ReadState of a FIFO: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ReadState of a FIFO nobody writes blocked")
	}
	if f, err := ReadState(filepath.Join(dir, "missing.json")); f != nil || err != nil {
		t.Errorf("ReadState of a missing file: %v, %v", f, err)
	}
}
