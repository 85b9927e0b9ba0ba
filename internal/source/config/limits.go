package config

import (
	"bytes"
	"fmt"
	"unicode/utf8"

	"github.com/lvsctl/lvsctl/internal/quote"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Limits on a configuration, checked by a cheap scan of each file before
// it is parsed, so that a hostile or broken file is refused with a clear
// error instead of exhausting memory or the stack: hclsyntax parses nested
// brackets by recursion, and a file of lists nested 100,000 deep was a
// fatal stack overflow. The largest configuration benchmarked, 10,000
// services with 4 real servers each, is 4.2 MB, 143,000 objects and
// 908,000 tokens, nested 3 deep.
const (
	// MaxFileSize is the most bytes of configuration, a file or the files
	// of a directory together.
	MaxFileSize = 16 << 20
	// MaxLineLength is the longest line, in bytes.
	MaxLineLength = 1 << 20
	// MaxStringLength is the longest quoted string or heredoc, in bytes
	// of the file from its opening to its closing quote or marker.
	MaxStringLength = 64 << 10
	// MaxNestingDepth is how deep blocks, lists, objects, parentheses and
	// template sequences may nest, each operator of an expression counting
	// one level more (a + b + c is nested 2 deep).
	MaxNestingDepth = 64
	// MaxObjects is the most blocks, attributes and list elements: about
	// 17,000 services with 4 real servers each.
	MaxObjects = 250_000
	// MaxTokens is the most tokens (words, numbers, strings, punctuation,
	// line ends): hclsyntax keeps about 100 bytes for each, and a file it
	// parses costs some 200 bytes of memory per byte.
	MaxTokens = 2_000_000
)

// A budget is what the files read so far used of the limits that hold for
// a whole configuration.
type budget struct {
	size, objects, tokens int
}

// frameKind is what a scanFrame is open for.
type frameKind uint8

const (
	fBrace   frameKind = iota // { of a block or an object
	fBrack                    // [
	fParen                    // (
	fInterp                   // ${ or %{ in a template, closed by }
	fQuoted                   // "
	fHeredoc                  // <<MARKER
)

func (k frameKind) code() bool { return k < fQuoted }

// A scanFrame is one open bracket, template sequence or string.
type scanFrame struct {
	kind frameKind
	// ops counts the operators of the expression item being read in a
	// code frame; a comma, an equals sign or (in a body) a line end
	// starts a new item.
	ops int
	// dirs counts the open if and for directives of a template.
	dirs int
	// at is where a string starts.
	at hcl.Pos
	// marker and sol are a heredoc's closing marker, and whether the scan
	// is at the start of one of its lines.
	marker []byte
	sol    bool
}

// limitScanner scans a file as hclsyntax's lexer would, as far as it needs
// to: it follows the lexer's modes (code, quoted template, heredoc,
// comments) so that brackets in strings and comments do not count, and
// measures what the limits bound. It is exact for files whose code is
// ASCII (text in strings, heredocs and comments may be any UTF-8); for
// anything else (non-ASCII code, a non-ASCII heredoc marker, broken
// UTF-8) it says it is unsure, and checkLimits asks hclsyntax's lexer.
type limitScanner struct {
	src    []byte
	file   string
	b      *budget
	i      int
	line   int
	lineAt int // byte offset of the start of the line
	frames []scanFrame
	top    scanFrame // the file's own body, below the frames
	depth  int       // the nesting depth now (see MaxNestingDepth)
	// value is set when the last token ends a value, so that a "[" after
	// it is an index (an operator), not a list.
	value bool
	// lastClose is the offset of the last "*/": a "/*" after it is no
	// comment (hclsyntax lexes it as / and *). It is looked for at the
	// first "/*" (-2 until then): most files have none, and the search
	// from the end is a tenth of the scan of a large file.
	lastClose int
	unsure    bool
	diag      *hcl.Diagnostic
	maxDepth  int // for tests
}

// lastCommentEnd returns lastClose, looking for it the first time.
func (s *limitScanner) lastCommentEnd() int {
	if s.lastClose == -2 {
		s.lastClose = bytes.LastIndex(s.src, []byte("*/"))
	}
	return s.lastClose
}

// checkLimits checks src, the file filename, against the limits, counting
// what it uses in b. It returns at most one diagnostic: the first limit
// exceeded.
func checkLimits(src []byte, filename string, b *budget) hcl.Diagnostics {
	s := &limitScanner{src: src, file: filename, b: b, line: 1, lastClose: -2}
	if b.size += len(src); b.size > MaxFileSize {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Configuration too large",
			Detail: fmt.Sprintf("%s makes the configuration %d bytes; lvsctl reads at most %s (a 10,000-service configuration is 4.2 MB). Split it, or check that it is the file you meant.",
				filename, b.size, quote.Size(MaxFileSize)),
			Subject: &hcl.Range{Filename: filename, Start: hcl.InitialPos, End: hcl.InitialPos},
		}}
	}
	s.unsure = !utf8.Valid(src)
	s.scan()
	if s.diag == nil && s.unsure {
		s.exact()
	}
	if s.diag != nil {
		return hcl.Diagnostics{s.diag}
	}
	return nil
}

