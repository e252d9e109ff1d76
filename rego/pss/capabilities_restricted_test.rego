package kubegate.rules.pss.capabilities_restricted_test

import rego.v1

import data.kubegate.lib.kubernetes as k8s
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
		"msg": "container \"web\" does not drop ALL capabilities in securityContext.capabilities.drop; set securityContext.capabilities.drop: [\"ALL\"]",
		"path": array.concat(capabilities_field, ["drop"]),
	}}
}

test_fires_when_drop_has_lower_case_all if {
	count(capabilities_restricted.violations) == 1 with input as deployment({"drop": ["all"]})
}

test_fires_when_capabilities_absent if {
	pod := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {
		"initContainers": [{"name": "setup"}],
		"containers": [{"name": "web", "securityContext": {"runAsNonRoot": true}}, {"name": "null-caps", "securityContext": {"capabilities": null}}],
		"ephemeralContainers": [{"name": "debug", "securityContext": {"capabilities": {"drop": ["ALL"]}}}],
	}}
	v := capabilities_restricted.violations with input as pod
	{f.path | some f in v} == {
		["spec", "initContainers", 0, "securityContext", "capabilities", "drop"],
		["spec", "containers", 0, "securityContext", "capabilities", "drop"],
		["spec", "containers", 1, "securityContext", "capabilities", "drop"],
	}
	some f in v
	f.msg == "init container \"setup\" does not set securityContext.capabilities.drop; set securityContext.capabilities.drop: [\"ALL\"]"
}

test_fires_on_null_and_unnamed_containers if {
	pod := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [null, {}]}}
	v := capabilities_restricted.violations with input as pod
	{f.msg | some f in v} == {
		"container #0 (unnamed) does not set securityContext.capabilities.drop; set securityContext.capabilities.drop: [\"ALL\"]",
		"container #1 (unnamed) does not set securityContext.capabilities.drop; set securityContext.capabilities.drop: [\"ALL\"]",
	}
}

test_fires_once_per_added_capability if {
	v := capabilities_restricted.violations with input as deployment({"drop": ["ALL"], "add": ["CHOWN", "NET_BIND_SERVICE", "SYS_ADMIN", null]})
	{f.path | some f in v} == {
		array.concat(capabilities_field, ["add", 0]),
		array.concat(capabilities_field, ["add", 2]),
		array.concat(capabilities_field, ["add", 3]),
	}
	some f in v
	f.msg == "container \"web\" adds capability \"CHOWN\" in securityContext.capabilities.add; remove it (Restricted allows adding only NET_BIND_SERVICE)"
}

test_fires_on_cronjob if {
	cronjob := {"kind": "CronJob", "metadata": {"name": "c"}, "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "job"}]}}}}}}
	v := capabilities_restricted.violations with input as cronjob
	{f.path | some f in v} == {["spec", "jobTemplate", "spec", "template", "spec", "containers", 0, "securityContext", "capabilities", "drop"]}
}

# Windows pods are exempt only from v1.25: before, their violations hold.
test_fires_on_windows_pods_until_v1_24 if {
	pod := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"os": {"name": "windows"}, "containers": [{"name": "web", "securityContext": {"capabilities": {"add": ["SYS_ADMIN"]}}}]}}
	v := capabilities_restricted.violations with input as pod
	count(v) == 2
	every f in v {
		f.versions == k8s.until(24)
	}
}

test_fires_on_linux_pods_in_every_version if {
	pod := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"os": {"name": "linux"}, "containers": [{"name": "web"}]}}
	v := capabilities_restricted.violations with input as pod
	count(v) == 1
	every f in v {
		not "versions" in object.keys(f)
	}
}

test_passes_when_dropping_all if {
	count(capabilities_restricted.violations) == 0 with input as deployment({"drop": ["ALL"]})
	count(capabilities_restricted.violations) == 0 with input as deployment({"drop": ["NET_RAW", "ALL"], "add": ["NET_BIND_SERVICE"]})
}

test_passes_on_windows_pods_from_v1_25 if {
	pod := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"os": {"name": "windows"}, "containers": [{"name": "web"}]}}
	v := capabilities_restricted.violations with input as pod
	count(v) == 1
	every f in v {
		f.versions[1] < 25
	}
}

test_passes_on_non_workloads if {
	count(capabilities_restricted.violations) == 0 with input as {"kind": "ConfigMap", "spec": {"containers": [{"name": "web"}]}}
}
