package cmd

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/lvsctl/lvsctl/internal/realserver"
)

// Shell completion. urfave/cli's EnableBashCompletion runs a command line
// that ends in --generate-bash-completion through the parser, down to the
// command it names, and calls that command's BashComplete instead of its
// Action. complete, the BashComplete of the app and of every command,
// prints the candidates for the word under the cursor, which the shell
// glue (completion/*.sh, written by "lvsctl completion SHELL") always
// passes as the last word before the marker, "" when it is empty:
//
//	lvsctl plan -f "" --generate-bash-completion
//
// One candidate a line, "word\tdescription" or "word", already filtered by
// the word typed so far; or one line ":file" or ":dir", which asks the shell
// to complete file or directory names itself (it knows the working
// directory, quoting and ~). fish takes the commands and flags from
// urfave/cli's ToFishCompletion and asks complete only for flag values.

// completeMarker is the last argument that asks for completions.
const completeMarker = "--generate-bash-completion"

// A valueKind says what a flag's value (or a command's argument) is, for
// completion, and for the man pages' placeholders.
type valueKind int

const (
	freeValue valueKind = iota // a number, duration, address: nothing to offer
	fileValue
	dirValue
	wordValue  // one of a fixed list
	netnsValue // a network namespace name under /run/netns, or a path
	// commandValue is a command's name, then one of its subcommands'
	// (lvsctl help COMMAND [SUBCOMMAND]).
	commandValue
)

type valueCompletion struct {
	kind  valueKind
	words []string // wordValue
}

// flagValues says, by flag name, what each flag that takes a value takes.
// A flag means the same in every command that has it. A new flag that
// takes a value must be added here (TestCompletionCoversFlags).
var flagValues = map[string]valueCompletion{
	"file":        {kind: fileValue},
	"live":        {kind: fileValue},
	"out":         {kind: fileValue},
	"key-file":    {kind: fileValue},
	"status-file": {kind: fileValue},
	"state-dir":   {kind: dirValue},
	"netns":       {kind: netnsValue},
	"from":        {kind: wordValue, words: convertFormats},
	"role":        {kind: wordValue, words: []string{"primary", "backup"}},
	"mode":        {kind: wordValue, words: []string{string(realserver.DR), string(realserver.TUN)}},
	"log-format":  {kind: wordValue, words: logFormats},
	"log-level":   {kind: wordValue, words: logLevelNames},

	"metrics":       {}, // host:port
	"quorum":        {},
	"arp-count":     {},
	"arp-interval":  {},
	"slow-start":    {},
	"resync":        {},
	"lock-timeout":  {},
	"drain-timeout": {},
	"vip":           {}, // an address
}

// argValues says what each command's arguments are, by the command's
// path ("apply", "pulse status"); a command not named takes none.
var argValues = map[string]valueCompletion{
	"apply":      {kind: fileValue},
	"convert":    {kind: fileValue},
	"completion": {kind: wordValue, words: completionShells},
	"help":       {kind: commandValue},
}

// completionArgs are the args urfave/cli parses: when they ask for
// completions, with every "--" made "-". urfave/cli turns completion off
// for a command line with "--" in it and runs the command instead, but
// the word under the cursor may be "--" being typed. The parse only finds
// the command; complete reads the words as typed.
func completionArgs(args []string) []string {
	if len(args) == 0 || args[len(args)-1] != completeMarker || !slices.Contains(args, "--") {
		return args
	}
	out := slices.Clone(args)
	for i, a := range out {
		if a == "--" {
			out[i] = "-"
		}
	}
	return out
}

// netnsDir is where "ip netns add" keeps the names --netns completes.
var netnsDir = "/run/netns"

// setupCompletion turns completion on for app: each command completes
// with complete, and the flags that take a file say so (fish and the man
// pages read TakesFile).
func setupCompletion(env Env, app *cli.App) {
	app.EnableBashCompletion = true
	app.BashComplete = complete(env, "", app.Flags, app.Commands, nil, true)
	var walk func(path string, cmds []*cli.Command)
	walk = func(path string, cmds []*cli.Command) {
		for _, c := range cmds {
			p := strings.TrimSpace(path + " " + c.Name)
			c.BashComplete = complete(env, p, c.Flags, c.Subcommands, app.Commands, false)
			for _, f := range c.Flags {
				if sf, ok := f.(*cli.StringFlag); ok && flagValues[sf.Name].kind == fileValue {
					sf.TakesFile = true
				}
			}
			walk(p, c.Subcommands)
		}
	}
	walk("", app.Commands)
}

