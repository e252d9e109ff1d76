package kubegate.lib.resources_test

import rego.v1

import data.kubegate.lib.resources as lib

test_amount_of_quantities if {
	lib.amount("1.5Gi") == 1610612736
	lib.amount("512Mi") == 536870912
	lib.amount("0.5Gi") == 536870912
	lib.amount("500m") == 0.5
	lib.amount("0.5") == 0.5
	lib.amount("1e3") == 1000
	lib.amount("1E-3") == 0.001
	lib.amount("1.5e3") == 1500
	lib.amount("1M") == 1000000
	lib.amount("2E") == 2000000000000000000
	lib.amount("1k") == 1000
	lib.amount(".5Ki") == 512
	lib.amount("+2") == 2
	lib.amount(2) == 2
	lib.amount(0.25) == 0.25
	lib.amount("100n") == 0.0000001
	lib.amount("250u") == 0.00025
	lib.amount("7Ei") == 8070450532247928832
}

test_amount_rejects_what_kubernetes_rejects if {
	not lib.amount("")
	not lib.amount(".")
	not lib.amount("1K")
	not lib.amount("1 Gi")
	not lib.amount("-1")
	not lib.amount("1GB")
	not lib.amount("1mi")
	not lib.amount("1e999")
	not lib.amount("Gi")
	not lib.amount(null)
	not lib.amount({"memory": "1Gi"})
}

test_compare_exactly if {
	lib.compare("512Mi", "0.5Gi") == 0
	lib.compare("100m", "0.1") == 0
	lib.compare("300m", "0.3") == 0
	lib.compare(1, "1000m") == 0
	lib.compare("1Gi", "1G") == 1
	lib.compare("1M", "1Mi") == -1
	lib.compare("1.5Gi", "1536Mi") == 0
	lib.compare("1500m", "1.5") == 0
	lib.compare("1001m", "1") == 1
	lib.compare("999999999n", "1") == -1
	lib.compare("1000000000n", "1") == 0
	lib.compare("1Ki", "1024") == 0
	lib.compare("128Mi", "128Mi") == 0
	not lib.compare("1Gi", "lots")
}

pod(namespace, resources) := {"kind": "Pod", "metadata": {"name": "p", "namespace": namespace}, "spec": {
	"initContainers": [{"name": "setup", "resources": resources}],
	"containers": [{"name": "web", "resources": resources}],
	"ephemeralContainers": [{"name": "debug"}],
}}

defaults := {"shop": {
	"requests": {"cpu": "250m", "memory": "256Mi"},
	"limits": {"memory": "512Mi"},
	"from": {"requests": {"cpu": "lr", "memory": "lr"}, "limits": {"memory": "lr"}},
}}

# The first container as lib sees it, with the origins of its memory request
# and limit (evaluated under the same input and cache).
first := object.union(lib.containers[0], {"origins": [
	lib.origin(lib.containers[0], "requests", "memory"),
	lib.origin(lib.containers[0], "limits", "memory"),
]})

test_containers_apply_defaulting_then_limit_range if {
	cs := lib.containers with input as pod("shop", {"requests": {"cpu": "1"}, "limits": {"cpu": "2", "memory": "1Gi"}})
		with data.kubegate.cache.limit_range_defaults as defaults
	[c.type | some c in cs] == ["containers", "initContainers"]
	c := first with input as pod("shop", {"requests": {"cpu": "1"}, "limits": {"cpu": "2", "memory": "1Gi"}})
		with data.kubegate.cache.limit_range_defaults as defaults
	c.requests == {"cpu": "1", "memory": "1Gi"}
	c.limits == {"cpu": "2", "memory": "1Gi"}
	c.compare == {"cpu": -1, "memory": 0}
	c.origins == [" (copied from its limit)", ""]
}

test_containers_take_limit_range_defaults_for_what_is_missing if {
	c := first with input as pod("shop", {}) with data.kubegate.cache.limit_range_defaults as defaults
	c.requests == {"cpu": "250m", "memory": "256Mi"}
	c.limits == {"memory": "512Mi"}
	c.compare == {"memory": -1}
	c.origins == [" (the default request of LimitRange \"lr\")", " (the default limit of LimitRange \"lr\")"]
}

test_containers_ignore_limit_ranges_of_other_namespaces if {
	cs := lib.containers with input as pod("other", {"requests": {"memory": null}}) with data.kubegate.cache.limit_range_defaults as defaults
	every c in cs {
		c.requests == {}
		c.limits == {}
	}
}
