package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The shell completion scripts, run in the shells themselves: each loads
// the script that "lvsctl completion SHELL" prints and completes command
// lines, with lvsctl on PATH (this test binary, see TestMain) answering.
// Shells missing here are skipped, and fail the test under CI=true
// (scripts/deps.sh installs bash, zsh and fish).

// needShell returns the path of shell, or skips the test without it.
func needShell(t *testing.T, shell string) string {
	t.Helper()
	p, err := exec.LookPath(shell)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed: scripts/deps.sh installs it", shell)
		}
		t.Skipf("%s is not installed (scripts/deps.sh installs it)", shell)
	}
	return p
}

// completionDir is a directory with a few files to complete, and the
// script for shell saved in it as script.
func completionDir(t *testing.T, shell string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"web.hcl", "web.plan", "lvs.cf"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "state"), 0o700); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("lvsctl", "completion", shell).Output()
	if err != nil {
		t.Fatalf("lvsctl completion %s: %v", shell, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "script"), out, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// runShell runs script in shell's dir and returns its output, one
// candidate a line after each "== line" header.
func runShell(t *testing.T, dir string, argv ...string) string {
	t.Helper()
	c := exec.Command(argv[0], argv[1:]...)
	c.Dir = dir
	c.Env = append(os.Environ(), "HOME="+dir, "XDG_CONFIG_HOME="+dir, "XDG_DATA_HOME="+dir)
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	return string(out)
}

// sections splits the output of runShell into the candidates printed
// after each "== NAME" line, sorted by the shell or not.
func sections(out string) map[string]string {
	m := map[string]string{}
	var cur string
	for _, l := range strings.Split(out, "\n") {
		if name, ok := strings.CutPrefix(l, "== "); ok {
			cur = name
			m[cur] = ""
			continue
		}
		if l == "" || cur == "" {
			continue
		}
		m[cur] = strings.TrimSpace(m[cur] + " " + strings.SplitN(l, "\t", 2)[0])
	}
	return m
}

// completionCases are the command lines every shell must complete, with
// the candidates in the order the shell test sorts them; the last word is
// the one under the cursor.
var completionCases = []struct {
	name, line, want string
}{
	{"command", "lvsctl pl", "plan"},
	{"subcommand", "lvsctl pulse st", "status"},
	{"flag", "lvsctl plan --li", "--live"},
	{"file", "lvsctl plan -f we", "web.hcl web.plan"},
	{"planfile", "lvsctl apply --auto-approve web.p", "web.plan"},
	{"dir", "lvsctl plan --state-dir st", "state/"},
	{"word", "lvsctl check --log-level ", "debug error info warn"},
	{"role", "lvsctl pulse --role b", "backup"},
	{"shell", "lvsctl completion z", "zsh"},
}

func TestCompletionBash(t *testing.T) {
	bash := needShell(t, "bash")
	dir := completionDir(t, "bash")
	var script strings.Builder
	script.WriteString("source ./script\n")
	// complete(1) registered _lvsctl for lvsctl.
	script.WriteString("complete -p lvsctl | grep -q -- '-F _lvsctl' || { echo 'not registered'; exit 1; }\n")
	// What readline does on TAB: COMP_WORDS, COMP_CWORD, then the
	// function; its COMPREPLY sorted as bash shows it.
	script.WriteString(`t() { echo "== $1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; COMPREPLY=(); _lvsctl; printf '%s\n' "${COMPREPLY[@]}" | LC_ALL=C sort; }` + "\n")
	for _, tc := range completionCases {
		words := strings.Split(tc.line, " ")
		script.WriteString("t " + tc.name)
		for _, w := range words {
			script.WriteString(" '" + w + "'")
		}
		script.WriteString("\n")
	}
	// bash splits --file=x at "=".
	script.WriteString("t equals lvsctl check --log-level = w\n")
	got := sections(runShell(t, dir, bash, "--norc", "--noprofile", "-c", script.String()))
	for _, tc := range completionCases {
		want := tc.want
		if tc.name == "dir" {
			want = "state" // compgen -d gives the name; -o filenames adds the slash
		}
		if got[tc.name] != want {
			t.Errorf("bash: %q<TAB>: got %q, want %q", tc.line, got[tc.name], want)
		}
	}
	if got["equals"] != "warn" {
		t.Errorf("bash: lvsctl check --log-level=w<TAB>: got %q, want warn", got["equals"])
	}
}

func TestCompletionFish(t *testing.T) {
	fish := needShell(t, "fish")
	dir := completionDir(t, "fish")
	var script strings.Builder
	script.WriteString("source ./script\n")
	for _, tc := range completionCases {
		script.WriteString("echo '== " + tc.name + "'\ncomplete -C '" + tc.line + "' | sort\n")
	}
	// fish keeps "--flag=value" one word.
	script.WriteString("echo '== equals'\ncomplete -C 'lvsctl check --log-level=w'\n")
	got := sections(runShell(t, dir, fish, "--no-config", "-c", script.String()))
	for _, tc := range completionCases {
		if got[tc.name] != tc.want {
			t.Errorf("fish: %q<TAB>: got %q, want %q", tc.line, got[tc.name], tc.want)
		}
	}
	if got["equals"] != "--log-level=warn" {
		t.Errorf("fish: lvsctl check --log-level=w<TAB>: got %q, want --log-level=warn", got["equals"])
	}
}

// zshCompletionDir is completionDir for zsh, the script saved as the
// function file functions/_lvsctl, where compinit finds it through
// $fpath; it returns zsh's path too.
func zshCompletionDir(t *testing.T) (zsh, dir string) {
	t.Helper()
	zsh = needShell(t, "zsh")
	dir = completionDir(t, "zsh")
	fdir := filepath.Join(dir, "functions")
	if err := os.Mkdir(fdir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "script"), filepath.Join(fdir, "_lvsctl")); err != nil {
		t.Fatal(err)
	}
	return zsh, dir
}

