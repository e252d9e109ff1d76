package evaluate

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/kubegate/kubegate/load"
)

// A user's policy may read data.kubegate.resources in every way Rego
// allows (a scan of a namespace for each resource, a lookup with
// object.get, a namespace compared whole or handed to a built-in): the
// plan evaluator, whose resources there are lazy values, finds what
// topdown finds.
func TestUserPolicyReadsResources(t *testing.T) {
	const policy = `package main

import rego.v1

deny contains msg if {
	input.kind == "Service"
	count(selected) == 0
	msg := sprintf("Service %s selects no Deployment", [input.metadata.name])
}

selected contains name if {
	some name, d in data.kubegate.resources.Deployment[input.metadata.namespace]
	d.spec.template.metadata.labels.app == input.spec.selector.app
}

warn contains msg if {
	input.kind == "HorizontalPodAutoscaler"
	target := object.get(data.kubegate.resources, [input.spec.scaleTargetRef.kind, input.metadata.namespace, input.spec.scaleTargetRef.name], null)
	target.spec.replicas
	msg := sprintf("%s sets replicas, which the HPA overrides", [target.metadata.name])
}

warn contains msg if {
	input.kind == "Namespace"
	deployments := object.get(data.kubegate.resources.Deployment, input.metadata.name, {})
	count(deployments) > 1
	msg := sprintf("%s: %s", [input.metadata.name, json.marshal(sort(object.keys(deployments)))])
}
`
	var docs []string
	for i := range 30 {
		ns := fmt.Sprintf("team%d", i%3)
		docs = append(docs,
			fmt.Sprintf("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app%d, namespace: %s}\nspec:\n  replicas: %d\n  template:\n    metadata: {labels: {app: app%d}}\n    spec:\n      containers: [{name: c, image: nginx:1.27}]", i, ns, i%2, i),
			fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata: {name: svc%d, namespace: %s}\nspec:\n  selector: {app: app%d}", i, ns, i+i%2),
			fmt.Sprintf("apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: hpa%d, namespace: %s}\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: app%d}\n  minReplicas: 1\n  maxReplicas: 3", i, ns, i))
	}
	for i := range 3 {
		docs = append(docs, fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata: {name: team%d}", i))
	}
	resources := loadFiles(t, map[string]string{"all.yaml": strings.Join(docs, "\n---\n")})
	opts := Options{PSS: DefaultPSSModes, UserPolicies: []PolicyDir{{Name: "policy", FS: policyFS(map[string]string{"p.rego": policy})}}}
	plan := newEngine(t, opts)
	opts.Evaluator = EvaluatorTopdown
	topdown := newEngine(t, opts)
	want, err := topdown.Evaluate(context.Background(), resources, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := plan.Evaluate(context.Background(), resources, nil)
	if err != nil {
		t.Fatal(err)
	}
	sameResults(t, "user policy over data.kubegate.resources", want, got)
	if n, w := len(byRule(got.Findings, "main.deny")), len(byRule(got.Findings, "main.warn")); n != 15 || w != 33 {
		t.Errorf("%d main.deny and %d main.warn findings, want 15 (the odd Services) and 33 (30 HPAs and 3 namespaces)", n, w)
	}
}

// madeValues keeps what policies look up, up to madeValuesKept values,
// and an input already looked up is not made again; an input alone is
// not kept.
func TestMadeValues(t *testing.T) {
	resources := loadFiles(t, map[string]string{"a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n"})
	a, b := resources[0], resources[1]
	m := newMadeValues()
	first := m.of(a)
	if first == nil || m.of(a) != first || m.input(a) != first {
		t.Errorf("a value looked up is made again")
	}
	if m.input(b) == m.input(b) || m.kept.Contains(b) {
		t.Errorf("an input alone is kept")
	}
	// Once madeValuesKept other values are looked up, a's is made again.
	for range madeValuesKept {
		m.kept.Add(&load.Resource{}, first)
	}
	if m.kept.Len() > madeValuesKept || m.of(a) == first {
		t.Errorf("%d values kept, and a's still among them", m.kept.Len())
	}
}
