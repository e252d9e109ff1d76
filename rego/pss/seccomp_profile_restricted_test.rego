package kubegate.rules.pss.seccomp_profile_restricted_test

import rego.v1

import data.kubegate.rules.pss.seccomp_profile_restricted

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

pod_field := ["spec", "template", "spec", "securityContext", "seccompProfile", "type"]

container_field(i) := ["spec", "template", "spec", "containers", i, "securityContext", "seccompProfile", "type"]

runtime_default := {"seccompProfile": {"type": "RuntimeDefault"}}

test_fires_at_pod_level_when_nothing_sets_it if {
	v := seccomp_profile_restricted.violations with input as deployment({}, {}, {})
	v == {
		{
			"msg": "container \"web\" has no securityContext.seccompProfile and neither does the pod; set seccompProfile.type: RuntimeDefault in the pod's securityContext",
			"path": pod_field,
		},
		{
			"msg": "container \"sidecar\" has no securityContext.seccompProfile and neither does the pod; set seccompProfile.type: RuntimeDefault in the pod's securityContext",
			"path": pod_field,
		},
	}
}

test_fires_on_pod_unconfined if {
	v := seccomp_profile_restricted.violations with input as deployment({"securityContext": {"seccompProfile": {"type": "Unconfined"}}}, {}, runtime_default)
	v == {{
		"msg": "pod sets securityContext.seccompProfile.type: Unconfined; set it to RuntimeDefault (or Localhost with a localhostProfile)",
		"path": pod_field,
	}}
}

test_fires_on_container_unconfined_over_valid_pod if {
	v := seccomp_profile_restricted.violations with input as deployment({"securityContext": runtime_default}, {"seccompProfile": {"type": "Unconfined"}}, {})
	v == {{
		"msg": "container \"web\" sets securityContext.seccompProfile.type: Unconfined; set it to RuntimeDefault (or Localhost with a localhostProfile)",
		"path": container_field(0),
	}}
}

test_fires_on_profile_without_type if {
	v := seccomp_profile_restricted.violations with input as deployment({"securityContext": runtime_default}, {"seccompProfile": {}}, {})
	v == {{
		"msg": "container \"web\" sets securityContext.seccompProfile without a type; set it to RuntimeDefault (or Localhost with a localhostProfile)",
		"path": container_field(0),
	}}
}

test_fires_at_container_level_when_another_container_sets_it if {
	v := seccomp_profile_restricted.violations with input as deployment({}, runtime_default, {"runAsNonRoot": true})
	v == {{
		"msg": "container \"sidecar\" has no securityContext.seccompProfile and neither does the pod; set seccompProfile.type: RuntimeDefault in the container's securityContext, or in the pod's",
		"path": container_field(1),
	}}
}

test_fires_on_init_and_ephemeral_containers_of_pod if {
	pod := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {
		"initContainers": [{"name": "setup", "securityContext": {"seccompProfile": {"type": "Unconfined"}}}],
		"containers": [{"name": "web", "securityContext": {"seccompProfile": {"type": "Localhost", "localhostProfile": "web.json"}}}],
		"ephemeralContainers": [{"name": "debug"}],
	}}
	v := seccomp_profile_restricted.violations with input as pod
	{f.path | some f in v} == {
		["spec", "initContainers", 0, "securityContext", "seccompProfile", "type"],
		["spec", "ephemeralContainers", 0, "securityContext", "seccompProfile", "type"],
	}
}

test_fires_on_cronjob_pod_level if {
	cronjob := {"kind": "CronJob", "metadata": {"name": "c"}, "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "job"}]}}}}}}
	v := seccomp_profile_restricted.violations with input as cronjob
	{f.path | some f in v} == {["spec", "jobTemplate", "spec", "template", "spec", "securityContext", "seccompProfile", "type"]}
}

test_passes_when_pod_sets_runtime_default_or_localhost if {
	count(seccomp_profile_restricted.violations) == 0 with input as deployment({"securityContext": runtime_default}, {}, {})
	count(seccomp_profile_restricted.violations) == 0 with input as deployment({"securityContext": {"seccompProfile": {"type": "Localhost", "localhostProfile": "p.json"}}}, {}, runtime_default)
}

test_passes_when_every_container_sets_it if {
	count(seccomp_profile_restricted.violations) == 0 with input as deployment({}, runtime_default, {"seccompProfile": {"type": "Localhost", "localhostProfile": "p.json"}})
}

test_fires_on_windows_pods_before_v1_25 if {
	v := seccomp_profile_restricted.violations with input as deployment({"os": {"name": "windows"}}, {}, {"seccompProfile": {"type": "Unconfined"}})
	v == {
		{
			"msg": "container \"web\" has no securityContext.seccompProfile and neither does the pod; set seccompProfile.type: RuntimeDefault in the container's securityContext, or in the pod's (Windows pods are exempt from policy v1.25 on)",
			"path": container_field(0),
			"versions": [19, 24],
		},
		{
			"msg": "container \"sidecar\" sets securityContext.seccompProfile.type: Unconfined; set it to RuntimeDefault (or Localhost with a localhostProfile) (Windows pods are exempt from policy v1.25 on)",
			"path": container_field(1),
			"versions": [19, 24],
		},
	}
}

test_fires_in_every_version_on_linux_pods if {
	v := seccomp_profile_restricted.violations with input as deployment({"os": {"name": "linux"}}, {}, {})
	count(v) == 2
	every f in v { not f.versions }
}

test_fires_on_null_type if {
	v := seccomp_profile_restricted.violations with input as deployment({"securityContext": {"seccompProfile": {"type": null}}}, runtime_default, runtime_default)
	{f.path | some f in v} == {pod_field}
}

test_fires_on_null_container_entry if {
	pod := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [null]}}
	v := seccomp_profile_restricted.violations with input as pod
	{f.msg | some f in v} == {"container #0 (unnamed) has no securityContext.seccompProfile and neither does the pod; set seccompProfile.type: RuntimeDefault in the pod's securityContext"}
}

test_passes_without_containers if {
	count(seccomp_profile_restricted.violations) == 0 with input as {"kind": "Pod", "metadata": {"name": "p"}, "spec": {}}
}

test_passes_on_valid_pod_with_annotation_unconfined if {
	# The alpha annotations are seccompProfile_baseline's business before v1.19 only.
	d := json.patch(deployment({"securityContext": runtime_default}, {}, {}), [{"op": "add", "path": "/spec/template/metadata", "value": {"annotations": {"seccomp.security.alpha.kubernetes.io/pod": "unconfined"}}}])
	count(seccomp_profile_restricted.violations) == 0 with input as d
}

test_passes_on_non_workloads if {
	count(seccomp_profile_restricted.violations) == 0 with input as {"kind": "Namespace", "metadata": {"name": "n"}}
}

test_fires_when_security_contexts_are_null if {
	v := seccomp_profile_restricted.violations with input as deployment({"securityContext": null}, null, {"seccompProfile": null})
	{f.path | some f in v} == {pod_field}
	count(v) == 2
}