// pos is the position of byte offset at, on the current line.
func (s *limitScanner) pos(at int) hcl.Pos {
	return hcl.Pos{Line: s.line, Column: utf8.RuneCount(s.src[s.lineAt:at]) + 1, Byte: at}
}

// fail records the first limit exceeded, at the byte at.
func (s *limitScanner) fail(at hcl.Pos, summary, format string, args ...any) {
	if s.diag != nil {
		return
	}
	end := at
	if end.Byte < len(s.src) {
		_, n := utf8.DecodeRune(s.src[end.Byte:])
		end.Byte += n
		end.Column++
	}
	s.diag = &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(format, args...),
		Subject:  &hcl.Range{Filename: s.file, Start: at, End: end},
	}
}

func (s *limitScanner) tokens(n int) {
	if s.b.tokens += n; s.b.tokens > MaxTokens {
		s.fail(s.pos(s.i), "Configuration too large",
			"The configuration has more than %d tokens (words, numbers, strings and punctuation) here; lvsctl reads at most that many (a 10,000-service configuration has 908,000). Split it, or check that it is the file you meant.", MaxTokens)
	}
}

func (s *limitScanner) object() {
	if s.b.objects++; s.b.objects > MaxObjects {
		s.fail(s.pos(s.i), "Configuration too large",
			"The configuration has more than %d blocks, attributes and list elements here; lvsctl reads at most that many (a 10,000-service configuration has 143,000). Split it, or check that it is the file you meant.", MaxObjects)
	}
}

// deeper adds n levels of nesting at the byte at.
func (s *limitScanner) deeper(n, at int) {
	s.depth += n
	s.maxDepth = max(s.maxDepth, s.depth)
	if s.depth > MaxNestingDepth {
		s.fail(s.pos(at), "Nesting too deep",
			"This is nested %d deep; lvsctl reads configurations nested at most %d deep (blocks, lists, objects, parentheses and template sequences, and each operator of an expression one more), and a configuration needs 4. Flatten it, or check that it is the file you meant.",
			s.depth, MaxNestingDepth)
	}
}

// current is the innermost frame (the file's body when none is open).
func (s *limitScanner) current() *scanFrame {
	if len(s.frames) == 0 {
		return &s.top
	}
	return &s.frames[len(s.frames)-1]
}

func (s *limitScanner) push(f scanFrame) {
	s.frames = append(s.frames, f)
	if f.kind.code() {
		s.deeper(1, s.i)
	}
}

func (s *limitScanner) pop() scanFrame {
	f := s.frames[len(s.frames)-1]
	s.frames = s.frames[:len(s.frames)-1]
	if f.kind.code() {
		s.depth -= 1 + f.ops
	} else {
		s.depth -= f.dirs
	}
	return f
}

// op counts an operator of the current expression item.
func (s *limitScanner) op() {
	s.current().ops++
	s.deeper(1, s.i)
}

// item starts a new expression item in the current frame.
func (s *limitScanner) item() {
	f := s.current()
	s.depth -= f.ops
	f.ops = 0
}

// newline handles the line end at s.i (which the caller steps over).
func (s *limitScanner) newline() {
	if n := s.i - s.lineAt; n > MaxLineLength {
		s.fail(hcl.Pos{Line: s.line, Column: 1, Byte: s.lineAt}, "Line too long",
			"This line is %d bytes long; lvsctl reads lines of at most %s. Break it up, or check that the file is a configuration.", n, quote.Size(MaxLineLength))
	}
	s.line++
	s.lineAt = s.i + 1
}

