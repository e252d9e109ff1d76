package kubegate.rules.resources.quota_requires_limits_test

import rego.v1

import data.kubegate.rules.resources.quota_requires_limits

deployment(resources) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx", "resources": resources}]}}},
}

resources_field := ["spec", "template", "spec", "containers", 0, "resources"]

# data.kubegate.cache.quota_hard (see rego/index/resources.rego).
quota(hard) := {"shop": {"compute": {"hard": hard, "scopes": [], "match_expressions": []}}}

scoped(hard, scopes, expressions) := {"shop": {"scoped": {"hard": hard, "scopes": scopes, "match_expressions": expressions}}}

paths(v) := {f.path | some f in v}

test_fires_on_missing_memory_limit if {
	v := quota_requires_limits.violations with input as deployment({"requests": {"cpu": "100m", "memory": "128Mi"}})
		with data.kubegate.cache.quota_hard as quota(["limits.memory", "requests.cpu"])
	v == {{
		"msg": "container \"web\" has no resources.limits.memory, but ResourceQuota \"compute\" of namespace \"shop\" sets a hard limits.memory, so the API server rejects its pods (must specify limits.memory); set resources.limits.memory (for example memory: 128Mi, equal to its request)",
		"path": array.concat(resources_field, ["limits", "memory"]),
	}}
}

test_fires_once_per_field_of_several_quotas if {
	quotas := {"shop": {
		"a": {"hard": ["cpu"], "scopes": [], "match_expressions": []},
		"b": {"hard": ["requests.cpu", "limits.cpu"], "scopes": [], "match_expressions": []},
	}}
	v := quota_requires_limits.violations with input as deployment({}) with data.kubegate.cache.quota_hard as quotas
	v == {
		{
			"msg": "container \"web\" has no resources.requests.cpu, but ResourceQuotas \"a\" (cpu), \"b\" (requests.cpu) of namespace \"shop\" set hard limits on it, so the API server rejects its pods (must specify cpu,requests.cpu); set resources.requests.cpu (for example cpu: 100m)",
			"path": array.concat(resources_field, ["requests", "cpu"]),
		},
		{
			"msg": "container \"web\" has no resources.limits.cpu, but ResourceQuota \"b\" of namespace \"shop\" sets a hard limits.cpu, so the API server rejects its pods (must specify limits.cpu); set resources.limits.cpu (for example cpu: 500m)",
			"path": array.concat(resources_field, ["limits", "cpu"]),
		},
	}
}

test_fires_on_init_containers_of_pod if {
	pod := {"kind": "Pod", "metadata": {"name": "p", "namespace": "shop"}, "spec": {
		"initContainers": [{"name": "setup"}],
		"containers": [{"name": "web", "resources": {"limits": {"memory": "1Gi"}}}],
	}}
	v := quota_requires_limits.violations with input as pod with data.kubegate.cache.quota_hard as quota(["memory"])
	paths(v) == {["spec", "initContainers", 0, "resources", "requests", "memory"]}
}

test_fires_on_cronjob_in_the_default_namespace if {
	cronjob := {"kind": "CronJob", "metadata": {"name": "c"}, "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "job"}]}}}}}}
	quotas := {"": {"compute": {"hard": ["limits.cpu"], "scopes": [], "match_expressions": []}}}
	v := quota_requires_limits.violations with input as cronjob with data.kubegate.cache.quota_hard as quotas
	v == {{
		"msg": "container \"job\" has no resources.limits.cpu, but ResourceQuota \"compute\" of the namespace sets a hard limits.cpu, so the API server rejects its pods (must specify limits.cpu); set resources.limits.cpu (for example cpu: 500m)",
		"path": ["spec", "jobTemplate", "spec", "template", "spec", "containers", 0, "resources", "limits", "cpu"],
	}}
}

test_passes_when_set if {
	r := {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "1", "memory": "128Mi"}}
	q := quota(["cpu", "limits.cpu", "limits.memory", "memory", "requests.cpu", "requests.memory"])
	count(quota_requires_limits.violations) == 0 with input as deployment(r) with data.kubegate.cache.quota_hard as q
}

test_passes_when_a_limit_stands_for_the_request if {
	q := quota(["requests.cpu", "requests.memory", "limits.cpu", "limits.memory"])
	count(quota_requires_limits.violations) == 0 with input as deployment({"limits": {"cpu": "1", "memory": "1Gi"}}) with data.kubegate.cache.quota_hard as q
}

