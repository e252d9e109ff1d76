package schema

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"
	"sync"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/kube-openapi/pkg/validation/strfmt"
	"k8s.io/kube-openapi/pkg/validation/validate"
)

// customSchema is the openAPIV3Schema of one served version of a CRD, or
// a JSON schema file for a kind.
type customSchema struct {
	from  string // "CustomResourceDefinition certificates.cert-manager.io", or a file
	props map[string]any
}

// addCRD adds the schema of each version of a CustomResourceDefinition
// (apiextensions.k8s.io/v1, or v1beta1 with its shared validation).
func (c *Catalog) addCRD(crd map[string]any) error {
	name := str(dig(crd, "metadata", "name"))
	from := "CustomResourceDefinition " + name
	group := str(dig(crd, "spec", "group"))
	kind := str(dig(crd, "spec", "names", "kind"))
	if group == "" || kind == "" {
		return fmt.Errorf("%s: no spec.group or spec.names.kind", from)
	}
	shared, _ := dig(crd, "spec", "validation", "openAPIV3Schema").(map[string]any)
	versions, _ := dig(crd, "spec", "versions").([]any)
	if v := str(dig(crd, "spec", "version")); v != "" && len(versions) == 0 {
		versions = []any{map[string]any{"name": v}}
	}
	for _, v := range versions {
		vm, _ := v.(map[string]any)
		version := str(vm["name"])
		if version == "" {
			continue
		}
		props, _ := dig(vm, "schema", "openAPIV3Schema").(map[string]any)
		if props == nil {
			props = shared
		}
		if props == nil {
			// No schema: anything goes, as the API server allows.
			props = map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}
		}
		c.custom[GVK{Group: group, Version: version, Kind: kind}] = &customSchema{from: from, props: props}
	}
	return nil
}

// AddSchemaFile adds a JSON schema for one kind, from a file laid out as
// the CRDs-catalog and kubeconform lay them out:
// <group>/<kind>_<version>.json (the kind in lower case), holding the
// openAPIV3Schema of that version.
func (c *Catalog) AddSchemaFile(rel string, data []byte) error {
	group := path.Base(path.Dir(rel))
	base := strings.TrimSuffix(path.Base(rel), ".json")
	kind, version, ok := strings.Cut(base, "_")
	if !ok || group == "." || group == "" {
		return fmt.Errorf("%s: a JSON schema file is named <group>/<kind>_<version>.json", rel)
	}
	var props map[string]any
	if err := json.Unmarshal(data, &props); err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	// The file names the kind in lower case; the schema's own
	// x-kubernetes-group-version-kind or the input decides its spelling.
	c.lowerCustom(group, version, kind, &customSchema{from: rel, props: props})
	return nil
}

// lowerCustom keeps schemas named by lower-case kind apart, matched when
// looked up.
func (c *Catalog) lowerCustom(group, version, kind string, s *customSchema) {
	c.custom[GVK{Group: group, Version: version, Kind: "\x00" + strings.ToLower(kind)}] = s
}

// customFor is the custom schema of gvk, by kind or lower-case kind.
func (c *Catalog) customFor(gvk GVK) *customSchema {
	if s, ok := c.custom[gvk]; ok {
		return s
	}
	lower := gvk
	lower.Kind = "\x00" + strings.ToLower(gvk.Kind)
	return c.custom[lower]
}

// customValidator validates with the apiextensions-apiserver's own
// conversion of the schema: its structural schema for pruning and CEL, its
// OpenAPI schema for values.
func (c *Catalog) customValidator(cs *customSchema) *kindValidator {
	v := &kindValidator{formats: strfmt.Default}
	v.meta = c.metaShape()
	data, err := json.Marshal(cs.props)
	var v1 apiextensionsv1.JSONSchemaProps
	if err == nil {
		err = json.Unmarshal(data, &v1)
	}
	var props apiextensions.JSONSchemaProps
	if err == nil {
		err = apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(&v1, &props, nil)
	}
	if err != nil {
		v.err = fmt.Errorf("%s has an openAPIV3Schema the API server would not accept, so its resources are not validated: %w", cs.from, err)
		return v
	}
	s, err := structuralschema.NewStructural(&props)
	if err != nil {
		// Not structural (an old v1beta1 CRD): values are still checked,
		// fields are not.
		s = &structuralschema.Structural{Extensions: structuralschema.Extensions{XPreserveUnknownFields: true}}
	}
	v.structural = s
	_, openapi, err := apiservervalidation.NewSchemaValidator(&props)
	if err != nil {
		v.err = fmt.Errorf("%s has an openAPIV3Schema the API server would not accept, so its resources are not validated: %w", cs.from, err)
		return v
	}
	v.values = validate.NewSchemaValidator(openapi, nil, "", v.formats)
	v.cel = newCEL(s)
	return v
}

func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

//go:embed apis.json
var apisJSON []byte

// APILifecycle is when Kubernetes introduced, deprecated and removed a
// built-in kind at one API version (minors of 1.x; 0 when not marked),
// and what replaces it (an apiVersion, with a kind when it differs).
type APILifecycle struct {
	Introduced  int    `json:"introduced,omitempty"`
	Deprecated  int    `json:"deprecated,omitempty"`
	Removed     int    `json:"removed,omitempty"`
	Replacement string `json:"replacement,omitempty"`
}

// Lifecycle is the upstream lifecycle markers of every built-in kind,
// by apiVersion and kind (generated into apis.json).
var Lifecycle = sync.OnceValue(func() map[string]map[string]APILifecycle {
	var t map[string]map[string]APILifecycle
	if err := json.Unmarshal(apisJSON, &t); err != nil {
		panic("schema: apis.json: " + err.Error()) // generated and tested
	}
	return t
})

// ServedAPIVersions is what the discovery of a Kubernetes 1.target
// cluster lists, as Helm's .Capabilities.APIVersions holds it: each
// group/version it serves by default and each group/version/Kind. Built-in
// kinds come from the embedded schemas of that minor (from 1.29) and from
// the lifecycle markers (for older minors and removed versions); alpha
// versions, off by default, are left out.
func ServedAPIVersions(target int) []string {
	set := map[string]bool{}
	add := func(apiVersion, kind string) {
		if strings.Contains(apiVersion, "alpha") {
			return
		}
		set[apiVersion] = true
		set[apiVersion+"/"+kind] = true
	}
	if b, err := embeddedBuiltins(); err == nil && target >= b.versions[0] && target <= b.versions[len(b.versions)-1] {
		for k, def := range b.kinds[target] {
			// DeleteOptions and WatchEvent name every group version,
			// served or not.
			if !strings.HasSuffix(k.Kind, "List") && !strings.HasPrefix(def, "io.k8s.apimachinery.") {
				add(k.APIVersion(), k.Kind)
			}
		}
	}
	for apiVersion, kinds := range Lifecycle() {
		for kind, lc := range kinds {
			if lc.Introduced <= target && (lc.Removed == 0 || lc.Removed > target) {
				add(apiVersion, kind)
			}
		}
	}
	out := make([]string, 0, len(set))
	for v := range set {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}
