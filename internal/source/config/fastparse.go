package config

import (
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// fastParser reads the plain subset of HCL that lvsctl configurations and
// generated files use — blocks with labels, attributes whose values are
// strings without templates (and no escapes but \n \r \t \" \\),
// numbers, true/false/null and lists of those, and comments — about ten
// times faster than hclsyntax, which lexes every token through a general
// expression parser. Anything else makes it decline, and the caller then
// parses the whole file with hclsyntax.
//
// fastDecode reads a file with it straight into the schema structs. The
// parts the schema keeps as syntax (list expressions, and the bodies of
// health_check and sysctl blocks, read later against the model's schema)
// it builds as hclsyntax's own tree, with the same ranges, so that the
// decoder cannot tell them apart: a problem found in a file read this way
// is at the same line, column and byte as in hclsyntax's tree
// (TestFastParseDiagnosticPositions). Diagnostics are still never taken
// from it: a file whose decoding reports anything is parsed again with
// hclsyntax (see Load), so that every message and its context are exactly
// hclsyntax's.
type fastParser struct {
	src []byte
	// str is src as a string, made once: names and values are slices of
	// it, not copies.
	str       string
	file      string
	i         int
	line, col int
	depth     int // of blocks and lists: it declines past MaxNestingDepth
}

func newFastParser(src []byte, filename string) *fastParser {
	return &fastParser{src: src, str: string(src), file: filename, line: 1, col: 1}
}

// enter counts one more level of nesting, and reports whether that is
// still within MaxNestingDepth. checkLimits has refused deeper files
// already; this keeps the recursion bounded whatever calls it.
func (p *fastParser) enter() bool {
	p.depth++
	return p.depth <= MaxNestingDepth
}

func (p *fastParser) pos() hcl.Pos { return hcl.Pos{Line: p.line, Column: p.col, Byte: p.i} }

func (p *fastParser) rng(start hcl.Pos) hcl.Range {
	return hcl.Range{Filename: p.file, Start: start, End: p.pos()}
}

func (p *fastParser) eof() bool { return p.i >= len(p.src) }

func (p *fastParser) peek() byte {
	if p.eof() {
		return 0
	}
	return p.src[p.i]
}

func (p *fastParser) next() {
	if p.src[p.i] == '\n' {
		p.line++
		p.col = 1
	} else {
		p.col++
	}
	p.i++
}

// blanks skips spaces, tabs and a comment that ends the line, but not the
// newline itself.
func (p *fastParser) blanks() bool {
	for !p.eof() {
		switch c := p.peek(); {
		case c == ' ' || c == '\t':
			p.next()
		case c == '#' || c == '/' && p.i+1 < len(p.src) && p.src[p.i+1] == '/':
			for !p.eof() && p.peek() != '\n' {
				p.next()
			}
		case c == '/' && p.i+1 < len(p.src) && p.src[p.i+1] == '*':
			// A block comment inside a line: only if it stays on it.
			j := p.i + 2
			for j+1 < len(p.src) && !(p.src[j] == '*' && p.src[j+1] == '/') {
				if p.src[j] == '\n' {
					return false
				}
				j++
			}
			if j+1 >= len(p.src) {
				return false
			}
			for p.i < j+2 {
				p.next()
			}
		default:
			return true
		}
	}
	return true
}

// space skips blanks, comments of any kind and newlines, between body items.
func (p *fastParser) space() bool {
	for {
		if !p.blanks() {
			// a block comment spanning lines: fine between items
			if p.peek() != '/' {
				return false
			}
			p.next()
			p.next()
			for !p.eof() && !(p.peek() == '*' && p.i+1 < len(p.src) && p.src[p.i+1] == '/') {
				p.next()
			}
			if p.eof() {
				return false
			}
			p.next()
			p.next()
			continue
		}
		if p.peek() != '\n' {
			return true
		}
		p.next()
	}
}

func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isIdentPart(c byte) bool  { return isIdentStart(c) || c == '-' || c >= '0' && c <= '9' }

func (p *fastParser) ident() (string, hcl.Range, bool) {
	start := p.pos()
	if !isIdentStart(p.peek()) {
		return "", hcl.Range{}, false
	}
	for !p.eof() && isIdentPart(p.peek()) {
		p.next()
	}
	return p.str[start.Byte:p.i], p.rng(start), true
}

// body reads a block's attributes and blocks up to its closing brace,
// which it leaves for the caller; the caller sets the body's ranges.
func (p *fastParser) body() (*hclsyntax.Body, bool) {
	b := &hclsyntax.Body{Attributes: hclsyntax.Attributes{}}
	for {
		if !p.space() || p.eof() {
			return nil, false
		}
		if p.peek() == '}' {
			break
		}
		name, nameRange, ok := p.ident()
		if !ok || !p.blanks() {
			return nil, false
		}
		if p.peek() == '=' {
			if _, dup := b.Attributes[name]; dup {
				return nil, false
			}
			eq := p.pos()
			p.next()
			eqRange := p.rng(eq)
			if !p.blanks() {
				return nil, false
			}
			expr, ok := p.expr()
			if !ok {
				return nil, false
			}
			attr := &hclsyntax.Attribute{
				Name: name, Expr: expr, NameRange: nameRange, EqualsRange: eqRange,
				SrcRange: hcl.RangeBetween(nameRange, expr.Range()),
			}
			if !p.endOfItem() {
				return nil, false
			}
			b.Attributes[name] = attr
			continue
		}
		blk, ok := p.block(name, nameRange)
		if !ok || !p.endOfItem() {
			return nil, false
		}
		b.Blocks = append(b.Blocks, blk)
	}
	return b, true
}

// endOfItem requires a newline (or the end of the file) after an item.
func (p *fastParser) endOfItem() bool {
	if !p.blanks() {
		return false
	}
	return p.eof() || p.peek() == '\n'
}

func (p *fastParser) block(typ string, typeRange hcl.Range) (*hclsyntax.Block, bool) {
	blk := &hclsyntax.Block{Type: typ, TypeRange: typeRange}
	var labels [2]string
	var ranges [2]hcl.Range
	n, ok := p.labelsInto(labels[:], ranges[:])
	if !ok {
		return nil, false
	}
	if n > 0 {
		blk.Labels, blk.LabelRanges = slices.Clone(labels[:n]), slices.Clone(ranges[:n])
	}
	if blk.OpenBraceRange, ok = p.open(); !ok {
		return nil, false
	}
	defer func() { p.depth-- }()
	var body *hclsyntax.Body
	if p.peek() == '}' {
		// "name {}" on one line.
		body = &hclsyntax.Body{Attributes: hclsyntax.Attributes{}}
	} else if body, ok = p.body(); !ok {
		return nil, false
	}
	blk.CloseBraceRange = p.close()
	body.SrcRange = hcl.RangeBetween(blk.OpenBraceRange, blk.CloseBraceRange)
	body.EndRange = hcl.Range{Filename: p.file, Start: blk.CloseBraceRange.End, End: blk.CloseBraceRange.End}
	blk.Body = body
	return blk, true
}

// labelsInto reads a block's labels, quoted or bare, up to its opening
// brace, into labels and ranges, and returns how many there were; more
// than they hold is declined.
func (p *fastParser) labelsInto(labels []string, ranges []hcl.Range) (int, bool) {
	n := 0
	for p.peek() != '{' {
		if n == len(labels) {
			return 0, false
		}
		start := p.pos()
		switch {
		case p.peek() == '"':
			s, ok := p.quoted()
			if !ok {
				return 0, false
			}
			labels[n] = s
		case isIdentStart(p.peek()):
			labels[n], _, _ = p.ident()
		default:
			return 0, false
		}
		ranges[n] = p.rng(start)
		n++
		if !p.blanks() {
			return 0, false
		}
	}
	return n, true
}

// open reads a block's opening brace and what follows it on the line,
// leaving either the closing brace of an empty "name {}" or the newline
// before the body; a one-line block with content is hclsyntax's job. It
// counts a level of nesting, which the caller ends.
func (p *fastParser) open() (hcl.Range, bool) {
	start := p.pos()
	p.next()
	r := p.rng(start)
	if !p.blanks() || !p.enter() {
		return r, false
	}
	return r, p.peek() == '}' || p.peek() == '\n'
}

// close reads a block's closing brace.
func (p *fastParser) close() hcl.Range {
	start := p.pos()
	p.next()
	return p.rng(start)
}

// quoted reads a string literal with no template sequences and no escapes
// but \n, \r, \t, \" and \\ (a converted nanny send string has them).
// hclsyntax lexes such a string as one literal token too, so the tree is
// the same.
func (p *fastParser) quoted() (string, bool) {
	p.next() // opening quote
	start := p.i
	var b []byte // the value so far, once it has an escape
	for !p.eof() {
		switch c := p.peek(); c {
		case '"':
			s := p.str[start:p.i]
			if b != nil {
				s = string(b)
			}
			p.next()
			return s, true
		case '\\':
			if p.i+1 >= len(p.src) {
				return "", false
			}
			var r byte
			switch p.src[p.i+1] {
			case 'n':
				r = '\n'
			case 'r':
				r = '\r'
			case 't':
				r = '\t'
			case '"', '\\':
				r = p.src[p.i+1]
			default:
				return "", false // \u, \U, and errors: hclsyntax's job
			}
			if b == nil {
				b = append([]byte(nil), p.src[start:p.i]...)
			}
			b = append(b, r)
			p.next()
			p.next()
			continue
		case '$', '%', '\n':
			return "", false
		default:
			if b != nil {
				b = append(b, c)
			}
		}
		p.next()
	}
	return "", false
}

func (p *fastParser) expr() (hclsyntax.Expression, bool) {
	start := p.pos()
	switch c := p.peek(); {
	case c == '"':
		s, ok := p.quoted()
		if !ok {
			return nil, false
		}
		return &hclsyntax.TemplateExpr{
			Parts:    []hclsyntax.Expression{&hclsyntax.LiteralValueExpr{Val: cty.StringVal(s), SrcRange: hcl.Range{Filename: p.file, Start: hcl.Pos{Line: start.Line, Column: start.Column + 1, Byte: start.Byte + 1}, End: hcl.Pos{Line: p.line, Column: p.col - 1, Byte: p.i - 1}}}},
			SrcRange: p.rng(start),
		}, true
	case c >= '0' && c <= '9':
		return p.number()
	case c == '[':
		return p.tuple()
	case isIdentStart(c):
		word, r, _ := p.ident()
		switch word {
		case "true":
			return &hclsyntax.LiteralValueExpr{Val: cty.True, SrcRange: r}, true
		case "false":
			return &hclsyntax.LiteralValueExpr{Val: cty.False, SrcRange: r}, true
		case "null":
			return &hclsyntax.LiteralValueExpr{Val: cty.NullVal(cty.DynamicPseudoType), SrcRange: r}, true
		}
	}
	return nil, false
}

func (p *fastParser) number() (hclsyntax.Expression, bool) {
	start := p.pos()
	digits := func() int {
		n := 0
		for !p.eof() && p.peek() >= '0' && p.peek() <= '9' {
			p.next()
			n++
		}
		return n
	}
	if p.peek() == '0' && p.i+1 < len(p.src) && p.src[p.i+1] >= '0' && p.src[p.i+1] <= '9' {
		return nil, false // leading zeros: leave the reading to hclsyntax
	}
	digits()
	if p.peek() == '.' {
		p.next()
		if digits() == 0 {
			return nil, false
		}
	}
	if p.peek() == 'e' || p.peek() == 'E' {
		p.next()
		if p.peek() == '+' || p.peek() == '-' {
			p.next()
		}
		if digits() == 0 {
			return nil, false
		}
	}
	if isIdentPart(p.peek()) || p.peek() == '.' {
		return nil, false
	}
	v, err := cty.ParseNumberVal(string(p.src[start.Byte:p.i]))
	if err != nil {
		return nil, false
	}
	return &hclsyntax.LiteralValueExpr{Val: v, SrcRange: p.rng(start)}, true
}

func (p *fastParser) tuple() (hclsyntax.Expression, bool) {
	if !p.enter() {
		return nil, false
	}
	defer func() { p.depth-- }()
	start := p.pos()
	p.next()
	t := &hclsyntax.TupleConsExpr{OpenRange: p.rng(start)}
	for {
		if !p.space() {
			return nil, false
		}
		if p.peek() == ']' {
			break
		}
		e, ok := p.expr()
		if !ok {
			return nil, false
		}
		t.Exprs = append(t.Exprs, e)
		if !p.space() {
			return nil, false
		}
		if p.peek() == ',' {
			p.next()
			continue
		}
		if p.peek() != ']' {
			return nil, false
		}
	}
	p.next()
	t.SrcRange = p.rng(start)
	return t, true
}
