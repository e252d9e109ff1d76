package kubegate.rules.hpa.pdb_blocks_eviction_test

import rego.v1

import data.kubegate.rules.hpa.pdb_blocks_eviction
import data.kubegate.test.hpa_fixtures as f

check(x, objs) := v if {
	v := pdb_blocks_eviction.violations with input as x
		with data.kubegate.resources as f.resources(objs)
		with data.kubegate.cache as f.cache(objs)
}

pdb(spec) := selecting({"matchLabels": {"app": "web"}}, spec)

selecting(selector, spec) := {
	"apiVersion": "policy/v1",
	"kind": "PodDisruptionBudget",
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": object.union(spec, {"selector": selector}),
}

# Deployment "web" scaled by HPA "web" between min and 10.
app(min) := [f.hpa("web", {"minReplicas": min}), f.deployment("web", {})]

min_available := ["spec", "minAvailable"]

max_unavailable := ["spec", "maxUnavailable"]

paths(v) := {x.path | some x in v}

test_fires_when_min_available_equals_min_replicas if {
	p := pdb({"minAvailable": 2})
	check(p, array.concat(app(2), [p])) == {{
		"msg": "spec.minAvailable is 2, but at minimum scale Deployment \"web\" runs 2 pods (minReplicas of HorizontalPodAutoscaler \"web\"), so none may be evicted then: node drains, cluster upgrades and cluster-autoscaler scale-downs stall until the HPA scales up; set spec.maxUnavailable: 1 instead of minAvailable, or raise the HPA's minReplicas so that more than 2 pods run at minimum scale",
		"path": min_available,
	}}
}

test_fires_when_min_available_above_min_replicas if {
	p := pdb({"minAvailable": 3})
	paths(check(p, array.concat(app(2), [p]))) == {min_available}
}

test_fires_with_default_min_replicas if {
	p := pdb({"minAvailable": 1})
	objs := [json.remove(f.hpa("web", {}), ["spec/minReplicas"]), f.deployment("web", {}), p]
	some x in check(p, objs)
	contains(x.msg, "Deployment \"web\" runs 1 pod (minReplicas of HorizontalPodAutoscaler \"web\")")
}

test_fires_on_max_unavailable_zero if {
	p := pdb({"maxUnavailable": 0})
	check(p, array.concat(app(3), [p])) == {{
		"msg": "spec.maxUnavailable is 0, so no pod of Deployment \"web\" (HorizontalPodAutoscaler \"web\") may ever be evicted: node drains, cluster upgrades and cluster-autoscaler scale-downs stall on them at any scale; set spec.maxUnavailable: 1 (or a percentage such as 25%)",
		"path": max_unavailable,
	}}
	q := pdb({"maxUnavailable": "0%"})
	paths(check(q, array.concat(app(3), [q]))) == {max_unavailable}
}

test_fires_on_percentages_that_round_up_to_every_pod if {
	p := pdb({"minAvailable": "50%"})
	v := check(p, array.concat(app(1), [p]))
	some x in v
	startswith(x.msg, "spec.minAvailable is \"50%\" (1 of 1 pod, rounded up), but at minimum scale")
	endswith(x.msg, "set spec.maxUnavailable: 1 instead of minAvailable, or raise the HPA's minReplicas")
	q := pdb({"minAvailable": "100%"})
	some y in check(q, array.concat(app(4), [q]))
	endswith(y.msg, "set spec.maxUnavailable: 1 instead of minAvailable")
	r := pdb({"minAvailable": "70%"})
	paths(check(r, array.concat(app(3), [r]))) == {min_available}
}

test_fires_on_match_expressions if {
	p := selecting(
		{"matchExpressions": [
			{"key": "app", "operator": "In", "values": ["web", "api"]},
			{"key": "tier", "operator": "NotIn", "values": ["backend"]},
		]},
		{"minAvailable": 2},
	)
	paths(check(p, array.concat(app(2), [p]))) == {min_available}
}

test_fires_on_exists_and_empty_selectors if {
	p := selecting({"matchExpressions": [{"key": "app", "operator": "Exists"}]}, {"maxUnavailable": 0})
	paths(check(p, array.concat(app(2), [p]))) == {max_unavailable}
	everything := selecting({}, {"maxUnavailable": 0})
	paths(check(everything, array.concat(app(2), [everything]))) == {max_unavailable}
}

