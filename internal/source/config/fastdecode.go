package config

import (
	"reflect"
	"strconv"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// fastDecode reads a configuration file straight into the schema structs,
// without the syntax tree that hclsyntax would build and decodeBody would
// then walk: for the plain subset that fastParser reads, and only when
// every item fits the schema. The tree of a thousand virtual servers is
// ten megabytes of attributes, blocks, bodies and maps, made only to be
// read once; allocating and collecting it was most of what a no-op plan of
// a large director cost.
//
// It gives what decodeBody gives for the same file, ranges included, or
// nil: then the caller parses with hclsyntax, and the diagnostics (if any)
// are hclsyntax's and gohcl's. It declines whatever it does not read the
// way they do — an unknown name, a repeated attribute or block, a missing
// required attribute, a number that is not a plain integer, a value of
// another type than its field's — rather than judging it. Bodies the
// schema leaves to be read later (a remain field: health checks, sysctl)
// and list expressions become hclsyntax trees, made by fastParser.
func fastDecode(src []byte, filename string) *fileBlock {
	for _, c := range src {
		if c >= 0x80 || c == '\r' {
			return nil // see fastParser
		}
	}
	p := newFastParser(src, filename)
	var fb fileBlock
	v := reflect.ValueOf(&fb).Elem()
	if !p.decodeBody(v, infoOf(v.Type()), false, hcl.InitialPos) {
		return nil
	}
	return &fb
}

// decodeBody reads the items of a body into v, a schema struct whose
// tags info is, up to the end of the file (top level) or the closing
// brace, which it leaves for the caller. start is where the body's range
// starts: the missing-item range of an absent expression attribute, as
// hclsyntax.Body gives it.
func (p *fastParser) decodeBody(v reflect.Value, info *structInfo, inBlock bool, start hcl.Pos) bool {
	if info.remain >= 0 || len(info.attrs) > 64 {
		// A remain body is kept as syntax (see decodeBlock); seen
		// counts 64 attributes.
		return false
	}
	var seen uint64 // of info.attrs, by index
	for {
		if !p.space() {
			return false
		}
		if p.eof() {
			if inBlock {
				return false
			}
			break
		}
		if p.peek() == '}' {
			if !inBlock {
				return false
			}
			break
		}
		name, nameRange, ok := p.ident()
		if !ok || !p.blanks() {
			return false
		}
		if p.peek() == '=' {
			i, known := info.attrIndex[name]
			if !known || seen&(1<<i) != 0 {
				return false
			}
			seen |= 1 << i
			p.next()
			if !p.blanks() || !p.decodeAttr(v, info.attrs[i]) || !p.endOfItem() {
				return false
			}
			continue
		}
		i, known := info.blockIndex[name]
		if !known || !p.decodeBlock(v, info.blocks[i], nameRange) || !p.endOfItem() {
			return false
		}
	}
	for i, a := range info.attrs {
		if seen&(1<<i) != 0 {
			continue
		}
		if info.attrNames[a.name] {
			return false // required, and missing
		}
		if a.isExpr {
			// As decodeStruct does for an absent expression.
			at := hcl.Range{Filename: p.file, Start: start, End: start}
			v.Field(a.field).Set(reflect.ValueOf(hcl.StaticExpr(cty.NullVal(cty.DynamicPseudoType), at)))
		}
	}
	return true
}

// decodeAttr reads an attribute's value into its field: a literal of the
// field's type, or any expression fastParser reads for an expression field.
func (p *fastParser) decodeAttr(v reflect.Value, a attrField) bool {
	start := p.pos()
	fv := v.Field(a.field)
	if a.isExpr {
		expr, ok := p.expr()
		if !ok {
			return false
		}
		fv.Set(reflect.ValueOf(expr))
	} else {
		if fv.Kind() != reflect.Pointer {
			return false
		}
		switch fv.Type().Elem() {
		case stringType:
			if p.peek() != '"' {
				return false
			}
			s, ok := p.quoted()
			if !ok {
				return false
			}
			fv.Set(reflect.ValueOf(&s))
		case int64Type:
			n, ok := p.integer()
			if !ok {
				return false
			}
			fv.Set(reflect.ValueOf(&n))
		case boolType:
			word, _, ok := p.ident()
			if !ok || word != "true" && word != "false" {
				return false
			}
			b := word == "true"
			fv.Set(reflect.ValueOf(&b))
		default:
			return false
		}
	}
	if a.valueRange >= 0 {
		setRange(v.Field(a.valueRange), p.rng(start))
	}
	return true
}

// integer reads a whole number written as plain digits, without leading
// zeros, that fits an int64; anything else is declined (hclsyntax reads
// 1.0 and 1e3 as the same number, gohcl reports what does not fit).
func (p *fastParser) integer() (int64, bool) {
	start := p.i
	for !p.eof() && p.peek() >= '0' && p.peek() <= '9' {
		p.next()
	}
	digits := p.str[start:p.i]
	if digits == "" || len(digits) > 1 && digits[0] == '0' || isIdentPart(p.peek()) || p.peek() == '.' {
		return 0, false
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	return n, err == nil
}

// decodeBlock reads a block of the type b, whose name was read at
// typeRange, into a new struct of b's type, and adds it to v.
func (p *fastParser) decodeBlock(v reflect.Value, b blockField, typeRange hcl.Range) bool {
	fv := v.Field(b.field)
	if !b.slice && !fv.IsNil() {
		return false // Duplicate block: decodeStruct's diagnostic
	}
	info := infoOf(b.elem)
	ptr := reflect.New(b.elem)
	elem := ptr.Elem()
	ref := blockRef{}
	if info.remain >= 0 {
		blk, ok := p.block(b.typeName, typeRange)
		if !ok {
			return false
		}
		ref = blockRef{blk.Body, blk.Labels, blk.LabelRanges, blk.DefRange()}
		if diags := decodeBlock(&ref, elem); len(diags) > 0 {
			return false
		}
	} else {
		// The schema's blocks have a label at most: on the stack.
		var labels [1]string
		var ranges [1]hcl.Range
		n, ok := p.labelsInto(labels[:], ranges[:])
		if !ok || n != len(info.labels) {
			return false
		}
		ref.labels, ref.labelRanges = labels[:n], ranges[:n]
		last := typeRange
		if n := len(ref.labelRanges); n > 0 {
			last = ref.labelRanges[n-1]
		}
		ref.defRange = hcl.RangeBetween(typeRange, last)
		open, ok := p.open()
		if !ok {
			return false
		}
		if !p.decodeBody(elem, info, true, open.Start) {
			return false
		}
		p.close()
		p.depth--
		setBlockHeader(&ref, elem, info)
	}
	if b.slice {
		appendBlock(fv, ptr)
	} else {
		fv.Set(ptr)
	}
	return true
}

// appendBlock appends ptr to the slice s, growing it from 4 (a virtual
// server's real servers are often 2 to 4, and reflect.Append would grow
// through 1 and 2).
func appendBlock(s, ptr reflect.Value) {
	n := s.Len()
	if n == s.Cap() {
		grown := reflect.MakeSlice(s.Type(), n, max(4, 2*n))
		reflect.Copy(grown, s)
		s.Set(grown)
	}
	s.SetLen(n + 1)
	s.Index(n).Set(ptr)
}

// fastDecodeAll is fastDecode for the files of a directory, merged as
// hcl.MergeBodies merges them: virtual servers in file order, any other
// block or attribute in one file only (else it declines, and hclsyntax's
// path reports the duplicate).
func fastDecodeAll(names []string, srcs [][]byte) *fileBlock {
	var all *fileBlock
	for i, src := range srcs {
		fb := fastDecode(src, names[i])
		if fb == nil {
			return nil
		}
		if all == nil {
			all = fb
			continue
		}
		dst, add := reflect.ValueOf(all).Elem(), reflect.ValueOf(fb).Elem()
		for f := range dst.NumField() {
			d, a := dst.Field(f), add.Field(f)
			switch {
			case a.IsZero():
			case d.Kind() == reflect.Slice:
				d.Set(reflect.AppendSlice(d, a))
			case d.IsZero():
				d.Set(a)
			default:
				return nil
			}
		}
	}
	return all
}
