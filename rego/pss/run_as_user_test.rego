package kubegate.rules.pss.run_as_user_test

import rego.v1

import data.kubegate.rules.pss.run_as_user

# A Deployment whose pod spec is pod_spec merged over two containers, web
# and sidecar, with the given container securityContexts.
deployment(pod_spec, web, sidecar) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web"},
	"spec": {"template": {"spec": object.union(
		{"containers": [
			{"name": "web", "image": "nginx", "securityContext": web},
			{"name": "sidecar", "image": "envoy", "securityContext": sidecar},
		]},
		pod_spec,
	)}},
}

pod_field := ["spec", "template", "spec", "securityContext", "runAsUser"]

container_field(i) := ["spec", "template", "spec", "containers", i, "securityContext", "runAsUser"]

test_fires_on_pod_level_zero if {
	v := run_as_user.violations with input as deployment({"securityContext": {"runAsUser": 0}}, {}, {})
	v == {{
		"msg": "pod sets securityContext.runAsUser: 0 (root); set a non-zero UID such as 1000, or remove it",
		"path": pod_field,
	}}
}

test_fires_on_pod_level_zero_even_when_containers_override_it if {
	v := run_as_user.violations with input as deployment({"securityContext": {"runAsUser": 0}}, {"runAsUser": 1000}, {"runAsUser": 1000})
	{f.path | some f in v} == {pod_field}
}

test_fires_on_container_zero if {
	v := run_as_user.violations with input as deployment({"securityContext": {"runAsUser": 1000}}, {}, {"runAsUser": 0})
	v == {{
		"msg": "container \"sidecar\" sets securityContext.runAsUser: 0 (root); set a non-zero UID such as 1000, or remove it",
		"path": container_field(1),
	}}
}

test_fires_on_init_and_ephemeral_containers_of_pod if {
	pod := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {
		"initContainers": [{"name": "setup", "securityContext": {"runAsUser": 0}}],
		"containers": [{"name": "web", "securityContext": {"runAsUser": 1}}],
		"ephemeralContainers": [{"name": "debug", "securityContext": {"runAsUser": 0}}],
	}}
	v := run_as_user.violations with input as pod
	{f.path | some f in v} == {
		["spec", "initContainers", 0, "securityContext", "runAsUser"],
		["spec", "ephemeralContainers", 0, "securityContext", "runAsUser"],
	}
}

test_fires_on_user_namespaced_pods_before_v1_35 if {
	v := run_as_user.violations with input as deployment({"hostUsers": false, "securityContext": {"runAsUser": 0}}, {}, {})
	v == {{
		"msg": "pod sets securityContext.runAsUser: 0 (root); set a non-zero UID such as 1000, or remove it (pods with hostUsers: false are exempt from policy v1.35 on)",
		"path": pod_field,
		"versions": [23, 34],
	}}
}

test_fires_in_every_version_when_host_users_is_true if {
	v := run_as_user.violations with input as deployment({"hostUsers": true}, {"runAsUser": 0}, {})
	count(v) == 1
	every f in v { not f.versions }
}

test_passes_when_unset_null_or_non_zero if {
	count(run_as_user.violations) == 0 with input as deployment({}, {}, null)
	count(run_as_user.violations) == 0 with input as deployment({"securityContext": {"runAsUser": null}}, {"runAsUser": null}, {})
	count(run_as_user.violations) == 0 with input as deployment({"securityContext": {"runAsUser": 1000}}, {"runAsUser": 1}, {"runAsUser": 65534})
}

test_passes_on_non_workloads if {
	count(run_as_user.violations) == 0 with input as {"kind": "Service", "metadata": {"name": "s"}}
}
