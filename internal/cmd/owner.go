package cmd

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/lvsctl/lvsctl/internal/rundir"
)

// Who owns a namespace's table while a daemon runs.
//
// The rule: while lvsctl check or lvsctl pulse runs, it owns the table of
// its network namespace and follows its configuration file as it is on
// disk. `apply -f` of that same file is fine — the operator edited the
// daemon's file, and the daemon follows it too — but an apply of any other
// file, or of a saved plan made from another file, is refused: the daemon
// would put its own file's table back at its next look, so one of the two
// changes would silently be lost. Two daemons on one namespace (check
// beside pulse) are refused the same way.

// claimNamespace makes this daemon the owner of netns's table until
// release; command is "check" or "pulse", file its configuration.
func claimNamespace(env Env, netns, command, file string) (release func() error, err error) {
	dir, id, err := stateFiles(env, netns)
	if err != nil {
		return nil, err
	}
	release, err = rundir.ClaimDaemon(dir.DaemonPath(id), rundir.Owner{Command: command, File: absPath(file)})
	var ce *rundir.ClaimedError
	if errors.As(err, &ce) {
		return nil, fmt.Errorf("%w: one daemon owns a director's table (pulse runs the health checks itself)", err)
	}
	return release, err
}

// checkOwner refuses to change netns's table from file (a configuration,
// or the one a saved plan was made from: "" when unknown) while a daemon
// owns it from another file.
func checkOwner(env Env, netns, file string) error {
	dir, err := rundir.OpenExisting(env.StateDir)
	if err != nil {
		return nil // no state directory: no daemon has ever claimed anything
	}
	id, err := rundir.Netns(netns)
	if err != nil {
		return err
	}
	o, err := rundir.DaemonOwner(dir.DaemonPath(id))
	if err != nil || o == nil {
		return err
	}
	if file != "" && absPath(file) == o.File {
		return nil
	}
	what := absPath(file)
	if file == "" {
		what = "a saved plan made without a configuration file"
	}
	return fmt.Errorf("lvsctl %s (pid %d) owns this namespace's IPVS table and follows %s; applying %s would be undone at its next look. "+
		"Edit %s instead (the daemon applies it by itself, or run lvsctl apply -f %s), or stop the daemon first",
		o.Command, o.PID, o.File, what, o.File, o.File)
}

// absPath is path made absolute, as daemons record their files; path as
// it is when that fails.
func absPath(path string) string {
	if path == "" {
		return ""
	}
	a, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	return a
}
