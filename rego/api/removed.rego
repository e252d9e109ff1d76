# METADATA
# title: API version not served
# description: >-
#   The target cluster (--kube-version) does not serve this apiVersion of
#   the kind: it was removed (policy/v1beta1 PodDisruptionBudget in 1.25,
#   autoscaling/v2beta2 HorizontalPodAutoscaler in 1.26), or it is newer than
#   the cluster. The API server refuses the manifest ("no matches for kind"),
#   so the change fails at deploy time. The versions come from the upstream
#   prerelease-lifecycle markers of k8s.io/api, not from a hand-kept list.
#   This rule replaces hpa.deprecated-api, which still names it in
#   configurations and exceptions.
# related_resources:
#   - ref: https://kubernetes.io/docs/reference/using-api/deprecation-guide/
# custom:
#   id: api.removed
#   severity: error
#   fix: Write the apiVersion the message names (kubectl convert, or the deprecation guide, lists the field changes); from autoscaling/v2beta1, also rewrite the metrics as the message says.
package kubegate.rules.api.removed

import rego.v1

import data.kubegate.lib.apis

violations contains {"msg": msg, "path": ["apiVersion"]} if {
	apis.removed
	msg := sprintf("%s %s was removed in Kubernetes 1.%d, so the target cluster, 1.%d (--kube-version), does not serve it and refuses the manifest; %s%s", [input.apiVersion, input.kind, apis.lifecycle.removed, apis.target, apis.instead, changes])
}

violations contains {"msg": msg, "path": ["apiVersion"]} if {
	apis.not_yet_served
	msg := sprintf("%s %s is served from Kubernetes 1.%d, so the target cluster, 1.%d (--kube-version), refuses the manifest; %s, or target a newer cluster", [input.apiVersion, input.kind, apis.lifecycle.introduced, apis.target, apis.instead])
}

# What else changes, where the versions differ in more than the name.
changes := "; no other field changes (v2 has the same fields as v2beta2)" if {
	input.kind == "HorizontalPodAutoscaler"
	input.apiVersion == "autoscaling/v2beta2"
} else := sprintf(" and rewrite the metrics: %s", [concat("; ", rewrites)]) if {
	input.kind == "HorizontalPodAutoscaler"
	input.apiVersion == "autoscaling/v2beta1"
	count(rewrites) > 0
} else := ""

# autoscaling/v2beta1 -> v2, per metric field present in the manifest.
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
