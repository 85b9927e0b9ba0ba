package config

import (
	"fmt"
	"math/big"
	"reflect"
	"runtime"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// decodeBody decodes body into the struct that v points to, following the
// gohcl tags of the schema structs exactly as gohcl.DecodeBody does, but
// reads each struct type's tags once. gohcl re-reads them for every block,
// which made that reflection most of the time spent on a 10,000-service
// file. Only the tag kinds the schema uses are supported; any other is a
// programming error and panics when its type is first seen, as in gohcl.
// A remain field takes what the struct's schema does not name (the
// health_check block's probe settings, read against the model's schema).
func decodeBody(body hcl.Body, v any) hcl.Diagnostics {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("decodeBody: %T is not a pointer to a struct", v))
	}
	return decodeStruct(body, rv.Elem())
}

// structInfo is what the tags of one schema struct say, read once.
type structInfo struct {
	schema *hcl.BodySchema
	// attrNames and blockLabels index the schema for content: whether an
	// attribute is required, and how many labels a block type takes.
	attrNames   map[string]bool
	blockLabels map[string]int
	// attrIndex and blockIndex find an item's field in attrs and blocks
	// by its name, for fastDecode.
	attrIndex  map[string]int
	blockIndex map[string]int
	attrs      []attrField
	blocks     []blockField
	labels     []int // field index per label, in order
	labelRange map[int]int
	defRange   int // -1 when absent
	// remain is the field that takes the attributes and blocks the schema
	// does not name, as gohcl's remain does; -1 when absent.
	remain int
}

type attrField struct {
	name       string
	field      int
	valueRange int // -1 when absent
	isExpr     bool
}

type blockField struct {
	typeName string
	field    int
	slice    bool
	elem     reflect.Type // the struct type
}

var (
	exprType   = reflect.TypeFor[hcl.Expression]()
	stringType = reflect.TypeFor[string]()
	int64Type  = reflect.TypeFor[int64]()
	boolType   = reflect.TypeFor[bool]()
	infoCache  sync.Map // reflect.Type -> *structInfo
)

func infoOf(t reflect.Type) *structInfo {
	if i, ok := infoCache.Load(t); ok {
		return i.(*structInfo)
	}
	schema, _ := gohcl.ImpliedBodySchema(reflect.New(t).Elem().Interface())
	info := &structInfo{schema: schema, defRange: -1, remain: -1, labelRange: map[int]int{},
		attrNames: map[string]bool{}, blockLabels: map[string]int{}}
	for _, a := range schema.Attributes {
		info.attrNames[a.Name] = a.Required
	}
	for _, b := range schema.Blocks {
		info.blockLabels[b.Type] = len(b.LabelNames)
	}
	valueRanges := map[string]int{}
	labelByName := map[string]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag, ok := f.Tag.Lookup("hcl")
		if !ok {
			continue
		}
		name, kind, _ := strings.Cut(tag, ",")
		switch kind {
		case "", "attr", "optional":
			info.attrs = append(info.attrs, attrField{name: name, field: i, valueRange: -1, isExpr: exprType.AssignableTo(f.Type)})
		case "attr_value_range":
			valueRanges[name] = i
		case "block":
			ft, slice := f.Type, false
			if ft.Kind() == reflect.Slice {
				ft, slice = ft.Elem(), true
			}
			if ft.Kind() != reflect.Pointer || ft.Elem().Kind() != reflect.Struct {
				panic(fmt.Sprintf("decodeBody: block field %s.%s must be a pointer or a slice of pointers to a struct", t, f.Name))
			}
			info.blocks = append(info.blocks, blockField{typeName: name, field: i, slice: slice, elem: ft.Elem()})
		case "label":
			labelByName[name] = len(info.labels)
			info.labels = append(info.labels, i)
		case "label_range":
			info.labelRange[i] = -1 // resolved below, once all labels are known
			labelByName["range:"+name] = i
		case "def_range":
			info.defRange = i
		case "remain":
			if f.Type != reflect.TypeFor[hcl.Body]() {
				panic(fmt.Sprintf("decodeBody: remain field %s.%s must be an hcl.Body", t, f.Name))
			}
			info.remain = i
		default:
			panic(fmt.Sprintf("decodeBody: tag kind %q on %s.%s is not supported", kind, t, f.Name))
		}
	}
	info.attrIndex = make(map[string]int, len(info.attrs))
	for i, a := range info.attrs {
		info.attrIndex[a.name] = i
	}
	info.blockIndex = make(map[string]int, len(info.blocks))
	for i, b := range info.blocks {
		info.blockIndex[b.typeName] = i
	}
	for k, i := range labelByName {
		if name, ok := strings.CutPrefix(k, "range:"); ok {
			info.labelRange[i] = labelByName[name]
		}
	}
	for j := range info.attrs {
		if r, ok := valueRanges[info.attrs[j].name]; ok {
			info.attrs[j].valueRange = r
		}
	}
	i, _ := infoCache.LoadOrStore(t, info)
	return i.(*structInfo)
}

