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