// closeString checks the length of the string f that ends before end.
func (s *limitScanner) closeString(f scanFrame, end int) {
	if n := end - f.at.Byte; n > MaxStringLength {
		what := "string"
		if f.kind == fHeredoc {
			what = "heredoc"
		}
		s.fail(f.at, "String too long",
			"This %s is %d bytes long; lvsctl reads strings of at most %s (it starts %s). Check that the quotes are balanced and that the file is a configuration.",
			what, n, quote.Size(MaxStringLength), quote.Excerpt(string(s.src[f.at.Byte:min(end, f.at.Byte+200)])))
	}
}

func (s *limitScanner) scan() {
	for s.i < len(s.src) && s.diag == nil {
		switch f := s.current(); f.kind {
		case fQuoted:
			s.quoted(f)
		case fHeredoc:
			s.heredoc(f)
		default:
			s.code()
		}
	}
	if s.diag == nil {
		if n := len(s.src) - s.lineAt; n > MaxLineLength {
			s.i = len(s.src)
			s.newline()
		}
	}
	// A string still open at the end of the file is as long as the rest.
	for len(s.frames) > 0 && s.diag == nil {
		if f := s.pop(); !f.kind.code() {
			s.closeString(f, len(s.src))
		}
	}
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// at returns the byte at offset i, or 0 past the end.
func (s *limitScanner) at(i int) byte {
	if i < len(s.src) {
		return s.src[i]
	}
	return 0
}

// code reads one token in code: a file's body, a block, brackets, or a
// template sequence.
func (s *limitScanner) code() {
	c, next := s.src[s.i], s.at(s.i+1)
	value := false
	switch {
	case c == '\n':
		s.tokens(1)
		if k := s.current(); len(s.frames) == 0 || k.kind == fBrace {
			s.item() // a line end ends an item of a body or an object
		}
		s.newline()
		s.i++
	case c == ' ' || c == '\t' || c == '\r' && next == '\n':
		s.i++
		value = s.value
	case c == '#' || c == '/' && next == '/':
		s.tokens(1)
		for s.i < len(s.src) && s.src[s.i] != '\n' {
			s.i++
		}
		value = s.value
	case c == '/' && next == '*' && s.i+2 <= s.lastCommentEnd():
		s.tokens(1)
		end := s.i + 2 + bytes.Index(s.src[s.i+2:], []byte("*/"))
		for ; s.i < end; s.i++ {
			if s.src[s.i] == '\n' {
				s.newline()
			}
		}
		s.i += 2
		value = s.value
	case c == '"':
		s.tokens(1)
		s.push(scanFrame{kind: fQuoted, at: s.pos(s.i)})
		s.i++
	case c == '<' && next == '<' && s.heredocStart():
		// heredocStart pushed the frame and stepped over the newline.
	case c == '{':
		s.tokens(1)
		s.object()
		s.push(scanFrame{kind: fBrace})
		s.i++
	case c == '[' || c == '(':
		s.tokens(1)
		if s.value {
			s.op() // an index or a call: a level of the expression
		}
		kind := fBrack
		if c == '(' {
			kind = fParen
		}
		s.push(scanFrame{kind: kind})
		s.i++
	case c == '}' || c == '~' && next == '}':
		s.tokens(1)
		s.closeBrace()
		if c == '~' {
			s.i++
		}
		s.i++
		value = true
	case c == ']' || c == ')':
		s.tokens(1)
		want := fBrack
		if c == ')' {
			want = fParen
		}
		if len(s.frames) > 0 && s.current().kind == want {
			s.pop()
		}
		s.i++
		value = true
	case c == ',':
		s.tokens(1)
		s.object()
		s.item()
		s.i++
	case c == '=' && next != '=' && next != '>':
		s.tokens(1)
		s.object()
		s.item()
		s.i++
	case c == '=' && next == '=':
		s.tokens(1)
		s.op()
		s.i += 2
	case c == '=' && next == '>':
		s.tokens(1)
		s.i += 2
	case c == ':':
		s.tokens(1)
		s.i++
		if next == ':' {
			s.i++
		}
	case c == '.' && next == '.' && s.at(s.i+2) == '.':
		s.tokens(1)
		s.op()
		s.i += 3
	case isDigit(c):
		s.tokens(1)
		s.number()
		value = true
	case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		s.tokens(1)
		for s.i < len(s.src) && isIdentByte(s.src[s.i]) {
			s.i++
		}
		if s.at(s.i) >= utf8.RuneSelf {
			s.unsure = true // the identifier may go on in Unicode
		}
		value = true
	case c >= utf8.RuneSelf:
		s.unsure = true // a Unicode identifier, or an invalid character
		s.tokens(1)
		_, n := utf8.DecodeRune(s.src[s.i:])
		s.i += n
	case bytes.IndexByte([]byte("+-*/%!?<>&|.^"), c) >= 0:
		// Operators; two-character ones (== != <= >= && ||) count once.
		s.tokens(1)
		s.op()
		if next == '=' && (c == '!' || c == '<' || c == '>') || next == c && (c == '&' || c == '|') {
			s.i++
		}
		s.i++
	default:
		s.tokens(1) // ; ` ' ~ $ @ and other characters hclsyntax refuses
		s.i++
	}
	s.value = value
}

// number steps over a number as hclsyntax lexes it: digits, dots and
// exponents, not ending with a dot.
func (s *limitScanner) number() {
	end := s.i + 1
	for j := end; j < len(s.src); {
		switch c := s.src[j]; {
		case isDigit(c):
			j++
			end = j
		case c == '.':
			j++
		case c == 'e' || c == 'E':
			k := j + 1
			if k < len(s.src) && (s.src[k] == '+' || s.src[k] == '-') {
				k++
			}
			if k >= len(s.src) || !isDigit(s.src[k]) {
				s.i = end
				return
			}
			j = k + 1
			end = j
		default:
			s.i = end
			return
		}
	}
	s.i = end
}

// closeBrace handles a "}" as hclsyntax's lexer does: it closes the
// innermost template sequence or brace, whatever brackets are open inside
// it. Those brackets stay counted in the depth: the parser may still be
// inside them.
func (s *limitScanner) closeBrace() {
	for j := len(s.frames) - 1; j >= 0; j-- {
		k := s.frames[j].kind
		if k != fBrace && k != fInterp {
			continue
		}
		leaked := 0
		for len(s.frames) > j+1 {
			f := s.pop()
			leaked += 1 + f.ops
		}
		s.pop()
		s.depth += leaked
		return
	}
}

// heredocStart reports whether "<<" at s.i starts a heredoc: <<MARKER or
// <<-MARKER and a line end. If it does, it pushes the frame and steps
// over the introducer.
func (s *limitScanner) heredocStart() bool {
	j := s.i + 2
	if s.at(j) == '-' {
		j++
	}
	start := j
	if c := s.at(j); !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
		if c >= utf8.RuneSelf {
			s.unsure = true // a Unicode marker
		}
		return false
	}
	for j < len(s.src) && isIdentByte(s.src[j]) {
		j++
	}
	marker := s.src[start:j]
	if s.at(j) >= utf8.RuneSelf {
		s.unsure = true
		return false
	}
	if s.at(j) == '\r' {
		j++
	}
	if s.at(j) != '\n' {
		return false
	}
	s.tokens(1)
	s.push(scanFrame{kind: fHeredoc, at: s.pos(s.i), marker: marker, sol: true})
	s.i = j
	s.newline()
	s.i++
	return true
}

