package evaluate

import (
	"fmt"
	"reflect"
	"testing"
	"testing/fstest"

	"github.com/open-policy-agent/opa/v1/ast"
)

// A rule evaluated per resource reads a lookup table that the
// kubegate.index package built once from every resource.
func TestIndexCache(t *testing.T) {
	fsys := fstest.MapFS{
		"index/t.rego": {Data: []byte(`package kubegate.index

import rego.v1

config_maps_by_label[ns][v] contains name if {
	some ns, byName in data.kubegate.resources.ConfigMap
	some name, cm in byName
	v := cm.metadata.labels.app
}
`)},
		"custom/paired.rego": {Data: []byte(`# METADATA
# title: t
# description: d
# related_resources:
#   - ref: https://example.com
# custom:
#   id: custom.paired
#   severity: notice
#   fix: f
#   kinds: [Deployment]
package kubegate.rules.custom.paired

import rego.v1

violations contains {"msg": sprintf("paired with %v", [sort(names)]), "path": ["metadata"]} if {
	names := data.kubegate.cache.config_maps_by_label[input.metadata.namespace][input.metadata.name]
}
`)},
	}
	e := newEngine(t, Options{PSS: DefaultPSSModes, Policies: fsys})
	res := evaluate(t, e, loadFiles(t, map[string]string{"all.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: web-a, namespace: shop, labels: {app: web}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: web-b, namespace: shop, labels: {app: web}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: other, namespace: elsewhere, labels: {app: web}}
`}))
	got := byRule(res.Findings, "custom.paired")
	if len(got) != 1 || got[0].Message != `paired with ["web-a", "web-b"]` {
		t.Fatalf("findings %+v, errors %v", got, res.Errors)
	}
}

// The lookup tables read only parts of most resources, which are made as
// far as they are read (madeValues.indexing): the tables are the ones
// whole values make, and no part of a resource they keep is left half
// made, to be converted by concurrent evaluations (OPA hashes what it puts
// in an object, array or set, which makes it whole: this fails if an OPA
// upgrade stops doing so).
func TestIndexReadsResourcesLazily(t *testing.T) {
	keep := `package kubegate.index

import rego.v1

# Whole resources and parts of them, kept in a table.
kept_web := data.kubegate.resources.Service.shop.web

kept_services := {name: svc | some name, svc in data.kubegate.resources.Service.shop}

kept_specs := [svc.spec | some svc in data.kubegate.resources.Service.shop]

kept_ports := {p | some svc in data.kubegate.resources.Service.shop; some p in svc.spec.ports}
`
	e := newEngine(t, Options{PSS: DefaultPSSModes, UserPolicies: []PolicyDir{{Name: "policy", FS: policyFS(map[string]string{"keep.rego": keep})}}})
	resources := loadFiles(t, map[string]string{"all.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web, tier: front}}
    spec: {containers: [{name: web, image: web:1}]}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: shop}
spec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}, minReplicas: 2, maxReplicas: 4}
---
apiVersion: v1
kind: LimitRange
metadata: {name: defaults, namespace: shop}
spec: {limits: [{type: Container, default: {cpu: 500m, memory: 1Gi}, defaultRequest: {cpu: 100m}}]}
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: compute, namespace: shop}
spec: {hard: {requests.cpu: "4", limits.memory: 8Gi}}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: http}, {port: 443}]}
`})
	tables := func(indexing bool) *ast.Term {
		values := newMadeValues()
		data, err := e.planData(resources, values, nil)
		if err != nil {
			t.Fatal(err)
		}
		var rs []*ast.Term
		if indexing {
			rs, err = e.indexPlan(t.Context(), data, values)
		} else {
			rs, err = e.cachePlan.EvalData(t.Context(), nil, data)
		}
		if err != nil {
			t.Fatal(err)
		}
		if values.indexing {
			t.Fatal("still indexing after the tables were built")
		}
		return planResult(rs)
	}
	if e.cachePlan == nil {
		t.Fatal("the lookup tables have no plan")
	}
	lazy, whole := tables(true), tables(false)
	if lazy.Value.Compare(whole.Value) != 0 {
		t.Fatalf("tables made lazily:\n%v\nmade whole:\n%v", lazy, whole)
	}
	for _, name := range []string{"hpas_by_target", "workloads_by_pod_label", "limit_range_defaults", "quota_hard", "kept_web", "kept_services", "kept_specs", "kept_ports"} {
		if v := lazy.Value.(ast.Object).Get(ast.StringTerm(name)); v == nil || v.Value.(interface{ Len() int }).Len() == 0 {
			t.Errorf("table %s is empty: %v", name, v)
		}
	}
	lazyObject := reflect.TypeOf(ast.LazyObject(nil))
	var halfMade []string
	var walk func(v ast.Value)
	walk = func(v ast.Value) {
		switch v := v.(type) {
		case ast.Object:
			if reflect.TypeOf(v) == lazyObject && reflect.ValueOf(v).Elem().FieldByName("strict").IsNil() {
				halfMade = append(halfMade, fmt.Sprint(reflect.ValueOf(v).Elem().FieldByName("native")))
				return
			}
			v.Foreach(func(k, x *ast.Term) { walk(k.Value); walk(x.Value) })
		case *ast.Array:
			v.Foreach(func(x *ast.Term) { walk(x.Value) })
		case ast.Set:
			v.Foreach(func(x *ast.Term) { walk(x.Value) })
		}
	}
	walk(lazy.Value)
	if len(halfMade) > 0 {
		t.Errorf("the tables keep half-made values: %v", halfMade)
	}
}
