package keepalived

import (
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/lvsctl/lvsctl/internal/quote"
)

// keepalived's parameters (lib/parser.c): a line "$NAME=value" defines
// NAME, and "$NAME" or "${NAME}" in a later line stands for its value; a
// value whose line ends in "\" goes on over the next lines (a multiline
// definition, which stands in at the end of a line only, its further
// lines following as lines of their own). A line "~SEQ(VAR, START, STEP,
// END) TEXT" is TEXT once for each number, with VAR defined as it.
// lvsctl expands them as keepalived's read_line does, within these
// bounds, so that a hostile file costs bounded time and memory.
const (
	// MaxExpansion bounds the bytes that substitutions and ~SEQ lines
	// add to the configuration, all together.
	MaxExpansion = MaxSize
	// MaxExpandedLines bounds the lines that ~SEQ and multiline
	// definitions make, all together.
	MaxExpandedLines = 1 << 18
	// MaxExpansionDepth bounds expansions within expansions: a ~SEQ or
	// multiline definition whose lines hold another, and so on.
	MaxExpansionDepth = 8
	// maxSubstitutions bounds the substitutions in one line (a value may
	// name another definition, which keepalived expands in turn).
	maxSubstitutions = 1000
	// maxSubstitutionWork bounds the bytes that substitutions copy, all
	// together: each rewrites its line, so a long line with many
	// references, repeated by a ~SEQ, costs far more than it adds.
	maxSubstitutionWork = 32 << 20
	// maxSeqParams is keepalived's own limit on the text of a ~SEQ's
	// numbers: three longs with their separators.
	maxSeqParams = 3*20 + 3
)

// A definition is the value of a $NAME.
type definition struct {
	// lines are its value: one line, or a multiline definition's.
	lines     []string
	multiline bool
	// builtin names keepalived's standard definitions ($_PWD and the
	// others), whose value lvsctl works out; "" for a definition of the
	// file's.
	builtin string
}

// defs are the definitions of a configuration being read, in effect
// from their line on, across its includes, as keepalived keeps them.
type defs struct {
	m map[string]*definition
	// open is a multiline definition whose next line is still to come.
	open *definition
	// expanded and made count against MaxExpansion and MaxExpandedLines,
	// work against maxSubstitutionWork.
	expanded, made, work int
	// over says that an expansion went past a bound: nothing more is
	// expanded, and that error is the only one.
	over bool
}

// newDefs returns keepalived's standard definitions.
func newDefs() *defs {
	d := &defs{m: map[string]*definition{}}
	for _, n := range []string{"_PWD", "_INSTANCE", "_RANDOM", "_ENV", "_HASH", "_BANG"} {
		d.m[n] = &definition{builtin: n}
	}
	return d
}