// quoted reads a quoted template up to its end, or up to a template
// sequence.
func (s *limitScanner) quoted(f *scanFrame) {
	for s.i < len(s.src) {
		switch s.src[s.i] {
		case '"':
			s.tokens(1)
			s.closeString(s.pop(), s.i+1)
			s.i++
			s.value = true
			return
		case '\\':
			s.i++
			if s.i < len(s.src) {
				if s.src[s.i] == '\n' {
					s.newline()
				}
				s.i++
			}
		case '\n':
			s.newline()
			s.i++
		case '$', '%':
			if s.sequence(f) {
				return
			}
		default:
			s.i++
		}
	}
}

// sequence handles a "$" or "%" at s.i in a template: "${" and "%{"
// start a template sequence (it returns true, in code), "$${" and "%%{"
// are literal, and so is anything else.
func (s *limitScanner) sequence(f *scanFrame) bool {
	c, next := s.src[s.i], s.at(s.i+1)
	switch {
	case next == '{':
		s.tokens(1)
		at := s.i
		s.i += 2
		if s.at(s.i) == '~' {
			s.i++
		}
		if c == '%' {
			s.directive(f, at)
		}
		s.frames = append(s.frames, scanFrame{kind: fInterp})
		s.deeper(1, at)
		s.value = false
		return true
	case next == c && s.at(s.i+2) == '{':
		s.i += 3
	default:
		s.i++
	}
	return false
}

