package model

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/lvsctl/lvsctl/lvs"
)

// A Probe is what a health check sends and what it expects back: the
// settings of one probe type. Each type is a struct in a file of its own
// (probe_tcp.go, probe_http.go, ...) and is listed in [probeTypes]; the
// health package runs it, in a file of its own too.
//
// A type's settings are its exported fields, each tagged with its name as
// configurations write it (`setting:"query_name"`) and of one of the kinds
// of [SettingKind]. A source sets them by name with [WithSetting], or fills
// the struct itself.
type Probe interface {
	// Type is the name of the probe type, as configurations write it:
	// "tcp", "http".
	Type() string
	// Default returns a probe of the same type with every setting at its
	// default, for a check of the service k.
	Default(k lvs.ServiceKey) Probe
	// Validate returns the problems of the settings, each naming its
	// setting. written tells which settings the configuration wrote, for
	// the rules about a setting written empty; nil means those that are
	// not empty.
	Validate(written func(setting string) bool) []Problem
}

// probeTypes are the probe types, in the order messages list them.
var probeTypes = []Probe{
	TCPProbe{},
	SendExpectProbe{},
	HTTPProbe{},
	HTTPSProbe{},
	DNSProbe{},
	ExecProbe{},
	SMTPProbe{},
}

// A portless probe needs no port to probe a real server: it does not
// connect itself.
type portless interface{ portless() }

// A normalizer has a canonical form (see [HealthCheck.Normalize]).
type normalizer interface{ normalize() Probe }

// CheckTypes are the names of the probe types, in the order messages list
// them.
var CheckTypes = func() []string {
	names := make([]string, len(probeTypes))
	for i, p := range probeTypes {
		names[i] = p.Type()
	}
	return names
}()

// NewProbe returns the probe of type typ with its defaults for a check of
// the service k, and false when there is no such type.
func NewProbe(typ string, k lvs.ServiceKey) (Probe, bool) {
	for _, p := range probeTypes {
		if p.Type() == typ {
			return p.Default(k), true
		}
	}
	return nil, false
}

// SettingKind is the kind of a probe setting's value, as sources give it
// to [WithSetting] and [Setting] returns it.
type SettingKind int

const (
	// SettingString is a string (a Go string field).
	SettingString SettingKind = iota
	// SettingBool is a bool.
	SettingBool
	// SettingNumbers is a list of whole numbers ([]int).
	SettingNumbers
	// SettingProtocol is "tcp" or "udp" (an [lvs.Protocol] field).
	SettingProtocol
	// SettingBlocks is a list of blocks, each with settings of its own
	// (a slice of a struct whose exported fields are tagged settings of
	// the kinds string, bool and numbers), such as an http check's url
	// blocks. Sources give it as a []Block.
	SettingBlocks
)

// A Block is one element of a [SettingBlocks] setting as sources give it
// and [Setting] returns it: its settings by name, each a string, a bool or
// an []int. A source leaves out the settings it did not write, which keep
// their zero value; [Setting] gives every one.
type Block map[string]any

// A SettingInfo describes one setting of a probe type.
type SettingInfo struct {
	Name string
	Kind SettingKind
	// Fields are the settings of each block of a SettingBlocks setting;
	// nil for the other kinds.
	Fields []SettingInfo
	index  []int // of the struct field
}

var (
	protocolType = reflect.TypeFor[lvs.Protocol]()
	intsType     = reflect.TypeFor[[]int]()
	settingCache sync.Map // reflect.Type -> []SettingInfo
)

// settingsOf reads the settings of probe type t from its tags, once.
// Fields of an embedded struct are the type's own (HTTPS has HTTP's).
func settingsOf(t reflect.Type) []SettingInfo {
	if s, ok := settingCache.Load(t); ok {
		return s.([]SettingInfo)
	}
	var out []SettingInfo
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() || f.Anonymous {
			continue
		}
		out = append(out, settingOf(t, f, true))
	}
	s, _ := settingCache.LoadOrStore(t, out)
	return s.([]SettingInfo)
}

// settingOf reads the setting of the field f of t. blocks tells whether
// it may be a list of blocks: the settings of a block may not.
func settingOf(t reflect.Type, f reflect.StructField, blocks bool) SettingInfo {
	name := f.Tag.Get("setting")
	if name == "" {
		panic(fmt.Sprintf("model: %s.%s has no setting tag", t, f.Name))
	}
	s := SettingInfo{Name: name, index: f.Index}
	switch {
	case f.Type == protocolType && blocks:
		s.Kind = SettingProtocol
	case f.Type == intsType:
		s.Kind = SettingNumbers
	case f.Type.Kind() == reflect.String:
		s.Kind = SettingString
	case f.Type.Kind() == reflect.Bool:
		s.Kind = SettingBool
	case blocks && f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct:
		s.Kind = SettingBlocks
		et := f.Type.Elem()
		for _, ef := range reflect.VisibleFields(et) {
			if !ef.IsExported() || ef.Anonymous {
				panic(fmt.Sprintf("model: block setting %s of %s has an unexported or embedded field %s", name, t, ef.Name))
			}
			s.Fields = append(s.Fields, settingOf(et, ef, false))
		}
	default:
		panic(fmt.Sprintf("model: setting %s of %s is a %s, which no source can give", name, t, f.Type))
	}
	return s
}