// blockRef is a block to decode: an hcl.Block, or an hclsyntax.Block
// read directly.
type blockRef struct {
	body        hcl.Body
	labels      []string
	labelRanges []hcl.Range
	defRange    hcl.Range
}

func decodeStruct(body hcl.Body, v reflect.Value) hcl.Diagnostics {
	info := infoOf(v.Type())
	var diags hcl.Diagnostics
	var attr func(name string) hcl.Expression
	var blocksOf func(typeName string) []blockRef
	if info.remain >= 0 && len(info.schema.Attributes) == 0 && len(info.schema.Blocks) == 0 {
		// Everything remains: the body is the rest as it is.
		v.Field(info.remain).Set(reflect.ValueOf(body))
		return nil
	}
	if sb, ok := body.(*hclsyntax.Body); ok && info.remain < 0 && syntaxFits(sb, info) {
		// What body.Content would give without a diagnostic, read from
		// hclsyntax's tree directly: Content makes four maps, a body, and
		// a copy of each attribute and block, which was a fifth of the
		// cost of decoding a 10,000-service file.
		attr = func(name string) hcl.Expression {
			if a := sb.Attributes[name]; a != nil {
				return a.Expr
			}
			return nil
		}
		blocksOf = func(typeName string) []blockRef {
			var refs []blockRef
			for _, b := range sb.Blocks {
				if b.Type == typeName {
					refs = append(refs, blockRef{b.Body, b.Labels, b.LabelRanges, b.DefRange()})
				}
			}
			return refs
		}
	} else {
		var content *hcl.BodyContent
		if info.remain >= 0 {
			var rest hcl.Body
			content, rest, diags = body.PartialContent(info.schema)
			v.Field(info.remain).Set(reflect.ValueOf(rest))
		} else {
			content, diags = body.Content(info.schema)
		}
		if content == nil {
			return diags
		}
		attr = func(name string) hcl.Expression {
			if a := content.Attributes[name]; a != nil {
				return a.Expr
			}
			return nil
		}
		var byType map[string]hcl.Blocks
		blocksOf = func(typeName string) []blockRef {
			if byType == nil {
				byType = content.Blocks.ByType()
			}
			var refs []blockRef
			for _, b := range byType[typeName] {
				refs = append(refs, blockRef{b.Body, b.Labels, b.LabelRanges, b.DefRange})
			}
			return refs
		}
	}
	for _, a := range info.attrs {
		expr := attr(a.name)
		fv := v.Field(a.field)
		if expr == nil {
			if a.isExpr {
				// As gohcl does: an absent expression field is a null
				// expression, so callers stay in the cty realm.
				fv.Set(reflect.ValueOf(hcl.StaticExpr(cty.NullVal(cty.DynamicPseudoType), body.MissingItemRange())))
			}
			continue
		}
		if a.valueRange >= 0 {
			v.Field(a.valueRange).Set(reflect.ValueOf(expr.Range()))
		}
		if a.isExpr {
			fv.Set(reflect.ValueOf(expr))
			continue
		}
		if decodeLiteral(expr, fv) {
			continue
		}
		diags = append(diags, gohcl.DecodeExpression(expr, nil, fv.Addr().Interface())...)
	}
	for _, b := range info.blocks {
		blocks := blocksOf(b.typeName)
		if len(blocks) == 0 {
			continue
		}
		if !b.slice {
			if len(blocks) > 1 {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  fmt.Sprintf("Duplicate %s block", b.typeName),
					Detail:   fmt.Sprintf("Only one %s block is allowed. Another was defined at %s.", b.typeName, blocks[0].defRange.String()),
					Subject:  &blocks[1].defRange,
				})
				continue
			}
			p := reflect.New(b.elem)
			diags = append(diags, decodeBlock(&blocks[0], p.Elem())...)
			v.Field(b.field).Set(p)
			continue
		}
		s := reflect.MakeSlice(v.Field(b.field).Type(), len(blocks), len(blocks))
		blockDiags := make([]hcl.Diagnostics, len(blocks))
		decodeOne := func(i int) {
			p := reflect.New(b.elem)
			blockDiags[i] = decodeBlock(&blocks[i], p.Elem())
			s.Index(i).Set(p)
		}
		// Thousands of virtual_server blocks are independent of each
		// other: decode them on every core.
		if n := runtime.GOMAXPROCS(0); len(blocks) >= 1024 && n > 1 {
			var wg sync.WaitGroup
			for w := range n {
				wg.Go(func() {
					for i := w; i < len(blocks); i += n {
						decodeOne(i)
					}
				})
			}
			wg.Wait()
		} else {
			for i := range blocks {
				decodeOne(i)
			}
		}
		for _, d := range blockDiags {
			diags = append(diags, d...)
		}
		v.Field(b.field).Set(s)
	}
	return diags
}