// complete is the BashComplete of the command at path ("" for lvsctl
// itself), whose flags and subcommands are given; all are lvsctl's
// commands.
func complete(env Env, path string, flags []cli.Flag, subs, all []*cli.Command, root bool) cli.BashCompleteFunc {
	return func(c *cli.Context) {
		var words []string
		if env.inv != nil && len(env.inv.args) > 1 {
			words = env.inv.args[1:]
		}
		if n := len(words); n > 0 && words[n-1] == completeMarker {
			words = words[:n-1]
		}
		for _, l := range completions(path, flags, subs, all, root, words) {
			fmt.Fprintln(c.App.Writer, l)
		}
	}
}

// completions returns the lines complete prints for the command line words
// (without the program name), the last of which is the word to complete.
func completions(path string, flags []cli.Flag, subs, all []*cli.Command, root bool, words []string) []string {
	if len(words) == 0 {
		words = []string{""}
	}
	cur := words[len(words)-1]
	prev := ""
	if len(words) > 1 {
		prev = words[len(words)-2]
	}
	// The value of a flag: "--file X", bash's "--file = X" (it splits
	// words at "="), or "--file=X" as one word (zsh, fish).
	if name, ok := flagName(prev); ok && !strings.Contains(prev, "=") {
		if f := findFlag(flags, name); f != nil && takesValue(f) {
			return values(flagValues[f.Names()[0]], cur, "")
		}
	}
	if prev == "=" && len(words) > 2 {
		if name, ok := flagName(words[len(words)-3]); ok {
			if f := findFlag(flags, name); f != nil && takesValue(f) {
				return values(flagValues[f.Names()[0]], cur, "")
			}
		}
	}
	if strings.HasPrefix(cur, "-") {
		if i := strings.IndexByte(cur, '='); i > 0 {
			name, _ := flagName(cur[:i])
			if f := findFlag(flags, name); f != nil && takesValue(f) {
				return values(flagValues[f.Names()[0]], cur[i+1:], cur[:i+1])
			}
			return nil
		}
		return flagCandidates(flags, root, cur)
	}
	if len(subs) > 0 {
		return commandNames(subs, cur)
	}
	if argValues[path].kind == commandValue {
		// The words after the command's own: a command, then one of
		// its subcommands.
		var args []string
		for _, w := range words[min(len(strings.Fields(path)), len(words)-1) : len(words)-1] {
			if !strings.HasPrefix(w, "-") {
				args = append(args, w)
			}
		}
		cmds := all
		for _, a := range args {
			var next []*cli.Command
			for _, c := range cmds {
				if c.HasName(a) {
					next = c.Subcommands
				}
			}
			cmds = next
		}
		return commandNames(cmds, cur)
	}
	return values(argValues[path], cur, "")
}

// commandNames are the visible commands of cmds whose names start with
// cur, with their usage.
func commandNames(cmds []*cli.Command, cur string) []string {
	var out []string
	for _, c := range cmds {
		if !c.Hidden && strings.HasPrefix(c.Name, cur) {
			out = append(out, c.Name+"\t"+c.Usage)
		}
	}
	return out
}

// flagName is the name in "-f" or "--file", and whether word is a flag.
func flagName(word string) (string, bool) {
	if !strings.HasPrefix(word, "-") || word == "-" || word == "--" {
		return "", false
	}
	return strings.TrimLeft(word, "-"), true
}

func findFlag(flags []cli.Flag, name string) cli.Flag {
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				return f
			}
		}
	}
	return nil
}

func takesValue(f cli.Flag) bool {
	d, ok := f.(cli.DocGenerationFlag)
	return ok && d.TakesValue()
}

// flagCandidates are the flags of a command that start with cur: "--name"
// for long names, "-n" for one-letter ones, and --help (and --version
// for lvsctl itself), which urfave/cli adds unless they are defined.
func flagCandidates(flags []cli.Flag, root bool, cur string) []string {
	var out []string
	add := func(names []string, usage string) {
		for _, n := range names {
			w := "--" + n
			if len(n) == 1 {
				w = "-" + n
			}
			if strings.HasPrefix(w, cur) {
				out = append(out, w+"\t"+usage)
			}
		}
	}
	for _, f := range flags {
		if v, ok := f.(cli.VisibleFlag); ok && !v.IsVisible() {
			continue
		}
		add(f.Names(), flagUsage(f))
	}
	// Those urfave/cli adds, unless the command has its own.
	if findFlag(flags, "help") == nil {
		add([]string{"help", "h"}, "show help")
	}
	if root && findFlag(flags, "version") == nil {
		add([]string{"version", "v"}, "print the version")
	}
	return out
}

// flagUsage is a flag's usage text without urfave/cli's `placeholder`
// quotes.
func flagUsage(f cli.Flag) string {
	d, ok := f.(cli.DocGenerationFlag)
	if !ok {
		return ""
	}
	return strings.ReplaceAll(d.GetUsage(), "`", "")
}

