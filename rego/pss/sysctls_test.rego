package kubegate.rules.pss.sysctls_test

import rego.v1

import data.kubegate.rules.pss.sysctls

deployment(names) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web"},
	"spec": {"template": {"spec": {
		"securityContext": {"sysctls": [{"name": n, "value": "1"} | some n in names]},
		"containers": [{"name": "web", "image": "nginx"}],
	}}},
}

field(i) := ["spec", "template", "spec", "securityContext", "sysctls", i]

test_fires_on_unsafe_sysctl_in_every_version if {
	v := sysctls.violations with input as deployment(["kernel.shm_rmid_forced", "kernel.msgmax"])
	v == {{
		"msg": "pod sets sysctl \"kernel.msgmax\", which is not in the safe set of any policy version; remove it from securityContext.sysctls (set it on the node if it is needed)",
		"path": field(1),
	}}
}

test_fires_on_sysctls_before_the_version_that_allows_them if {
	v := sysctls.violations with input as deployment([
		"net.ipv4.ip_local_reserved_ports",
		"net.ipv4.tcp_keepalive_time",
		"net.ipv4.tcp_fin_timeout",
		"net.ipv4.tcp_keepalive_intvl",
		"net.ipv4.tcp_keepalive_probes",
		"net.ipv4.tcp_rmem",
		"net.ipv4.tcp_wmem",
		"net.ipv4.tcp_slow_start_after_idle",
		"net.ipv4.tcp_notsent_lowat",
	])
	{[f.path, f.versions] | some f in v} == {
		[field(0), [0, 26]],
		[field(1), [0, 28]],
		[field(2), [0, 28]],
		[field(3), [0, 28]],
		[field(4), [0, 28]],
		[field(5), [0, 31]],
		[field(6), [0, 31]],
		[field(7), [0, 36]],
		[field(8), [0, 36]],
	}
}

test_fires_with_version_message if {
	v := sysctls.violations with input as deployment(["net.ipv4.tcp_rmem"])
	v == {{
		"msg": "pod sets sysctl \"net.ipv4.tcp_rmem\", which is only allowed from policy v1.32; remove it from securityContext.sysctls, or use policy version v1.32 or later",
		"path": field(0),
		"versions": [0, 31],
	}}
}

test_fires_on_sysctl_without_name if {
	pod := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"securityContext": {"sysctls": [{"value": "1"}, null, {"name": null}]}, "containers": [{"name": "web"}]}}
	v := sysctls.violations with input as pod
	{f.path | some f in v} == {
		["spec", "securityContext", "sysctls", 0],
		["spec", "securityContext", "sysctls", 1],
		["spec", "securityContext", "sysctls", 2],
	}
}

test_fires_on_case_mismatch if {
	count(sysctls.violations) == 1 with input as deployment(["Kernel.shm_rmid_forced"])
}

test_passes_on_safe_sysctls if {
	count(sysctls.violations) == 0 with input as deployment([
		"kernel.shm_rmid_forced",
		"net.ipv4.ip_local_port_range",
		"net.ipv4.tcp_syncookies",
		"net.ipv4.ping_group_range",
		"net.ipv4.ip_unprivileged_port_start",
	])
}

test_passes_without_sysctls if {
	count(sysctls.violations) == 0 with input as deployment([])
	count(sysctls.violations) == 0 with input as {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"securityContext": {"sysctls": null}}}
	count(sysctls.violations) == 0 with input as {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"securityContext": null}}
}

test_passes_on_non_workloads if {
	count(sysctls.violations) == 0 with input as {"kind": "ConfigMap", "metadata": {"name": "c"}}
}
