package kubegate.rules.resources.request_exceeds_limit_test

import rego.v1

import data.kubegate.rules.resources.request_exceeds_limit

deployment(resources) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx", "resources": resources}]}}},
}

requests_field := ["spec", "template", "spec", "containers", 0, "resources", "requests"]

limits_field := ["spec", "template", "spec", "containers", 0, "resources", "limits"]

limit_range(ns, requests, limits) := {ns: {
	"requests": requests,
	"limits": limits,
	"from": {"requests": {k: "defaults" | some k, _ in requests}, "limits": {k: "defaults" | some k, _ in limits}},
}}

test_fires_on_memory_request_above_limit if {
	v := request_exceeds_limit.violations with input as deployment({"requests": {"memory": "2Gi"}, "limits": {"memory": "1Gi"}})
	v == {{
		"msg": "container \"web\" requests memory: 2Gi, above its limit 1Gi, which the API server rejects; lower resources.requests.memory to at most the limit (for example memory: 1Gi) or raise resources.limits.memory to at least 2Gi",
		"path": array.concat(requests_field, ["memory"]),
		"related": [{"path": array.concat(limits_field, ["memory"])}],
	}}
}

test_fires_on_cpu_by_a_millicore if {
	v := request_exceeds_limit.violations with input as deployment({"requests": {"cpu": "1001m"}, "limits": {"cpu": 1}})
	{f.path | some f in v} == {array.concat(requests_field, ["cpu"])}
}

test_fires_on_decimal_and_binary_suffixes if {
	# 1.5Gi is 1536Mi, and 1G (10^9 bytes) is less than 1Gi.
	v := request_exceeds_limit.violations with input as deployment({"requests": {"memory": "1.5Gi", "ephemeral-storage": "1Gi"}, "limits": {"memory": "1535Mi", "ephemeral-storage": "1G"}})
	{f.path | some f in v} == {array.concat(requests_field, ["memory"]), array.concat(requests_field, ["ephemeral-storage"])}
}

test_fires_on_extended_resources if {
	v := request_exceeds_limit.violations with input as deployment({"requests": {"nvidia.com/gpu": 2}, "limits": {"nvidia.com/gpu": 1}})
	{f.path | some f in v} == {array.concat(requests_field, ["nvidia.com/gpu"])}
}

test_fires_when_the_limit_range_default_limit_is_lower if {
	lr := limit_range("shop", {"memory": "256Mi"}, {"memory": "512Mi"})
	v := request_exceeds_limit.violations with input as deployment({"requests": {"memory": "1Gi"}}) with data.kubegate.cache.limit_range_defaults as lr
	v == {{
		"msg": "container \"web\" requests memory: 1Gi but sets no memory limit, so its pods get 512Mi, the default limit of LimitRange \"defaults\", and the API server rejects them for a request above the limit; set resources.limits.memory (for example memory: 1Gi, equal to its request) or lower the request to at most 512Mi",
		"path": array.concat(requests_field, ["memory"]),
		"related": [],
	}}
}

test_fires_on_init_containers_and_cronjobs if {
	cronjob := {"kind": "CronJob", "metadata": {"name": "c"}, "spec": {"jobTemplate": {"spec": {"template": {"spec": {
		"initContainers": [{"name": "setup", "resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "500m"}}}],
		"containers": [{"name": "job", "resources": {"requests": {"cpu": "500m"}, "limits": {"cpu": "0.5"}}}],
	}}}}}}
	v := request_exceeds_limit.violations with input as cronjob
	v == {{
		"msg": "init container \"setup\" requests cpu: 2, above its limit 500m, which the API server rejects; lower resources.requests.cpu to at most the limit (for example cpu: 500m) or raise resources.limits.cpu to at least 2",
		"path": ["spec", "jobTemplate", "spec", "template", "spec", "initContainers", 0, "resources", "requests", "cpu"],
		"related": [{"path": ["spec", "jobTemplate", "spec", "template", "spec", "initContainers", 0, "resources", "limits", "cpu"]}],
	}}
}

test_passes_on_equal_quantities_written_differently if {
	count(request_exceeds_limit.violations) == 0 with input as deployment({"requests": {"memory": "512Mi", "cpu": "100m"}, "limits": {"memory": "0.5Gi", "cpu": "0.1"}})
	count(request_exceeds_limit.violations) == 0 with input as deployment({"requests": {"memory": "1Gi", "cpu": "1"}, "limits": {"memory": "1073741824", "cpu": "1000m"}})
}

test_passes_on_request_below_limit if {
	count(request_exceeds_limit.violations) == 0 with input as deployment({"requests": {"memory": "128Mi", "cpu": "500m"}, "limits": {"memory": "1.5Gi", "cpu": "1"}})
}

test_passes_on_limit_without_request if {
	# The request defaults to the limit, whatever the LimitRange says.
	lr := limit_range("shop", {"memory": "2Gi"}, {"memory": "4Gi"})
	count(request_exceeds_limit.violations) == 0 with input as deployment({"limits": {"memory": "1Gi"}}) with data.kubegate.cache.limit_range_defaults as lr
}

test_passes_when_the_limit_range_default_limit_is_higher if {
	lr := limit_range("shop", {"memory": "256Mi"}, {"memory": "2Gi"})
	count(request_exceeds_limit.violations) == 0 with input as deployment({"requests": {"memory": "1Gi"}}) with data.kubegate.cache.limit_range_defaults as lr
}

test_passes_on_unparsable_quantities if {
	count(request_exceeds_limit.violations) == 0 with input as deployment({"requests": {"memory": "2 Gi"}, "limits": {"memory": "1Gi"}})
}

test_passes_on_ephemeral_containers if {
	pod := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {
		"containers": [{"name": "web"}],
		"ephemeralContainers": [{"name": "debug", "resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}}],
	}}
	count(request_exceeds_limit.violations) == 0 with input as pod
}
