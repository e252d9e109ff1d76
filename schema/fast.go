package schema

// A fast pass over built-in kinds' values. kube-openapi's validator builds
// a validator for every node of every object it validates, which made it
// 85% of the time of a check of valid manifests and more garbage than the
// policies. Built-in schemas use few keywords (type, format, enum,
// required, properties, items, additionalProperties, the anyOf of
// int-or-string and quantity, nullable); this pass checks exactly those
// and answers "certainly valid" or "look closer". Only in the second case
// does kube-openapi run, so every reported problem is still kube-openapi's
// verdict in kube-openapi's words; a keyword or format this pass does not
// know makes it look closer. TestDifferentialAgainstStrictDecoding holds it
// to kube-openapi over thousands of mutated objects.

import (
	"encoding/base64"
	"math"
	"reflect"
	"slices"

	"k8s.io/apimachinery/pkg/api/resource"
)

type fastNode struct {
	types    []string // "" when any type goes
	format   string
	enum     []any
	required []string
	props    map[string]*fastNode
	items    *fastNode
	addl     *fastNode // additionalProperties' schema (nil: none given)
	anyOf    []*fastNode
	nullable bool
	unknown  bool // a keyword or format this pass does not check
}

// fastKeys are the keywords the fast pass checks, or may ignore (the
// x-kubernetes extensions that do not constrain values).
var fastKeys = map[string]bool{
	"type": true, "format": true, "enum": true, "required": true, "properties": true, "items": true,
	"additionalProperties": true, "anyOf": true, "nullable": true,
	"x-kubernetes-preserve-unknown-fields": true, "x-kubernetes-int-or-string": true, "x-kubernetes-embedded-resource": true,
	"x-kubernetes-list-type": true, "x-kubernetes-list-map-keys": true, "x-kubernetes-map-type": true,
}

var fastFormats = map[string]bool{"": true, "int32": true, "int64": true, "double": true, "float": true, "byte": true, "k8s-quantity": true}

// compileFast compiles an inlined schema tree; shared subtrees (the
// inliner reuses them) compile once.
func compileFast(m map[string]any, memo map[uintptr]*fastNode) *fastNode {
	key := reflect.ValueOf(m).Pointer()
	if n, ok := memo[key]; ok {
		return n
	}
	n := &fastNode{}
	memo[key] = n
	for k, v := range m {
		if !fastKeys[k] {
			n.unknown = true
		}
		switch k {
		case "type":
			t, _ := v.(string)
			n.types = []string{t}
		case "format":
			n.format, _ = v.(string)
			if !fastFormats[n.format] {
				n.unknown = true
			}
		case "enum":
			n.enum, _ = v.([]any)
		case "required":
			for _, r := range v.([]any) {
				if s, ok := r.(string); ok {
					n.required = append(n.required, s)
				}
			}
		case "properties":
			props, _ := v.(map[string]any)
			n.props = make(map[string]*fastNode, len(props))
			for p, s := range props {
				if sm, ok := s.(map[string]any); ok {
					n.props[p] = compileFast(sm, memo)
				}
			}
		case "items":
			if sm, ok := v.(map[string]any); ok {
				n.items = compileFast(sm, memo)
			} else {
				n.unknown = true
			}
		case "additionalProperties":
			switch ap := v.(type) {
			case map[string]any:
				n.addl = compileFast(ap, memo)
			case bool:
				if !ap {
					n.unknown = true
				}
			}
		case "anyOf":
			for _, s := range v.([]any) {
				if sm, ok := s.(map[string]any); ok {
					n.anyOf = append(n.anyOf, compileFast(sm, memo))
				}
			}
		case "nullable":
			n.nullable = v == true
		}
	}
	return n
}

// clean says v certainly passes kube-openapi's validation against n.
func (n *fastNode) clean(v any) bool {
	if v == nil {
		return n.nullable
	}
	if n.unknown {
		return false
	}
	if len(n.anyOf) > 0 && !slices.ContainsFunc(n.anyOf, func(a *fastNode) bool { return a.clean(v) }) {
		return false
	}
	if len(n.enum) > 0 && !slices.Contains(n.enum, v) {
		return false
	}
	t := ""
	if len(n.types) > 0 {
		t = n.types[0]
	}
	switch v := v.(type) {
	case string:
		if t != "" && t != "string" {
			return false
		}
		switch n.format {
		case "byte":
			if _, err := base64.StdEncoding.DecodeString(v); err != nil {
				return false
			}
		case "k8s-quantity":
			if _, err := resource.ParseQuantity(v); err != nil {
				return false
			}
		case "", "int32", "int64", "double", "float":
		default:
			return false
		}
		return true
	case bool:
		return t == "" || t == "boolean"
	case int64:
		return t == "" || t == "number" || (t == "integer" && (n.format != "int32" || (v >= math.MinInt32 && v <= math.MaxInt32)))
	case float64:
		return t == "" || t == "number"
	case []any:
		if t != "" && t != "array" {
			return false
		}
		if n.items == nil {
			return true
		}
		for _, x := range v {
			if !n.items.clean(x) {
				return false
			}
		}
		return true
	case map[string]any:
		if t != "" && t != "object" {
			return false
		}
		for _, r := range n.required {
			if _, ok := v[r]; !ok {
				return false
			}
		}
		for k, x := range v {
			if p, ok := n.props[k]; ok {
				if !p.clean(x) {
					return false
				}
			} else if n.addl != nil && !n.addl.clean(x) {
				return false
			}
		}
		return true
	}
	return false // a type JSON does not have
}
