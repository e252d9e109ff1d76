package kubegate.rules.hpa.multiple_hpa_test

import rego.v1

import data.kubegate.rules.hpa.multiple_hpa
import data.kubegate.test.hpa_fixtures as f

check(x, objs) := v if {
	v := multiple_hpa.violations with input as x
		with data.kubegate.resources as f.resources(objs)
		with data.kubegate.cache as f.cache(objs)
}

cpu := f.hpa("web-cpu", {})

memory := f.hpa("web-memory", {"metrics": [f.memory_utilization(80)]})

test_fires_on_each_hpa_of_a_shared_target if {
	objs := [cpu, memory, f.deployment("web", {})]
	check(cpu, objs) == {{
		"msg": "HorizontalPodAutoscaler \"web-cpu\" scales Deployment \"web\", and so does HorizontalPodAutoscaler \"web-memory\"; the HPA controller refuses to scale pods that several HPAs control (AmbiguousSelector), so none of them scales it; merge them into one HPA that lists all their metrics under spec.metrics",
		"path": ["spec", "scaleTargetRef", "name"],
	}}
	{x.path | some x in check(memory, objs)} == {["spec", "scaleTargetRef", "name"]}
}

test_fires_across_api_versions_and_missing_targets if {
	v1 := object.union(f.hpa("web-v1", {}), {"apiVersion": "autoscaling/v1"})
	v := check(v1, [cpu, memory, v1])
	some x in v
	contains(x.msg, "and so do HorizontalPodAutoscaler \"web-cpu\", HorizontalPodAutoscaler \"web-memory\";")
}

test_passes_with_one_hpa if {
	count(check(cpu, [cpu, f.deployment("web", {})])) == 0
}

test_passes_on_different_targets if {
	api := f.hpa("api", {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api"}})
	count(check(cpu, [cpu, api])) == 0
	sts := f.hpa("web-sts", {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web"}})
	count(check(cpu, [cpu, sts])) == 0
}

test_passes_on_same_target_name_in_another_namespace if {
	count(check(cpu, [cpu, f.in_namespace(memory, "other")])) == 0
}

test_passes_on_unscalable_targets if {
	ref := {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "agent"}}
	a := f.hpa("a", ref)
	count(check(a, [a, f.hpa("b", ref)])) == 0
}
