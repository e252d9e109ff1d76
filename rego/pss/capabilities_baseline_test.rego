package kubegate.rules.pss.capabilities_baseline_test

import rego.v1

import data.kubegate.rules.pss.capabilities_baseline

deployment(capabilities) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web"},
	"spec": {"template": {"spec": {
		"initContainers": [{"name": "setup", "image": "busybox"}],
		"containers": [{"name": "web", "image": "nginx", "securityContext": {"capabilities": capabilities}}],
	}}},
}

test_fires_on_added_sys_admin if {
	v := capabilities_baseline.violations with input as deployment({"add": ["NET_BIND_SERVICE", "SYS_ADMIN"]})
	v == {{
		"msg": "container \"web\" adds capability \"SYS_ADMIN\" in securityContext.capabilities.add; remove it (Baseline allows adding only AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT)",
		"path": ["spec", "template", "spec", "containers", 0, "securityContext", "capabilities", "add", 1],
	}}
}

test_fires_once_per_capability if {
	v := capabilities_baseline.violations with input as deployment({"add": ["NET_ADMIN", "CHOWN", "ALL", "CAP_SYS_PTRACE"]})
	{f.path | some f in v} == {
		["spec", "template", "spec", "containers", 0, "securityContext", "capabilities", "add", 0],
		["spec", "template", "spec", "containers", 0, "securityContext", "capabilities", "add", 2],
		["spec", "template", "spec", "containers", 0, "securityContext", "capabilities", "add", 3],
	}
}

test_fires_on_init_and_ephemeral_containers_of_pod if {
	pod := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {
		"initContainers": [{"name": "setup", "securityContext": {"capabilities": {"add": ["SYS_PTRACE"]}}}],
		"containers": [{"name": "web"}],
		"ephemeralContainers": [{"name": "debug", "securityContext": {"capabilities": {"add": ["NET_RAW"]}}}],
	}}
	v := capabilities_baseline.violations with input as pod
	{f.path | some f in v} == {
		["spec", "initContainers", 0, "securityContext", "capabilities", "add", 0],
		["spec", "ephemeralContainers", 0, "securityContext", "capabilities", "add", 0],
	}
	some f in v
	startswith(f.msg, "ephemeral container \"debug\" adds capability \"NET_RAW\"")
}

test_fires_on_lower_case_and_null_capabilities if {
	v := capabilities_baseline.violations with input as deployment({"add": ["chown", null, "CAP_CHOWN"]})
	{f.path | some f in v} == {
		["spec", "template", "spec", "containers", 0, "securityContext", "capabilities", "add", 0],
		["spec", "template", "spec", "containers", 0, "securityContext", "capabilities", "add", 1],
		["spec", "template", "spec", "containers", 0, "securityContext", "capabilities", "add", 2],
	}
}

test_fires_on_windows_pods if {
	pod := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"os": {"name": "windows"}, "containers": [{"name": "web", "securityContext": {"capabilities": {"add": ["SYS_ADMIN"]}}}]}}
	count(capabilities_baseline.violations) == 1 with input as pod
}

test_passes_on_baseline_capabilities if {
	count(capabilities_baseline.violations) == 0 with input as deployment({
		"add": ["AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"],
		"drop": ["ALL"],
	})
}

test_passes_when_nothing_added if {
	count(capabilities_baseline.violations) == 0 with input as deployment({})
	count(capabilities_baseline.violations) == 0 with input as deployment({"drop": ["SYS_ADMIN"]})
	count(capabilities_baseline.violations) == 0 with input as deployment({"add": null})
	count(capabilities_baseline.violations) == 0 with input as deployment({"add": []})
	count(capabilities_baseline.violations) == 0 with input as deployment(null)
}

test_passes_on_non_workloads if {
	count(capabilities_baseline.violations) == 0 with input as {"kind": "ConfigMap", "spec": {"containers": [{"securityContext": {"capabilities": {"add": ["SYS_ADMIN"]}}}]}}
}
