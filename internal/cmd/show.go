package cmd

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/lvsctl/lvsctl/internal/ipvsadm"
	"github.com/lvsctl/lvsctl/lvs"
)

func showCommand(env Env) *cli.Command {
	return &cli.Command{
		Name:      "show",
		Usage:     "print the live IPVS table, with names from the configuration",
		ArgsUsage: " ",
		Flags: []cli.Flag{
			fileFlag(env),
			netnsFlag(),
			stateDirFlag(&env),
			&cli.BoolFlag{Name: "stats", Usage: "show traffic counters"},
			&cli.BoolFlag{Name: "rate", Usage: "show traffic rates"},
			&cli.BoolFlag{Name: "json", Usage: "print the table as JSON (what lvsctl plan --live reads)"},
		},
		Action: action(env, func(c *cli.Context) (work, error) {
			if c.NArg() > 0 {
				return nil, usageError{fmt.Sprintf("show takes no arguments (got %q)", c.Args().First())}
			}
			if c.Bool("stats") && c.Bool("rate") {
				return nil, usageError{"choose one of --stats and --rate"}
			}
			o := showOptions{
				file: c.String("file"), fileSet: c.IsSet("file"), netns: c.String("netns"),
				stats: c.Bool("stats"), rate: c.Bool("rate"), json: c.Bool("json"),
			}
			return func(context.Context) error { return runShow(env, o) }, nil
		}),
	}
}

// showOptions are show's flags.
type showOptions struct {
	file        string
	fileSet     bool // -f was given, or LVSCTL_CONFIG
	netns       string
	stats, rate bool
	json        bool
}

func runShow(env Env, o showOptions) error {
	k, err := openKernel(env, o.netns)
	if err != nil {
		return err
	}
	live, err := k.Table()
	if err == nil {
		// A fixed list of files, whatever the size of the table.
		live.Sysctls, err = readAllSysctls(k)
	}
	closeKernel(k)
	if err != nil {
		return err
	}
	owned := nameTable(env, o.file, o.fileSet, live)
	if o.json {
		b, err := live.MarshalJSON()
		if err != nil {
			return err
		}
		var out bytes.Buffer
		out.Write(b)
		out.WriteByte('\n')
		_, err = env.Stdout.Write(out.Bytes())
		return err
	}
	if err := renderShow(env, live, o.stats, o.rate); err != nil {
		return err
	}
	showSysctls(env, live.Sysctls, owned)
	showHealth(env, o.netns)
	return nil
}

// nameTable copies names from the configuration at path onto the live
// table, and returns the kernel settings the configuration owns (nil
// without one). A missing default config (given says it was not given) is
// fine; a broken one is worth a warning only.
func nameTable(env Env, path string, given bool, live *lvs.Table) []lvs.Sysctl {
	if !given {
		if _, err := os.Stat(path); err != nil {
			return nil
		}
	}
	d, err := loadDesired(Env{Stdout: env.Stdout, Stderr: nopWriter{}}, path)
	if err != nil {
		fmt.Fprintf(env.Stderr, "lvsctl: warning: %s has errors (see lvsctl validate); showing the table without names\n", path)
		return nil
	}
	for i := range live.Services {
		s := &live.Services[i]
		want := d.table.Service(s.Key)
		if want == nil {
			continue
		}
		s.Name = want.Name
		for j := range s.Dests {
			if wd := want.Dest(s.Dests[j].Addr); wd != nil {
				s.Dests[j].Name = wd.Name
			}
		}
	}
	return d.table.Sysctls
}

// showSysctls prints the kernel settings worth seeing, named as plan
// names them: those the configuration owns (named in its sysctl block, or
// needed by its NAT real servers), and any other whose value is not a
// fresh namespace's (set by hand or by sysctl.conf).
func showSysctls(env Env, live, owned []lvs.Sysctl) {
	type row struct{ name, value, note string }
	var rows []row
	for _, s := range live {
		info, _ := lvs.LookupSysctl(s.Name)
		want, isOwned := lvs.Sysctl{}, false
		for _, o := range owned {
			if o.Name == s.Name {
				want, isOwned = o, true
			}
		}
		value := s.Value
		var note string
		switch {
		case s.Value == "":
			if !isOwned {
				continue
			}
			value, note = "-", "not in this kernel"
		case isOwned && s.Value != want.Value:
			note = fmt.Sprintf("the configuration sets %s: lvsctl plan shows the change", want.Value)
		case isOwned && want.Reason != "":
			note = want.Reason + " needs it"
		case isOwned:
			note = "set by the configuration"
		case s.Value == info.Default:
			continue
		default:
			note = fmt.Sprintf("not in the configuration; a fresh namespace has %s", info.Default)
		}
		rows = append(rows, row{fmt.Sprintf("sysctl %q", s.Name), value, note})
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintln(env.Stdout, "\nKernel settings (the configuration's, and any other not at a fresh namespace's value):")
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", r.name, r.value, r.note)
	}
	_ = tw.Flush()
}

