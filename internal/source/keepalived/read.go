package keepalived

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/lvsctl/lvsctl/internal/quote"
	"github.com/lvsctl/lvsctl/internal/regular"
)

// Limits on what lvsctl reads, so that a hostile or broken file costs
// bounded time and memory. keepalived itself has a line buffer of a few
// kilobytes and no bound on includes.
const (
	MaxSize         = 16 << 20 // bytes of all the files together
	MaxLineLength   = 64 << 10 // bytes of one line
	MaxIncludeDepth = 8        // includes within includes
	MaxFiles        = 1000     // files read through includes
	MaxDepth        = 32       // blocks within blocks
	MaxErrors       = 50       // errors reported; the rest are counted
	MaxServices     = 100000   // virtual services, group ranges expanded
	MaxDests        = 1 << 20  // real servers of all the services together
)

// A Token is one word of a line, without its quotes.
type Token struct {
	Text   string
	Quoted bool
	Pos    Pos
}

// A Node is one line of the configuration, its words, and the block that
// follows it in braces, if any. A keyword line has the keyword as its first
// word; a line of a value block (virtual_ipaddress, a group's entries) is
// only words.
type Node struct {
	Words    []Token
	HasBlock bool
	Block    []*Node
	// Comments are the comment lines right before the line, and its
	// trailing comment, "#" or "!" included.
	Comments []string
	// End are the comment lines before the "}" that closes its block.
	End []string
}

// Key returns the node's first word.
func (n *Node) Key() string { return n.Words[0].Text }

// Pos returns the position of the node's first word.
func (n *Node) Pos() Pos { return n.Words[0].Pos }

// Args returns the words after the first.
func (n *Node) Args() []Token { return n.Words[1:] }

// A File is a keepalived.conf read with its includes: the lines at the top
// level, each with its block.
type File struct {
	Name  string
	Nodes []*Node
	// Files are the files read, the top one first, in the order read.
	Files []string
	// Trailing are the comment lines after the last line.
	Trailing []string
	// Notes are what the reading itself noted (conditional lines skipped,
	// includes that matched nothing).
	Notes []Note
	srcs  map[string][]byte // the files read, by name, for excerpts
}

// Options change how a file is read.
type Options struct {
	// ConfigID is the config id that lines starting "@ID " are kept for,
	// as keepalived's -i option; keepalived's default is the host name up
	// to its first dot. Lines for another id are skipped with a note.
	ConfigID string
}

// Load reads the keepalived.conf at path and the files it includes.
func Load(path string, opt Options) (*File, error) {
	r := newReader(path, opt)
	r.file(path, "", Pos{})
	return r.finish()
}

// Parse reads src, a keepalived.conf named name in messages. Relative
// includes are resolved from dir, as keepalived resolves them from the
// directory of the including file.
func Parse(src []byte, name, dir string, opt Options) (*File, error) {
	r := newReader(name, opt)
	if len(src) > MaxSize {
		r.errorf(Pos{File: name}, "the file is %s, and lvsctl reads keepalived configurations of at most %s", quote.Size(len(src)), quote.Size(MaxSize))
		return r.finish()
	}
	r.size = len(src)
	r.files = append(r.files, name)
	r.f.srcs[name] = src
	r.open = append(r.open, nil) // the top file, which is not on disk
	r.lines(name, dir, src)
	return r.finish()
}

type reader struct {
	f     *File
	opt   Options
	errs  Errors
	size  int
	files []string
	// open are the files being read, outermost first, to refuse loops.
	open []fs.FileInfo
	// The tree being built: stack[len-1] is the block being filled.
	stack   []*[]*Node
	opens   []Pos   // where each open block started
	owners  []*Node // the line each open block belongs to
	last    *Node   // the previous line, which a "{" opens a block for
	pending []string
	// defs are the $NAME definitions read so far.
	defs *defs
}

func newReader(name string, opt Options) *reader {
	r := &reader{f: &File{Name: name, srcs: map[string][]byte{}}, opt: opt, defs: newDefs()}
	r.stack = []*[]*Node{&r.f.Nodes}
	return r
}

func (r *reader) errorf(p Pos, format string, args ...any) {
	if len(r.errs) > 10*MaxErrors {
		return
	}
	r.errs = append(r.errs, &Error{Pos: p, Msg: fmt.Sprintf(format, args...)})
}