// TestCompletionZsh loads the script as zsh's completion system does (a
// function file _lvsctl in $fpath, found by compinit through its #compdef
// line) and calls it with the words and CURRENT that zsh sets; _describe
// and _files, the completion system's builtins it hands candidates to,
// are replaced by functions that print what they were given.
func TestCompletionZsh(t *testing.T) {
	zsh, dir := zshCompletionDir(t)
	var script strings.Builder
	script.WriteString(`fpath=(./functions $fpath)
autoload -U compinit && compinit -u -D
[[ $_comps[lvsctl] == _lvsctl ]] || { echo "compinit did not register _lvsctl: $_comps[lvsctl]"; exit 1; }
_describe() { local -a c; c=("${(@P)4}"); print -l -- "${(@)c%%:*}" | sort; }
_files() { if [[ $1 == -/ ]]; then print -l -- $PREFIX*(/) | sort; else print -l -- $PREFIX*(.) | sort; fi; }
compset() { PREFIX=${PREFIX#*=}; }
t() { print -- "== $1"; shift; words=("$@"); CURRENT=$#; PREFIX=$words[CURRENT]; _lvsctl; }
`)
	for _, tc := range completionCases {
		script.WriteString("t " + tc.name)
		for _, w := range strings.Split(tc.line, " ") {
			script.WriteString(" '" + w + "'")
		}
		script.WriteString("\n")
	}
	script.WriteString("t equals lvsctl check --log-level=w\nt fileequals lvsctl plan --file=we\n")
	got := sections(runShell(t, dir, zsh, "-f", "-c", script.String()))
	for _, tc := range completionCases {
		want := tc.want
		if tc.name == "dir" {
			want = "state"
		}
		if got[tc.name] != want {
			t.Errorf("zsh: %q<TAB>: got %q, want %q", tc.line, got[tc.name], want)
		}
	}
	if got["equals"] != "--log-level=warn" {
		t.Errorf("zsh: lvsctl check --log-level=w<TAB>: got %q, want --log-level=warn", got["equals"])
	}
	if got["fileequals"] != "web.hcl web.plan" {
		t.Errorf("zsh: lvsctl plan --file=we<TAB>: got %q, want web.hcl web.plan", got["fileequals"])
	}
}

