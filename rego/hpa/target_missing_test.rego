package kubegate.rules.hpa.target_missing_test

import rego.v1

import data.kubegate.rules.hpa.target_missing
import data.kubegate.test.hpa_fixtures as f

check(x, objs) := v if {
	v := target_missing.violations with input as x
		with data.kubegate.resources as f.resources(objs)
		with data.kubegate.cache as f.cache(objs)
}

name_field := ["spec", "scaleTargetRef", "name"]

test_fires_when_target_absent if {
	h := f.hpa("web", {})
	check(h, [h]) == {{
		"msg": "HorizontalPodAutoscaler \"web\" scales Deployment \"web\", which is not among the resources checked in namespace \"shop\"; fix spec.scaleTargetRef (kind and name), or add Deployment \"web\"",
		"path": name_field,
	}}
}

test_fires_and_lists_workloads_of_that_kind if {
	h := f.hpa("web", {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web-v2"}})
	v := check(h, [h, f.deployment("web", {}), f.deployment("api", {})])
	v == {{
		"msg": "HorizontalPodAutoscaler \"web\" scales Deployment \"web-v2\", which is not among the resources checked in namespace \"shop\"; set spec.scaleTargetRef.name to one of the Deployments of this namespace (\"api\", \"web\"), or add Deployment \"web-v2\"",
		"path": name_field,
	}}
}

test_fires_when_target_in_another_namespace if {
	h := f.hpa("web", {})
	v := check(h, [h, f.in_namespace(f.deployment("web", {}), "shop-prod")])
	v == {{
		"msg": "HorizontalPodAutoscaler \"web\" scales Deployment \"web\", which is not among the resources checked in namespace \"shop\"; an HPA scales a workload of its own namespace only: move the HPA to namespace \"shop-prod\", or the Deployment into namespace \"shop\"",
		"path": name_field,
	}}
}

test_fires_when_kind_differs if {
	h := f.hpa("web", {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web"}})
	{x.path | some x in check(h, [h, f.deployment("web", {})])} == {name_field}
}

test_fires_on_missing_custom_resource if {
	h := f.hpa("web", {"scaleTargetRef": {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": "web"}})
	count(check(h, [h])) == 1
}

test_fires_on_autoscaling_v1 if {
	h := object.union(f.hpa("web", {}), {"apiVersion": "autoscaling/v1"})
	count(check(h, [h])) == 1
}

test_passes_when_target_present if {
	h := f.hpa("web", {})
	count(check(h, [h, f.deployment("web", {})])) == 0
}

test_passes_when_both_without_namespace if {
	h := json.remove(f.hpa("web", {}), ["metadata/namespace"])
	d := json.remove(f.deployment("web", {}), ["metadata/namespace"])
	count(check(h, [h, d])) == 0
}

test_passes_when_custom_resource_present if {
	h := f.hpa("web", {"scaleTargetRef": {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": "web"}})
	rollout := {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "web", "namespace": "shop"}}
	count(check(h, [h, rollout])) == 0
}

test_passes_on_unscalable_kinds if {
	# hpa.target-not-scalable reports those.
	h := f.hpa("web", {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "agent"}})
	count(check(h, [h])) == 0
}

test_passes_on_other_kinds if {
	d := f.deployment("web", {})
	count(check(d, [d])) == 0
}

test_passes_when_either_side_has_no_namespace if {
	h := f.hpa("web", {})
	count(check(h, [h, json.remove(f.deployment("web", {}), ["metadata/namespace"])])) == 0
	g := json.remove(h, ["metadata/namespace"])
	count(check(g, [g, f.deployment("web", {})])) == 0
}

test_fires_when_namespaceless_hpa_is_ambiguous if {
	g := json.remove(f.hpa("web", {}), ["metadata/namespace"])
	v := check(g, [g, f.deployment("web", {}), f.in_namespace(f.deployment("web", {}), "other")])
	v == {{
		"msg": "HorizontalPodAutoscaler \"web\" scales Deployment \"web\", which is not among the resources checked; an HPA scales a workload of its own namespace only: move the HPA to namespace \"other\" or \"shop\", or the Deployment into the HPA's namespace",
		"path": name_field,
	}}
}