// values are the candidates for a value that starts with cur, each
// prefixed with prefix ("--file=" when the flag and its value are one
// word).
func values(v valueCompletion, cur, prefix string) []string {
	var words []string
	switch v.kind {
	case fileValue:
		return []string{":file"}
	case dirValue:
		return []string{":dir"}
	case wordValue:
		words = v.words
	case netnsValue:
		if strings.ContainsRune(cur, '/') || strings.HasPrefix(cur, ".") {
			return []string{":file"} // a path to a namespace
		}
		words = netnsNames()
	}
	var out []string
	for _, w := range words {
		if strings.HasPrefix(w, cur) {
			out = append(out, prefix+w)
		}
	}
	return out
}

// netnsNames are the named network namespaces, as "ip netns list" shows
// them; none when there is no /run/netns.
func netnsNames() []string {
	ents, err := os.ReadDir(netnsDir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

// The shell glue: each script runs lvsctl with the words before the
// cursor, the word under it and the marker, and turns the lines into the
// shell's candidates.
var (
	//go:embed completion/lvsctl.bash
	bashCompletion string
	//go:embed completion/lvsctl.zsh
	zshCompletion string
	//go:embed completion/lvsctl.fish
	fishCompletion string
)

var completionShells = []string{"bash", "zsh", "fish"}

func completionCommand(env Env) *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print the shell completion script for bash, zsh or fish",
		ArgsUsage: "SHELL",
		Description: "Prints a script that completes lvsctl's commands, flags, file names and the values of flags\n" +
			"that take one of a few words (a log level, a pulse role, an input format, a forwarding method)\n" +
			"or a network namespace name. The Debian package installs them; to load one by hand:\n" +
			"  bash: source <(lvsctl completion bash)   (or save it in ~/.local/share/bash-completion/completions/lvsctl)\n" +
			"  zsh:  lvsctl completion zsh > ~/.zfunc/_lvsctl   (with ~/.zfunc in fpath, before compinit)\n" +
			"  fish: lvsctl completion fish > ~/.config/fish/completions/lvsctl.fish",
		Action: action(env, func(c *cli.Context) (work, error) {
			if c.NArg() != 1 {
				return nil, usageError{"completion takes one SHELL: " + orList(completionShells)}
			}
			shell := c.Args().First()
			var script string
			switch shell {
			case "bash":
				script = bashCompletion
			case "zsh":
				script = zshCompletion
			case "fish":
				// A fresh app: urfave/cli has added its help
				// subcommands to the one running.
				s, err := fishScript(newApp(env))
				if err != nil {
					return nil, err
				}
				script = s
			default:
				return nil, usageError{fmt.Sprintf("completion: %q is not a shell lvsctl completes; use %s", shell, orList(completionShells))}
			}
			return func(context.Context) error {
				_, err := fmt.Fprint(env.Stdout, script)
				return err
			}, nil
		}),
	}
}

// fishScript is urfave/cli's fish completion of app (commands, flags,
// descriptions, file names for the flags that take a file) and the glue
// that asks lvsctl for the values of the other flags and the commands'
// arguments.
func fishScript(app *cli.App) (string, error) {
	static, err := app.ToFishCompletion()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	// Its descriptions are the flags' usage, with urfave/cli's
	// `placeholder` quotes.
	b.WriteString(strings.ReplaceAll(static, "`", ""))
	b.WriteString(fishCompletion)
	// lvsctl alone takes no file.
	b.WriteString("complete -c lvsctl -n '__fish_lvsctl_no_subcommand' -f\n")
	var walk func(path []string, cmds []*cli.Command)
	walk = func(path []string, cmds []*cli.Command) {
		for _, c := range cmds {
			if c.Hidden {
				continue
			}
			p := append(append([]string(nil), path...), c.Name)
			cond := "__fish_seen_subcommand_from " + c.Name
			for _, f := range c.Flags {
				if !takesValue(f) {
					continue
				}
				switch flagValues[f.Names()[0]].kind {
				case wordValue, netnsValue:
					fmt.Fprintf(&b, "complete -c lvsctl -n '%s' -l %s -x -a '(__lvsctl_complete)'\n", cond, f.Names()[0])
				case dirValue:
					fmt.Fprintf(&b, "complete -c lvsctl -n '%s' -l %s -x -a '(__fish_complete_directories)'\n", cond, f.Names()[0])
				}
			}
			switch argValues[strings.Join(p, " ")].kind {
			case fileValue:
			case wordValue, commandValue:
				fmt.Fprintf(&b, "complete -c lvsctl -n '%s' -f -a '(__lvsctl_complete)'\n", cond)
			default:
				// No file names after a command that takes none.
				fmt.Fprintf(&b, "complete -c lvsctl -n '%s' -f\n", cond)
			}
			walk(p, c.Subcommands)
		}
	}
	walk(nil, app.Commands)
	return b.String(), nil
}
