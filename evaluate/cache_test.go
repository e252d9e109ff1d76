package evaluate

import (
	"testing"
	"testing/fstest"
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
