package kubegate.rules.pss.capabilities_restricted_test

import rego.v1

import data.kubegate.rules.pss.capabilities_restricted

deployment(capabilities) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web"},
	"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx", "securityContext": {"capabilities": capabilities}}]}}},
}

capabilities_field := ["spec", "template", "spec", "containers", 0, "securityContext", "capabilities"]

test_fires_when_drop_lacks_all if {
	v := capabilities_restricted.violations with input as deployment({"drop": ["NET_RAW"]})
	v == {{
		"msg": "container \"web\" does not drop all capabilities; add \"ALL\" to securityContext.capabilities.drop",
		"path": array.concat(capabilities_field, ["drop"]),
	}}
}

test_fires_when_capabilities_absent if {
	pod := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {
		"initContainers": [{"name": "setup"}],
		"containers": [{"name": "web", "securityContext": {"runAsNonRoot": true}}],
		"ephemeralContainers": [{"name": "debug", "securityContext": {"capabilities": {"drop": ["ALL"]}}}],
	}}
	v := capabilities_restricted.violations with input as pod
	{f.path | some f in v} == {
		["spec", "initContainers", 0, "securityContext", "capabilities", "drop"],
		["spec", "containers", 0, "securityContext", "capabilities", "drop"],
	}
}

test_fires_once_per_added_capability if {
	v := capabilities_restricted.violations with input as deployment({"drop": ["ALL"], "add": ["CHOWN", "NET_BIND_SERVICE", "SYS_ADMIN"]})
	{f.path | some f in v} == {
		array.concat(capabilities_field, ["add", 0]),
		array.concat(capabilities_field, ["add", 2]),
	}
	some f in v
	f.msg == "container \"web\" adds capability \"CHOWN\" in securityContext.capabilities.add; remove it (Restricted allows adding only NET_BIND_SERVICE)"
}

test_fires_on_cronjob if {
	cronjob := {"kind": "CronJob", "metadata": {"name": "c"}, "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "job"}]}}}}}}
	v := capabilities_restricted.violations with input as cronjob
	{f.path | some f in v} == {["spec", "jobTemplate", "spec", "template", "spec", "containers", 0, "securityContext", "capabilities", "drop"]}
}

test_passes_when_dropping_all if {
	count(capabilities_restricted.violations) == 0 with input as deployment({"drop": ["ALL"]})
	count(capabilities_restricted.violations) == 0 with input as deployment({"drop": ["NET_RAW", "ALL"], "add": ["NET_BIND_SERVICE"]})
}

test_passes_on_windows_pods if {
	pod := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"os": {"name": "windows"}, "containers": [{"name": "web"}]}}
	count(capabilities_restricted.violations) == 0 with input as pod
}

test_passes_on_non_workloads if {
	count(capabilities_restricted.violations) == 0 with input as {"kind": "ConfigMap", "spec": {"containers": [{"name": "web"}]}}
}
