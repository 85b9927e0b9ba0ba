package cmd

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/lvsctl/lvsctl/internal/ipvsadm"
	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/internal/regular"
	"github.com/lvsctl/lvsctl/internal/source/config"
	"github.com/lvsctl/lvsctl/internal/source/keepalived"
	"github.com/lvsctl/lvsctl/internal/source/lvscf"
	"github.com/lvsctl/lvsctl/kernel"
	"github.com/lvsctl/lvsctl/lvs"
)

// convertFormats are the formats convert reads (--from).
var convertFormats = []string{"lvscf", "keepalived", "ipvsadm", "json", "live"}

func convertCommand(env Env) *cli.Command {
	return &cli.Command{
		Name:  "convert",
		Usage: "turn a piranha lvs.cf, a keepalived.conf, an \"ipvsadm -S\" dump, lvsctl show --json output or the live IPVS table into lvsctl's HCL, written to stdout",
		Description: "The format is detected unless --from names it; FILE \"-\" reads stdin.\n" +
			"Comments are carried over, and each setting with no HCL equivalent gets a \"# NOTE:\".\n" +
			"A dump saved without -n (ipvsadm-save, /etc/sysconfig/ipvsadm) has port names, read from\n" +
			"/etc/services as ipvsadm does, and host names, refused unless --resolve looks them up.\n" +
			"--from live adopts the kernel's table (every setting it has, timeouts and thresholds\n" +
			"included; --netns picks the namespace) and takes no FILE; --from json reads what lvsctl show --json prints.\n" +
			"A keepalived.conf is read with its includes, relative ones from the including file's directory.\n" +
			"Example: lvsctl convert /etc/sysconfig/ha/lvs.cf > /etc/lvsctl/lvsctl.hcl\n" +
			"         lvsctl convert /etc/keepalived/keepalived.conf > /etc/lvsctl/lvsctl.hcl\n" +
			"         lvsctl convert --from live > /etc/lvsctl/lvsctl.hcl",
		ArgsUsage: "[FILE]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "from", Usage: "the input format: `lvscf`, keepalived, ipvsadm, json or live (default: detect)"},
			netnsFlag(),
			resolveFlag(),
		},
		Action: action(env, func(c *cli.Context) (work, error) {
			from := c.String("from")
			if from != "" && !slices.Contains(convertFormats, from) {
				return nil, usageError{fmt.Sprintf("--from %q is not a format; use %s", from, orList(convertFormats))}
			}
			if c.IsSet("netns") && from != "live" {
				return nil, usageError{"--netns goes with --from live: a FILE is read as it is"}
			}
			if from == "live" {
				if c.NArg() != 0 {
					return nil, usageError{fmt.Sprintf("convert --from live reads the kernel's table and takes no FILE (got %q)", c.Args().First())}
				}
				netns := c.String("netns")
				return func(context.Context) error { return runConvertLive(env, netns) }, nil
			}
			if c.NArg() != 1 {
				return nil, usageError{"convert takes one FILE (an lvs.cf, a keepalived.conf, an ipvsadm -S dump or lvsctl show --json output; - reads stdin), or --from live"}
			}
			path := c.Args().First()
			resolve := c.Bool("resolve")
			return func(context.Context) error { return runConvert(env, path, from, resolve) }, nil
		}),
	}
}

// runConvert converts the file at path ("-": stdin) from format from
// ("": detect it) and writes the HCL to stdout; resolve looks up the host
// names of an ipvsadm dump.
func runConvert(env Env, path, from string, resolve bool) error {
	src, name, err := readInput(env, path)
	if err != nil {
		return err
	}
	if from == "" {
		if from = detectFormat(name, src); from == "" {
			return fmt.Errorf("%s is neither an lvs.cf nor an ipvsadm -S dump (nor a keepalived.conf or lvsctl show --json output) that lvsctl recognises; name the format with --from lvscf, --from keepalived, --from ipvsadm or --from json", name)
		}
	}
	var cfg *model.Config
	var ann *model.Annotations
	switch from {
	case "lvscf":
		cfg, ann, err = convertLVSCF(env, name, src)
	case "json":
		cfg, ann, err = convertJSON(name, src)
	case "keepalived":
		cfg, ann, err = convertKeepalived(env, path, src)
	default:
		cfg, ann, err = convertIpvsadm(env, name, src, resolve)
	}
	if err != nil {
		return err
	}
	return writeConverted(env, name, cfg, ann)
}