// Settings returns the settings of the probe type typ, in the order
// configurations write them; nil for an unknown type.
func Settings(typ string) []SettingInfo {
	for _, p := range probeTypes {
		if p.Type() == typ {
			return settingsOf(reflect.TypeOf(p))
		}
	}
	return nil
}

// AllSettings returns the names of every probe type's settings, each
// once, sorted.
func AllSettings() []string {
	var names []string
	for _, p := range probeTypes {
		for _, s := range settingsOf(reflect.TypeOf(p)) {
			names = append(names, s.Name)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// SettingTypes returns the names of the probe types that have the setting
// name, in the order of [CheckTypes].
func SettingTypes(name string) []string {
	var types []string
	for _, p := range probeTypes {
		if slices.ContainsFunc(settingsOf(reflect.TypeOf(p)), func(s SettingInfo) bool { return s.Name == name }) {
			types = append(types, p.Type())
		}
	}
	return types
}

func findSetting(p Probe, name string) (reflect.Value, SettingInfo, bool) {
	v := reflect.ValueOf(p)
	for _, s := range settingsOf(v.Type()) {
		if s.Name == name {
			return v, s, true
		}
	}
	return v, SettingInfo{}, false
}

// Setting returns the value of p's setting name as [WithSetting] takes
// it: a string, a bool, an []int or a []Block (every setting of each
// block); nil when p has no such setting.
func Setting(p Probe, name string) any {
	v, s, ok := findSetting(p, name)
	if !ok {
		return nil
	}
	f := v.FieldByIndex(s.index)
	switch s.Kind {
	case SettingProtocol:
		return f.Interface().(lvs.Protocol).String()
	case SettingBlocks:
		bs := make([]Block, f.Len())
		for i := range bs {
			bs[i] = Block{}
			for _, fs := range s.Fields {
				bs[i][fs.Name] = f.Index(i).FieldByIndex(fs.index).Interface()
			}
		}
		return bs
	}
	return f.Interface()
}

// WithSetting returns p with its setting name set to v: a string for a
// string or protocol setting, a bool, an []int, or a []Block whose
// settings are each the block's own (those a block leaves out are zero).
// It returns a problem for a protocol other than tcp and udp; a setting p
// does not have or a value of the wrong kind is a programming error, and
// panics.
func WithSetting(p Probe, name string, v any) (Probe, *Problem) {
	pv, s, ok := findSetting(p, name)
	if !ok {
		panic(fmt.Sprintf("model: a %s probe has no setting %q", p.Type(), name))
	}
	cp := reflect.New(pv.Type()).Elem()
	cp.Set(pv)
	f := cp.FieldByIndex(s.index)
	if s.Kind == SettingProtocol {
		switch str, _ := v.(string); str {
		case "tcp":
			v = lvs.TCP
		case "udp":
			v = lvs.UDP
		default:
			return p, &Problem{Setting: name, Summary: "Invalid health check protocol", Msg: fmt.Sprintf("%q is not a probe protocol; use \"tcp\" or \"udp\"", str)}
		}
	}
	if s.Kind == SettingBlocks {
		bs := v.([]Block)
		list := reflect.MakeSlice(f.Type(), len(bs), len(bs))
		for i, b := range bs {
			for _, fs := range s.Fields {
				if bv, ok := b[fs.Name]; ok {
					list.Index(i).FieldByIndex(fs.index).Set(reflect.ValueOf(bv).Convert(fs.fieldType(f.Type().Elem())))
				}
			}
			for k := range b {
				if !slices.ContainsFunc(s.Fields, func(fs SettingInfo) bool { return fs.Name == k }) {
					panic(fmt.Sprintf("model: a %s block of a %s probe has no setting %q", name, p.Type(), k))
				}
			}
		}
		f.Set(list)
		return cp.Interface().(Probe), nil
	}
	f.Set(reflect.ValueOf(v).Convert(f.Type()))
	return cp.Interface().(Probe), nil
}

// fieldType is the type of the field of the struct t that s is.
func (s SettingInfo) fieldType(t reflect.Type) reflect.Type { return t.FieldByIndex(s.index).Type }

// nonEmpty tells which settings of p are not empty: what a source that
// cannot tell an empty value from a missing one has written.
func nonEmpty(p Probe) func(string) bool {
	return func(name string) bool {
		switch v := Setting(p, name).(type) {
		case string:
			return v != ""
		case bool:
			return v
		case []int:
			return len(v) > 0
		case []Block:
			return len(v) > 0
		}
		return false
	}
}

// regexProblem returns the problem of the regular expression expr, the
// setting name's value, if it does not compile.
func regexProblem(name, expr string) *Problem {
	if _, err := regexp.Compile(expr); err != nil {
		msg := err.Error()
		r, n := utf8.DecodeRuneInString(msg)
		return &Problem{Setting: name, Summary: "Invalid regular expression", Msg: string(unicode.ToUpper(r)) + msg[n:], Err: err}
	}
	return nil
}
