package schema

import (
	"context"
	"strings"

	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
)

// celValidator runs a custom resource's x-kubernetes-validations with the
// apiextensions-apiserver's own CEL validator, within the API server's
// cost budget for one object.
type celValidator interface {
	validate(obj map[string]any) []Problem
}

type celRules struct {
	s *structuralschema.Structural
	v *cel.Validator
}

func newCEL(s *structuralschema.Structural) celValidator {
	v := cel.NewValidator(s, true, celconfig.PerCallLimit)
	if v == nil {
		return nil // no rules
	}
	return &celRules{s: s, v: v}
}

func (r *celRules) validate(obj map[string]any) []Problem {
	errs, _ := r.v.Validate(context.Background(), nil, r.s, obj, nil, celconfig.RuntimeCELCostBudget)
	var out []Problem
	for _, e := range errs {
		msg := e.Detail
		if msg == "" {
			msg = e.ErrorBody()
		}
		field := strings.TrimPrefix(e.Field, "<nil>")
		if field != "" {
			msg = field + ": " + msg
		}
		out = append(out, Problem{Path: resolvePath(obj, field), Message: msg + " (a rule of its CustomResourceDefinition)"})
	}
	return out
}