// isNameStart and isNameByte are the bytes of a definition's name.
func isNameStart(c byte) bool { return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isNameByte(c byte) bool  { return isNameStart(c) || '0' <= c && c <= '9' }

// define reads s as a definition line ("$NAME=value", keepalived's
// check_definition: the name right before the "=", the value after any
// blanks) and records it; it reports false when s is not one. A value
// ending in "\" starts a multiline definition.
func (d *defs) define(s string) bool {
	if len(s) < 2 || s[0] != '$' || !isNameStart(s[1]) {
		return false
	}
	eq := 2
	for eq < len(s) && s[eq] != '=' {
		if !isNameByte(s[eq]) {
			return false
		}
		eq++
	}
	if eq == len(s) {
		return false
	}
	value := strings.TrimLeft(s[eq+1:], " \t")
	def := &definition{}
	if strings.HasSuffix(value, `\`) {
		def.multiline = true
		value = strings.TrimRight(strings.TrimSuffix(value, `\`), " \t\f\v")
	}
	if value != "" || !def.multiline {
		def.lines = []string{value}
	}
	d.m[s[1:eq]] = def
	d.open = nil
	if def.multiline {
		d.open = def
	}
	return true
}

// more adds the line s to the multiline definition being read, as
// keepalived's read_line does: a line ending in "\" (its blanks before
// it removed) leaves it open, any other ends it; a line of only "\" adds
// nothing.
func (d *defs) more(s string) {
	def := d.open
	if strings.HasSuffix(s, `\`) {
		s = strings.TrimRight(strings.TrimSuffix(s, `\`), " \t\f\v")
		if s != "" {
			def.lines = append(def.lines, s)
		}
		return
	}
	def.lines = append(def.lines, s)
	d.close()
}

// close ends the multiline definition being read (a blank line, or the
// end of its file): one that got no line is a single empty line.
func (d *defs) close() {
	if d.open != nil && len(d.open.lines) == 0 {
		d.open.lines = []string{""}
		d.open.multiline = false
	}
	d.open = nil
}

// A reference is a $NAME or ${NAME} in a line: s[start:end] is replaced.
type reference struct {
	name       string
	start, end int
	params     string // ${NAME PARAMS}: what follows the name
}

// referenceAt reads the reference at s[i] ('$') as keepalived's
// find_definition: $NAME followed by a blank, ",", ")" or the end of the
// line, or ${NAME} (${NAME PARAMS} for the standard definitions that take
// parameters). ok is false for anything else, which stays as it is.
func referenceAt(s string, i int) (reference, bool) {
	j := i + 1
	braces := j < len(s) && s[j] == '{'
	if braces {
		j++
	}
	if j >= len(s) || !isNameStart(s[j]) {
		return reference{}, false
	}
	k := j + 1
	for k < len(s) && isNameByte(s[k]) {
		k++
	}
	ref := reference{name: s[j:k], start: i}
	if !braces {
		if k < len(s) && !strings.ContainsRune(" \t,)", rune(s[k])) {
			return reference{}, false
		}
		ref.end = k
		return ref, true
	}
	p := k
	for p < len(s) && (s[p] == ' ' || s[p] == '\t' || isNameByte(s[p])) {
		p++
	}
	if p >= len(s) || s[p] != '}' {
		return reference{}, false
	}
	params := strings.TrimLeft(s[k:p], " \t")
	if params != "" && (s[p-1] == ' ' || s[p-1] == '\t') {
		return reference{}, false // keepalived: no blank before the brace
	}
	ref.params, ref.end = params, p+1
	return ref, true
}

// An expandError is a problem with an expansion, at the column of the
// line it is about.
type expandError struct {
	col int
	msg string
}

// substitute replaces the references to definitions in s (cols: the
// column of each byte) as keepalived's replace_param: each in turn from
// the left, a value that holds references expanded in its turn; a
// reference to a multiline definition only at the end of the line, its
// further lines returned in more, to follow the line. A reference to
// nothing defined stays as it is. The bytes of a value take the column
// of the "$" they replace, and so do the further lines (moreCol). pwd and
// id are what $_PWD and $_INSTANCE stand for.
func (d *defs) substitute(s string, cols []int, pwd, id string) (_ string, _ []int, more []string, moreCol int, _ *expandError) {
	pos, n := 0, 0
	for {
		i := strings.IndexByte(s[pos:], '$')
		if i < 0 {
			break
		}
		i += pos
		if i+1 >= len(s) {
			break
		}
		ref, ok := referenceAt(s, i)
		def := d.m[ref.name]
		if !ok || def == nil || def.multiline && ref.end != len(s) {
			pos = i + 1
			continue
		}
		if ref.params != "" && def.builtin != "_RANDOM" && def.builtin != "_ENV" {
			pos = i + 1 // keepalived: only those take parameters
			continue
		}
		col := cols[i]
		if n++; n > maxSubstitutions {
			d.over = true
			return "", nil, nil, 0, &expandError{col, fmt.Sprintf("the line makes more than %d substitutions: a definition that names itself (through %s) never ends; keepalived would loop on it", maxSubstitutions, show("$"+ref.name))}
		}
		value := ""
		switch def.builtin {
		case "":
			if len(def.lines) > 0 {
				value = def.lines[0]
			}
			if def.multiline && len(def.lines) > 1 {
				// A multiline value within a multiline value: its lines
				// come first, as keepalived's multiline stack has them.
				more = append(append([]string(nil), def.lines[1:]...), more...)
				moreCol = col
			}
		case "_PWD":
			value = pwd
		case "_INSTANCE":
			value = id
		case "_HASH":
			value = "#"
		case "_BANG":
			value = "!"
		case "_RANDOM":
			return "", nil, nil, 0, &expandError{col, "$_RANDOM is a new random number each time keepalived reads the file; lvsctl does not make one up: write the number"}
		case "_ENV":
			return "", nil, nil, 0, &expandError{col, "${_ENV NAME} is keepalived's environment, which lvsctl does not read: write the value"}
		}
		d.expanded += len(value)
		d.work += len(s) + len(value)
		if d.work > maxSubstitutionWork {
			d.over = true
			return "", nil, nil, 0, &expandError{col, fmt.Sprintf("the substitutions of the definitions copy more than %s; lvsctl stops there (a long line with many references, repeated)", quote.Size(maxSubstitutionWork))}
		}
		if d.expanded > MaxExpansion {
			d.over = true
			return "", nil, nil, 0, &expandError{col, fmt.Sprintf("the definitions and ~SEQ lines expand to more than %s, the most lvsctl reads", quote.Size(MaxExpansion))}
		}
		if len(s)-(ref.end-ref.start)+len(value) > MaxLineLength {
			d.over = true
			return "", nil, nil, 0, &expandError{col, fmt.Sprintf("substituting %s makes the line longer than %d bytes, the most lvsctl reads", show("$"+ref.name), MaxLineLength)}
		}
		nc := make([]int, 0, len(cols)-(ref.end-ref.start)+len(value))
		nc = append(nc, cols[:i]...)
		for range value {
			nc = append(nc, col)
		}
		nc = append(nc, cols[ref.end:]...)
		s, cols = s[:i]+value+s[ref.end:], nc
		// keepalived stops at a value that starts a ~SEQ or ~LST.
		if strings.HasPrefix(strings.TrimLeft(value, " \t"), "~") {
			break
		}
		pos = i // the value may name another definition
	}
	return s, cols, more, moreCol, nil
}

// A seq is a ~SEQ line read: VAR takes the numbers from start by step to
// end, and text (at the columns textCols) is read once for each.
type seq struct {
	name             string
	start, step, end int64
	hex              bool
	text             string
	textCols         []int
	count            int64
}

// parseSeq reads a ~SEQ line as keepalived's add_seq: ~SEQ(VAR, END),
// ~SEQ(VAR, START, END) or ~SEQ(VAR, START, STEP, END), numbers as strtol
// reads them (0x for hex, a leading 0 for octal), which may be
// definitions; ~SEQx writes the numbers in hex. With END alone the
// numbers run from 1 (-1 for a negative END) to END, with START and END
// by 1 towards END.
func (d *defs) parseSeq(s string, cols []int, pwd, id string) (*seq, *expandError) {
	bad := func(i int, why string) (*seq, *expandError) {
		return nil, &expandError{cols[min(i, len(cols)-1)], why}
	}
	const usage = "write ~SEQ(VAR, END), ~SEQ(VAR, START, END) or ~SEQ(VAR, START, STEP, END) and the line to repeat"
	sq := &seq{}
	p := 4
	if p < len(s) && s[p] == 'x' {
		sq.hex = true
		p++
	}
	p = skipBlanks(s, p)
	if p >= len(s) || s[p] != '(' {
		return bad(p, "a ~SEQ needs its numbers in parentheses; "+usage)
	}
	p = skipBlanks(s, p+1)
	v := p
	for p < len(s) && !strings.ContainsRune(" \t,)", rune(s[p])) {
		p++
	}
	sq.name = s[v:p]
	p = skipBlanks(s, p)
	if p >= len(s) || s[p] == ')' || sq.name == "" || sq.name[0] == '{' {
		return bad(v, "this ~SEQ has no variable, or no numbers; "+usage)
	}
	// keepalived takes any other name too, which no reference can name.
	p = skipBlanks(s, p+1) // keepalived skips the "," without looking
	close := strings.IndexByte(s[p:], ')')
	if close < 0 {
		return bad(len(s)-1, "this ~SEQ has no \")\" after its numbers; "+usage)
	}
	close += p
	if close+1-p+1 > maxSeqParams+1 {
		return bad(p, fmt.Sprintf("the numbers of this ~SEQ are longer than the %d bytes keepalived takes", maxSeqParams))
	}
	params, pcols, more, _, err := d.substitute(s[p:close+1], cols[p:close+1], pwd, id)
	if err != nil {
		return nil, err
	}
	if len(more) > 0 {
		return bad(p, "a number of this ~SEQ is a multiline definition, which keepalived refuses there")
	}
	var nums []int64
	q := 0
	for {
		n, next, ok := strtol(params, q)
		if !ok {
			next = q // keepalived's strtol: a missing number is 0
		}
		nums = append(nums, n)
		q = skipBlanks(params, next)
		if q < len(params) && params[q] == ')' {
			break
		}
		if q >= len(params) || params[q] != ',' || len(nums) == 3 {
			at := pcols[min(q, len(pcols)-1)]
			if !ok {
				return nil, &expandError{at, fmt.Sprintf("%s is not a number; %s", show(strings.TrimSpace(strings.TrimRight(params[q:], ")"))), usage)}
			}
			return nil, &expandError{at, "this ~SEQ's numbers are not 1 to 3 numbers separated by commas; " + usage}
		}
		q++
	}
	switch len(nums) {
	case 1:
		sq.end = nums[0]
		sq.step, sq.start = 1, 1
		if sq.end < 1 {
			sq.step = -1
		}
		if sq.end < 0 {
			sq.start = -1
		}
	case 2:
		sq.start, sq.end = nums[0], nums[1]
		sq.step = 1
		if sq.start > sq.end {
			sq.step = -1
		}
	case 3:
		sq.start, sq.step, sq.end = nums[0], nums[1], nums[2]
		if sq.step == 0 || sq.start < sq.end && sq.step < 0 || sq.start > sq.end && sq.step > 0 {
			return bad(p, fmt.Sprintf("this ~SEQ never reaches %d from %d by %d (keepalived: \"Invalid ~SEQ values\")", sq.end, sq.start, sq.step))
		}
	}
	if sq.hex && (sq.start < 0 || sq.end < 0) {
		return bad(p, "~SEQx writes hex numbers, which are never negative (keepalived: \"~SEQx is only valid for positive numbers\")")
	}
	// How many numbers, without overflowing: |end - start| / |step| + 1.
	if span(sq.start, sq.end)/absStep(sq.step) >= MaxExpandedLines {
		return bad(p, fmt.Sprintf("this ~SEQ makes more than %d lines, the most lvsctl expands", MaxExpandedLines))
	}
	sq.count = span(sq.start, sq.end)/absStep(sq.step) + 1
	t := skipBlanks(s, close+1)
	sq.text, sq.textCols = s[t:], cols[t:]
	return sq, nil
}

// span returns |b - a|, at most math.MaxInt64.
func span(a, b int64) int64 {
	var d uint64
	if a <= b {
		d = uint64(b) - uint64(a)
	} else {
		d = uint64(a) - uint64(b)
	}
	return int64(min(d, math.MaxInt64))
}

func absStep(s int64) int64 {
	if s < 0 {
		if s == math.MinInt64 {
			return math.MaxInt64
		}
		return -s
	}
	return s
}

// value returns the i-th number of sq as keepalived writes it: decimal,
// or hex without 0x for ~SEQx.
func (sq *seq) value(i int64) string {
	n := sq.start + i*sq.step
	if sq.hex {
		return strconv.FormatUint(uint64(n), 16)
	}
	return strconv.FormatInt(n, 10)
}

// strtol reads a number of s from i as C's strtol with base 0: blanks,
// a sign, then 0x and hex digits, 0 and octal digits, or decimal digits.
// It returns the number (clamped to int64 as strtol clamps to long), where
// it ends, and whether there were digits.
func strtol(s string, i int) (int64, int, bool) {
	i = skipBlanks(s, i)
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	base := 10
	switch {
	case i+2 < len(s) && s[i] == '0' && (s[i+1] == 'x' || s[i+1] == 'X') && digitOf(s[i+2]) < 16:
		base, i = 16, i+2
	case i < len(s) && s[i] == '0':
		base = 8
	}
	start := i
	var n uint64
	over := false
	for i < len(s) && digitOf(s[i]) < base {
		d := uint64(digitOf(s[i]))
		if !over && n > (math.MaxUint64-d)/uint64(base) {
			over = true
		}
		if !over {
			n = n*uint64(base) + d
		}
		i++
	}
	if i == start {
		return 0, start, false
	}
	switch {
	case neg && (over || n > math.MaxInt64):
		return math.MinInt64, i, true // strtol's LONG_MIN
	case neg:
		return -int64(n), i, true
	case over || n > math.MaxInt64:
		return math.MaxInt64, i, true
	}
	return int64(n), i, true
}

func digitOf(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return 99
}

func skipBlanks(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// absDir is what $_PWD stands for while the file in dir is read: the
// directory keepalived changes to when it opens that file.
func absDir(dir string) string {
	if a, err := filepath.Abs(dir); err == nil {
		return a
	}
	return dir
}
