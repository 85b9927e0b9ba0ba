package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/urfave/cli/v2"

	"github.com/lvsctl/lvsctl/kernel"
)

// Version, Commit and Date describe the build. Releases stamp them with
// -ldflags "-X github.com/lvsctl/lvsctl/internal/cmd.Version=1.2.0 -X
// ...cmd.Commit=... -X ...cmd.Date=2026-12-02T10:00:00Z"; a build from a
// git checkout without them takes the commit and its time from Go's build
// information (vcs.revision, vcs.time, vcs.modified).
var (
	Version = "0.1.0-dev"
	Commit  = ""
	Date    = ""
)

// buildInfo is what lvsctl version prints about the binary.
type buildInfo struct {
	version  string
	commit   string // "" when unknown
	date     string // RFC 3339; "" when unknown
	modified bool   // built from a checkout with uncommitted changes
	goVer    string
}

// readBuildInfo merges the -ldflags stamps with what bi (from
// debug.ReadBuildInfo, nil when there is none) records.
func readBuildInfo(bi *debug.BuildInfo) buildInfo {
	b := buildInfo{version: Version, commit: Commit, date: Date, goVer: runtime.Version()}
	if bi == nil {
		return b
	}
	if b.goVer == "" {
		b.goVer = bi.GoVersion
	}
	// go install github.com/lvsctl/lvsctl@v1.2.0 records the module's
	// version; a build in the checkout records "(devel)".
	if v := bi.Main.Version; b.version == "0.1.0-dev" && v != "" && v != "(devel)" {
		b.version = v
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			if b.commit == "" {
				b.commit = s.Value
			}
		case "vcs.time":
			if b.date == "" {
				b.date = s.Value
			}
		case "vcs.modified":
			b.modified = s.Value == "true" && Commit == ""
		}
	}
	return b
}

// ipvsStatus says whether this kernel has IPVS, for lvsctl version.
func ipvsStatus(probe func(netns string) (kernel.Info, error)) string {
	info, err := probe("")
	switch {
	case errors.Is(err, kernel.ErrNoIPVS):
		return "no (modprobe ip_vs)"
	case err != nil:
		return "unknown (" + err.Error() + ")"
	case info.Version == "":
		return "yes (its version can be read as root)"
	}
	return fmt.Sprintf("yes (version %s, connection table of %d buckets)", info.Version, info.ConnTabSize)
}

// writeVersion prints b and the IPVS line.
func writeVersion(w io.Writer, b buildInfo, ipvs string) {
	commit := b.commit
	if commit == "" {
		commit = "unknown (not built from a git checkout)"
	} else if b.modified {
		commit += " (with uncommitted changes)"
	}
	date := b.date
	if date == "" {
		date = "unknown"
	}
	fmt.Fprintf(w, "lvsctl %s\n", b.version)
	fmt.Fprintf(w, "commit: %s\n", commit)
	fmt.Fprintf(w, "date:   %s\n", date)
	fmt.Fprintf(w, "go:     %s %s/%s\n", b.goVer, runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(w, "ipvs:   %s\n", ipvs)
}

// versionWork is lvsctl version and lvsctl --version.
func versionWork(env Env) work {
	return func(context.Context) error {
		bi, _ := debug.ReadBuildInfo()
		probe := env.ProbeIPVS
		if probe == nil {
			probe = kernel.Probe
		}
		writeVersion(env.Stdout, readBuildInfo(bi), ipvsStatus(probe))
		return nil
	}
}

func versionCommand(env Env) *cli.Command {
	return &cli.Command{
		Name:      "version",
		Usage:     "print lvsctl's version, commit, build date, Go version, and whether this kernel has IPVS",
		ArgsUsage: " ",
		Action: action(env, func(c *cli.Context) (work, error) {
			if c.NArg() > 0 {
				return nil, usageError{fmt.Sprintf("version takes no arguments (got %q)", c.Args().First())}
			}
			return versionWork(env), nil
		}),
	}
}
