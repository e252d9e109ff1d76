package kubegate.rules.pss.proc_mount_test

import rego.v1

import data.kubegate.lib.kubernetes as k8s
import data.kubegate.rules.pss.proc_mount

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
	v := proc_mount.violations with input as deployment({}, {"procMount": "Unmasked"})
	v == {{
		"msg": "container \"web\" sets securityContext.procMount: Unmasked; remove it or set procMount: Default (Baseline allows it from policy v1.35 only in pods with hostUsers: false)",
		"path": field,
	}}
}

test_fires_on_host_users_true_in_every_version if {
	v := proc_mount.violations with input as deployment({"hostUsers": true}, {"procMount": "Unmasked"})
	count(v) == 1
	every f in v {
		not "versions" in object.keys(f)
	}
}

# In a user namespace, upstream's v1.35 check allows any procMount.
test_fires_in_user_namespace_until_v1_34 if {
	v := proc_mount.violations with input as deployment({"hostUsers": false}, {"procMount": "Unmasked"})
	v == {{
		"msg": "container \"web\" sets securityContext.procMount: Unmasked; remove it or set procMount: Default (Baseline allows it in this pod with hostUsers: false from policy v1.35)",
		"path": field,
		"versions": k8s.until(34),
	}}
}

test_fires_on_empty_and_unknown_values if {
	v := proc_mount.violations with input as deployment({}, {"procMount": ""})
	some f in v
	f.msg == "container \"web\" sets securityContext.procMount: \"\"; remove it or set procMount: Default (Baseline allows it from policy v1.35 only in pods with hostUsers: false)"
	count(proc_mount.violations) == 1 with input as deployment({}, {"procMount": "default"})
}

test_fires_on_init_and_ephemeral_containers_of_pod if {
	pod := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {
		"initContainers": [{"name": "setup", "securityContext": {"procMount": "Unmasked"}}],
		"containers": [{"name": "web", "securityContext": {"procMount": "Default"}}],
		"ephemeralContainers": [{"name": "debug", "securityContext": {"procMount": "Unmasked"}}],
	}}
	v := proc_mount.violations with input as pod
	{f.path | some f in v} == {
		["spec", "initContainers", 0, "securityContext", "procMount"],
		["spec", "ephemeralContainers", 0, "securityContext", "procMount"],
	}
}

test_passes_on_default_null_or_absent if {
	count(proc_mount.violations) == 0 with input as deployment({}, {"procMount": "Default"})
	count(proc_mount.violations) == 0 with input as deployment({"hostUsers": false}, {"procMount": "Default"})
	count(proc_mount.violations) == 0 with input as deployment({}, {"procMount": null})
	count(proc_mount.violations) == 0 with input as deployment({}, {})
	count(proc_mount.violations) == 0 with input as deployment({}, null)
}

test_passes_in_user_namespace_from_v1_35 if {
	v := proc_mount.violations with input as deployment({"hostUsers": false}, {"procMount": "Unmasked"})
	every f in v {
		f.versions[1] < 35
	}
}

test_passes_on_non_workloads if {
	count(proc_mount.violations) == 0 with input as {"kind": "ConfigMap", "spec": {"containers": [{"securityContext": {"procMount": "Unmasked"}}]}}
}
