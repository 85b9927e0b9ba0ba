package config

import (
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/lvsctl/lvsctl/internal/model"
	"github.com/lvsctl/lvsctl/lvs"
)

// A health_check block is read against the model's probe types: besides
// the attributes every check has (checkCommon), it takes the settings of
// each probe type ([model.Settings]), so that a probe type or a setting
// added to the model needs nothing here.

// checkCommon are the attributes of every health_check block, with the
// kind of value each takes; inherited by a real server whatever its type.
var checkCommon = map[string]attrKind{
	"type": kindString, "port": kindNumber, "interval": kindString, "timeout": kindString,
	"rise": kindNumber, "fall": kindNumber, "on_failure": kindString, "alpha": kindBool,
}

// attrKind is the kind of value an attribute takes, as decoded.
type attrKind int

const (
	kindString  attrKind = iota // *string
	kindNumber                  // *int64
	kindBool                    // *bool
	kindNumbers                 // a list of whole numbers and "N-M" ranges, element by element
	kindBlocks                  // nested blocks, each with attributes of its own
)

// kindOf is the kind of attribute that a setting of kind k is written as.
func kindOf(k model.SettingKind) attrKind {
	switch k {
	case model.SettingBool:
		return kindBool
	case model.SettingNumbers:
		return kindNumbers
	case model.SettingBlocks:
		return kindBlocks
	}
	return kindString
}

// A nestedSchema is what the blocks of a list-of-blocks setting (the url
// blocks of an http check) take: the kinds of their attributes, and
// their schema.
type nestedSchema struct {
	kinds  map[string]attrKind
	schema *hcl.BodySchema
}

// checkAttrKinds holds the kind of every attribute (and nested block) a
// health_check block takes, checkSchema is its schema, attributes sorted
// as gohcl sorts them (the order suggestions for a misspelt name are made
// in), and checkNested the schema of each kind of nested block.
var checkAttrKinds, checkSchema, checkNested = func() (map[string]attrKind, *hcl.BodySchema, map[string]nestedSchema) {
	kinds := maps.Clone(checkCommon)
	nested := map[string]nestedSchema{}
	for _, typ := range model.CheckTypes {
		for _, s := range model.Settings(typ) {
			k := kindOf(s.Kind)
			if prev, dup := kinds[s.Name]; dup && prev != k {
				panic("config: health check attribute " + s.Name + " has two kinds")
			}
			kinds[s.Name] = k
			if k != kindBlocks {
				continue
			}
			ns := nestedSchema{kinds: map[string]attrKind{}, schema: &hcl.BodySchema{}}
			for _, f := range s.Fields {
				ns.kinds[f.Name] = kindOf(f.Kind)
			}
			for _, name := range slices.Sorted(maps.Keys(ns.kinds)) {
				ns.schema.Attributes = append(ns.schema.Attributes, hcl.AttributeSchema{Name: name})
			}
			if prev, dup := nested[s.Name]; dup && !maps.Equal(prev.kinds, ns.kinds) {
				panic("config: health check block " + s.Name + " has two schemas")
			}
			nested[s.Name] = ns
		}
	}
	schema := &hcl.BodySchema{}
	for _, name := range slices.Sorted(maps.Keys(kinds)) {
		if kinds[name] == kindBlocks {
			schema.Blocks = append(schema.Blocks, hcl.BlockHeaderSchema{Type: name})
		} else {
			schema.Attributes = append(schema.Attributes, hcl.AttributeSchema{Name: name})
		}
	}
	return kinds, schema, nested
}()

// A checkAttr is one attribute of a health_check block, decoded, or the
// nested blocks of one type.
type checkAttr struct {
	// val is a string, int64 or bool, []item[int64] for a list, or
	// []nestedBlock for nested blocks; nil when the value is null or
	// could not be decoded.
	val any
	r   hcl.Range // the value's; the first nested block's header
	bad bool      // its decoding failed, and was reported
}

// A nestedBlock is one nested block of a health_check block (a url),
// decoded.
type nestedBlock struct {
	attrs map[string]checkAttr
	def   hcl.Range
}

// checkSpec is a health_check block as read, or the merge of a virtual
// server's and a real server's (see mergeCheck).
type checkSpec struct {
	attrs map[string]checkAttr
	def   hcl.Range
}