// runConvertLive adopts the kernel's table of network namespace netns.
func runConvertLive(env Env, netns string) error {
	k, err := openKernel(env, netns)
	if err != nil {
		return err
	}
	defer closeKernel(k)
	live, err := k.Table()
	if err != nil {
		return fmt.Errorf("cannot read the IPVS table: %w", err)
	}
	if live.Sysctls, err = readAllSysctls(k); err != nil {
		return err
	}
	// The sync daemons are not part of the table; the production handle
	// reads them (the test kernels have none).
	var daemons []kernel.DaemonConfig
	if dk, ok := k.(interface {
		Daemons() ([]kernel.DaemonConfig, error)
	}); ok {
		if daemons, err = dk.Daemons(); err != nil {
			return fmt.Errorf("cannot read the IPVS sync daemons: %w", err)
		}
	}
	where := "the current network namespace"
	if netns != "" {
		where = "network namespace " + netns
	}
	cfg, ann := adopt(live, daemons, []string{"# Adopted from the live IPVS table of " + where + " by lvsctl convert --from live."})
	return writeConverted(env, "the live table", cfg, ann)
}

// convertKeepalived converts the keepalived.conf at path (src, its
// content, when it is stdin, "-"); its includes are read from disk,
// relative ones from the directory of the file that includes them (the
// working directory for stdin).
func convertKeepalived(env Env, path string, src []byte) (*model.Config, *model.Annotations, error) {
	opt := keepalived.Options{ConfigID: configID()}
	var f *keepalived.File
	var err error
	if path == "-" {
		f, err = keepalived.Parse(src, "stdin", ".", opt)
	} else {
		f, err = keepalived.Load(path, opt)
	}
	var cfg *model.Config
	var ann *model.Annotations
	if err == nil {
		cfg, ann, _, err = f.Convert()
	}
	if err != nil {
		writeKeepalivedErrors(env.Stderr, err)
		return nil, nil, exitError{1}
	}
	return cfg, ann, nil
}

// convertJSON reads show --json output as the table to adopt.
func convertJSON(name string, src []byte) (*model.Config, *model.Annotations, error) {
	var t lvs.Table
	if err := t.UnmarshalJSON(src); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	t.Normalize()
	t.Forget(lvs.UnknownTimeoutsOf(t.Timeouts))
	cfg, ann := adopt(&t, nil, []string{"# Converted from " + filepath.Base(name) + " (lvsctl show --json) by lvsctl convert."})
	return cfg, ann, nil
}

// writeConverted writes cfg as HCL to stdout once it has checked that the
// HCL gives cfg's table back; name is the source, for the message.
func writeConverted(env Env, name string, cfg *model.Config, ann *model.Annotations) error {
	var out bytes.Buffer
	if err := config.Write(&out, cfg, ann); err != nil {
		return err
	}
	// The conversion must mean what the source meant; a difference
	// is a bug in lvsctl, and writing the HCL would hide it.
	back, _, diags := config.Parse(out.Bytes(), "converted.hcl")
	if diags.HasErrors() || !reflect.DeepEqual(back.Table, cfg.Table) {
		return fmt.Errorf("internal error: the HCL converted from %s does not give the same table (%v); please report this with the file", name, diags)
	}
	_, err := env.Stdout.Write(out.Bytes())
	return err
}

