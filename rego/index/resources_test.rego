package kubegate.resources_index_test

import rego.v1

import data.kubegate.index
import data.kubegate.rules.resources.heap_exceeds_limit
import data.kubegate.rules.resources.memory_limit_missing
import data.kubegate.rules.resources.quota_requires_limits
import data.kubegate.rules.resources.request_exceeds_limit

limit_range(items) := {"apiVersion": "v1", "kind": "LimitRange", "spec": {"limits": items}}

test_limit_range_defaults if {
	resources := {"LimitRange": {
		"shop": {
			"defaults": limit_range([
				{"type": "Pod", "max": {"cpu": "4"}},
				{"type": "Container", "default": {"cpu": "500m", "memory": "512Mi"}, "defaultRequest": {"cpu": "100m"}},
			]),
			# Only bounds: the API server stores max as the default limit and
			# min as the default request when neither is given.
			"bounds": limit_range([{"type": "Container", "max": {"memory": "1Gi", "ephemeral-storage": "2Gi"}, "min": {"cpu": "50m"}}]),
		},
		"": {"plain": limit_range([{"type": "Container", "defaultRequest": {"memory": 64}}])},
		"empty": {"pvc-only": limit_range([{"type": "PersistentVolumeClaim", "max": {"storage": "1Gi"}}])},
	}}
	t := index.limit_range_defaults with data.kubegate.resources as resources

	# "bounds" sorts before "defaults" and wins where both set a value: its
	# max memory is its default limit and so its default request, its min
	# cpu its default request; the default cpu limit comes from "defaults".
	t == {
		"shop": {
			"requests": {"cpu": "50m", "memory": "1Gi", "ephemeral-storage": "2Gi"},
			"limits": {"cpu": "500m", "memory": "1Gi", "ephemeral-storage": "2Gi"},
			"from": {
				"requests": {"cpu": "bounds", "memory": "bounds", "ephemeral-storage": "bounds"},
				"limits": {"cpu": "defaults", "memory": "bounds", "ephemeral-storage": "bounds"},
			},
		},
		"": {"requests": {"memory": 64}, "limits": {}, "from": {"requests": {"memory": "plain"}, "limits": {}}},
	}
}

test_limit_range_defaults_single_range if {
	resources := {"LimitRange": {"shop": {"defaults": limit_range([
		{"type": "Container", "default": {"cpu": "500m", "memory": "512Mi"}, "defaultRequest": {"cpu": "100m"}},
		# A later item overrides an earlier one.
		{"type": "Container", "default": {"memory": "256Mi"}},
	])}}}
	t := index.limit_range_defaults with data.kubegate.resources as resources
	t.shop.requests == {"cpu": "100m", "memory": "256Mi"}
	t.shop.limits == {"cpu": "500m", "memory": "256Mi"}
}

test_limit_range_defaults_ignores_other_api_groups if {
	resources := {"LimitRange": {"shop": {"x": {"apiVersion": "example.com/v1", "spec": {"limits": [{"type": "Container", "default": {"cpu": "1"}}]}}}}}
	count(index.limit_range_defaults) == 0 with data.kubegate.resources as resources
}

test_limit_range_defaults_empty if {
	count(index.limit_range_defaults) == 0 with data.kubegate.resources as {}
}

test_quota_hard if {
	resources := {"ResourceQuota": {
		"shop": {
			"compute": {"apiVersion": "v1", "spec": {"hard": {"requests.cpu": "4", "limits.memory": "8Gi", "pods": "10"}}},
			"objects": {"apiVersion": "v1", "spec": {"hard": {"pods": "10", "requests.storage": "1Ti"}}},
			"high": {"apiVersion": "v1", "spec": {
				"hard": {"cpu": "10"},
				"scopes": ["NotTerminating"],
				"scopeSelector": {"matchExpressions": [{"scopeName": "PriorityClass", "operator": "In", "values": ["high"]}]},
			}},
		},
		"other": {"compute": {"apiVersion": "v1", "spec": {"hard": {"memory": "1Gi"}}}},
	}}
	t := index.quota_hard with data.kubegate.resources as resources
	t == {
		"shop": {
			"compute": {"hard": ["limits.memory", "requests.cpu"], "scopes": [], "match_expressions": []},
			"high": {"hard": ["cpu"], "scopes": ["NotTerminating"], "match_expressions": [{"scopeName": "PriorityClass", "operator": "In", "values": ["high"]}]},
		},
		"other": {"compute": {"hard": ["memory"], "scopes": [], "match_expressions": []}},
	}
}

test_quota_hard_empty if {
	count(index.quota_hard) == 0 with data.kubegate.resources as {}
}

# The tables as the engine stores them in data.kubegate.cache feed the
# resources.* rules evaluated for one resource.
test_tables_feed_the_rules if {
	resources := {
		"LimitRange": {"shop": {"mem": limit_range([{"type": "Container", "default": {"memory": "512Mi"}}])}},
		"ResourceQuota": {"shop": {"compute": {"apiVersion": "v1", "spec": {"hard": {"limits.cpu": "4", "requests.memory": "8Gi"}}}}},
	}
	cache := {"limit_range_defaults": index.limit_range_defaults, "quota_hard": index.quota_hard} with data.kubegate.resources as resources
	deployment := {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api", "namespace": "shop"}, "spec": {"template": {"spec": {"containers": [{
		"name": "api",
		"env": [{"name": "JAVA_TOOL_OPTIONS", "value": "-Xmx1g"}],
		"resources": {"requests": {"memory": "1Gi"}},
	}]}}}}
	container := ["spec", "template", "spec", "containers", 0]

	# The LimitRange's default limit counts as a limit, below the request
	# and the heap; the quota wants a cpu limit.
	count(memory_limit_missing.violations) == 0 with input as deployment with data.kubegate.cache as cache
	{v.path | some v in request_exceeds_limit.violations} == {array.concat(container, ["resources", "requests", "memory"])} with input as deployment
		with data.kubegate.cache as cache
	{v.path | some v in heap_exceeds_limit.violations} == {array.concat(container, ["env", 0, "value"])} with input as deployment
		with data.kubegate.cache as cache
	{v.path | some v in quota_requires_limits.violations} == {array.concat(container, ["resources", "limits", "cpu"])} with input as deployment
		with data.kubegate.cache as cache
}