// written reports whether the attribute name has a value: it is not null,
// or is a list, or did not decode (gohcl sets a value that fails to
// decode to its zero value, and every message about it would repeat the
// decoding error). Nested blocks are written when there is one.
func (c *checkSpec) written(name string) bool {
	a, ok := c.attrs[name]
	return ok && (a.val != nil || a.bad || checkAttrKinds[name] == kindNumbers)
}

func (c *checkSpec) str(name string) (string, bool) {
	s, ok := c.attrs[name].val.(string)
	return s, ok
}

// readCheck decodes the attributes of cb, reporting what does not decode.
// A block is read once, however many real servers inherit it.
func (b *builder) readCheck(cb *checkBlock) *checkSpec {
	if cb == nil {
		return nil
	}
	spec := &checkSpec{attrs: map[string]checkAttr{}, def: cb.DefRange}
	var diags hcl.Diagnostics
	if sb, ok := cb.Body.(*hclsyntax.Body); ok && checkFits(sb) {
		// What Content would give, without its copies (see decodeStruct).
		for name, a := range sb.Attributes {
			spec.attrs[name] = decodeAttr(checkAttrKinds[name], a.Expr, &diags)
		}
	} else {
		var content *hcl.BodyContent
		content, diags = cb.Body.Content(checkSchema)
		for name, a := range content.Attributes {
			spec.attrs[name] = decodeAttr(checkAttrKinds[name], a.Expr, &diags)
		}
		for _, blk := range content.Blocks {
			ns := checkNested[blk.Type]
			nb := nestedBlock{attrs: map[string]checkAttr{}, def: blk.DefRange}
			bc, ds := blk.Body.Content(ns.schema)
			diags = append(diags, ds...)
			for name, a := range bc.Attributes {
				nb.attrs[name] = decodeAttr(ns.kinds[name], a.Expr, &diags)
			}
			a, ok := spec.attrs[blk.Type]
			if !ok {
				a = checkAttr{r: blk.DefRange}
			}
			blocks, _ := a.val.([]nestedBlock)
			a.val = append(blocks, nb)
			spec.attrs[blk.Type] = a
		}
	}
	b.diags = append(b.diags, dedup(diags)...)
	return spec
}

// decodeAttr decodes the attribute expr of kind k, adding what does not
// decode to diags.
func decodeAttr(k attrKind, expr hcl.Expression, diags *hcl.Diagnostics) checkAttr {
	a := checkAttr{r: expr.Range()}
	var ds hcl.Diagnostics
	switch k {
	case kindString:
		a.val, ds = decodeScalar[string](expr)
	case kindNumber:
		a.val, ds = decodeScalar[int64](expr)
	case kindBool:
		a.val, ds = decodeScalar[bool](expr)
	case kindNumbers:
		if items, lds := decodeNumbers(expr); items != nil {
			a.val, ds = items, lds // the elements that decoded
		} else {
			ds = lds
		}
	}
	a.bad = ds.HasErrors() && a.val == nil
	*diags = append(*diags, ds...)
	return a
}

// maxRange bounds the numbers one "N-M" element of a list stands for.
const maxRange = 1000

// decodeNumbers decodes a list of whole numbers in which an element may
// also be a range written "N-M" (keepalived's status_code 200-299): the
// numbers from N to M, each with the element's range.
func decodeNumbers(expr hcl.Expression) ([]item[int64], hcl.Diagnostics) {
	elems, ds := hcl.ExprList(expr)
	if ds.HasErrors() {
		return decodeList[int64](expr) // not written as [a, b]: as a whole
	}
	var items []item[int64]
	var diags hcl.Diagnostics
	for _, e := range elems {
		v, eds := e.Value(nil)
		if eds.HasErrors() || v.IsNull() || v.Type() != cty.String {
			var n int64
			if ds := gohcl.DecodeExpression(e, nil, &n); ds.HasErrors() {
				diags = append(diags, ds...)
				continue
			}
			items = append(items, item[int64]{n, e.Range()})
			continue
		}
		lo, hi, err := parseRange(v.AsString())
		if err != nil {
			r := e.Range()
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid range", Detail: fullStop(sentence(err.Error())), Subject: &r})
			continue
		}
		for n := lo; n <= hi; n++ {
			items = append(items, item[int64]{n, e.Range()})
		}
	}
	return items, diags
}

