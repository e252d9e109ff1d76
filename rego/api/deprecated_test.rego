package kubegate.rules.api.deprecated_test

import rego.v1

import data.kubegate.rules.api.deprecated

check(x, minor) := v if {
	v := deprecated.violations with input as x with data.kubegate.cluster as {"minor": minor}
}

obj(api_version, kind) := {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}}

# PodDisruptionBudget policy/v1beta1: deprecated 1.21, removed 1.25.
test_fires_on_pdb_v1beta1_from_1_21_to_1_24 if {
	check(obj("policy/v1beta1", "PodDisruptionBudget"), 21) == {{
		"msg": "policy/v1beta1 PodDisruptionBudget is deprecated since Kubernetes 1.21 and no longer served from 1.25; write apiVersion: policy/v1",
		"path": ["apiVersion"],
	}}
	count(check(obj("policy/v1beta1", "PodDisruptionBudget"), 24)) == 1
}

test_passes_before_deprecation_and_after_removal if {
	count(check(obj("policy/v1beta1", "PodDisruptionBudget"), 20)) == 0
	# From 1.25 it is api.removed's.
	count(check(obj("policy/v1beta1", "PodDisruptionBudget"), 25)) == 0
}

test_fires_on_flowcontrol_v1beta3 if {
	some x in check(obj("flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema"), 29)
	x.msg == "flowcontrol.apiserver.k8s.io/v1beta3 FlowSchema is deprecated since Kubernetes 1.29 and no longer served from 1.32; write apiVersion: flowcontrol.apiserver.k8s.io/v1"
}

test_passes_on_stable_versions if {
	count(check(obj("apps/v1", "Deployment"), 37)) == 0
	count(check(obj("policy/v1", "PodDisruptionBudget"), 37)) == 0
}
