package kubegate.rules.resources.memory_limit_missing_test

import rego.v1

import data.kubegate.rules.resources.memory_limit_missing

deployment(resources) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web"},
	"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx", "resources": resources}]}}},
}

limit_field := ["spec", "template", "spec", "containers", 0, "resources", "limits", "memory"]

test_fires_without_memory_limit if {
	v := memory_limit_missing.violations with input as deployment({"limits": {"cpu": "1"}})
	v == {{
		"msg": "container \"web\" has no resources.limits.memory; set resources.limits.memory (for example memory: 256Mi)",
		"path": limit_field,
	}}
}

test_fires_and_suggests_the_request if {
	v := memory_limit_missing.violations with input as deployment({"requests": {"memory": "512Mi"}})
	v == {{
		"msg": "container \"web\" has no resources.limits.memory; set resources.limits.memory (for example memory: 512Mi, equal to its request)",
		"path": limit_field,
	}}
}

test_fires_on_init_containers_of_pod if {
	pod := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {
		"initContainers": [{"name": "setup"}],
		"containers": [{"name": "web", "resources": {"limits": {"memory": "1Gi"}}}],
	}}
	v := memory_limit_missing.violations with input as pod
	{f.path | some f in v} == {["spec", "initContainers", 0, "resources", "limits", "memory"]}
}

test_fires_on_cronjob if {
	cronjob := {"kind": "CronJob", "metadata": {"name": "c"}, "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "job"}]}}}}}}
	v := memory_limit_missing.violations with input as cronjob
	{f.path | some f in v} == {["spec", "jobTemplate", "spec", "template", "spec", "containers", 0, "resources", "limits", "memory"]}
}

test_passes_with_memory_limit if {
	count(memory_limit_missing.violations) == 0 with input as deployment({"limits": {"memory": "256Mi"}})
}

test_passes_on_ephemeral_containers if {
	pod := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {
		"containers": [{"name": "web", "resources": {"limits": {"memory": "1Gi"}}}],
		"ephemeralContainers": [{"name": "debug"}],
	}}
	count(memory_limit_missing.violations) == 0 with input as pod
}

test_passes_on_non_workloads if {
	count(memory_limit_missing.violations) == 0 with input as {"kind": "ResourceQuota", "spec": {"hard": {"limits.memory": "1Gi"}}}
}

limit_range(ns, requests, limits) := {ns: {
	"requests": requests,
	"limits": limits,
	"from": {"requests": {k: "defaults" | some k, _ in requests}, "limits": {k: "defaults" | some k, _ in limits}},
}}

test_passes_with_limit_range_default_limit if {
	d := object.union(deployment({}), {"metadata": {"name": "web", "namespace": "shop"}})
	lr := limit_range("shop", {"memory": "512Mi"}, {"memory": "512Mi"})
	count(memory_limit_missing.violations) == 0 with input as d with data.kubegate.cache.limit_range_defaults as lr
}

test_fires_and_suggests_the_limit_range_default_request if {
	lr := limit_range("", {"memory": "192Mi"}, {"cpu": "1"})
	v := memory_limit_missing.violations with input as deployment({}) with data.kubegate.cache.limit_range_defaults as lr
	v == {{
		"msg": "container \"web\" has no resources.limits.memory; set resources.limits.memory (for example memory: 192Mi, equal to its request)",
		"path": limit_field,
	}}
}

test_fires_when_the_limit_range_is_in_another_namespace if {
	lr := limit_range("shop", {"memory": "512Mi"}, {"memory": "512Mi"})
	count(memory_limit_missing.violations) == 1 with input as deployment({}) with data.kubegate.cache.limit_range_defaults as lr
}

test_passes_with_pod_level_memory_limit if {
	pod := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {
		"resources": {"limits": {"memory": "1Gi"}},
		"containers": [{"name": "web"}],
	}}
	count(memory_limit_missing.violations) == 0 with input as pod
}

# A quota that requires the limit makes it resources.quota-requires-limits'
# error; a quota on something else leaves this one.
test_passes_when_a_quota_requires_the_limit if {
	quota := {"": {"compute": {"hard": ["limits.memory"], "scopes": [], "match_expressions": []}}}
	count(memory_limit_missing.violations) == 0 with input as deployment({}) with data.kubegate.cache.quota_hard as quota
	other := {"": {"compute": {"hard": ["limits.cpu"], "scopes": [], "match_expressions": []}}}
	count(memory_limit_missing.violations) == 1 with input as deployment({}) with data.kubegate.cache.quota_hard as other
}