// parseRange reads "N-M", N at most M, at most maxRange numbers.
func parseRange(s string) (lo, hi int64, err error) {
	a, b, ok := strings.Cut(s, "-")
	lo, err1 := strconv.ParseInt(a, 10, 64)
	hi, err2 := strconv.ParseInt(b, 10, 64)
	switch {
	case !ok || err1 != nil || err2 != nil || lo < 0:
		return 0, 0, fmt.Errorf("%q is neither a number nor a range; write a number, or a range such as \"200-299\"", s)
	case lo > hi:
		return 0, 0, fmt.Errorf("the range %q ends before it starts; write the lower number first", s)
	case hi-lo >= maxRange:
		return 0, 0, fmt.Errorf("the range %q holds more than %d numbers", s, maxRange)
	}
	return lo, hi, nil
}

// checkFits reports whether Content(checkSchema) would take every item of
// b without a diagnostic: every attribute is one it names, and there are
// no blocks.
func checkFits(b *hclsyntax.Body) bool {
	if fastContentDisabled || len(b.Blocks) > 0 {
		return false
	}
	for name := range b.Attributes {
		if _, known := checkAttrKinds[name]; !known {
			return false
		}
	}
	return true
}

// decodeScalar decodes expr as decodeBody decodes a *T attribute: a null
// value is nil. The value returned is a T, or nil.
func decodeScalar[T any](expr hcl.Expression) (any, hcl.Diagnostics) {
	var p *T
	if !decodeLiteral(expr, reflect.ValueOf(&p).Elem()) {
		if ds := gohcl.DecodeExpression(expr, nil, &p); ds.HasErrors() {
			return nil, ds
		}
	}
	if p == nil {
		return nil, nil
	}
	return *p, nil
}

// mergeCheck returns the health_check in effect for a real server: the
// virtual server's, overridden attribute by attribute by the real
// server's. A real server that changes the type inherits only the
// attributes common to every type (port, interval, timeout, rise, fall,
// on_failure).
func mergeCheck(vsc, rsc *checkSpec) *checkSpec {
	switch {
	case rsc == nil:
		return vsc
	case vsc == nil:
		return rsc
	}
	m := &checkSpec{attrs: maps.Clone(vsc.attrs), def: rsc.def}
	rt, rok := rsc.str("type")
	if vt, vok := vsc.str("type"); rok && (!vok || rt != vt) {
		maps.DeleteFunc(m.attrs, func(name string, _ checkAttr) bool {
			_, common := checkCommon[name]
			return !common
		})
	}
	maps.Copy(m.attrs, rsc.attrs)
	return m
}

// buildCheck returns the check spec declares for the service s, or nil
// after reporting why there is none.
func (b *builder) buildCheck(spec *checkSpec, s *lvs.Service) *model.HealthCheck {
	errs := len(b.diags)
	probe := b.checkProbe(spec, s.Key)
	if probe == nil {
		return nil
	}
	hc := model.DefaultHealthCheck(probe)
	b.checkCommon(spec, &hc)
	for _, p := range hc.Validate(spec.written) {
		b.checkProblem(spec, p)
	}
	if b.diags[errs:].HasErrors() {
		return nil
	}
	hc.Normalize()
	return &hc
}

// checkProbe returns the probe of the type spec names, with the settings
// it writes, or nil when the type is missing or unknown. A setting of
// another type is an error.
func (b *builder) checkProbe(spec *checkSpec, k lvs.ServiceKey) model.Probe {
	typ, ok := spec.str("type")
	if !ok {
		if !spec.attrs["type"].bad {
			b.errorAt(spec.def, "Missing health check type", "Set type to one of %s, as in type = \"tcp\"", quoteList(model.CheckTypes))
		}
		return nil
	}
	probe, ok := model.NewProbe(typ, k)
	if !ok {
		b.errorAt(spec.attrs["type"].r, "Invalid health check type", "%q is not a health check type; use one of %s.%s", typ, quoteList(model.CheckTypes), didYouMean(typ, model.CheckTypes))
		return nil
	}
	settings := model.Settings(typ)
	for name, a := range spec.attrs {
		if _, common := checkCommon[name]; common || a.bad || !spec.written(name) {
			continue
		}
		if !slices.ContainsFunc(settings, func(s model.SettingInfo) bool { return s.Name == name }) {
			b.errorAt(a.r, "Attribute not used by this check", "%s applies to type %s, and this check is type %q; remove it or change the type",
				name, strings.Join(model.SettingTypes(name), " or "), typ)
			continue
		}
		if a.val == nil {
			continue // an empty list, or one whose every element failed
		}
		p, prob := model.WithSetting(probe, name, settingValue(a.val))
		if prob != nil {
			b.checkProblem(spec, *prob)
			continue
		}
		probe = p
	}
	return probe
}

