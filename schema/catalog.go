package schema

import (
	"encoding/json"
	"fmt"
	"maps"
	"sort"
	"strings"
	"sync"

	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/kube-openapi/pkg/validation/spec"
	"k8s.io/kube-openapi/pkg/validation/strfmt"
	"k8s.io/kube-openapi/pkg/validation/validate"
)

// Catalog is every schema known for one target cluster: the built-in
// kinds of its Kubernetes minor and the custom resources of the CRDs and
// schema files added. It is safe for concurrent use.
type Catalog struct {
	b      *builtins
	target int // the cluster's minor
	minor  int // the embedded schemas' minor used for it

	// custom are the custom resources' schemas, by kind.
	custom map[GVK]*customSchema
	// cache holds the validators made so far, shared with the catalogs
	// With derives (a built-in kind's validator never changes).
	cache *validatorCache
}

type validatorCache struct {
	mu   sync.Mutex
	byGK map[cacheKey]*kindValidator
	meta map[int]*structuralschema.Structural // ObjectMeta's shape, by minor
}

type cacheKey struct {
	gvk    GVK
	custom *customSchema // nil for built-ins
}

// New is the catalog of a cluster of minor target (1.target): the
// embedded schemas of that minor, of the oldest embedded one for an older
// cluster and of the newest for a newer one (see SchemaVersion).
func New(target int) (*Catalog, error) {
	b, err := embeddedBuiltins()
	if err != nil {
		return nil, err
	}
	return &Catalog{b: b, target: target, minor: b.schemaMinor(target), custom: map[GVK]*customSchema{}, cache: &validatorCache{byGK: map[cacheKey]*kindValidator{}, meta: map[int]*structuralschema.Structural{}}}, nil
}

// SchemaVersion is the Kubernetes version whose built-in schemas are used.
func (c *Catalog) SchemaVersion() string { return fmt.Sprintf("v1.%d", c.minor) }

// With is a catalog with the custom resources of more CRDs, for one run's
// input; c is unchanged.
func (c *Catalog) With(crds []map[string]any) (*Catalog, []error) {
	d := *c
	d.custom = maps.Clone(c.custom)
	var errs []error
	for _, crd := range crds {
		if err := d.addCRD(crd); err != nil {
			errs = append(errs, err)
		}
	}
	return &d, errs
}

// Builtin says whether gvk is a built-in kind of the target's schemas.
func (c *Catalog) Builtin(gvk GVK) bool {
	_, ok := c.b.kinds[c.minor][gvk]
	return ok
}

// BuiltinAnywhere says whether gvk is a built-in kind of any embedded
// Kubernetes version.
func (c *Catalog) BuiltinAnywhere(gvk GVK) bool {
	for _, kinds := range c.b.kinds {
		if _, ok := kinds[gvk]; ok {
			return true
		}
	}
	return false
}

// Known says whether there is a schema for gvk.
func (c *Catalog) Known(gvk GVK) bool {
	return c.customFor(gvk) != nil || c.Builtin(gvk)
}

// BuiltinGroup says whether group is one Kubernetes itself serves (at
// any embedded or past version): its kinds are not custom resources.
func (c *Catalog) BuiltinGroup(group string) bool {
	return builtinGroups()[group]
}

var builtinGroups = sync.OnceValue(func() map[string]bool {
	groups := map[string]bool{"": true}
	if b, err := embeddedBuiltins(); err == nil {
		for _, kinds := range b.kinds {
			for k := range kinds {
				groups[k.Group] = true
			}
		}
	}
	for apiVersion := range Lifecycle() {
		groups[ParseGVK(apiVersion, "").Group] = true
	}
	return groups
})

// kindValidator validates objects of one kind.
type kindValidator struct {
	structural *structuralschema.Structural // its shape: what pruning walks
	meta       *structuralschema.Structural // ObjectMeta's
	values     *validate.SchemaValidator
	formats    strfmt.Registry
	fast       *fastNode    // built-in kinds: the fast pass over values
	cel        celValidator // custom resources' x-kubernetes-validations; nil if none
	err        error        // the schema could not be used
}

