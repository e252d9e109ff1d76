# METADATA
# title: HPA uses a removed API version
# description: >-
#   autoscaling/v2beta1 was removed in Kubernetes 1.25 and
#   autoscaling/v2beta2 in 1.26: the API server no longer accepts them, so
#   the manifest cannot be applied. autoscaling/v2 (stable since 1.23) has
#   the same fields as v2beta2; from v2beta1 each metric's target moves into
#   a target block and metric names and selectors into a metric block.
# related_resources:
#   - ref: https://kubernetes.io/docs/reference/using-api/deprecation-guide/#horizontalpodautoscaler-v126
# custom:
#   kinds: [HorizontalPodAutoscaler]
#   id: hpa.deprecated-api
#   severity: error
#   fix: Write apiVersion autoscaling/v2; from v2beta1 also rewrite each metric's targetAverageUtilization, targetAverageValue, targetValue, metricName and metricSelector into the v2 target and metric blocks.
package kubegate.rules.hpa.deprecated_api

import rego.v1

removed_in := {"autoscaling/v2beta1": "1.25", "autoscaling/v2beta2": "1.26"}

violations contains {"msg": msg, "path": ["apiVersion"]} if {
	input.kind == "HorizontalPodAutoscaler"
	release := removed_in[input.apiVersion]
	msg := sprintf("apiVersion %s was removed in Kubernetes %s and is no longer served; write apiVersion: autoscaling/v2%s", [input.apiVersion, release, changes])
}

changes := "; no other field changes (v2 has the same fields as v2beta2)" if input.apiVersion == "autoscaling/v2beta2"

else := sprintf(" and rewrite the metrics: %s", [concat("; ", rewrites)]) if count(rewrites) > 0

else := "; no other field of this HPA changes"

# v2beta1 -> v2, per metric field present in the manifest.
rewrites := [r |
	some i, m in input.spec.metrics
	some field, rewrite in field_rewrites
	some source, _ in m
	is_object(m[source])
	m[source][field] != null
	applies(field, source)
	r := sprintf("spec.metrics[%d].%s.%s becomes %s", [i, source, field, replace(rewrite, "%v", value_text(m[source][field]))])
]

# What each v2beta1 field becomes in v2 (%v stands for its value).
field_rewrites := {
	"targetAverageUtilization": "target: {type: Utilization, averageUtilization: %v}",
	"targetAverageValue": "target: {type: AverageValue, averageValue: %v}",
	"targetValue": "target: {type: Value, value: %v}",
	"averageValue": "target: {type: AverageValue, averageValue: %v}",
	"metricName": "metric: {name: %v}",
	"metricSelector": "metric.selector",
	"selector": "metric.selector",
	"target": "describedObject",
}

# v2beta1's object metric names the object as target; elsewhere a target
# is already v2's.
applies("target", "object")

applies(field, _) if field != "target"

value_text(v) := v if is_string(v)

else := sprintf("%v", [v])