// directive counts the if and for directives that a template's %{ at s.i
// opens and closes: the template parser nests each if and for it is in.
func (s *limitScanner) directive(f *scanFrame, at int) {
	j := s.i
	for j < len(s.src) && (s.src[j] == ' ' || s.src[j] == '\t' || s.src[j] == '\r' || s.src[j] == '\n') {
		j++
	}
	k := j
	for k < len(s.src) && isIdentByte(s.src[k]) {
		k++
	}
	switch string(s.src[j:k]) {
	case "if", "for":
		f.dirs++
		s.deeper(1, at)
	case "endif", "endfor":
		if f.dirs > 0 {
			f.dirs--
			s.depth--
		}
	}
}

// heredoc reads a heredoc's lines up to its marker, or up to a template
// sequence.
func (s *limitScanner) heredoc(f *scanFrame) {
	for s.i < len(s.src) {
		if f.sol {
			f.sol = false
			// The marker alone on its line (blanks aside) closes it; a line
			// with a $ or % cannot be the marker (hclsyntax splits it).
			end := bytes.IndexByte(s.src[s.i:], '\n')
			if end >= 0 {
				line := s.src[s.i : s.i+end]
				if !bytes.ContainsAny(line, "$%") && bytes.Equal(bytes.TrimSpace(line), f.marker) {
					s.tokens(1)
					s.closeString(s.pop(), s.i+end)
					s.i += end // the line end is code's
					s.value = true
					return
				}
			}
		}
		switch s.src[s.i] {
		case '\n':
			s.newline()
			s.i++
			f.sol = true
		case '$', '%':
			if s.sequence(f) {
				return
			}
		default:
			s.i++
		}
	}
}

// exact checks the nesting depth and the strings with hclsyntax's own
// lexer, for a file the scan is unsure of. What the lexer costs is first
// bounded by a count of tokens that ignores strings and comments (the scan
// may have taken code for a string): a word or any other character counts
// one.
func (s *limitScanner) exact() {
	rough := 0
	for i, c := range s.src {
		switch {
		case c == ' ' || c == '\t':
		case !isIdentByte(c):
			rough++
		case i == 0 || !isIdentByte(s.src[i-1]):
			rough++
		}
	}
	if rough > MaxTokens {
		s.line, s.lineAt = 1, 0
		s.fail(hcl.InitialPos, "Configuration too large",
			"The file has more than %d tokens (words, numbers, strings and punctuation); lvsctl reads at most that many. Check that it is the file you meant.", MaxTokens)
		return
	}
	toks, _ := hclsyntax.LexConfig(s.src, s.file, hcl.InitialPos)
	s.diag, _ = tokenLimits(toks)
}

