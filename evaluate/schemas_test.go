package evaluate

import (
	"slices"
	"strings"
	"testing"

	"github.com/kubegate/kubegate/finding"
	"github.com/kubegate/kubegate/schema"
)

func schemaEngine(t *testing.T, minor int) *Engine {
	t.Helper()
	cat, err := schema.New(minor)
	if err != nil {
		t.Fatal(err)
	}
	return newEngine(t, Options{PSS: DefaultPSSModes, Schemas: cat, KubeMinor: minor})
}

func lines(fs []finding.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Location.String()+" "+f.Field)
	}
	return out
}

// Schema findings stand on the line of the key or value at fault; the
// input's CRDs validate its custom resources; a kind without a schema is
// one notice per kind, unless api.removed says why it has none.
func TestEvaluateSchemas(t *testing.T) {
	resources := loadFiles(t, map[string]string{
		"app.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: "2"
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        resources:
          limit: {memory: 64Mi}
`,
		"crd.yaml": `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: string}}}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: a}
spec: {size: 3}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: b}
spec: {size: small}
`,
		"other.yaml": `apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: a}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: b}
---
apiVersion: apps/v1
kind: Deploymnet
metadata: {name: typo}
---
apiVersion: extensions/v1beta1
kind: Ingress
metadata: {name: old}
`,
	})
	res := evaluate(t, schemaEngine(t, 37), resources)
	for rule, want := range map[string][]string{
		RuleSchemaUnknownField.ID: {"app.yaml:14:11 spec.template.spec.containers[0].resources.limit"},
		RuleSchemaInvalidValue.ID: {"app.yaml:5:3 spec.replicas", "crd.yaml:21:8 spec.size"},
		RuleSchemaUnknownKind.ID:  {"other.yaml:2:1 kind", "other.yaml:10:1 kind"},
		"api.removed":             {"other.yaml:13:1 apiVersion"},
	} {
		if got := lines(byRule(res.Findings, rule)); !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q", rule, got, want)
		}
	}
	for _, f := range byRule(res.Findings, RuleSchemaUnknownKind.ID) {
		if f.Resource.Kind == "Deploymnet" && !strings.Contains(f.Message, "did you mean Deployment?") {
			t.Errorf("misspelt kind: %s", f.Message)
		}
		if f.Severity != finding.Notice {
			t.Errorf("%s: severity %v", f.Rule, f.Severity)
		}
	}
	if len(res.Errors) > 0 {
		t.Errorf("input errors: %v", res.Errors)
	}
	// The rules other than schema.* still see the mistyped Deployment.
	if len(byRule(res.Findings, "resources.memory-limit-missing")) != 1 {
		t.Errorf("memory-limit-missing: %v", lines(byRule(res.Findings, "resources.memory-limit-missing")))
	}
}

// The api.* rules follow --kube-version: PodDisruptionBudget policy/v1beta1
// is deprecated from 1.21 and removed in 1.25.
func TestEvaluateAPIVersions(t *testing.T) {
	resources := loadFiles(t, map[string]string{"pdb.yaml": `apiVersion: policy/v1beta1
kind: PodDisruptionBudget
metadata: {name: web}
spec: {minAvailable: 1, selector: {matchLabels: {app: web}}}
`})
	for minor, want := range map[int]string{29: "api.removed", 25: "api.removed", 24: "api.deprecated", 21: "api.deprecated", 20: ""} {
		res := evaluate(t, schemaEngine(t, minor), resources)
		var got []string
		for _, f := range res.Findings {
			if strings.HasPrefix(f.Rule, "api.") {
				got = append(got, f.Rule)
			}
		}
		if (want == "" && len(got) > 0) || (want != "" && !slices.Equal(got, []string{want})) {
			t.Errorf("1.%d: %v, want %q", minor, got, want)
		}
		// No schema.unknown-kind: the api.* rules say why.
		if n := len(byRule(res.Findings, RuleSchemaUnknownKind.ID)); n > 0 {
			t.Errorf("1.%d: %d schema.unknown-kind", minor, n)
		}
	}
}

// A CRD without a group defines nothing (its own schema findings say
// why); a CRD whose schema cannot be used is an input error naming it, at
// each of its resources, which are then not validated.
func TestEvaluateBrokenCRDs(t *testing.T) {
	resources := loadFiles(t, map[string]string{"crd.yaml": `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: things.example.com}
spec:
  group: example.com
  names: {kind: Thing, plural: things}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer, minimum: "x"}
---
apiVersion: example.com/v1
kind: Thing
metadata: {name: t}
spec: {size: 3}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: nogroup}
spec:
  names: {kind: Nope}
`})
	res := evaluate(t, schemaEngine(t, 37), resources)
	if len(res.Errors) != 1 || res.Errors[0].Line != 21 || !strings.Contains(res.Errors[0].Message, "Thing t: CustomResourceDefinition things.example.com has an openAPIV3Schema the API server would not accept") {
		t.Errorf("input errors %v", res.Errors)
	}
	if got := lines(byRule(res.Findings, RuleSchemaInvalidValue.ID)); !slices.Contains(got, "crd.yaml:29:1 spec.group") {
		t.Errorf("the group-less CRD: %q", got)
	}
}
