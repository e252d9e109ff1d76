package helm

import (
	"bytes"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	chart "helm.sh/helm/v4/pkg/chart/v2"
)

// schemaViolation is one way the values break a chart's values.schema.json.
type schemaViolation struct {
	chart   string // the (sub)chart whose schema it is
	path    []any  // in the top-level values
	message string
}

// permissive stands in for every schema a values.schema.json refers to
// outside itself. Helm would read such a $ref from the local disk (file://)
// or the network (http, https); kubegate reads no file outside the
// repository and fetches nothing while checking, so it validates what the
// schema itself says, as Helm does for a urn: it cannot resolve.
type permissive struct{}

func (permissive) Load(string) (any, error) {
	return jsonschema.UnmarshalJSON(strings.NewReader("true"))
}

var printer = message.NewPrinter(language.English)

// validateSchemas checks the coalesced values against the schema of the
// chart and of every subchart, as Helm's ValidateAgainstSchema does, with
// the difference above.
func validateSchemas(ch *chart.Chart, values map[string]any, prefix []any) ([]schemaViolation, error) {
	var out []schemaViolation
	if ch.Schema != nil {
		vs, err := validateOne(ch.Schema, values)
		if err != nil {
			return nil, err
		}
		for _, v := range vs {
			v.chart = ch.Name()
			v.path = append(slices.Clip(prefix), v.path...)
			out = append(out, v)
		}
	}
	for _, sub := range ch.Dependencies() {
		raw, ok := values[sub.Name()]
		if !ok || raw == nil {
			continue
		}
		m, ok := raw.(map[string]any)
		if !ok {
			out = append(out, schemaViolation{chart: sub.Name(), path: append(slices.Clip(prefix), sub.Name()), message: "the values for this subchart must be a mapping"})
			continue
		}
		vs, err := validateSchemas(sub, m, append(slices.Clip(prefix), sub.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, vs...)
	}
	return out, nil
}

func validateOne(schemaJSON []byte, values map[string]any) ([]schemaViolation, error) {
	schema, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(jsonschema.SchemeURLLoader{"file": permissive{}, "http": permissive{}, "https": permissive{}, "urn": permissive{}})
	if err := c.AddResource("file:///values.schema.json", schema); err != nil {
		return nil, err
	}
	v, err := c.Compile("file:///values.schema.json")
	if err != nil {
		return nil, err
	}
	// The validator wants JSON's types; Helm's values already are.
	err = v.Validate(values)
	var ve *jsonschema.ValidationError
	if err == nil || !errors.As(err, &ve) {
		return nil, err
	}
	var out []schemaViolation
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			out = append(out, schemaViolation{path: PointerPath(values, e.InstanceLocation), message: e.ErrorKind.LocalizedString(printer)})
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	return out, nil
}

// PointerPath turns the tokens of a JSON pointer into a path of keys and
// list indices over v: a token is an index where v holds a list there ("-"
// is its last element, as in a JSON patch), a key elsewhere.
func PointerPath(v any, tokens []string) []any {
	var out []any
	cur := v
	for _, t := range tokens {
		if l, ok := cur.([]any); ok {
			i, err := strconv.Atoi(t)
			if t == "-" {
				i, err = len(l)-1, nil
			}
			if err == nil {
				out = append(out, i)
				if i >= 0 && i < len(l) {
					cur = l[i]
				} else {
					cur = nil
				}
				continue
			}
		}
		out = append(out, t)
		m, _ := cur.(map[string]any)
		cur = m[t]
	}
	return out
}