func readInput(env Env, path string) ([]byte, string, error) {
	if path == "-" {
		src, err := io.ReadAll(io.LimitReader(env.Stdin, int64(maxInput)+1))
		return src, "stdin", err
	}
	f, fi, err := regular.Open(path, 0)
	var nr *regular.NotRegularError
	if errors.As(err, &nr) {
		return nil, path, fmt.Errorf("%v: give the file, or - to read stdin", err)
	}
	if err != nil {
		return nil, path, err
	}
	defer f.Close()
	// Both formats have a size limit, and their parsers refuse what is
	// over theirs: here only a file larger than both is refused, by its
	// size before it is read.
	src, err := regular.ReadAll(f, fi, int64(maxInput))
	if errors.Is(err, regular.ErrTooLarge) {
		return nil, path, fmt.Errorf("%s is larger than lvsctl converts: an lvs.cf of at most %d MiB, a keepalived.conf of at most %d MiB, an ipvsadm dump of at most %d MiB", path, lvscf.MaxSize>>20, keepalived.MaxSize>>20, ipvsadm.MaxInputSize>>20)
	}
	return src, path, err
}

// maxInput is the most convert reads: the largest of the formats' limits,
// each of which its parser checks.
var maxInput = max(lvscf.MaxSize, ipvsadm.MaxInputSize, keepalived.MaxSize)

// detectFormat tells an lvs.cf, a keepalived.conf, an ipvsadm dump and
// show --json output apart, or returns "".
func detectFormat(name string, src []byte) string {
	if lvscf.Detect(name, src) {
		return "lvscf"
	}
	if keepalived.Detect(src) {
		return "keepalived"
	}
	if isJSONTable(src) {
		return "json"
	}
	sc := bufio.NewScanner(bytes.NewReader(src))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimSpace(strings.TrimPrefix(line, "ipvsadm"))
		for _, p := range []string{"-A ", "-a ", "--add-service", "--add-server", "-C", "--clear", "--set "} {
			if strings.HasPrefix(line, p) {
				return "ipvsadm"
			}
		}
		return ""
	}
	return ""
}

func convertLVSCF(env Env, name string, src []byte) (*model.Config, *model.Annotations, error) {
	l, err := loadLVSCF(env, name, src)
	if err != nil {
		return nil, nil, err
	}
	return l.Config, l.Annotations, nil
}

func convertIpvsadm(env Env, name string, src []byte, resolve bool) (*model.Config, *model.Annotations, error) {
	t, unknown, err := ipvsadmNames(env, resolve).ParseDump(bytes.NewReader(src), name)
	if err != nil {
		return nil, nil, printIpvsadmErrors(env, err)
	}
	ann := &model.Annotations{Header: []string{
		"# Converted from " + filepath.Base(name) + " (ipvsadm -S) by lvsctl convert.",
		"# NOTE: the names were made from the addresses; rename the blocks as you like.",
	}}
	// What the dump does not carry is not in the HCL either: say which,
	// so that it is added by hand (convert --from live reads it all).
	switch lacks := unknown & (lvs.UnknownTimeouts | lvs.UnknownThresholds); {
	case lacks == lvs.UnknownTimeouts|lvs.UnknownThresholds:
		ann.Header = append(ann.Header, "# NOTE: a dump has no health checks, thresholds or connection timeouts; add them here.")
	case lacks != 0:
		ann.Header = append(ann.Header, fmt.Sprintf("# NOTE: a dump has no health checks, and this one not %s; add them here.", lacks))
	default:
		ann.Header = append(ann.Header, "# NOTE: a dump has no health checks; add them here.")
	}
	if unknown&lvs.UnknownTunnel != 0 {
		ann.Header = append(ann.Header, "# NOTE: tunnelled real servers without --tun-type (an ipvsadm before 1.30 saves none) are written as ipip tunnels; check their tunnel blocks.")
	}
	return model.FromTable(t), ann, nil
}

// resolveFlag is --resolve, for the host names of an ipvsadm dump saved
// without -n.
func resolveFlag() cli.Flag {
	return &cli.BoolFlag{Name: "resolve", Usage: "look up the host names of an ipvsadm dump saved without -n (its port names are read from /etc/services either way)"}
}
