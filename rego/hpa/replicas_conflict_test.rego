package kubegate.rules.hpa.replicas_conflict_test

import rego.v1

import data.kubegate.rules.hpa.replicas_conflict
import data.kubegate.test.hpa_fixtures as f

check(x, objs) := v if {
	v := replicas_conflict.violations with input as x
		with data.kubegate.resources as f.resources(objs)
		with data.kubegate.cache as f.cache(objs)
}

with_replicas := f.deployment("web", {"replicas": 3})

test_fires_when_autoscaled_workload_sets_replicas if {
	h := f.hpa("web", {})
	check(with_replicas, [h, with_replicas]) == {{
		"msg": "spec.replicas is 3, but HorizontalPodAutoscaler \"web\" also scales this Deployment (between 2 and 10 replicas): every apply resets the replicas to 3 and undoes the HPA's scaling until it reacts again; remove spec.replicas and let the HPA own the replica count",
		"path": ["spec", "replicas"],
	}}
}

test_fires_with_default_min_replicas if {
	h := json.remove(f.hpa("web", {}), ["spec/minReplicas"])
	some x in check(with_replicas, [h, with_replicas])
	contains(x.msg, "(between 1 and 10 replicas)")
}

test_fires_on_statefulset_and_v1_hpa if {
	sts := object.union(with_replicas, {"kind": "StatefulSet"})
	h := object.union(f.hpa("web", {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web"}}), {"apiVersion": "autoscaling/v1"})
	{x.path | some x in check(sts, [h, sts])} == {["spec", "replicas"]}
}

test_fires_on_zero_replicas if {
	d := f.deployment("web", {"replicas": 0})
	count(check(d, [f.hpa("web", {}), d])) == 1
}

test_fires_once_naming_every_hpa if {
	v := check(with_replicas, [f.hpa("web-cpu", {}), f.hpa("web-memory", {}), with_replicas])
	v == {{
		"msg": "spec.replicas is 3, but HorizontalPodAutoscalers \"web-cpu\", \"web-memory\" also scale this Deployment: every apply resets the replicas to 3 and undoes the HPA's scaling until it reacts again; remove spec.replicas and let the HPA own the replica count",
		"path": ["spec", "replicas"],
	}}
}

test_passes_without_replicas if {
	d := f.deployment("web", {})
	count(check(d, [f.hpa("web", {}), d])) == 0
}

test_passes_without_hpa if {
	count(check(with_replicas, [with_replicas])) == 0
}

test_passes_when_hpa_targets_something_else if {
	other := f.hpa("web", {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api"}})
	count(check(with_replicas, [other, with_replicas])) == 0
	sts := f.hpa("web", {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web"}})
	count(check(with_replicas, [sts, with_replicas])) == 0
}

test_passes_when_hpa_in_another_namespace if {
	h := f.in_namespace(f.hpa("web", {}), "other")
	count(check(with_replicas, [h, with_replicas])) == 0
}