// zshDriver types each of its arguments and a TAB into one interactive
// zsh on a pseudo-terminal (zsh/zpty), with the completion system loaded
// as a user's .zshrc would (compinit finding _lvsctl in $fpath), and
// prints "== N" and then each candidate the completion adds, whole word
// (an "--opt=" prefix included), one a line; Ctrl-U clears the line for
// the next. TAB runs complete-word after arming comppostfuncs, which zsh
// empties after each completion. compadd is wrapped only to print what the real one was asked
// to add and matched (-A); everything else — _arguments, _describe,
// _files, compset, matching — is zsh's own. The markers are written split
// so that the pty's echo of these lines never matches them.
const zshDriver = `zmodload zsh/zpty || exit 3
zpty lz zsh -f -i
zpty -w lz 'PROMPT= RPROMPT= PS2='
zpty -w lz 'fpath=(./functions $fpath); autoload -U compinit && compinit -u -D'
zpty -w lz 'compadd() { if (( ${@[(I)-[OAD]*]} )); then builtin compadd "$@"; return; fi; local -a m; builtin compadd -A m "$@"; local x; for x in $m; print -r -- "<<""M>>$IPREFIX$x"; }'
zpty -w lz 'done-widget() { print -r -- "<<""END>>" }'
zpty -w lz 'tab() { comppostfuncs=(done-widget); zle complete-word }; zle -N tab'
zpty -w lz 'bindkey "^I" tab; print -r -- "<<""READY>>"'
local line
while zpty -r lz line; do [[ $line == *'<<READY>>'* ]] && break; done
integer n=0
for l in "$@"; do
  print -r -- "== $((n++))"
  zpty -n -w lz "$l"$'\t'
  while zpty -r lz line; do
    [[ $line == *'<<END>>'* ]] && break
    [[ $line == *'<<M>>'* ]] && print -r -- "${${line##*<<M>>}%%$'\r'*}"
  done
  zpty -n -w lz $'\C-u'
done
zpty -d lz
`

// TestCompletionZshInteractive completes each line as a user at an
// interactive zsh does, pressing TAB (see zshDriver).
func TestCompletionZshInteractive(t *testing.T) {
	zsh, dir := zshCompletionDir(t)
	if err := os.WriteFile(filepath.Join(dir, "drive.zsh"), []byte(zshDriver), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := append(completionCases[:len(completionCases):len(completionCases)],
		struct{ name, line, want string }{"equals", "lvsctl check --log-level=w", "--log-level=warn"},
		struct{ name, line, want string }{"fileequals", "lvsctl plan --file=we", "--file=web.hcl --file=web.plan"})
	args := []string{"-f", "drive.zsh"}
	for _, tc := range cases {
		args = append(args, tc.line)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, zsh, args...)
	c.Dir = dir
	c.Env = append(os.Environ(), "HOME="+dir, "TERM=xterm")
	out, err := c.Output()
	if err != nil {
		t.Fatalf("zsh at a terminal: %v\n%s", err, out)
	}
	got := sections(string(out))
	for i, tc := range cases {
		want := tc.want
		if tc.name == "dir" {
			want = "state" // zsh adds the / as a suffix, not in the word
		}
		// _files offers a directory under several tags: one word each.
		words := slices.Compact(slices.Sorted(slices.Values(strings.Fields(got[strconv.Itoa(i)]))))
		if g := strings.Join(words, " "); g != want {
			t.Errorf("zsh at a terminal: %q<TAB>: got %q, want %q", tc.line, g, want)
		}
	}
}
