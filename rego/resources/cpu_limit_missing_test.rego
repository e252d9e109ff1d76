package kubegate.rules.resources.cpu_limit_missing_test

import rego.v1

import data.kubegate.rules.resources.cpu_limit_missing

deployment(resources) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx", "resources": resources}]}}},
}

limit_field := ["spec", "template", "spec", "containers", 0, "resources", "limits", "cpu"]

limit_range(ns, requests, limits) := {ns: {
	"requests": requests,
	"limits": limits,
	"from": {"requests": {k: "defaults" | some k, _ in requests}, "limits": {k: "defaults" | some k, _ in limits}},
}}

test_fires_without_cpu_limit if {
	v := cpu_limit_missing.violations with input as deployment({"limits": {"memory": "256Mi"}})
	v == {{
		"msg": "container \"web\" has no resources.limits.cpu; set resources.limits.cpu (for example cpu: 500m)",
		"path": limit_field,
	}}
}

test_fires_and_suggests_the_request if {
	v := cpu_limit_missing.violations with input as deployment({"requests": {"cpu": "250m"}})
	v == {{
		"msg": "container \"web\" has no resources.limits.cpu; set resources.limits.cpu (for example cpu: 500m, twice its request)",
		"path": limit_field,
	}}
}

test_fires_on_init_containers_of_pod if {
	pod := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {
		"initContainers": [{"name": "setup", "resources": {"requests": {"cpu": 1}}}],
		"containers": [{"name": "web", "resources": {"limits": {"cpu": "1"}}}],
		"ephemeralContainers": [{"name": "debug"}],
	}}
	v := cpu_limit_missing.violations with input as pod
	v == {{
		"msg": "init container \"setup\" has no resources.limits.cpu; set resources.limits.cpu (for example cpu: 2, twice its request)",
		"path": ["spec", "initContainers", 0, "resources", "limits", "cpu"],
	}}
}

test_fires_and_suggests_at_least_100m if {
	v := cpu_limit_missing.violations with input as deployment({"requests": {"cpu": "10m"}})
	{f.msg | some f in v} == {"container \"web\" has no resources.limits.cpu; set resources.limits.cpu (for example cpu: 100m)"}
	w := cpu_limit_missing.violations with input as deployment({"requests": {"cpu": "0.75"}})
	{f.msg | some f in w} == {"container \"web\" has no resources.limits.cpu; set resources.limits.cpu (for example cpu: 1500m, twice its request)"}
}

test_fires_on_cronjob if {
	cronjob := {"kind": "CronJob", "metadata": {"name": "c"}, "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "job"}]}}}}}}
	v := cpu_limit_missing.violations with input as cronjob
	{f.path | some f in v} == {["spec", "jobTemplate", "spec", "template", "spec", "containers", 0, "resources", "limits", "cpu"]}
}

test_fires_when_the_limit_range_sets_only_a_default_request if {
	lr := limit_range("shop", {"cpu": "200m"}, {})
	v := cpu_limit_missing.violations with input as deployment({}) with data.kubegate.cache.limit_range_defaults as lr
	v == {{
		"msg": "container \"web\" has no resources.limits.cpu; set resources.limits.cpu (for example cpu: 400m, twice its request)",
		"path": limit_field,
	}}
}

test_passes_with_cpu_limit if {
	count(cpu_limit_missing.violations) == 0 with input as deployment({"limits": {"cpu": "500m"}})
	count(cpu_limit_missing.violations) == 0 with input as deployment({"limits": {"cpu": 2}})
}

test_passes_with_limit_range_default_limit if {
	lr := limit_range("shop", {"cpu": "500m"}, {"cpu": "500m"})
	count(cpu_limit_missing.violations) == 0 with input as deployment({}) with data.kubegate.cache.limit_range_defaults as lr
}

test_passes_with_pod_level_cpu_limit if {
	pod := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"resources": {"limits": {"cpu": "2"}}, "containers": [{"name": "web"}]}}
	count(cpu_limit_missing.violations) == 0 with input as pod
}

test_passes_on_non_workloads if {
	count(cpu_limit_missing.violations) == 0 with input as {"kind": "ConfigMap", "metadata": {"name": "c"}}
}

# A quota that requires the limit makes it resources.quota-requires-limits'
# error; a quota on something else leaves this notice.
test_passes_when_a_quota_requires_the_limit if {
	quota := {"shop": {"compute": {"hard": ["limits.cpu"], "scopes": [], "match_expressions": []}}}
	count(cpu_limit_missing.violations) == 0 with input as deployment({}) with data.kubegate.cache.quota_hard as quota
	other := {"shop": {"compute": {"hard": ["limits.memory"], "scopes": [], "match_expressions": []}}}
	count(cpu_limit_missing.violations) == 1 with input as deployment({}) with data.kubegate.cache.quota_hard as other
}