func decodeBlock(b *blockRef, v reflect.Value) hcl.Diagnostics {
	diags := decodeStruct(b.body, v)
	setBlockHeader(b, v, infoOf(v.Type()))
	return diags
}

// setRange sets f, an addressable hcl.Range field, without boxing r in an
// interface as reflect.Value.Set would (a block has several).
func setRange(f reflect.Value, r hcl.Range) { *f.Addr().Interface().(*hcl.Range) = r }

// setBlockHeader sets the label, label range and definition range fields
// of v from b.
func setBlockHeader(b *blockRef, v reflect.Value, info *structInfo) {
	for li, label := range b.labels {
		if li >= len(info.labels) {
			break // Content already reported the extra label
		}
		v.Field(info.labels[li]).SetString(label)
	}
	for rangeField, labelIdx := range info.labelRange {
		if labelIdx >= 0 && labelIdx < len(b.labelRanges) {
			setRange(v.Field(rangeField), b.labelRanges[labelIdx])
		}
	}
	if info.defRange >= 0 {
		setRange(v.Field(info.defRange), b.defRange)
	}
}

// fastContentDisabled makes decodeStruct always ask body.Content and
// gohcl; a test compares the two ways.
var fastContentDisabled = false

// syntaxFits reports whether body.Content(info.schema) would take every
// item of b without a diagnostic: no unknown attribute or block, no
// missing required attribute, every block with its labels. Then
// decodeStruct reads b directly; otherwise Content reports what is wrong.
func syntaxFits(b *hclsyntax.Body, info *structInfo) bool {
	if fastContentDisabled {
		return false
	}
	required := 0
	for name := range b.Attributes {
		req, known := info.attrNames[name]
		if !known {
			return false
		}
		if req {
			required++
		}
	}
	for _, a := range info.schema.Attributes {
		if a.Required {
			required--
		}
	}
	if required != 0 {
		return false // a required attribute is missing
	}
	for _, blk := range b.Blocks {
		if n, known := info.blockLabels[blk.Type]; !known || len(blk.Labels) != n {
			return false
		}
	}
	return true
}

// decodeLiteral decodes a literal string, whole number or boolean into a
// *string, *int64 or *bool field as gohcl.DecodeExpression would, without
// its conversions through cty and reflection; it reports false for
// anything else (gohcl then decodes it, and reports what is wrong).
func decodeLiteral(expr hcl.Expression, fv reflect.Value) bool {
	if fastContentDisabled || fv.Kind() != reflect.Pointer {
		return false
	}
	var v cty.Value
	switch e := expr.(type) {
	case *hclsyntax.TemplateExpr:
		if len(e.Parts) != 1 {
			return false
		}
		lit, ok := e.Parts[0].(*hclsyntax.LiteralValueExpr)
		if !ok {
			return false
		}
		v = lit.Val
	case *hclsyntax.LiteralValueExpr:
		v = e.Val
	default:
		return false
	}
	if !v.IsKnown() || v.IsNull() || v.IsMarked() {
		return false
	}
	switch fv.Type().Elem() {
	case stringType:
		if _, template := expr.(*hclsyntax.TemplateExpr); !template || v.Type() != cty.String {
			return false
		}
		s := v.AsString()
		fv.Set(reflect.ValueOf(&s))
	case int64Type:
		if v.Type() != cty.Number {
			return false
		}
		n, acc := v.AsBigFloat().Int64()
		if acc != big.Exact {
			return false
		}
		fv.Set(reflect.ValueOf(&n))
	case boolType:
		if v.Type() != cty.Bool {
			return false
		}
		b := v.True()
		fv.Set(reflect.ValueOf(&b))
	default:
		return false
	}
	return true
}
