package reconcile

import (
	"errors"
	"strings"
	"syscall"
	"testing"

	"github.com/lvsctl/lvsctl/internal/apply/applytest"
	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/kernel"
)

// daemons is a kernel's sync daemons: at most one per state, as in IPVS.
type daemons struct {
	running  map[kernel.DaemonState]kernel.DaemonConfig
	startErr error
}

func (d *daemons) StartDaemon(c kernel.DaemonConfig) error {
	if d.startErr != nil {
		return d.startErr
	}
	if _, ok := d.running[c.State]; ok {
		return syscall.EEXIST
	}
	d.running[c.State] = c
	return nil
}

func (d *daemons) StopDaemon(s kernel.DaemonState) error {
	if _, ok := d.running[s]; !ok {
		return syscall.ESRCH
	}
	delete(d.running, s)
	return nil
}

func TestSyncDaemonSwitchesWithTheRole(t *testing.T) {
	d := &daemons{running: map[kernel.DaemonState]kernel.DaemonConfig{}}
	s := SyncDaemon{Kernel: d, Config: kernel.DaemonConfig{Interface: "eth0", SyncID: 7}}
	for _, step := range []struct {
		master bool
		want   kernel.DaemonState
	}{
		{false, kernel.DaemonBackup},
		{false, kernel.DaemonBackup}, // again: already running is fine
		{true, kernel.DaemonMaster},
		{true, kernel.DaemonMaster},
		{false, kernel.DaemonBackup},
	} {
		if err := s.Sync(step.master); err != nil {
			t.Fatalf("Sync(%v): %v", step.master, err)
		}
		c, ok := d.running[step.want]
		if len(d.running) != 1 || !ok || c.Interface != "eth0" || c.SyncID != 7 {
			t.Fatalf("Sync(%v): running %+v, want only the %s daemon on eth0, sync ID 7", step.master, d.running, step.want)
		}
	}

	d.startErr = syscall.ENODEV
	err := s.Sync(true)
	if !errors.Is(err, syscall.ENODEV) || !strings.Contains(err.Error(), "starting the master sync daemon on eth0") {
		t.Errorf("a failed start gave %v", err)
	}
}

func TestNewSyncDaemon(t *testing.T) {
	if s, err := NewSyncDaemon(applytest.New(), nil); s != nil || err != nil {
		t.Errorf("no sync_daemon block: %v, %v; want nil, nil", s, err)
	}
	if _, err := NewSyncDaemon(applytest.New(), &model.SyncDaemon{Interface: "eth0"}); err == nil ||
		!strings.Contains(err.Error(), "cannot run the IPVS sync daemon") {
		t.Errorf("a kernel without sync daemons: %v", err)
	}
	k := struct {
		*applytest.Kernel
		*daemons
	}{applytest.New(), &daemons{}}
	s, err := NewSyncDaemon(k, &model.SyncDaemon{Interface: "eth1", ID: 3})
	if err != nil {
		t.Fatal(err)
	}
	if sd, ok := s.(SyncDaemon); !ok || sd.Config != (kernel.DaemonConfig{Interface: "eth1", SyncID: 3}) {
		t.Errorf("got %#v", s)
	}
}
