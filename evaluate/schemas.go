package evaluate

// Schemas: each resource against its kind's schema (package schema), as
// findings on the line of the offending key or value.

import (
	"fmt"
	"slices"

	"github.com/kubegate/kubegate/finding"
	"github.com/kubegate/kubegate/load"
	"github.com/kubegate/kubegate/schema"
)

// checkSchemas validates every resource against the catalog, with the
// CRDs of the input added to it.
func (e *Engine) checkSchemas(resources []*load.Resource) ([]finding.Finding, []finding.InputError) {
	var crds []map[string]any
	for _, r := range resources {
		gvk := gvkOf(r)
		if gvk.Group == "apiextensions.k8s.io" && gvk.Kind == "CustomResourceDefinition" {
			crds = append(crds, r.Object)
		}
	}
	// A CRD without a group or kind defines nothing; its own schema
	// findings (spec.group is required...) say so on its lines.
	cat, _ := e.opts.Schemas.With(crds)
	var inputErrs []finding.InputError
	type result struct {
		problems []schema.Problem
		known    bool
		err      error
	}
	results := make([]result, len(resources))
	e.parallel(len(resources), func(i int) {
		defer func() {
			if p := recover(); p != nil {
				results[i] = result{known: true, err: fmt.Errorf("internal error while validating the schema (please report it): %v", p)}
			}
		}()
		ps, known, err := cat.Validate(resources[i].Object)
		results[i] = result{ps, known, err}
	})
	var findings []finding.Finding
	unknownKinds := map[schema.GVK]bool{}
	for i, r := range resources {
		res := results[i]
		if res.err != nil {
			loc := r.Locate(nil)
			x := finding.InputError{File: loc.File, Line: loc.Line, Message: fmt.Sprintf("%s: %v", r.ID(), res.err)}
			if !slices.Contains(inputErrs, x) {
				inputErrs = append(inputErrs, x)
			}
			continue
		}
		if !res.known {
			gvk := gvkOf(r)
			if unknownKinds[gvk] || gvk.Kind == "" || gvk.Version == "" {
				continue
			}
			unknownKinds[gvk] = true
			if msg, ok := unknownKindMessage(cat, gvk); ok {
				loc, also := r.Where(load.Path{"kind"})
				findings = append(findings, finding.Finding{
					Rule: RuleSchemaUnknownKind.ID, Severity: RuleSchemaUnknownKind.Severity, Message: msg,
					Resource: r.ID(), Field: "kind", Location: loc, Related: also,
				})
			}
			continue
		}
		for _, p := range res.problems {
			rule := RuleSchemaInvalidValue
			if p.Unknown {
				rule = RuleSchemaUnknownField
			}
			path := load.Path(p.Path)
			loc, also := r.Where(path)
			findings = append(findings, finding.Finding{
				Rule: rule.ID, Severity: rule.Severity, Message: p.Message,
				Resource: r.ID(), Field: path.String(), Location: loc, Related: also,
			})
		}
	}
	return findings, inputErrs
}

func gvkOf(r *load.Resource) schema.GVK {
	apiVersion, _ := r.Object["apiVersion"].(string)
	kind, _ := r.Object["kind"].(string)
	return schema.ParseGVK(apiVersion, kind)
}

// unknownKindMessage explains why a kind has no schema, or is false when
// api.removed and api.deprecated already say why (a built-in kind at a
// version the target cluster does not serve).
func unknownKindMessage(cat *schema.Catalog, gvk schema.GVK) (string, bool) {
	if !cat.BuiltinGroup(gvk.Group) {
		return fmt.Sprintf("no schema is known for %s %s, so its fields are not validated: add its CustomResourceDefinition (or a JSON schema) with --schema DIR, or include the CRD in the input", gvk.APIVersion(), gvk.Kind), true
	}
	if kinds, ok := schema.Lifecycle()[gvk.APIVersion()]; ok {
		if _, ok := kinds[gvk.Kind]; ok {
			return "", false // api.removed: not served by the target
		}
		// A Kubernetes group version without this kind: a misspelling?
		var names []string
		for k := range kinds {
			names = append(names, k)
		}
		slices.Sort(names)
		msg := fmt.Sprintf("Kubernetes has no kind %s in %s, so the API server rejects it", gvk.Kind, gvk.APIVersion())
		if s := schema.Suggest(gvk.Kind, names); s != "" {
			msg += fmt.Sprintf(": did you mean %s?", s)
		}
		return msg, true
	}
	if cat.BuiltinAnywhere(gvk) {
		return "", false // served by other versions: api.* rules
	}
	return fmt.Sprintf("Kubernetes serves no %s (its group has no version %s kubegate knows), so the API server rejects it unless an aggregated API adds it", gvk.APIVersion(), gvk.Version), true
}
