package kubegate.rules.hpa.deprecated_api_test

import rego.v1

import data.kubegate.rules.hpa.deprecated_api
import data.kubegate.test.hpa_fixtures as f

check(x) := v if {
	v := deprecated_api.violations with input as x
}

versioned(api_version, spec) := object.union(f.hpa("web", spec), {"apiVersion": api_version})

test_fires_on_v2beta2 if {
	check(versioned("autoscaling/v2beta2", {})) == {{
		"msg": "apiVersion autoscaling/v2beta2 was removed in Kubernetes 1.26 and is no longer served; write apiVersion: autoscaling/v2; no other field changes (v2 has the same fields as v2beta2)",
		"path": ["apiVersion"],
	}}
}

test_fires_on_v2beta1_with_the_rewrites if {
	h := versioned("autoscaling/v2beta1", {"metrics": [
		{"type": "Resource", "resource": {"name": "cpu", "targetAverageUtilization": 70}},
		{"type": "Pods", "pods": {"metricName": "rps", "targetAverageValue": "10"}},
	]})
	check(h) == {{
		"msg": "apiVersion autoscaling/v2beta1 was removed in Kubernetes 1.25 and is no longer served; write apiVersion: autoscaling/v2 and rewrite the metrics: spec.metrics[0].resource.targetAverageUtilization becomes target: {type: Utilization, averageUtilization: 70}; spec.metrics[1].pods.metricName becomes metric: {name: rps}; spec.metrics[1].pods.targetAverageValue becomes target: {type: AverageValue, averageValue: 10}",
		"path": ["apiVersion"],
	}}
}

test_fires_on_v2beta1_object_and_external_metrics if {
	h := versioned("autoscaling/v2beta1", {"metrics": [
		{"type": "Object", "object": {"target": {"kind": "Service", "name": "web"}, "metricName": "hits", "targetValue": 100}},
		{"type": "External", "external": {"metricName": "queue", "metricSelector": {"matchLabels": {"q": "jobs"}}, "targetAverageValue": "30"}},
	]})
	some x in check(h)
	contains(x.msg, "spec.metrics[0].object.target becomes describedObject")
	contains(x.msg, "spec.metrics[0].object.targetValue becomes target: {type: Value, value: 100}")
	contains(x.msg, "spec.metrics[1].external.metricSelector becomes metric.selector")
}

test_fires_on_v2beta1_without_metrics if {
	some x in check(json.remove(versioned("autoscaling/v2beta1", {}), ["spec/metrics"]))
	endswith(x.msg, "write apiVersion: autoscaling/v2; no other field of this HPA changes")
}

test_passes_on_current_versions if {
	count(check(f.hpa("web", {}))) == 0
	count(check(versioned("autoscaling/v1", {}))) == 0
}

test_passes_on_other_kinds if {
	count(check({"apiVersion": "autoscaling/v2beta1", "kind": "Deployment"})) == 0
}

test_passes_over_v2_style_targets_in_v2beta1 if {
	# Only an object metric's target is v2beta1's described object.
	h := versioned("autoscaling/v2beta1", {"metrics": [f.cpu_utilization(70)]})
	some x in check(h)
	endswith(x.msg, "write apiVersion: autoscaling/v2; no other field of this HPA changes")
}