func (c *Catalog) validator(gvk GVK) *kindValidator {
	key := cacheKey{gvk: gvk, custom: c.customFor(gvk)}
	if key.custom == nil && !c.Builtin(gvk) {
		return nil
	}
	c.cache.mu.Lock()
	defer c.cache.mu.Unlock()
	if v, ok := c.cache.byGK[key]; ok {
		return v
	}
	var v *kindValidator
	if key.custom != nil {
		v = c.customValidator(key.custom)
	} else {
		v = c.builtinValidator(c.b.kinds[c.minor][gvk])
	}
	c.cache.byGK[key] = v
	return v
}

// builtinValidator inlines a definition's references and validates with
// the result.
func (c *Catalog) builtinValidator(def string) *kindValidator {
	in := &inliner{b: c.b, minor: c.minor, done: map[string]map[string]any{}, active: map[string]bool{}}
	tree := in.inline(def)
	v := &kindValidator{formats: builtinFormats}
	v.structural = shape(tree)
	v.meta = c.metaShape()
	var s spec.Schema
	data, err := json.Marshal(tree)
	if err == nil {
		err = json.Unmarshal(data, &s)
	}
	if err != nil {
		v.err = fmt.Errorf("schema of %s: %w", def, err)
		return v
	}
	v.values = validate.NewSchemaValidator(&s, nil, "", v.formats)
	v.fast = compileFast(tree, map[uintptr]*fastNode{})
	return v
}

const objectMeta = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"

// metaShape is ObjectMeta's structural shape at the catalog's minor, which
// every kind's metadata is pruned with: made once per minor (callers hold
// c.cache.mu).
func (c *Catalog) metaShape() *structuralschema.Structural {
	if s, ok := c.cache.meta[c.minor]; ok {
		return s
	}
	in := &inliner{b: c.b, minor: c.minor, done: map[string]map[string]any{}, active: map[string]bool{}}
	s := shape(in.inline(objectMeta))
	c.cache.meta[c.minor] = s
	return s
}

// inliner writes a definition with its references replaced by what they
// name, patched where the published schemas and the API server disagree.
type inliner struct {
	b      *builtins
	minor  int
	done   map[string]map[string]any
	active map[string]bool
}

func (in *inliner) inline(name string) map[string]any {
	if s, ok := in.done[name]; ok {
		return s
	}
	if in.active[name] {
		// A recursive type (JSONSchemaProps): below here anything goes.
		return map[string]any{"x-kubernetes-preserve-unknown-fields": true}
	}
	if p, ok := patched[name]; ok {
		return p
	}
	idx, ok := in.b.defs[in.minor][name]
	if !ok {
		return map[string]any{"x-kubernetes-preserve-unknown-fields": true}
	}
	in.active[name] = true
	out := in.walk(in.b.schemas[idx]).(map[string]any)
	delete(in.active, name)
	in.done[name] = out
	return out
}

func (in *inliner) walk(v any) any {
	switch v := v.(type) {
	case map[string]any:
		// Built-in kinds decode null as the field's zero value.
		out := map[string]any{"nullable": true}
		if ref, ok := v["$ref"].(string); ok {
			// The referenced schema, with what the reference adds.
			for k, x := range in.inline(ref) {
				out[k] = x
			}
		}
		for k, x := range v {
			switch k {
			case "$ref", "x-kubernetes-group-version-kind":
			case "x-kubernetes-validations":
				// Built-in kinds' rules are enforced by Go code in the API
				// server, and not all of them are CEL kubegate can run.
			case "enum":
				// A built-in enum field left empty takes its default.
				out[k] = append([]any{""}, x.([]any)...)
			case "properties":
				props := map[string]any{}
				for p, s := range x.(map[string]any) {
					props[p] = in.walk(s)
				}
				out[k] = props
			case "items", "additionalProperties", "allOf", "anyOf", "oneOf", "not":
				out[k] = in.walk(x)
			default:
				out[k] = x
			}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = in.walk(x)
		}
		return out
	}
	return v
}

