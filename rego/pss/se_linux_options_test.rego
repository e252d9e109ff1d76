package kubegate.rules.pss.se_linux_options_test

import rego.v1

import data.kubegate.lib.kubernetes as k8s
import data.kubegate.rules.pss.se_linux_options

deployment(pod_opts, container_opts) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web"},
	"spec": {"template": {"spec": {
		"securityContext": {"seLinuxOptions": pod_opts},
		"initContainers": [{"name": "setup", "image": "busybox"}],
		"containers": [{"name": "web", "image": "nginx", "securityContext": {"seLinuxOptions": container_opts}}],
	}}},
}

pod_field(f) := ["spec", "template", "spec", "securityContext", "seLinuxOptions", f]

container_field(f) := ["spec", "template", "spec", "containers", 0, "securityContext", "seLinuxOptions", f]

test_fires_on_pod_type if {
	v := se_linux_options.violations with input as deployment({"type": "spc_t"}, null)
	v == {{
		"msg": "pod sets securityContext.seLinuxOptions.type \"spc_t\"; remove it or use container_t, container_init_t, container_kvm_t or container_engine_t",
		"path": pod_field("type"),
	}}
}

test_fires_on_user_and_role if {
	v := se_linux_options.violations with input as deployment({"user": "system_u"}, {"role": "sysadm_r", "type": "container_t"})
	v == {
		{
			"msg": "pod sets securityContext.seLinuxOptions.user \"system_u\"; remove it (only type and level may be set)",
			"path": pod_field("user"),
		},
		{
			"msg": "container \"web\" sets securityContext.seLinuxOptions.role \"sysadm_r\"; remove it (only type and level may be set)",
			"path": container_field("role"),
		},
	}
}

test_fires_on_init_and_ephemeral_containers_of_pod if {
	pod := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {
		"initContainers": [{"name": "setup", "securityContext": {"seLinuxOptions": {"type": "somevalue"}}}],
		"containers": [{"name": "web", "securityContext": {"seLinuxOptions": {"level": "s0:c1,c2"}}}],
		"ephemeralContainers": [{"name": "debug", "securityContext": {"seLinuxOptions": {"type": "Container_t", "user": "u", "role": "r"}}}],
	}}
	v := se_linux_options.violations with input as pod
	{f.path | some f in v} == {
		["spec", "initContainers", 0, "securityContext", "seLinuxOptions", "type"],
		["spec", "ephemeralContainers", 0, "securityContext", "seLinuxOptions", "type"],
		["spec", "ephemeralContainers", 0, "securityContext", "seLinuxOptions", "user"],
		["spec", "ephemeralContainers", 0, "securityContext", "seLinuxOptions", "role"],
	}
}

# container_engine_t is allowed from policy v1.31 only.
test_fires_on_container_engine_t_until_v1_30 if {
	v := se_linux_options.violations with input as deployment({"type": "container_engine_t"}, null)
	v == {{
		"msg": "pod sets securityContext.seLinuxOptions.type \"container_engine_t\", which policy versions before v1.31 forbid; remove it or use container_t, container_init_t or container_kvm_t",
		"path": pod_field("type"),
		"versions": k8s.until(30),
	}}
}

test_passes_on_allowed_types if {
	count(se_linux_options.violations) == 0 with input as deployment({"type": "container_t", "level": ""}, {"type": "container_init_t", "level": "somevalue"})
	count(se_linux_options.violations) == 0 with input as deployment({"type": "container_kvm_t"}, {"type": ""})
}

test_passes_when_unset_empty_or_null if {
	count(se_linux_options.violations) == 0 with input as deployment(null, null)
	count(se_linux_options.violations) == 0 with input as deployment({}, {})
	count(se_linux_options.violations) == 0 with input as deployment({"type": null, "user": null, "role": null}, {"user": "", "role": ""})
}

test_passes_on_non_workloads if {
	count(se_linux_options.violations) == 0 with input as {"kind": "ConfigMap", "spec": {"securityContext": {"seLinuxOptions": {"user": "x"}}}}
}