test_passes_when_limit_range_defaults_fill_the_gap if {
	lr := {"shop": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "256Mi"}, "from": {"requests": {"cpu": "d", "memory": "d"}, "limits": {"memory": "d"}}}}
	count(quota_requires_limits.violations) == 0 with input as deployment({}) with data.kubegate.cache.quota_hard as quota(["requests.cpu", "limits.memory"])
		with data.kubegate.cache.limit_range_defaults as lr
}

test_passes_with_a_quota_of_another_namespace if {
	quotas := {"other": {"compute": {"hard": ["limits.memory"], "scopes": [], "match_expressions": []}}}
	count(quota_requires_limits.violations) == 0 with input as deployment({}) with data.kubegate.cache.quota_hard as quotas
}

test_passes_with_pod_level_resources if {
	d := json.patch(deployment({}), [{"op": "add", "path": "/spec/template/spec/resources", "value": {"limits": {"memory": "1Gi", "cpu": "1"}}}])
	count(quota_requires_limits.violations) == 0 with input as d with data.kubegate.cache.quota_hard as quota(["limits.memory"])
}

test_scopes_priority_class if {
	q := scoped(["limits.memory"], [], [{"scopeName": "PriorityClass", "operator": "In", "values": ["high"]}])
	high := json.patch(deployment({}), [{"op": "add", "path": "/spec/template/spec/priorityClassName", "value": "high"}])
	count(quota_requires_limits.violations) == 1 with input as high with data.kubegate.cache.quota_hard as q
	count(quota_requires_limits.violations) == 0 with input as deployment({}) with data.kubegate.cache.quota_hard as q

	not_in := scoped(["limits.memory"], [], [{"scopeName": "PriorityClass", "operator": "NotIn", "values": ["high"]}])
	count(quota_requires_limits.violations) == 0 with input as high with data.kubegate.cache.quota_hard as not_in
	count(quota_requires_limits.violations) == 1 with input as deployment({}) with data.kubegate.cache.quota_hard as not_in

	exists := scoped(["limits.memory"], [], [{"scopeName": "PriorityClass", "operator": "Exists"}])
	count(quota_requires_limits.violations) == 1 with input as high with data.kubegate.cache.quota_hard as exists
	count(quota_requires_limits.violations) == 0 with input as deployment({}) with data.kubegate.cache.quota_hard as exists
}

test_scopes_terminating if {
	terminating := scoped(["limits.memory"], ["Terminating"], [])
	not_terminating := scoped(["limits.memory"], ["NotTerminating"], [])
	job := {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j", "namespace": "shop"}, "spec": {"template": {"spec": {
		"activeDeadlineSeconds": 600,
		"containers": [{"name": "job"}],
	}}}}
	count(quota_requires_limits.violations) == 1 with input as job with data.kubegate.cache.quota_hard as terminating
	count(quota_requires_limits.violations) == 0 with input as job with data.kubegate.cache.quota_hard as not_terminating
	count(quota_requires_limits.violations) == 0 with input as deployment({}) with data.kubegate.cache.quota_hard as terminating
	count(quota_requires_limits.violations) == 1 with input as deployment({}) with data.kubegate.cache.quota_hard as not_terminating
}

test_scopes_best_effort if {
	# A pod without any cpu or memory request or limit is BestEffort: a
	# NotBestEffort quota does not apply to it.
	q := scoped(["limits.memory"], ["NotBestEffort"], [])
	count(quota_requires_limits.violations) == 0 with input as deployment({}) with data.kubegate.cache.quota_hard as q
	count(quota_requires_limits.violations) == 0 with input as deployment({"requests": {"cpu": "0"}}) with data.kubegate.cache.quota_hard as q
	count(quota_requires_limits.violations) == 1 with input as deployment({"requests": {"cpu": "100m"}}) with data.kubegate.cache.quota_hard as q
}

test_scopes_cross_namespace_pod_affinity if {
	q := scoped(["limits.memory"], ["CrossNamespacePodAffinity"], [])
	affinity := {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1, "podAffinityTerm": {
		"topologyKey": "kubernetes.io/hostname",
		"namespaceSelector": {},
	}}]}}
	d := json.patch(deployment({}), [{"op": "add", "path": "/spec/template/spec/affinity", "value": affinity}])
	count(quota_requires_limits.violations) == 1 with input as d with data.kubegate.cache.quota_hard as q
	count(quota_requires_limits.violations) == 0 with input as deployment({}) with data.kubegate.cache.quota_hard as q
}

test_passes_without_quotas if {
	count(quota_requires_limits.violations) == 0 with input as deployment({})
}