// tokenLimits measures nesting depth and strings on hclsyntax tokens, by
// the rules of limitScanner. It returns a diagnostic for the first limit
// exceeded, and the greatest depth it saw up to there.
func tokenLimits(toks hclsyntax.Tokens) (*hcl.Diagnostic, int) {
	type tframe struct {
		kind      frameKind
		ops, dirs int
		at        hcl.Range
	}
	var frames []tframe
	var top tframe
	depth := 0
	cur := func() *tframe {
		if len(frames) == 0 {
			return &top
		}
		return &frames[len(frames)-1]
	}
	var diag *hcl.Diagnostic
	maxDepth := 0
	deeper := func(n int, r hcl.Range) {
		depth += n
		maxDepth = max(maxDepth, depth)
		if depth > MaxNestingDepth && diag == nil {
			diag = &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Nesting too deep",
				Detail: fmt.Sprintf("This is nested %d deep; lvsctl reads configurations nested at most %d deep (blocks, lists, objects, parentheses and template sequences, and each operator of an expression one more), and a configuration needs 4. Flatten it, or check that it is the file you meant.",
					depth, MaxNestingDepth),
				Subject: r.Ptr()}
		}
	}
	pop := func() tframe {
		f := frames[len(frames)-1]
		frames = frames[:len(frames)-1]
		if f.kind.code() {
			depth -= 1 + f.ops
		} else {
			depth -= f.dirs
		}
		return f
	}
	closeString := func(f tframe, end hcl.Range) {
		if n := end.End.Byte - f.at.Start.Byte; n > MaxStringLength && diag == nil {
			diag = &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "String too long",
				Detail:  fmt.Sprintf("This string is %d bytes long; lvsctl reads strings of at most %s. Check that the quotes are balanced and that the file is a configuration.", n, quote.Size(MaxStringLength)),
				Subject: f.at.Ptr()}
		}
	}
	value := false
	for i := 0; i < len(toks) && diag == nil; i++ {
		t := toks[i]
		wasValue := value
		value = false
		switch t.Type {
		case hclsyntax.TokenNewline:
			if len(frames) == 0 || cur().kind == fBrace {
				depth -= cur().ops
				cur().ops = 0
			}
		case hclsyntax.TokenComment:
			// A line comment takes its line end with it.
			if !bytes.HasSuffix(t.Bytes, []byte("\n")) {
				value = wasValue
			} else if len(frames) == 0 || cur().kind == fBrace {
				depth -= cur().ops
				cur().ops = 0
			}
		case hclsyntax.TokenOQuote, hclsyntax.TokenOHeredoc:
			kind := fQuoted
			if t.Type == hclsyntax.TokenOHeredoc {
				kind = fHeredoc
			}
			frames = append(frames, tframe{kind: kind, at: t.Range})
		case hclsyntax.TokenCQuote, hclsyntax.TokenCHeredoc:
			if len(frames) > 0 && !cur().kind.code() {
				closeString(pop(), t.Range)
			}
			value = true
		case hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl:
			if t.Type == hclsyntax.TokenTemplateControl && len(frames) > 0 && !cur().kind.code() && i+1 < len(toks) {
				switch string(toks[i+1].Bytes) {
				case "if", "for":
					cur().dirs++
					deeper(1, t.Range)
				case "endif", "endfor":
					if cur().dirs > 0 {
						cur().dirs--
						depth--
					}
				}
			}
			frames = append(frames, tframe{kind: fInterp})
			deeper(1, t.Range)
		case hclsyntax.TokenOBrace:
			frames = append(frames, tframe{kind: fBrace})
			deeper(1, t.Range)
		case hclsyntax.TokenOBrack, hclsyntax.TokenOParen:
			if wasValue {
				cur().ops++
				deeper(1, t.Range)
			}
			kind := fBrack
			if t.Type == hclsyntax.TokenOParen {
				kind = fParen
			}
			frames = append(frames, tframe{kind: kind})
			deeper(1, t.Range)
		case hclsyntax.TokenCBrace, hclsyntax.TokenTemplateSeqEnd:
			for j := len(frames) - 1; j >= 0; j-- {
				if k := frames[j].kind; k != fBrace && k != fInterp {
					continue
				}
				leaked := 0
				for len(frames) > j+1 {
					f := pop()
					leaked += 1 + f.ops
				}
				pop()
				depth += leaked
				break
			}
			value = true
		case hclsyntax.TokenCBrack, hclsyntax.TokenCParen:
			want := fBrack
			if t.Type == hclsyntax.TokenCParen {
				want = fParen
			}
			if len(frames) > 0 && cur().kind == want {
				pop()
			}
			value = true
		case hclsyntax.TokenComma, hclsyntax.TokenEqual:
			depth -= cur().ops
			cur().ops = 0
		case hclsyntax.TokenPlus, hclsyntax.TokenMinus, hclsyntax.TokenStar, hclsyntax.TokenSlash,
			hclsyntax.TokenPercent, hclsyntax.TokenBang, hclsyntax.TokenQuestion, hclsyntax.TokenEqualOp,
			hclsyntax.TokenNotEqual, hclsyntax.TokenLessThan, hclsyntax.TokenGreaterThan,
			hclsyntax.TokenLessThanEq, hclsyntax.TokenGreaterThanEq, hclsyntax.TokenAnd, hclsyntax.TokenOr,
			hclsyntax.TokenBitwiseAnd, hclsyntax.TokenBitwiseOr, hclsyntax.TokenBitwiseXor, hclsyntax.TokenDot,
			hclsyntax.TokenEllipsis:
			cur().ops++
			deeper(1, t.Range)
		case hclsyntax.TokenIdent, hclsyntax.TokenNumberLit:
			value = true
		case hclsyntax.TokenQuotedLit, hclsyntax.TokenStringLit, hclsyntax.TokenQuotedNewline:
			value = wasValue
		}
	}
	if diag == nil {
		for len(frames) > 0 {
			if f := pop(); !f.kind.code() && len(toks) > 0 {
				closeString(f, toks[len(toks)-1].Range)
			}
		}
	}
	return diag, maxDepth
}
