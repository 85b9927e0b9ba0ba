package cmd

import (
	"bytes"
	"fmt"
	"os"
	"time"

	"github.com/lvsctl/lvsctl/config"
	"github.com/lvsctl/lvsctl/ipvsadm"
	"github.com/lvsctl/lvsctl/lvs"
)

// desired is what a configuration file asks for.
type desired struct {
	path         string
	table        *lvs.Table
	drainTimeout time.Duration
}

// loadDesired reads and validates the configuration at path. Diagnostics
// are printed to stderr; the returned error then only carries the status.
func loadDesired(env Env, path string) (*desired, error) {
	cfg, diags := config.Load(path)
	if diags.HasErrors() || len(diags) > 0 {
		_ = config.WriteDiagnostics(env.Stderr, cfg.Files, diags, 78)
	}
	if diags.HasErrors() {
		return nil, exitError{1}
	}
	return &desired{path: path, table: cfg.Table, drainTimeout: cfg.DrainTimeout}, nil
}

// readLive reads a saved table: lvsctl's JSON (show --json) or an
// ipvsadm -S -n dump, told apart by the first non-blank byte.
func readLive(path string) (*lvs.Table, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the saved table: %w", err)
	}
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		var tab lvs.Table
		if err := tab.UnmarshalJSON(data); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		tab.Normalize()
		return &tab, nil
	}
	return ipvsadm.ParseSave(bytes.NewReader(data), path)
}
