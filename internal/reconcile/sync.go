package reconcile

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/lvsctl/lvsctl/internal/apply"
	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/kernel"
)

// DaemonKernel is the part of a kernel adapter that runs the IPVS
// connection sync daemons (*kernel.IPVS).
type DaemonKernel interface {
	StartDaemon(kernel.DaemonConfig) error
	StopDaemon(kernel.DaemonState) error
}

// SyncDaemon is a [Syncer] over the kernel's sync daemon: master on the
// active director, backup on the standby one, so that a node taking over
// already holds the active node's connections.
type SyncDaemon struct {
	Kernel DaemonKernel
	// Config is the daemon to run; Sync sets its State.
	Config kernel.DaemonConfig
}

// NewSyncDaemon is the Syncer for the sync_daemon block sd, run through k,
// or nil when sd is nil (no connection sync). It fails when k cannot run
// sync daemons.
func NewSyncDaemon(k apply.Kernel, sd *model.SyncDaemon) (Syncer, error) {
	if sd == nil {
		return nil, nil
	}
	dk, ok := k.(DaemonKernel)
	if !ok {
		return nil, errors.New("sync_daemon is configured but this kernel adapter cannot run the IPVS sync daemon")
	}
	return SyncDaemon{Kernel: dk, Config: kernel.DaemonConfig{Interface: sd.Interface, SyncID: sd.ID}}, nil
}

// Sync stops the daemon of the other state, if it runs, and starts the
// one wanted, if it does not run yet.
func (s SyncDaemon) Sync(master bool) error {
	want, other := kernel.DaemonBackup, kernel.DaemonMaster
	if master {
		want, other = other, want
	}
	if err := s.Kernel.StopDaemon(other); err != nil && !errors.Is(err, syscall.ESRCH) && !errors.Is(err, syscall.ENOENT) {
		return fmt.Errorf("stopping the %s sync daemon: %w", other, err)
	}
	c := s.Config
	c.State = want
	if err := s.Kernel.StartDaemon(c); err != nil && !errors.Is(err, syscall.EEXIST) {
		return fmt.Errorf("starting the %s sync daemon on %s: %w", want, c.Interface, err)
	}
	return nil
}
