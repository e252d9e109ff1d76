package schema

import (
	"cmp"
	"encoding/base64"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	"k8s.io/apimachinery/pkg/api/resource"
	openapierrors "k8s.io/kube-openapi/pkg/validation/errors"
	"k8s.io/kube-openapi/pkg/validation/strfmt"
)

// Problem is one thing about an object the API server would reject.
type Problem struct {
	// Unknown: a field the kind does not have (else a value it refuses).
	Unknown bool
	// Path is where, as keys and indexes into the object.
	Path []any
	// Message says what is wrong and what to write instead.
	Message string
}

// Validate checks obj against its kind's schema. known is false when no
// schema is known for its apiVersion and kind; err says that its schema
// (a CRD's) cannot be used.
func (c *Catalog) Validate(obj map[string]any) (problems []Problem, known bool, err error) {
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	gvk := ParseGVK(apiVersion, kind)
	v := c.validator(gvk)
	if v == nil {
		return nil, false, nil
	}
	if v.err != nil {
		return nil, true, v.err
	}
	where := fmt.Sprintf("Kubernetes %s", c.SchemaVersion())
	if cs := c.customFor(gvk); cs != nil {
		where = cs.from
	}
	// Unknown fields: the API server's own pruning walk, over a copy.
	pruned := deepCopy(obj).(map[string]any)
	unknown := pruning.PruneWithOptions(pruned, v.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})
	if meta, ok := pruned["metadata"].(map[string]any); ok && v.meta != nil {
		for _, p := range pruning.PruneWithOptions(meta, v.meta, false, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true}) {
			unknown = append(unknown, "metadata."+p)
		}
	}
	for _, u := range unknown {
		path := resolvePath(obj, u)
		if len(path) == 0 {
			continue
		}
		name := fmt.Sprint(path[len(path)-1])
		msg := fmt.Sprintf("unknown field %q: %s has no such field here", name, where)
		at, parent := v.structural, path[:len(path)-1]
		if len(parent) > 0 && parent[0] == "metadata" && v.meta != nil {
			at, parent = v.meta, parent[1:]
		}
		if s := Suggest(name, knownFields(at, parent)); s != "" {
			msg = fmt.Sprintf("unknown field %q: did you mean %q? %s has no field %q here", name, s, where, name)
		}
		problems = append(problems, Problem{Unknown: true, Path: path, Message: msg + "; the API server rejects it (or, without strict field validation, drops it), so what it holds never takes effect"})
	}
	// Values: kube-openapi's validator, which the API server runs for
	// custom resources, over what pruning kept.
	if v.values != nil && (v.fast == nil || !v.fast.clean(obj)) {
		at := map[string]int{} // one problem a path: its index
		const (
			other = iota
			typeMismatch
			anyOfVerdict
		)
		kinds := map[int]int{}
		res := v.values.Validate(pruned)
		for _, err := range flatten(res.Errors) {
			p, anyOf, ok := valueProblem(pruned, err)
			if !ok {
				continue
			}
			if s := structuralAt(v.structural, p.Path); anyOf && s != nil && s.XIntOrString {
				p.Message = strings.Replace(p.Message, "must be a number or a string", "must be an integer or a string", 1)
			}
			key := fmt.Sprint(p.Path)
			if i, seen := at[key]; seen {
				// An anyOf's verdict (an int-or-string that is neither)
				// over its first branch's type ("not an integer"), not
				// over a branch's more precise word (a malformed quantity).
				switch {
				case anyOf && kinds[i] == typeMismatch, kinds[i] == anyOfVerdict && !anyOf && !isTypeError(err):
					problems[i] = p
					kinds[i] = other
				}
				continue
			}
			kinds[len(problems)] = other
			if anyOf {
				kinds[len(problems)] = anyOfVerdict
			} else if isTypeError(err) {
				kinds[len(problems)] = typeMismatch
			}
			at[key] = len(problems)
			problems = append(problems, p)
		}
	}
	if v.cel != nil {
		problems = append(problems, v.cel.validate(pruned)...)
	}
	return problems, true, nil
}

func flatten(errs []error) []error {
	var out []error
	for _, err := range errs {
		if c, ok := err.(*openapierrors.CompositeError); ok {
			// The anyOf's own error before its branches': an
			// int-or-string is neither, not "not an integer".
			out = append(out, c)
			out = append(out, flatten(c.Errors)...)
			continue
		}
		out = append(out, err)
	}
	return out
}

// isTypeError: a value of the wrong JSON type (not a malformed string).
func isTypeError(err error) bool {
	e, ok := err.(*openapierrors.Validation)
	if !ok || e.Code() != openapierrors.InvalidTypeCode {
		return false
	}
	m := typeRE.FindStringSubmatch(e.Error())
	if m == nil {
		return false
	}
	for _, t := range strings.Split(m[1], ",") {
		if !slices.Contains([]string{"integer", "number", "string", "boolean", "object", "array", "int32", "int64", "float", "double"}, t) {
			return false
		}
	}
	return true
}

var typeRE = regexp.MustCompile(`must be of type ([\w,-]+)`)

