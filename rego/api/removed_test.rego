package kubegate.rules.api.removed_test

import rego.v1

import data.kubegate.rules.api.removed
import data.kubegate.test.hpa_fixtures as f

# The real lifecycle table (data.kubegate.apis) with a target cluster.
check(x, minor) := v if {
	v := removed.violations with input as x with data.kubegate.cluster as {"minor": minor}
}

obj(api_version, kind) := {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}}

versioned(api_version, spec) := object.union(f.hpa("web", spec), {"apiVersion": api_version})

# PodDisruptionBudget policy/v1beta1: deprecated 1.21, removed 1.25.
test_fires_on_pdb_v1beta1_from_1_25 if {
	check(obj("policy/v1beta1", "PodDisruptionBudget"), 25) == {{
		"msg": "policy/v1beta1 PodDisruptionBudget was removed in Kubernetes 1.25, so the target cluster, 1.25 (--kube-version), does not serve it and refuses the manifest; write apiVersion: policy/v1",
		"path": ["apiVersion"],
	}}
	count(check(obj("policy/v1beta1", "PodDisruptionBudget"), 37)) == 1
}

test_passes_on_pdb_v1beta1_before_1_25 if {
	count(check(obj("policy/v1beta1", "PodDisruptionBudget"), 24)) == 0
}

test_fires_on_extensions_ingress if {
	some x in check(obj("extensions/v1beta1", "Ingress"), 22)
	contains(x.msg, "removed in Kubernetes 1.22")
	endswith(x.msg, "write apiVersion: networking.k8s.io/v1")
}

test_fires_without_a_replacement if {
	some x in check(obj("policy/v1beta1", "PodSecurityPolicy"), 29)
	endswith(x.msg, "Kubernetes 1.29 serves no other version of PodSecurityPolicy: remove it, or target a cluster that serves it")
}

# A version newer than the cluster: resource.k8s.io/v1 is served from 1.34;
# 1.33 serves v1beta1 and v1beta2 of DeviceClass.
test_fires_on_a_version_newer_than_the_cluster if {
	some x in check(obj("resource.k8s.io/v1", "DeviceClass"), 33)
	startswith(x.msg, "resource.k8s.io/v1 DeviceClass is served from Kubernetes 1.34, so the target cluster, 1.33 (--kube-version), refuses the manifest; write apiVersion: resource.k8s.io/v1beta2, or target a newer cluster")
	count(check(obj("resource.k8s.io/v1", "DeviceClass"), 34)) == 0
}

test_passes_on_served_and_unknown_versions if {
	count(check(obj("apps/v1", "Deployment"), 37)) == 0
	count(check(obj("v1", "Pod"), 29)) == 0
	count(check(obj("cert-manager.io/v1", "Certificate"), 37)) == 0
}

# autoscaling/v2beta2: removed in 1.26 (hpa.deprecated-api's case).
test_fires_on_hpa_v2beta2 if {
	check(versioned("autoscaling/v2beta2", {}), 37) == {{
		"msg": "autoscaling/v2beta2 HorizontalPodAutoscaler was removed in Kubernetes 1.26, so the target cluster, 1.37 (--kube-version), does not serve it and refuses the manifest; write apiVersion: autoscaling/v2; no other field changes (v2 has the same fields as v2beta2)",
		"path": ["apiVersion"],
	}}
	count(check(versioned("autoscaling/v2beta2", {}), 25)) == 0
}

test_fires_on_hpa_v2beta1_with_the_rewrites if {
	h := versioned("autoscaling/v2beta1", {"metrics": [
		{"type": "Resource", "resource": {"name": "cpu", "targetAverageUtilization": 70}},
		{"type": "Pods", "pods": {"metricName": "rps", "targetAverageValue": "10"}},
	]})
	some x in check(h, 25)
	endswith(x.msg, "write apiVersion: autoscaling/v2 and rewrite the metrics: spec.metrics[0].resource.targetAverageUtilization becomes target: {type: Utilization, averageUtilization: 70}; spec.metrics[1].pods.metricName becomes metric: {name: rps}; spec.metrics[1].pods.targetAverageValue becomes target: {type: AverageValue, averageValue: 10}")
}

test_fires_on_hpa_v2beta1_object_and_external_metrics if {
	h := versioned("autoscaling/v2beta1", {"metrics": [
		{"type": "Object", "object": {"target": {"kind": "Service", "name": "web"}, "metricName": "hits", "targetValue": 100}},
		{"type": "External", "external": {"metricName": "queue", "metricSelector": {"matchLabels": {"q": "jobs"}}, "targetAverageValue": "30"}},
	]})
	some x in check(h, 37)
	contains(x.msg, "spec.metrics[0].object.target becomes describedObject")
	contains(x.msg, "spec.metrics[0].object.targetValue becomes target: {type: Value, value: 100}")
	contains(x.msg, "spec.metrics[1].external.metricSelector becomes metric.selector")
}

test_passes_over_v2_style_targets_in_v2beta1 if {
	# Only an object metric's target is v2beta1's described object.
	h := versioned("autoscaling/v2beta1", {"metrics": [f.cpu_utilization(70)]})
	some x in check(h, 37)
	endswith(x.msg, "write apiVersion: autoscaling/v2")
}
