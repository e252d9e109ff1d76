package kubegate.rules.resources.requests_missing_test

import rego.v1

import data.kubegate.rules.resources.requests_missing

deployment(resources) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web"},
	"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx", "resources": resources}]}}},
}

requests_field := ["spec", "template", "spec", "containers", 0, "resources", "requests"]

test_fires_once_per_missing_resource if {
	v := requests_missing.violations with input as deployment({})
	v == {
		{
			"msg": "container \"web\" has no resources.requests.cpu; set resources.requests.cpu (for example cpu: 100m)",
			"path": array.concat(requests_field, ["cpu"]),
		},
		{
			"msg": "container \"web\" has no resources.requests.memory; set resources.requests.memory (for example memory: 128Mi)",
			"path": array.concat(requests_field, ["memory"]),
		},
	}
}

test_fires_on_missing_memory_only if {
	v := requests_missing.violations with input as deployment({"requests": {"cpu": "250m"}})
	{f.path | some f in v} == {array.concat(requests_field, ["memory"])}
}

test_fires_on_init_containers_of_pod if {
	pod := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {
		"initContainers": [{"name": "setup", "resources": {"requests": {"memory": "64Mi"}}}],
		"containers": [{"name": "web", "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}],
	}}
	v := requests_missing.violations with input as pod
	v == {{
		"msg": "init container \"setup\" has no resources.requests.cpu; set resources.requests.cpu (for example cpu: 100m)",
		"path": ["spec", "initContainers", 0, "resources", "requests", "cpu"],
	}}
}

test_fires_on_cronjob if {
	cronjob := {"kind": "CronJob", "metadata": {"name": "c"}, "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "job", "resources": {"limits": {"cpu": "1"}}}]}}}}}}
	v := requests_missing.violations with input as cronjob
	{f.path | some f in v} == {["spec", "jobTemplate", "spec", "template", "spec", "containers", 0, "resources", "requests", "memory"]}
}

test_passes_with_requests if {
	count(requests_missing.violations) == 0 with input as deployment({"requests": {"cpu": "100m", "memory": "128Mi"}})
}

test_passes_when_limits_imply_requests if {
	count(requests_missing.violations) == 0 with input as deployment({"limits": {"cpu": "500m", "memory": "256Mi"}})
	count(requests_missing.violations) == 0 with input as deployment({"requests": {"memory": "128Mi"}, "limits": {"cpu": "1"}})
}

test_passes_on_ephemeral_containers if {
	pod := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {
		"containers": [{"name": "web", "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}],
		"ephemeralContainers": [{"name": "debug"}],
	}}
	count(requests_missing.violations) == 0 with input as pod
}

test_passes_on_non_workloads if {
	count(requests_missing.violations) == 0 with input as {"kind": "LimitRange", "spec": {"limits": [{"type": "Container"}]}}
}

# data.kubegate.cache.limit_range_defaults with one LimitRange "defaults" in
# namespace ns (see rego/index/resources.rego).
limit_range(ns, requests, limits) := {ns: {
	"requests": requests,
	"limits": limits,
	"from": {"requests": {k: "defaults" | some k, _ in requests}, "limits": {k: "defaults" | some k, _ in limits}},
}}

test_passes_when_limit_range_defaults_fill_the_gap if {
	lr := limit_range("", {"cpu": "100m", "memory": "128Mi"}, {})
	count(requests_missing.violations) == 0 with input as deployment({}) with data.kubegate.cache.limit_range_defaults as lr
}

test_fires_on_what_limit_range_defaults_leave_missing if {
	lr := limit_range("", {"cpu": "100m"}, {})
	v := requests_missing.violations with input as deployment({}) with data.kubegate.cache.limit_range_defaults as lr
	{f.path | some f in v} == {array.concat(requests_field, ["memory"])}
}

test_fires_when_the_limit_range_is_in_another_namespace if {
	lr := limit_range("other", {"cpu": "100m", "memory": "128Mi"}, {})
	v := requests_missing.violations with input as deployment({}) with data.kubegate.cache.limit_range_defaults as lr
	count(v) == 2
}

test_passes_with_pod_level_resources if {
	pod := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {
		"resources": {"requests": {"cpu": "1"}, "limits": {"memory": "1Gi"}},
		"containers": [{"name": "web"}, {"name": "sidecar"}],
	}}
	count(requests_missing.violations) == 0 with input as pod
}

# A quota on requests.memory (or bare memory) makes the missing memory
# request resources.quota-requires-limits' error; the cpu request is still
# reported here.
test_passes_when_a_quota_requires_the_request if {
	quota := {"": {"compute": {"hard": ["memory"], "scopes": [], "match_expressions": []}}}
	v := requests_missing.violations with input as deployment({}) with data.kubegate.cache.quota_hard as quota
	{f.path | some f in v} == {array.concat(requests_field, ["cpu"])}
}
