package cmd

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/urfave/cli/v2"

	"github.com/lvsctl/lvsctl/internal/rundir"
)

// Man pages, one per command (lvsctl.1, lvsctl-plan.1, lvsctl-pulse-status.1),
// made from the definitions --help shows: each command's Usage,
// Description, ArgsUsage and flags, the flags as urfave/cli's
// FlagStringer writes them in --help. make man writes them (go run
// ./internal/tools/man); the Debian package installs them.
//
// They are written in man(7) roff directly rather than through markdown
// and go-md2man (what urfave/cli's ToMan does for one page): the pages
// use a handful of macros, and prose from --help would first need
// escaping for markdown, then md2man's own escaping for roff.

// A ManPage is one page: its file name (lvsctl-plan.1) and its roff.
type ManPage struct {
	Name string
	Text string
}

// exitStatus is the EXIT STATUS section of lvsctl(1): what Main returns.
var exitStatus = [][2]string{
	{"0", "success; with plan --detailed-exitcode, no changes"},
	{"1", "an error, or a mistake on the command line"},
	{"2", "plan --detailed-exitcode: there are changes"},
	{"130", "interrupted (SIGINT or SIGTERM) before the work was done"},
}

// ManPages returns the man pages of every command, stamped with version
// and date (YYYY-MM-DD, of the source: the pages do not change with the
// day they are built).
func ManPages(version, date string) []ManPage {
	app := newApp(Env{Getenv: func(string) string { return "" }})
	var pages []ManPage
	pages = append(pages, rootPage(app, version, date))
	var walk func(parents []string, cmds []*cli.Command)
	walk = func(parents []string, cmds []*cli.Command) {
		for _, c := range cmds {
			if c.Hidden {
				continue
			}
			path := append(slices.Clone(parents), c.Name)
			pages = append(pages, commandPage(path, c, version, date))
			walk(path, c.Subcommands)
		}
	}
	walk(nil, app.Commands)
	return pages
}

// pageName is the name of the page of the command at path: lvsctl-plan.
func pageName(path []string) string {
	return strings.Join(append([]string{"lvsctl"}, path...), "-")
}

func header(b *strings.Builder, name, version, date string) {
	fmt.Fprintf(b, ".TH %s 1 %s %s %s\n", roffQuote(strings.ToUpper(name)), roffQuote(date),
		roffQuote("lvsctl "+version), roffQuote("lvsctl manual"))
	// Left-aligned and unhyphenated: option names and paths must not
	// be split.
	b.WriteString(".nh\n.ad l\n")
}

func rootPage(app *cli.App, version, date string) ManPage {
	var b strings.Builder
	header(&b, "lvsctl", version, date)
	b.WriteString(".SH NAME\n")
	b.WriteString("lvsctl \\- " + roffEscape(app.Usage) + "\n")
	b.WriteString(".SH SYNOPSIS\n.B lvsctl\n.I command\n[\\fIoptions\\fR] [\\fIarguments\\fR]\n")
	b.WriteString(".br\n.B lvsctl\n[\\fB\\-\\-help\\fR | \\fB\\-\\-version\\fR]\n")
	b.WriteString(".SH DESCRIPTION\n")
	prose(&b, app.Description)
	b.WriteString(".PP\nEach command has its page: " + roffEscape("man lvsctl-plan") + ", and its " + roffEscape("--help") + ".\n")
	commandsSection(&b, nil, app.Commands)
	b.WriteString(".SH OPTIONS\n")
	for _, f := range app.VisibleFlags() {
		names, text, _ := strings.Cut(cli.FlagStringer(f), "\t")
		option(&b, names, text)
	}
	// Those urfave/cli adds, unless the app has its own.
	if findFlag(app.Flags, "help") == nil {
		option(&b, "--help, -h", "show help")
	}
	if findFlag(app.Flags, "version") == nil {
		option(&b, "--version, -v", "print the version")
	}
	b.WriteString(".SH EXIT STATUS\n")
	for _, e := range exitStatus {
		option(&b, e[0], e[1])
	}
	envSection(&b, app.Commands)
	b.WriteString(".SH FILES\n")
	option(&b, defaultConfig, "the configuration that --file reads unless told otherwise (HCL, a piranha lvs.cf or a keepalived.conf)")
	option(&b, rundir.Default, "the state directory: apply locks, published health, pulse's status, realserver's undo records")
	b.WriteString(".SH SEE ALSO\n")
	var see []string
	for _, c := range app.Commands {
		if !c.Hidden {
			see = append(see, pageName([]string{c.Name}))
		}
	}
	seeAlso(&b, append(see, "ipvsadm:8"))
	return ManPage{Name: "lvsctl.1", Text: b.String()}
}