// settingValue is the value of a decoded attribute as [model.WithSetting]
// takes it.
func settingValue(val any) any {
	switch val := val.(type) {
	case []item[int64]:
		ns := make([]int, len(val))
		for i, it := range val {
			ns[i] = int(it.v)
		}
		return ns
	case []nestedBlock:
		bs := make([]model.Block, len(val))
		for i, nb := range val {
			bs[i] = model.Block{}
			for name, a := range nb.attrs {
				if a.val != nil {
					bs[i][name] = settingValue(a.val)
				}
			}
		}
		return bs
	}
	return val
}

// checkCommon sets the attributes every check has.
func (b *builder) checkCommon(spec *checkSpec, hc *model.HealthCheck) {
	if a, ok := spec.attrs["port"].val.(int64); ok {
		if a < 1 || a > math.MaxUint16 {
			b.errorAt(spec.attrs["port"].r, "Invalid health check port", "A port is a number from 1 to 65535, not %d; leave port out to probe the real server's own port", a)
		} else {
			hc.Port = uint16(a)
		}
	}
	if v, ok := spec.str("interval"); ok {
		if d, err := parsePositive(v); err != nil {
			b.errorAt(spec.attrs["interval"].r, "Invalid health check interval", "%s", sentence(err.Error()))
		} else {
			// The timeout defaults to the interval, as nanny's did.
			hc.Interval, hc.Timeout = d, d
		}
	}
	if v, ok := spec.str("timeout"); ok {
		if d, err := parsePositive(v); err != nil {
			b.errorAt(spec.attrs["timeout"].r, "Invalid health check timeout", "%s", sentence(err.Error()))
		} else {
			hc.Timeout = d
		}
	}
	if v, ok := spec.attrs["alpha"].val.(bool); ok {
		hc.Alpha = v
	}
	for name, dst := range map[string]*int{"rise": &hc.Rise, "fall": &hc.Fall} {
		if v, ok := spec.attrs[name].val.(int64); ok {
			*dst = int(v)
		}
	}
	if v, ok := spec.str("on_failure"); ok {
		switch v {
		case model.OnFailureRemove, model.OnFailureQuiesce:
			hc.OnFailure = v
		default:
			b.errorAt(spec.attrs["on_failure"].r, "Invalid on_failure", "%q is not a failure action; use \"quiesce\" (weight 0, connections drain) or \"remove\" (delete the real server).%s",
				v, didYouMean(v, []string{model.OnFailureQuiesce, model.OnFailureRemove}))
		}
	}
}

// checkProblem reports p where spec wrote its setting: the element of a
// list, the attribute of a nested block or the block, the attribute, or
// the health_check block when the attribute is not written. An attribute
// that did not decode has its error already.
func (b *builder) checkProblem(spec *checkSpec, p model.Problem) {
	r := spec.def
	if a := spec.attrs[p.Setting]; p.Setting != "" && spec.written(p.Setting) {
		if a.bad {
			return
		}
		r = a.r
		switch items := a.val.(type) {
		case []item[int64]:
			if p.Element > 0 && p.Element <= len(items) {
				r = items[p.Element-1].r
			}
		case []nestedBlock:
			if p.Element > 0 && p.Element <= len(items) {
				nb := items[p.Element-1]
				r = nb.def
				if fa, ok := nb.attrs[p.Field]; ok && p.Field != "" {
					if fa.bad {
						return
					}
					r = fa.r
				}
			}
		}
	}
	b.errorAt(r, p.Summary, "%s", p.Msg)
}
