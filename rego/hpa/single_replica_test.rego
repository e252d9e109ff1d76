package kubegate.rules.hpa.single_replica_test

import rego.v1

import data.kubegate.rules.hpa.single_replica
import data.kubegate.test.hpa_fixtures as f

check(x) := v if {
	v := single_replica.violations with input as x
}

test_fires_on_min_replicas_1 if {
	check(f.hpa("web", {"minReplicas": 1})) == {{
		"msg": "spec.minReplicas is 1; at low load Deployment \"web\" runs a single pod, which any node drain, eviction or crash takes down; set spec.minReplicas: 2",
		"path": ["spec", "minReplicas"],
	}}
}

test_fires_when_min_replicas_defaults if {
	check(json.remove(f.hpa("web", {}), ["spec/minReplicas"])) == {{
		"msg": "spec.minReplicas is not set and defaults to 1; at low load Deployment \"web\" runs a single pod, which any node drain, eviction or crash takes down; set spec.minReplicas: 2",
		"path": ["spec", "minReplicas"],
	}}
}

test_fires_and_asks_to_raise_max if {
	some x in check(f.hpa("web", {"minReplicas": 1, "maxReplicas": 1}))
	endswith(x.msg, "set spec.minReplicas: 2 and spec.maxReplicas to at least 2")
}

test_fires_on_autoscaling_v1 if {
	h := object.union(f.hpa("web", {"minReplicas": 1}), {"apiVersion": "autoscaling/v1"})
	count(check(h)) == 1
}

test_passes_with_two_or_more if {
	count(check(f.hpa("web", {"minReplicas": 2}))) == 0
	count(check(f.hpa("web", {"minReplicas": 5}))) == 0
}

test_passes_on_scale_to_zero if {
	count(check(f.hpa("web", {"minReplicas": 0}))) == 0
}

test_passes_on_other_kinds if {
	count(check(f.deployment("web", {"replicas": 1}))) == 0
}

test_passes_on_unscalable_targets if {
	# hpa.target-not-scalable reports those: the HPA scales nothing.
	count(check(f.hpa("agent", {"minReplicas": 1, "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "agent"}}))) == 0
}