// patched are definitions whose published schema the API server does not
// hold objects to (kubectl-validate's schema patches, for the same
// reasons): these types decode with their own code.
var patched = map[string]map[string]any{
	// An int or a string, as the API server's own int-or-string.
	"io.k8s.apimachinery.pkg.util.intstr.IntOrString": {
		"x-kubernetes-int-or-string": true,
		"anyOf":                      []any{map[string]any{"type": "integer"}, map[string]any{"type": "string"}},
	},
	// A quantity: a number, or a string resource.ParseQuantity reads.
	"io.k8s.apimachinery.pkg.api.resource.Quantity": {
		"nullable": true,
		"anyOf":    []any{map[string]any{"type": "number"}, map[string]any{"type": "string", "format": "k8s-quantity"}},
	},
	"io.k8s.apimachinery.pkg.apis.meta.v1.Time":      {"type": "string", "format": "date-time", "nullable": true},
	"io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime": {"type": "string", "format": "date-time", "nullable": true},
	"io.k8s.apimachinery.pkg.apis.meta.v1.Duration":  {"type": "string", "nullable": true},
	// Any object: an embedded manifest (a ControllerRevision's data).
	"io.k8s.apimachinery.pkg.runtime.RawExtension": {"type": "object", "nullable": true, "x-kubernetes-preserve-unknown-fields": true},
	// Any JSON value (a CRD's defaults and examples, a schema's parts).
	"io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON":                         {"nullable": true, "x-kubernetes-preserve-unknown-fields": true},
	"io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool":        {"nullable": true, "x-kubernetes-preserve-unknown-fields": true},
	"io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray":       {"nullable": true, "x-kubernetes-preserve-unknown-fields": true},
	"io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray": {"nullable": true, "x-kubernetes-preserve-unknown-fields": true},
}

// shape is the structural schema pruning walks: properties, items,
// additionalProperties and the x-kubernetes extensions that stop it.
func shape(m map[string]any) *structuralschema.Structural {
	s := &structuralschema.Structural{}
	s.Type, _ = m["type"].(string)
	s.XPreserveUnknownFields = m["x-kubernetes-preserve-unknown-fields"] == true
	s.XEmbeddedResource = m["x-kubernetes-embedded-resource"] == true
	s.XIntOrString = m["x-kubernetes-int-or-string"] == true
	if props, ok := m["properties"].(map[string]any); ok {
		s.Properties = make(map[string]structuralschema.Structural, len(props))
		for k, p := range props {
			if pm, ok := p.(map[string]any); ok {
				s.Properties[k] = *shape(pm)
			}
		}
	}
	if items, ok := m["items"].(map[string]any); ok {
		s.Items = shape(items)
	}
	switch ap := m["additionalProperties"].(type) {
	case map[string]any:
		s.AdditionalProperties = &structuralschema.StructuralOrBool{Bool: true, Structural: shape(ap)}
	case bool:
		if ap {
			s.AdditionalProperties = &structuralschema.StructuralOrBool{Bool: true, Structural: &structuralschema.Structural{Extensions: structuralschema.Extensions{XPreserveUnknownFields: true}}}
		}
	}
	return s
}

// knownFields are the field names a structural schema allows at a path
// of the object (nil when anything goes there).
func knownFields(s *structuralschema.Structural, path []any) []string {
	s = structuralAt(s, path)
	if s == nil || s.XPreserveUnknownFields || s.AdditionalProperties != nil {
		return nil
	}
	names := make([]string, 0, len(s.Properties))
	for k := range s.Properties {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// structuralAt is the schema at a path (nil where anything goes).
func structuralAt(s *structuralschema.Structural, path []any) *structuralschema.Structural {
	for _, step := range path {
		if s == nil || s.XPreserveUnknownFields {
			return nil
		}
		switch step := step.(type) {
		case int:
			s = s.Items
		case string:
			if p, ok := s.Properties[step]; ok {
				s = &p
			} else if s.AdditionalProperties != nil {
				s = s.AdditionalProperties.Structural
			} else {
				return nil
			}
		}
	}
	return s
}

// Suggest is the known name nearest to an unknown one: the same name in
// another case, or one within a small edit distance ("" if none is).
func Suggest(name string, known []string) string {
	best, bestD := "", 0
	for _, k := range known {
		if strings.EqualFold(k, name) {
			return k
		}
		d := distance(strings.ToLower(name), strings.ToLower(k))
		limit := max(1, min(len(name), len(k))/3)
		if d <= limit && (best == "" || d < bestD) {
			best, bestD = k, d
		}
	}
	return best
}

// distance is the Levenshtein distance (insertions, deletions and
// substitutions) between two short strings.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
