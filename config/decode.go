package config

import (
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/zclconf/go-cty/cty"
)

// decodeBody decodes body into the struct that v points to, following the
// gohcl tags of the schema structs exactly as gohcl.DecodeBody does, but
// reads each struct type's tags once. gohcl re-reads them for every block,
// which made that reflection most of the time spent on a 10,000-service
// file. Only the tag kinds the schema uses are supported; any other is a
// programming error and panics when its type is first seen, as in gohcl.
func decodeBody(body hcl.Body, v any) hcl.Diagnostics {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("decodeBody: %T is not a pointer to a struct", v))
	}
	return decodeStruct(body, rv.Elem())
}

// structInfo is what the tags of one schema struct say, read once.
type structInfo struct {
	schema     *hcl.BodySchema
	attrs      []attrField
	blocks     []blockField
	labels     []int // field index per label, in order
	labelRange map[int]int
	defRange   int // -1 when absent
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
	exprType  = reflect.TypeFor[hcl.Expression]()
	infoCache sync.Map // reflect.Type -> *structInfo
)

func infoOf(t reflect.Type) *structInfo {
	if i, ok := infoCache.Load(t); ok {
		return i.(*structInfo)
	}
	schema, partial := gohcl.ImpliedBodySchema(reflect.New(t).Elem().Interface())
	if partial {
		panic(fmt.Sprintf("decodeBody: %s has a remain field, which decodeBody does not support", t))
	}
	info := &structInfo{schema: schema, defRange: -1, labelRange: map[int]int{}}
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
		default:
			panic(fmt.Sprintf("decodeBody: tag kind %q on %s.%s is not supported", kind, t, f.Name))
		}
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

func decodeStruct(body hcl.Body, v reflect.Value) hcl.Diagnostics {
	info := infoOf(v.Type())
	content, diags := body.Content(info.schema)
	if content == nil {
		return diags
	}
	for _, a := range info.attrs {
		attr := content.Attributes[a.name]
		fv := v.Field(a.field)
		if attr == nil {
			if a.isExpr {
				// As gohcl does: an absent expression field is a null
				// expression, so callers stay in the cty realm.
				fv.Set(reflect.ValueOf(hcl.StaticExpr(cty.NullVal(cty.DynamicPseudoType), body.MissingItemRange())))
			}
			continue
		}
		if a.valueRange >= 0 {
			v.Field(a.valueRange).Set(reflect.ValueOf(attr.Expr.Range()))
		}
		if a.isExpr {
			fv.Set(reflect.ValueOf(attr.Expr))
			continue
		}
		diags = append(diags, gohcl.DecodeExpression(attr.Expr, nil, fv.Addr().Interface())...)
	}
	if len(info.blocks) == 0 {
		return diags
	}
	byType := content.Blocks.ByType()
	for _, b := range info.blocks {
		blocks := byType[b.typeName]
		if len(blocks) == 0 {
			continue
		}
		if !b.slice {
			if len(blocks) > 1 {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  fmt.Sprintf("Duplicate %s block", b.typeName),
					Detail:   fmt.Sprintf("Only one %s block is allowed. Another was defined at %s.", b.typeName, blocks[0].DefRange.String()),
					Subject:  &blocks[1].DefRange,
				})
				continue
			}
			p := reflect.New(b.elem)
			diags = append(diags, decodeBlock(blocks[0], p.Elem())...)
			v.Field(b.field).Set(p)
			continue
		}
		s := reflect.MakeSlice(v.Field(b.field).Type(), len(blocks), len(blocks))
		blockDiags := make([]hcl.Diagnostics, len(blocks))
		decodeOne := func(i int) {
			p := reflect.New(b.elem)
			blockDiags[i] = decodeBlock(blocks[i], p.Elem())
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

func decodeBlock(b *hcl.Block, v reflect.Value) hcl.Diagnostics {
	diags := decodeStruct(b.Body, v)
	info := infoOf(v.Type())
	for li, label := range b.Labels {
		if li >= len(info.labels) {
			break // Content already reported the extra label
		}
		v.Field(info.labels[li]).SetString(label)
	}
	for rangeField, labelIdx := range info.labelRange {
		if labelIdx >= 0 && labelIdx < len(b.LabelRanges) {
			v.Field(rangeField).Set(reflect.ValueOf(b.LabelRanges[labelIdx]))
		}
	}
	if info.defRange >= 0 {
		v.Field(info.defRange).Set(reflect.ValueOf(b.DefRange))
	}
	return diags
}