// valueProblem turns one validation error into a problem for the author;
// anyOf says it is an anyOf's or oneOf's verdict.
func valueProblem(obj map[string]any, err error) (p Problem, anyOf, ok bool) {
	var name, msg string
	switch e := err.(type) {
	case *openapierrors.Validation:
		name = e.Name
		switch e.Code() {
		case openapierrors.InvalidTypeCode:
			want := "of the right type"
			if m := typeRE.FindStringSubmatch(e.Error()); m != nil {
				// integer,string: an int-or-string of a CRD.
				var names []string
				for _, t := range strings.Split(m[1], ",") {
					names = append(names, cmp.Or(typeNames[t], "a "+t))
				}
				want = strings.Join(names, " or ")
			}
			// e.Value is the type found; say what was written.
			msg = fmt.Sprintf("must be %s, not %s", want, describe(valueAt(obj, resolvePath(obj, strings.TrimPrefix(e.Name, ".")))))
		case openapierrors.RequiredFailCode:
			msg = "is required and missing"
		case openapierrors.EnumFailCode:
			var values []string
			for _, v := range e.Values {
				if v != "" {
					values = append(values, strconv.Quote(fmt.Sprint(v)))
				}
			}
			msg = fmt.Sprintf("%s is not one of %s", describe(e.Value), strings.Join(values, ", "))
		default:
			msg = strings.Replace(e.Error(), " in body", "", 1)
			msg = strings.TrimPrefix(strings.TrimPrefix(msg, name), " ")
		}
	default:
		// anyOf/oneOf: an int-or-string or a quantity of neither kind.
		s := e.Error()
		i := strings.Index(s, " must validate")
		if i < 0 {
			return Problem{}, false, false
		}
		name = s[:i]
		if u, err := strconv.Unquote(name); err == nil {
			name = u
		}
		msg = "must be a number or a string"
		anyOf = true
	}
	name = strings.TrimPrefix(name, ".")
	path := resolvePath(obj, name)
	field := name
	if field == "" {
		field = "the object"
	}
	return Problem{Path: path, Message: fmt.Sprintf("%s %s", field, msg)}, anyOf, true
}

var typeNames = map[string]string{
	"integer": "an integer", "number": "a number", "string": "a string", "boolean": "true or false",
	"object": "a map of fields", "array": "a list",
	"int32": "an integer", "int64": "an integer", "float": "a number", "double": "a number",
	"k8s-quantity": "a quantity (a number, or a string such as 500m, 64Mi or 1.5Gi)",
	"byte":         "base64-encoded data", "date-time": "an RFC 3339 date and time (2006-01-02T15:04:05Z)",
}

func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(v)
	case map[string]any:
		return "a map"
	case []any:
		return "a list"
	case bool:
		return fmt.Sprintf("%v (true or false)", v)
	case int64, float64, int:
		return fmt.Sprintf("the number %v", v)
	}
	return fmt.Sprint(v)
}

// resolvePath reads a field path of the API server's kinds
// (spec.containers[0].name, or spec.containers.0.name) into keys and
// indexes, guided by the object: a key may itself hold dots.
func resolvePath(obj any, s string) []any {
	var out []any
	cur := obj
	for s != "" {
		s = strings.TrimPrefix(s, ".")
		if strings.HasPrefix(s, "[") {
			end := strings.IndexByte(s, ']')
			if end < 0 {
				break
			}
			i, err := strconv.Atoi(s[1:end])
			if err != nil {
				break
			}
			out = append(out, i)
			cur = index(cur, i)
			s = s[end+1:]
			continue
		}
		if list, ok := cur.([]any); ok {
			end := strings.IndexAny(s, ".[")
			if end < 0 {
				end = len(s)
			}
			if i, err := strconv.Atoi(s[:end]); err == nil && i >= 0 && i < len(list) {
				out = append(out, i)
				cur = list[i]
				s = s[end:]
				continue
			}
		}
		m, _ := cur.(map[string]any)
		key := ""
		for k := range m {
			if len(k) > len(key) && strings.HasPrefix(s, k) && (len(s) == len(k) || s[len(k)] == '.' || s[len(k)] == '[') {
				key = k
			}
		}
		if key == "" {
			// Not in the object (a required field): the next name.
			end := strings.IndexAny(s, ".[")
			if end < 0 {
				end = len(s)
			}
			key = s[:end]
		}
		out = append(out, key)
		cur = m[key]
		s = s[len(key):]
	}
	return out
}

// valueAt is the value at a path of obj (nil where there is none).
func valueAt(obj any, path []any) any {
	for _, step := range path {
		switch step := step.(type) {
		case int:
			obj = index(obj, step)
		case string:
			m, _ := obj.(map[string]any)
			obj = m[step]
		}
	}
	return obj
}

func index(v any, i int) any {
	if l, ok := v.([]any); ok && i >= 0 && i < len(l) {
		return l[i]
	}
	return nil
}

func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = deepCopy(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = deepCopy(x)
		}
		return out
	}
	return v
}

// builtinFormats are the string formats of built-in kinds: kube-openapi's,
// base64 that may be empty (as the API server decodes []byte), and
// quantities as resource.ParseQuantity reads them.
var builtinFormats = func() strfmt.Registry {
	r := strfmt.NewFormats()
	b := strfmt.Base64{}
	r.Add("byte", &b, func(s string) bool {
		_, err := base64.StdEncoding.DecodeString(s)
		return err == nil
	})
	q := strfmt.Base64{} // any Format: only the validator is used
	r.Add("k8s-quantity", &q, func(s string) bool {
		_, err := resource.ParseQuantity(s)
		return err == nil
	})
	return r
}()
