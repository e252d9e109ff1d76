package kubegate.rules.resources.memory_request_not_limit_test

import rego.v1

import data.kubegate.rules.resources.memory_request_not_limit

deployment(resources) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx", "resources": resources}]}}},
}

resources_field := ["spec", "template", "spec", "containers", 0, "resources"]

limit_range(ns, requests, limits) := {ns: {
	"requests": requests,
	"limits": limits,
	"from": {"requests": {k: "defaults" | some k, _ in requests}, "limits": {k: "defaults" | some k, _ in limits}},
}}

test_fires_on_request_below_limit if {
	v := memory_request_not_limit.violations with input as deployment({"requests": {"memory": "128Mi"}, "limits": {"memory": "512Mi"}})
	v == {{
		"msg": "container \"web\" requests memory: 128Mi but its memory limit is 512Mi; under memory pressure on its node it can be evicted or OOM-killed while using memory it was allowed; set resources.requests.memory: 512Mi, equal to its limit (or lower the limit to 128Mi)",
		"path": array.concat(resources_field, ["requests", "memory"]),
	}}
}

test_fires_on_decimal_versus_binary_units if {
	# 1G is 10^9 bytes, less than 1Gi.
	v := memory_request_not_limit.violations with input as deployment({"requests": {"memory": "1G"}, "limits": {"memory": "1Gi"}})
	count(v) == 1
}

test_fires_with_limit_range_default_limit if {
	lr := limit_range("shop", {"memory": "256Mi"}, {"memory": "1Gi"})
	v := memory_request_not_limit.violations with input as deployment({"requests": {"memory": "256Mi"}}) with data.kubegate.cache.limit_range_defaults as lr
	v == {{
		"msg": "container \"web\" requests memory: 256Mi but sets no memory limit, so it gets 1Gi, the default limit of LimitRange \"defaults\"; under memory pressure on its node it can be evicted or OOM-killed while using memory it was allowed; set resources.limits.memory: 256Mi, equal to its request",
		"path": array.concat(resources_field, ["limits", "memory"]),
	}}
}

test_fires_when_both_come_from_the_limit_range if {
	lr := limit_range("shop", {"memory": "256Mi"}, {"memory": "1Gi"})
	v := memory_request_not_limit.violations with input as deployment({}) with data.kubegate.cache.limit_range_defaults as lr
	v == {{
		"msg": "container \"web\" requests memory: 256Mi (the default request of LimitRange \"defaults\") but its memory limit is 1Gi (the default limit of LimitRange \"defaults\"); under memory pressure on its node it can be evicted or OOM-killed while using memory it was allowed; set resources.requests.memory: 1Gi, equal to its limit (or lower the limit to 256Mi)",
		"path": array.concat(resources_field, ["requests", "memory"]),
	}}
}

test_fires_on_init_containers_of_pod if {
	pod := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {
		"initContainers": [{"name": "setup", "resources": {"requests": {"memory": "64Mi"}, "limits": {"memory": "128Mi"}}}],
		"containers": [{"name": "web", "resources": {"requests": {"memory": "1Gi"}, "limits": {"memory": "1Gi"}}}],
	}}
	v := memory_request_not_limit.violations with input as pod
	{f.path | some f in v} == {["spec", "initContainers", 0, "resources", "requests", "memory"]}
}

test_passes_on_equal_quantities_written_differently if {
	count(memory_request_not_limit.violations) == 0 with input as deployment({"requests": {"memory": "512Mi"}, "limits": {"memory": "0.5Gi"}})
	count(memory_request_not_limit.violations) == 0 with input as deployment({"requests": {"memory": "1.5Gi"}, "limits": {"memory": "1536Mi"}})
}

test_passes_on_limit_without_request if {
	count(memory_request_not_limit.violations) == 0 with input as deployment({"limits": {"memory": "512Mi"}})
}

test_passes_without_limit if {
	# resources.memory-limit-missing reports it.
	count(memory_request_not_limit.violations) == 0 with input as deployment({"requests": {"memory": "512Mi"}})
}

test_passes_on_request_above_limit if {
	# resources.request-exceeds-limit reports it.
	count(memory_request_not_limit.violations) == 0 with input as deployment({"requests": {"memory": "1Gi"}, "limits": {"memory": "512Mi"}})
}

test_passes_on_cpu_request_below_limit if {
	count(memory_request_not_limit.violations) == 0 with input as deployment({"requests": {"cpu": "100m", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}})
}
