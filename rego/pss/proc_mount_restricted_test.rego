package kubegate.rules.pss.proc_mount_restricted_test

import rego.v1

import data.kubegate.rules.pss.proc_mount_restricted

deployment(pod_spec, sc) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web"},
	"spec": {"template": {"spec": object.union(
		{
			"initContainers": [{"name": "setup", "image": "busybox"}],
			"containers": [{"name": "web", "image": "nginx", "securityContext": sc}],
		},
		pod_spec,
	)}},
}

field := ["spec", "template", "spec", "containers", 0, "securityContext", "procMount"]

test_fires_on_unmasked if {
	v := proc_mount_restricted.violations with input as deployment({}, {"procMount": "Unmasked"})
	v == {{
		"msg": "container \"web\" sets securityContext.procMount: Unmasked; remove it or set procMount: Default (Restricted forbids it even with hostUsers: false)",
		"path": field,
	}}
}

# Unlike the baseline check, no user-namespace exemption and no version range.
test_fires_in_user_namespace if {
	v := proc_mount_restricted.violations with input as deployment({"hostUsers": false}, {"procMount": "Unmasked"})
	v == {{
		"msg": "container \"web\" sets securityContext.procMount: Unmasked; remove it or set procMount: Default (Restricted forbids it even with hostUsers: false)",
		"path": field,
	}}
}

test_fires_on_init_and_ephemeral_containers_of_pod if {
	pod := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {
		"hostUsers": false,
		"initContainers": [{"name": "setup", "securityContext": {"procMount": "Unmasked"}}],
		"containers": [{"name": "web", "securityContext": {"procMount": "Default"}}],
		"ephemeralContainers": [{"name": "debug", "securityContext": {"procMount": ""}}],
	}}
	v := proc_mount_restricted.violations with input as pod
	{f.path | some f in v} == {
		["spec", "initContainers", 0, "securityContext", "procMount"],
		["spec", "ephemeralContainers", 0, "securityContext", "procMount"],
	}
}

test_passes_on_default_null_or_absent if {
	count(proc_mount_restricted.violations) == 0 with input as deployment({"hostUsers": false}, {"procMount": "Default"})
	count(proc_mount_restricted.violations) == 0 with input as deployment({}, {"procMount": null})
	count(proc_mount_restricted.violations) == 0 with input as deployment({}, {})
	count(proc_mount_restricted.violations) == 0 with input as deployment({}, null)
}

test_passes_on_non_workloads if {
	count(proc_mount_restricted.violations) == 0 with input as {"kind": "ConfigMap", "spec": {"containers": [{"securityContext": {"procMount": "Unmasked"}}]}}
}