type nopWriter struct{}

func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }

func renderShow(env Env, t *lvs.Table, stats, rate bool) error {
	if len(t.Services) == 0 {
		fmt.Fprintln(env.Stdout, "The IPVS table is empty.")
		return nil
	}
	// text/tabwriter rather than a table library: the table is plain
	// columns two blanks apart, and a table library's start-up cost is paid
	// by every lvsctl run, plan included.
	var buf bytes.Buffer
	tab := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	row := func(cells []string) { fmt.Fprintln(tab, strings.Join(cells, "\t")) }
	header := []string{"NAME", "SERVICE / REAL SERVER", "SCHED / FWD", "WEIGHT", "ACTIVE", "INACTIVE", "OPTIONS"}
	switch {
	case stats:
		header = append(header, "CONNS", "INPKTS", "OUTPKTS", "INBYTES", "OUTBYTES")
	case rate:
		header = append(header, "CPS", "INPPS", "OUTPPS", "INBPS", "OUTBPS")
	}
	row(header)
	for _, s := range t.Services {
		var active, inact uint64
		for _, d := range s.Dests {
			active += uint64(d.Live.ActiveConns)
			inact += uint64(d.Live.InactConns)
		}
		row(append([]string{dash(s.Name), s.Key.String(), s.Opts.Scheduler, "", u(active), u(inact), serviceOptions(s)},
			counters(s.Stats, stats, rate)...))
		for _, d := range s.Dests {
			row(append([]string{"  " + dash(d.Name), "  -> " + d.Addr.String(), d.Opts.Forward.String(), strconv.Itoa(d.Opts.Weight),
				u(uint64(d.Live.ActiveConns)), u(uint64(d.Live.InactConns)), destOptions(d)},
				counters(d.Live.Stats, stats, rate)...))
		}
	}
	if err := tab.Flush(); err != nil {
		return err
	}
	// An empty last column leaves the padding of the one before it.
	for _, line := range strings.Split(strings.TrimRight(buf.String(), "\n"), "\n") {
		fmt.Fprintln(env.Stdout, strings.TrimRight(line, " "))
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func u(v uint64) string { return strconv.FormatUint(v, 10) }

func counters(st lvs.Stats, stats, rate bool) []string {
	switch {
	case stats:
		return []string{u(st.Conns), u(st.InPkts), u(st.OutPkts), u(st.InBytes), u(st.OutBytes)}
	case rate:
		return []string{u(st.CPS), u(st.InPPS), u(st.OutPPS), u(st.InBPS), u(st.OutBPS)}
	}
	return nil
}

func serviceOptions(s lvs.Service) string {
	var o []string
	if f := ipvsadm.SchedFlagNames(s.Opts.Scheduler, s.Opts.SchedFlags); f != "" {
		o = append(o, "flags "+f)
	}
	if s.Opts.Persistent {
		o = append(o, fmt.Sprintf("persistent %ds", s.Opts.Timeout))
		if s.Opts.Netmask != lvs.FullMask(s.Key.Family) {
			o = append(o, "mask "+maskString(s.Key.Family, s.Opts.Netmask))
		}
	}
	if s.Opts.PE != "" {
		o = append(o, "pe "+s.Opts.PE)
	}
	if s.Opts.OnePacket {
		o = append(o, "ops")
	}
	return strings.Join(o, ", ")
}

func destOptions(d lvs.Dest) string {
	var o []string
	if d.Opts.UpperThreshold > 0 || d.Opts.LowerThreshold > 0 {
		o = append(o, fmt.Sprintf("thresholds %d/%d", d.Opts.LowerThreshold, d.Opts.UpperThreshold))
	}
	if d.Opts.Forward == lvs.Tunnel && d.Opts.TunnelType != lvs.IPIP {
		t := d.Opts.TunnelType.String()
		if d.Opts.TunnelPort != 0 {
			t += fmt.Sprintf(":%d", d.Opts.TunnelPort)
		}
		switch {
		case d.Opts.TunnelFlags&lvs.TunnelCsum != 0:
			t += " csum"
		case d.Opts.TunnelFlags&lvs.TunnelRemCsum != 0:
			t += " remcsum"
		}
		o = append(o, t)
	}
	return strings.Join(o, ", ")
}

// maskString prints a persistence netmask as ipvsadm does: dotted for IPv4,
// a prefix length for IPv6.
func maskString(f lvs.Family, bits uint8) string {
	if f == lvs.IPv6 {
		return fmt.Sprintf("/%d", bits)
	}
	m := net.CIDRMask(int(bits), 32)
	return net.IP(m).String()
}