func commandPage(path []string, c *cli.Command, version, date string) ManPage {
	var b strings.Builder
	name := pageName(path)
	header(&b, name, version, date)
	b.WriteString(".SH NAME\n")
	b.WriteString(roffEscape(name) + " \\- " + roffEscape(c.Usage) + "\n")
	b.WriteString(".SH SYNOPSIS\n.B " + roffEscape("lvsctl "+strings.Join(path, " ")) + "\n")
	if len(c.VisibleFlags()) > 0 {
		b.WriteString("[\\fIoptions\\fR]\n")
	}
	if args := strings.TrimSpace(c.ArgsUsage); args != "" {
		b.WriteString(roffEscape(args) + "\n")
	}
	if len(c.Subcommands) > 0 {
		b.WriteString(".br\n.B " + roffEscape("lvsctl "+strings.Join(path, " ")) + "\n.I command\n[\\fIoptions\\fR]\n")
	}
	b.WriteString(".SH DESCRIPTION\n")
	prose(&b, sentence(c.Usage))
	if c.Description != "" {
		b.WriteString(".PP\n")
		prose(&b, c.Description)
	}
	if len(c.Subcommands) > 0 {
		commandsSection(&b, path, c.Subcommands)
	}
	if flags := c.VisibleFlags(); len(flags) > 0 {
		b.WriteString(".SH OPTIONS\n")
		for _, f := range flags {
			names, text, _ := strings.Cut(cli.FlagStringer(f), "\t")
			option(&b, names, text)
		}
		if findFlag(c.Flags, "help") == nil {
			option(&b, "--help, -h", "show help")
		}
	}
	envSection(&b, []*cli.Command{c})
	b.WriteString(".SH SEE ALSO\n")
	see := []string{"lvsctl"}
	if len(path) > 1 {
		see = append(see, pageName(path[:len(path)-1]))
	}
	for _, s := range c.Subcommands {
		see = append(see, pageName(append(slices.Clone(path), s.Name)))
	}
	seeAlso(&b, see)
	return ManPage{Name: name + ".1", Text: b.String()}
}

func commandsSection(b *strings.Builder, parents []string, cmds []*cli.Command) {
	b.WriteString(".SH COMMANDS\n")
	for _, c := range cmds {
		if c.Hidden {
			continue
		}
		fmt.Fprintf(b, ".TP\n.B %s\n%s. See \\fB%s\\fR(1).\n", roffEscape(c.Name), roffEscape(c.Usage),
			roffEscape(pageName(append(slices.Clone(parents), c.Name))))
	}
}

// envSection lists the environment variables the flags of cmds (and their
// subcommands) read, if any.
func envSection(b *strings.Builder, cmds []*cli.Command) {
	seen := map[string]string{}
	var names []string
	var walk func([]*cli.Command)
	add := func(env, flag string) {
		if _, ok := seen[env]; !ok {
			seen[env] = flag
			names = append(names, env)
		}
	}
	walk = func(cmds []*cli.Command) {
		for _, c := range cmds {
			for _, f := range c.Flags {
				if d, ok := f.(cli.DocGenerationFlag); ok {
					for _, e := range d.GetEnvVars() {
						add(e, "--"+f.Names()[0])
					}
				}
				if f.Names()[0] == "state-dir" {
					// It reads its variable itself (see stateDirFlag).
					add(rundir.EnvVar, "--state-dir")
				}
			}
			walk(c.Subcommands)
		}
	}
	walk(cmds)
	if len(names) == 0 {
		return
	}
	slices.Sort(names)
	b.WriteString(".SH ENVIRONMENT\n")
	for _, n := range names {
		option(b, n, "the value of "+seen[n]+" when the flag is not given")
	}
}

// option writes one tagged paragraph: names as --help shows them
// ("--file FILE, -f FILE"), in bold with their placeholders in italics,
// and its text.
func option(b *strings.Builder, names, text string) {
	b.WriteString(".TP\n")
	for i, alt := range strings.Split(names, ", ") {
		if i > 0 {
			b.WriteString(", ")
		}
		name, arg, hasArg := strings.Cut(alt, " ")
		b.WriteString("\\fB" + roffEscape(name) + "\\fR")
		if hasArg {
			b.WriteString(" \\fI" + roffEscape(arg) + "\\fR")
		}
	}
	b.WriteString("\n" + roffLine(text) + "\n")
}

// prose writes text from --help: its lines are filled into paragraphs,
// except lines indented by two blanks (examples), kept as they are.
func prose(b *strings.Builder, text string) {
	verbatim := false
	for _, l := range strings.Split(strings.TrimSpace(text), "\n") {
		indented := strings.HasPrefix(l, "  ")
		if indented != verbatim {
			if indented {
				b.WriteString(".PP\n.RS\n.nf\n")
			} else {
				b.WriteString(".fi\n.RE\n.PP\n")
			}
			verbatim = indented
		}
		if indented {
			l = strings.TrimPrefix(l, "  ")
		}
		if strings.TrimSpace(l) == "" {
			b.WriteString(".PP\n")
			continue
		}
		b.WriteString(roffLine(l) + "\n")
	}
	if verbatim {
		b.WriteString(".fi\n.RE\n")
	}
}

func seeAlso(b *strings.Builder, pages []string) {
	for i, p := range pages {
		name, section, ok := strings.Cut(p, ":")
		if !ok {
			section = "1"
		}
		sep := ",\n"
		if i == len(pages)-1 {
			sep = "\n"
		}
		fmt.Fprintf(b, ".BR %s (%s)%s", roffEscape(name), section, sep)
	}
}

// sentence is a usage line as a sentence: capitalised, with a full stop.
func sentence(s string) string {
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:] + "."
}

// roffLine is s escaped as a line of text: a leading "." or "'" would
// make it a request.
func roffLine(s string) string {
	s = roffEscape(s)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		return "\\&" + s
	}
	return s
}

// roffEscape escapes s for roff: the backslash, "-" as the minus sign
// (so that options copied from the page work), and every character
// beyond ASCII as its Unicode escape, which every groff output device
// has (the pages are ASCII whatever the locale they are built in).
func roffEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\e`)
		case r == '-':
			b.WriteString(`\-`)
		case r > 0x7e || (r < 0x20 && r != '\t'):
			fmt.Fprintf(&b, `\[u%04X]`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// roffQuote is s as one argument of a macro.
func roffQuote(s string) string {
	return `"` + strings.ReplaceAll(roffEscape(s), `"`, `""`) + `"`
}