test_fires_on_statefulset_and_v1_hpa if {
	sts := object.union(f.deployment("db", {}), {"kind": "StatefulSet"})
	h := object.union(f.hpa("db", {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db"}, "minReplicas": 2}), {"apiVersion": "autoscaling/v1"})
	p := selecting({"matchLabels": {"app": "db"}}, {"minAvailable": 2})
	paths(check(p, [sts, h, p])) == {min_available}
}

test_passes_when_min_available_below_min_replicas if {
	p := pdb({"minAvailable": 1})
	count(check(p, array.concat(app(2), [p]))) == 0
	q := pdb({"minAvailable": "50%"})
	count(check(q, array.concat(app(2), [q]))) == 0
	r := pdb({"maxUnavailable": 1})
	count(check(r, array.concat(app(1), [r]))) == 0
	s := pdb({"maxUnavailable": "25%"})
	count(check(s, array.concat(app(1), [s]))) == 0
}

test_passes_when_other_selected_pods_keep_it_evictable if {
	# minAvailable 2 of the 3 pods at minimum scale: web's 2 and worker's 1.
	worker := f.deployment("worker", {"replicas": 1, "template": {"metadata": {"labels": {"app": "worker", "part-of": "shop"}}}})
	web := f.deployment("web", {"template": {"metadata": {"labels": {"app": "web", "part-of": "shop"}}}})
	p := selecting({"matchLabels": {"part-of": "shop"}}, {"minAvailable": 2})
	count(check(p, [f.hpa("web", {"minReplicas": 2}), web, worker, p])) == 0
}

test_passes_when_a_daemonset_makes_the_count_unknown if {
	ds := object.union(f.deployment("agent", {"template": {"metadata": {"labels": {"app": "web"}}}}), {"kind": "DaemonSet"})
	p := pdb({"minAvailable": 2})
	count(check(p, array.concat(app(2), [ds, p]))) == 0
}

test_passes_without_hpa if {
	p := pdb({"maxUnavailable": 0})
	count(check(p, [f.deployment("web", {}), p])) == 0
}

test_passes_when_selecting_other_pods if {
	p := selecting({"matchLabels": {"app": "web", "tier": "backend"}}, {"maxUnavailable": 0})
	count(check(p, array.concat(app(2), [p]))) == 0
	q := selecting({"matchExpressions": [{"key": "app", "operator": "In", "values": ["api"]}]}, {"maxUnavailable": 0})
	count(check(q, array.concat(app(2), [q]))) == 0
	r := selecting({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, {"maxUnavailable": 0})
	count(check(r, array.concat(app(2), [r]))) == 0
}

test_passes_in_another_namespace if {
	p := f.in_namespace(pdb({"maxUnavailable": 0}), "other")
	count(check(p, array.concat(app(2), [p]))) == 0
}

test_passes_on_v1beta1_empty_selector if {
	p := object.union(selecting({}, {"maxUnavailable": 0}), {"apiVersion": "policy/v1beta1"})
	count(check(p, array.concat(app(2), [p]))) == 0
	q := json.remove(pdb({"maxUnavailable": 0}), ["spec/selector"])
	count(check(q, array.concat(app(2), [q]))) == 0
}

test_fires_once_with_two_hpas_on_the_target if {
	p := pdb({"minAvailable": 2})
	v := check(p, [f.hpa("web", {}), f.hpa("web-memory", {}), f.deployment("web", {}), p])
	{x.path | some x in v} == {min_available}
	some x in v
	contains(x.msg, "Deployment \"web\" runs 2 pods (minReplicas of HorizontalPodAutoscaler \"web\")")
}

test_passes_on_hpas_that_cannot_scale_the_pods if {
	# An HPA pointed at a DaemonSet changes nothing (hpa.target-not-scalable).
	ds := object.union(f.deployment("web", {}), {"kind": "DaemonSet"})
	h := f.hpa("web", {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "web"}})
	p := pdb({"maxUnavailable": 0})
	count(check(p, [ds, h, p])) == 0
}

test_passes_on_min_available_zero if {
	p := pdb({"minAvailable": 0})
	count(check(p, array.concat(app(1), [p]))) == 0
	q := pdb({"minAvailable": "0%"})
	count(check(q, array.concat(app(1), [q]))) == 0
}