func (r *reader) finish() (*File, error) {
	for i := len(r.opens) - 1; i >= 0; i-- {
		r.errorf(r.opens[i], "this block is not closed: a \"}\" is missing before the end of the configuration")
	}
	r.f.Files = r.files
	r.f.Trailing = r.pending
	if len(r.errs) > 0 {
		es := capped(r.errs)
		withSource(es, r.f.srcs)
		return nil, es
	}
	return r.f, nil
}

// file reads the file at path (resolved from dir when relative), included
// at inc (the zero Pos for the top file).
func (r *reader) file(path, dir string, inc Pos) {
	full := path
	if !filepath.IsAbs(full) && dir != "" {
		full = filepath.Join(dir, path)
	}
	name := path
	if inc.File != "" {
		name = full
	}
	where := inc
	if where.File == "" {
		where = Pos{File: name}
	}
	if len(r.files) >= MaxFiles {
		r.errorf(where, "more than %d files are included; lvsctl reads at most that many", MaxFiles)
		return
	}
	f, fi, err := regular.Open(full, 0)
	if err != nil {
		var nr *regular.NotRegularError
		if errors.As(err, &nr) {
			r.errorf(where, "%v; keepalived reads configuration files only", err)
		} else {
			r.errorf(where, "cannot read %s: %v", show(full), unwrapPath(err))
		}
		return
	}
	defer f.Close()
	for _, o := range r.open {
		if os.SameFile(o, fi) {
			r.errorf(where, "%s includes itself (through the files being read); remove the loop", show(full))
			return
		}
	}
	src, err := regular.ReadAll(f, fi, int64(MaxSize-r.size))
	if errors.Is(err, regular.ErrTooLarge) {
		r.errorf(where, "%s makes the configuration larger than %s, the most lvsctl reads", show(full), quote.Size(MaxSize))
		return
	}
	if err != nil {
		r.errorf(where, "cannot read %s: %v", show(full), unwrapPath(err))
		return
	}
	r.size += len(src)
	r.files = append(r.files, name)
	r.f.srcs[name] = src
	r.open = append(r.open, fi)
	r.lines(name, filepath.Dir(full), src)
	r.open = r.open[:len(r.open)-1]
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// lines reads the lines of src, the file name whose includes are resolved
// from dir.
func (r *reader) lines(name, dir string, src []byte) {
	num := 0
	for len(src) > 0 {
		num++
		i := strings.IndexByte(string(src[:min(len(src), MaxLineLength+2)]), '\n')
		var text []byte
		switch {
		case i >= 0:
			text, src = src[:i], src[i+1:]
		case len(src) > MaxLineLength+1:
			j := strings.IndexByte(string(src), '\n')
			if j < 0 {
				text, src = src, nil
			} else {
				text, src = src[:j], src[j+1:]
			}
		default:
			text, src = src, nil
		}
		for len(text) > 0 && text[len(text)-1] == '\r' {
			text = text[:len(text)-1]
		}
		if len(text) > MaxLineLength {
			r.errorf(Pos{File: name, Line: num, Col: 1}, "the line is %d bytes long, and lvsctl reads lines of up to %d bytes (keepalived's own limit is far lower); it starts %s", len(text), MaxLineLength, quote.Excerpt(string(text[:min(len(text), 100)])))
			continue
		}
		r.line(name, dir, num, string(text))
		if len(r.errs) > 10*MaxErrors {
			return
		}
	}
	r.defs.close() // a multiline definition ends with its file
}

// A piece is one brace or the words between braces, of one line.
type piece struct {
	words []Token
	brace byte
}

// line reads one line of the file name.
func (r *reader) line(name, dir string, num int, text string) {
	if strings.IndexByte(text, 0) >= 0 {
		r.errorf(Pos{File: name, Line: num, Col: strings.IndexByte(text, 0) + 1}, "the line has a NUL byte, which keepalived ignores the line for; remove it")
		return
	}
	if text == "" {
		// keepalived: an empty line ends a multiline definition.
		r.defs.close()
		return
	}
	clean, cols, comment, err := decomment(text)
	if err != "" {
		r.errorf(Pos{File: name, Line: num, Col: cols[0]}, "%s", err)
		return
	}
	if comment != "" {
		r.pending = append(r.pending, comment)
	}
	if clean == "" {
		return
	}
	if r.defs.open != nil {
		r.defs.more(clean)
		return
	}
	r.logical(name, dir, num, clean, cols, 0)
}

// logical reads one line as keepalived's read_line makes it: a line of
// the file, or one an expansion made (a ~SEQ's, a multiline definition's
// further lines), depth expansions deep. cols are the columns of its
// bytes in line num of the file name.
func (r *reader) logical(name, dir string, num int, clean string, cols []int, depth int) {
	if clean == "" {
		return
	}
	at := func(i int) Pos { return Pos{File: name, Line: num, Col: cols[i]} }
	// @ID and @^ID: the line is for the given config id only.
	if clean[0] == '@' {
		sp := strings.IndexAny(clean, " \t")
		if sp < 0 {
			return // keepalived drops it: nothing follows the id
		}
		id, rev := clean[1:sp], false
		if strings.HasPrefix(id, "^") {
			id, rev = id[1:], true
		}
		if (id == r.opt.ConfigID && r.opt.ConfigID != "") == rev {
			r.f.Notes = append(r.f.Notes, Note{Pos: at(0), Msg: fmt.Sprintf("this line is for config id %s%s, and lvsctl read the file for config id %s: the line is skipped, as keepalived skips it",
				map[bool]string{true: "other than ", false: ""}[rev], show(id), show(r.opt.ConfigID))})
			return
		}
		j := sp
		for j < len(clean) && (clean[j] == ' ' || clean[j] == '\t') {
			j++
		}
		clean, cols = clean[j:], cols[j:]
	}
	switch {
	case clean[0] == '$' && r.defs.define(clean):
		return
	case strings.HasPrefix(clean, "~SEQ"):
		r.seq(name, dir, num, clean, cols, depth)
		return
	case strings.HasPrefix(clean, "~LST"):
		r.errorf(at(0), "keepalived's ~LST lines are not read by lvsctl; write the lines they make out, or a ~SEQ")
		return
	}
	var more []string
	moreCol := cols[0]
	if strings.IndexByte(clean, '$') >= 0 {
		if r.defs.over {
			return
		}
		over := r.defs.over
		s, c, m, mc, err := r.defs.substitute(clean, cols, absDir(dir), r.opt.ConfigID)
		if err != nil {
			if !over {
				r.errorf(Pos{File: name, Line: num, Col: err.col}, "%s", err.msg)
			}
			return
		}
		more, moreCol = m, mc
		// keepalived takes the comments out again: a value may hold one.
		s2, c2, _, derr := decomment(s)
		if len(c) == 0 {
			c = cols[:1] // an empty line: c2 is {1}
		}
		for k := range c2 {
			c2[k] = c[min(c2[k], len(c))-1]
		}
		if derr != "" {
			r.errorf(Pos{File: name, Line: num, Col: c2[0]}, "%s (once the definitions are substituted)", derr)
			return
		}
		clean, cols = s2, c2
	}
	if len(more) > 0 && depth >= MaxExpansionDepth {
		r.errorf(Pos{File: name, Line: num, Col: moreCol}, "expansions are nested more than %d deep (a multiline definition's lines hold another, or a ~SEQ's); lvsctl expands at most that many levels", MaxExpansionDepth)
		return
	}
	if clean != "" {
		if pat, v, ok := includeLine(clean); ok {
			r.include(pat, v, dir, at(0), len(r.open)-1)
		} else {
			for _, p := range split(clean, cols, name, num) {
				r.piece(p)
			}
		}
	}
	// A multiline definition's further lines follow, at the column of
	// the reference.
	for _, l := range more {
		if !r.made(Pos{File: name, Line: num, Col: moreCol}, len(l)) {
			return
		}
		lc := make([]int, len(l))
		for k := range lc {
			lc[k] = moreCol
		}
		r.logical(name, dir, num, l, lc, depth+1)
	}
}

// made counts one line of n bytes that an expansion made, and reports
// false, after an error at at, when that is more than lvsctl expands.
func (r *reader) made(at Pos, n int) bool {
	if r.defs.over {
		return false
	}
	r.defs.made++
	r.defs.expanded += n
	switch {
	case r.defs.made > MaxExpandedLines:
		r.defs.over = true
		r.errorf(at, "the ~SEQ lines and multiline definitions make more than %d lines, the most lvsctl expands", MaxExpandedLines)
		return false
	case r.defs.expanded > MaxExpansion:
		r.defs.over = true
		r.errorf(at, "the definitions and ~SEQ lines expand to more than %s, the most lvsctl reads", quote.Size(MaxExpansion))
		return false
	}
	return len(r.errs) <= 10*MaxErrors
}

// seq reads a ~SEQ line (see defs.parseSeq): its text once for each of
// its numbers, its variable defined as the number.
func (r *reader) seq(name, dir string, num int, clean string, cols []int, depth int) {
	at := Pos{File: name, Line: num, Col: cols[0]}
	if depth >= MaxExpansionDepth {
		r.errorf(at, "expansions are nested more than %d deep (a ~SEQ's line holds another, or a multiline definition's); lvsctl expands at most that many levels", MaxExpansionDepth)
		return
	}
	sq, err := r.defs.parseSeq(clean, cols, absDir(dir), r.opt.ConfigID)
	if err != nil {
		r.errorf(Pos{File: name, Line: num, Col: err.col}, "%s", err.msg)
		return
	}
	for i := range sq.count {
		r.defs.m[sq.name] = &definition{lines: []string{sq.value(i)}}
		if !r.made(at, len(sq.text)) {
			return
		}
		r.logical(name, dir, num, sq.text, sq.textCols, depth+1)
	}
}

// includePattern returns the pattern of an include line: "include" (or
// keepalived's includer, includem, includew, includeb, includea) and the
// rest of the line.
func includePattern(s string) (string, bool) {
	p, _, ok := includeLine(s)
	return p, ok
}

// includeLine is includePattern, with the include's variant: 0 for a
// plain include, else the letter after "include" (r, m, w, b or a).
func includeLine(s string) (string, byte, bool) {
	if !strings.HasPrefix(s, "include") || len(s) < 9 {
		return "", 0, false
	}
	rest := s[7:]
	if isBlank(rest[0]) {
		return strings.TrimLeft(rest, " \t"), 0, true
	}
	if strings.IndexByte("rmwba", rest[0]) >= 0 && isBlank(rest[1]) {
		return strings.TrimLeft(rest[1:], " \t"), rest[0], true
	}
	return "", 0, false
}

// An includeCheck is what an include line's variant refuses, as
// keepalived's check_include sets it (lib/parser.c): a plain include and
// includer go on without files that do not exist (keepalived logs "Config
// files missing" or "No config files matched"); includem refuses a file
// named without wildcards that does not exist, includew that too and a
// pattern that matches nothing, includeb a brace alternative that names
// no file, and includea all three. (keepalived's -e option and the
// include_check keyword raise the checks of every include; lvsctl reads
// includes as keepalived does without them.)
type includeCheck struct{ match, wildcard, brace bool }

func includeChecks(variant byte) includeCheck {
	return includeCheck{
		match:    variant == 'm' || variant == 'w' || variant == 'a',
		wildcard: variant == 'w' || variant == 'a',
		brace:    variant == 'b' || variant == 'a',
	}
}

// keyword is how an include line of variant v starts.
func includeKeyword(v byte) string {
	if v == 0 {
		return "include"
	}
	return "include" + string(v)
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\f' || c == '\v' }

// include reads the files pattern matches, in name order, as keepalived
// does with glob(3): a relative pattern is resolved from dir, the
// directory of the including file. variant is the include's (see
// includeLine), which says what a pattern that names no file is: a
// warning, as keepalived logs it and goes on, or an error.
func (r *reader) include(pattern string, variant byte, dir string, at Pos, depth int) {
	if depth >= MaxIncludeDepth {
		r.errorf(at, "includes are nested more than %d deep; lvsctl reads at most that many levels", MaxIncludeDepth)
		return
	}
	full := pattern
	if !filepath.IsAbs(full) {
		full = filepath.Join(dir, pattern)
	}
	check, kw := includeChecks(variant), includeKeyword(variant)
	if !hasMeta(pattern) {
		if missing(full) {
			if check.match {
				r.errorf(at, "%s %s: there is no %s, and %s refuses a missing file (keepalived: \"Config files missing\"); create it, or remove the line", kw, show(pattern), show(full), kw)
				return
			}
			r.f.Notes = append(r.f.Notes, Note{Pos: at, Msg: fmt.Sprintf("%s %s names no file (there is no %s); keepalived logs \"Config files missing\" and goes on without it, and so does lvsctl", kw, show(pattern), show(full)), Missing: true})
			return
		}
		r.file(full, "", at)
		return
	}
	// keepalived globs with GLOB_BRACE: each alternative of {a,b} in
	// turn, the names of each sorted.
	alts, ok := braces(full, maxBraces)
	if !ok {
		r.errorf(at, "include %s expands to more than %d patterns in braces", show(pattern), maxBraces)
		return
	}
	var names []string
	for _, alt := range alts {
		ns, err := filepath.Glob(alt)
		if err != nil {
			r.errorf(at, "include %s is not a pattern glob(3) reads: %v", show(pattern), err)
			return
		}
		if len(ns) == 0 && len(alts) > 1 && !strings.ContainsAny(alt, `*?[\`) {
			if check.brace {
				r.errorf(at, "%s %s: there is no %s, and %s refuses a brace alternative that names no file (keepalived: \"Some config files missing\"); create it, or remove it from the braces", kw, show(pattern), show(alt), kw)
				return
			}
			r.f.Notes = append(r.f.Notes, Note{Pos: at, Msg: fmt.Sprintf("%s %s: there is no %s; keepalived logs \"Some config files missing\" and goes on without it, and so does lvsctl", kw, show(pattern), show(alt)), Missing: true})
		}
		for _, n := range ns {
			// glob(3) with GLOB_MARK marks directories, which keepalived
			// skips.
			if fi, err := os.Stat(n); err == nil && fi.IsDir() {
				r.f.Notes = append(r.f.Notes, Note{Pos: at, Msg: fmt.Sprintf("include %s matches the directory %s, which keepalived skips, and so does lvsctl", show(pattern), show(n))})
				continue
			}
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		if check.wildcard {
			r.errorf(at, "%s %s matches no file (%s), and %s refuses that (keepalived: \"No config files matched\"); create one, or remove the line", kw, show(pattern), show(full), kw)
			return
		}
		r.f.Notes = append(r.f.Notes, Note{Pos: at, Msg: fmt.Sprintf("%s %s matches no file (%s); keepalived goes on without it, and so does lvsctl", kw, show(pattern), show(full)), Missing: true})
		return
	}
	for _, n := range names {
		r.file(n, "", at)
	}
}

// missing reports whether path names nothing, as glob(3) finds no match
// for it: it does not exist, or a directory on its way is a file.
func missing(path string) bool {
	_, err := os.Lstat(path)
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

func hasMeta(p string) bool { return strings.ContainsAny(p, `*?[\{`) }

// maxBraces bounds the patterns one include expands to.
const maxBraces = 256

// braces expands the first {a,b,...} of p (outside a backslash escape),
// and the rest recursively, as glob(3)'s GLOB_BRACE does; false when there
// would be more than max patterns.
func braces(p string, max int) ([]string, bool) {
	open, depth := -1, 0
	var commas []int
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			i++
		case '{':
			if depth == 0 {
				open = i
				commas = nil
			}
			depth++
		case ',':
			if depth == 1 {
				commas = append(commas, i)
			}
		case '}':
			if depth == 0 {
				continue
			}
			depth--
			if depth > 0 {
				continue
			}
			var out []string
			start := open + 1
			for _, end := range append(commas, i) {
				more, ok := braces(p[:open]+p[start:end]+p[i+1:], max-len(out))
				if !ok {
					return nil, false
				}
				out = append(out, more...)
				if len(out) > max {
					return nil, false
				}
				start = end + 1
			}
			return out, true
		}
	}
	if depth != 0 {
		return []string{p}, true // an unbalanced brace is a character
	}
	return []string{p}, true
}

// piece adds one piece of a line to the tree.
func (r *reader) piece(p piece) {
	top := r.stack[len(r.stack)-1]
	switch p.brace {
	case '{':
		if r.last == nil || r.last.HasBlock {
			r.errorf(p.words[0].Pos, "a \"{\" must follow the keyword whose block it opens, such as virtual_server 10.0.0.1 80 {")
			// Read the block anyway, so that its "}" is not reported too.
			r.last = &Node{Words: []Token{{Text: "{", Pos: p.words[0].Pos}}}
		}
		if len(r.stack) > MaxDepth {
			r.errorf(p.words[0].Pos, "blocks are nested more than %d deep", MaxDepth)
		}
		r.last.HasBlock = true
		r.stack = append(r.stack, &r.last.Block)
		r.opens = append(r.opens, p.words[0].Pos)
		r.owners = append(r.owners, r.last)
		r.last = nil
	case '}':
		if len(r.stack) == 1 {
			r.errorf(p.words[0].Pos, "this \"}\" closes no block; remove it or add the block's keyword and \"{\"")
			return
		}
		// Comments before a "}" belong to the block it closes.
		owner := r.owners[len(r.owners)-1]
		owner.End = append(owner.End, r.pending...)
		r.pending = nil
		r.stack = r.stack[:len(r.stack)-1]
		r.opens = r.opens[:len(r.opens)-1]
		r.owners = r.owners[:len(r.owners)-1]
		r.last = nil
	default:
		n := &Node{Words: p.words, Comments: r.pending}
		r.pending = nil
		*top = append(*top, n)
		r.last = n
	}
}

// decomment removes a comment from text as keepalived's decomment does:
// "!" or "#" outside double quotes starts one, and "\!" and "\#" outside
// quotes are the characters themselves. It returns the text left without
// leading and trailing blanks, the 1-based column in text of each of its
// bytes (cols[0] is where to point when it is empty), the comment, and a
// message when a quote is not closed.
func decomment(text string) (string, []int, string, string) {
	var b strings.Builder
	cols := make([]int, 0, len(text))
	quoted := false
	comment := ""
	i := 0
	for i < len(text) && isBlank(text[i]) {
		i++
	}
	qcol := 0
	for ; i < len(text); i++ {
		c := text[i]
		switch {
		case c == '"':
			quoted = !quoted
			qcol = i + 1
		case c == '\\' && !quoted && i+1 < len(text) && (text[i+1] == '#' || text[i+1] == '!'):
			i++
			c = text[i]
		case !quoted && (c == '!' || c == '#'):
			comment = text[i:]
			i = len(text)
			continue
		}
		b.WriteByte(c)
		cols = append(cols, i+1)
	}
	s := b.String()
	end := len(s)
	for end > 0 && isBlank(s[end-1]) {
		end--
	}
	s, cols = s[:end], cols[:end]
	if len(cols) == 0 {
		cols = []int{1}
	}
	if quoted {
		return s, []int{qcol}, comment, "this quote is not closed on its line; keepalived's values cannot span lines"
	}
	return s, cols, comment, ""
}

// split cuts s at braces outside quotes, and each piece into words as
// keepalived's alloc_strvec does: blank-separated, a word starting with
// '"' running to the next '"' without escapes.
func split(s string, cols []int, name string, num int) []piece {
	var out []piece
	pos := func(i int) Pos { return Pos{File: name, Line: num, Col: cols[i]} }
	var words []Token
	flush := func() {
		if len(words) > 0 {
			out = append(out, piece{words: words})
			words = nil
		}
	}
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case isBlank(c):
			i++
		case c == '{' || c == '}':
			flush()
			out = append(out, piece{brace: c, words: []Token{{Text: string(c), Pos: pos(i)}}})
			i++
		case c == '"':
			j := strings.IndexByte(s[i+1:], '"')
			if j < 0 { // decomment has refused this
				j = len(s) - i - 1
			}
			words = append(words, Token{Text: s[i+1 : i+1+j], Quoted: true, Pos: pos(i)})
			i += j + 2
		default:
			j := i
			for j < len(s) && !isBlank(s[j]) && s[j] != '"' && s[j] != '{' && s[j] != '}' {
				j++
			}
			words = append(words, Token{Text: s[i:j], Pos: pos(i)})
			i = j
		}
	}
	flush()
	return out
}
