package kubegate.rules.hpa.min_exceeds_max_test

import rego.v1

import data.kubegate.rules.hpa.min_exceeds_max

hpa(api_version, spec) := {
	"apiVersion": api_version,
	"kind": "HorizontalPodAutoscaler",
	"metadata": {"name": "web"},
	"spec": object.union({"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}}, spec),
}

test_fires_when_min_above_max if {
	v := min_exceeds_max.violations with input as hpa("autoscaling/v2", {"minReplicas": 5, "maxReplicas": 3})
	v == {{
		"msg": "spec.minReplicas is 5 but spec.maxReplicas is 3; lower minReplicas to at most 3 or raise maxReplicas to at least 5",
		"path": ["spec", "minReplicas"],
	}}
}

test_fires_on_autoscaling_v1 if {
	v := min_exceeds_max.violations with input as hpa("autoscaling/v1", {"minReplicas": 2, "maxReplicas": 1})
	{f.path | some f in v} == {["spec", "minReplicas"]}
}

test_fires_when_default_min_above_max if {
	v := min_exceeds_max.violations with input as hpa("autoscaling/v2", {"maxReplicas": 0})
	v == {{
		"msg": "spec.minReplicas is not set and defaults to 1, but spec.maxReplicas is 0; set maxReplicas to at least 1",
		"path": ["spec", "minReplicas"],
	}}
}

test_passes_when_min_at_most_max if {
	count(min_exceeds_max.violations) == 0 with input as hpa("autoscaling/v2", {"minReplicas": 3, "maxReplicas": 3})
	count(min_exceeds_max.violations) == 0 with input as hpa("autoscaling/v2", {"minReplicas": 1, "maxReplicas": 10})
	count(min_exceeds_max.violations) == 0 with input as hpa("autoscaling/v2", {"maxReplicas": 1})
}

test_passes_when_max_absent if {
	count(min_exceeds_max.violations) == 0 with input as hpa("autoscaling/v2", {"minReplicas": 3})
}

test_passes_on_other_kinds_and_groups if {
	count(min_exceeds_max.violations) == 0 with input as {"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"minReplicas": 5, "maxReplicas": 3}}
	count(min_exceeds_max.violations) == 0 with input as hpa("example.com/v1", {"minReplicas": 5, "maxReplicas": 3})
}
