package kubegate.rules.pss.run_as_non_root_test

import rego.v1

import data.kubegate.rules.pss.run_as_non_root

# A Deployment whose pod spec is spec merged over two containers, web and
# sidecar, with the given container securityContexts.
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

pod_field := ["spec", "template", "spec", "securityContext", "runAsNonRoot"]

container_field(i) := ["spec", "template", "spec", "containers", i, "securityContext", "runAsNonRoot"]

test_fires_at_pod_level_when_nothing_sets_it if {
	v := run_as_non_root.violations with input as deployment({}, {}, {})
	v == {
		{
			"msg": "container \"web\" does not set securityContext.runAsNonRoot and neither does the pod; set runAsNonRoot: true in the pod's securityContext",
			"path": pod_field,
		},
		{
			"msg": "container \"sidecar\" does not set securityContext.runAsNonRoot and neither does the pod; set runAsNonRoot: true in the pod's securityContext",
			"path": pod_field,
		},
	}
}

test_fires_on_explicit_false_in_container if {
	v := run_as_non_root.violations with input as deployment({"securityContext": {"runAsNonRoot": true}}, {"runAsNonRoot": false}, {})
	v == {{
		"msg": "container \"web\" sets securityContext.runAsNonRoot: false; set runAsNonRoot: true",
		"path": container_field(0),
	}}
}

test_fires_on_explicit_false_in_pod if {
	v := run_as_non_root.violations with input as deployment({"securityContext": {"runAsNonRoot": false}}, {"runAsNonRoot": true}, {})
	v == {{
		"msg": "pod sets securityContext.runAsNonRoot: false; set runAsNonRoot: true",
		"path": pod_field,
	}}
}

test_fires_at_container_level_when_another_container_sets_it if {
	v := run_as_non_root.violations with input as deployment({}, {"runAsNonRoot": true}, {})
	v == {{
		"msg": "container \"sidecar\" does not set securityContext.runAsNonRoot and neither does the pod; set runAsNonRoot: true in the container's securityContext, or in the pod's",
		"path": container_field(1),
	}}
}

test_fires_on_explicit_and_implicit_containers if {
	v := run_as_non_root.violations with input as deployment({}, {"runAsNonRoot": false}, {"runAsUser": 1000})
	{f.path | some f in v} == {container_field(0), container_field(1)}
}

test_fires_on_init_and_ephemeral_containers_of_pod if {
	pod := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {
		"securityContext": {"runAsNonRoot": true},
		"initContainers": [{"name": "setup", "securityContext": {"runAsNonRoot": false}}],
		"containers": [{"name": "web"}],
		"ephemeralContainers": [{"name": "debug", "securityContext": {"runAsNonRoot": false}}],
	}}
	v := run_as_non_root.violations with input as pod
	{f.path | some f in v} == {
		["spec", "initContainers", 0, "securityContext", "runAsNonRoot"],
		["spec", "ephemeralContainers", 0, "securityContext", "runAsNonRoot"],
	}
}

test_fires_on_cronjob_pod_level if {
	cronjob := {"kind": "CronJob", "metadata": {"name": "c"}, "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "job"}]}}}}}}
	v := run_as_non_root.violations with input as cronjob
	{f.path | some f in v} == {["spec", "jobTemplate", "spec", "template", "spec", "securityContext", "runAsNonRoot"]}
}

test_passes_when_pod_sets_true if {
	count(run_as_non_root.violations) == 0 with input as deployment({"securityContext": {"runAsNonRoot": true}}, {}, {"runAsNonRoot": true})
}

test_passes_when_every_container_sets_true if {
	count(run_as_non_root.violations) == 0 with input as deployment({}, {"runAsNonRoot": true}, {"runAsNonRoot": true})
}

test_fires_on_pod_false_even_when_containers_set_true if {
	# Upstream rejects a pod-level false even when every container overrides it.
	v := run_as_non_root.violations with input as deployment({"securityContext": {"runAsNonRoot": false}}, {"runAsNonRoot": true}, {"runAsNonRoot": true})
	{f.path | some f in v} == {pod_field}
}

test_fires_on_user_namespaced_pods_before_v1_35 if {
	v := run_as_non_root.violations with input as deployment({"hostUsers": false}, {"runAsNonRoot": false}, {})
	v == {
		{
			"msg": "container \"web\" sets securityContext.runAsNonRoot: false; set runAsNonRoot: true (pods with hostUsers: false are exempt from policy v1.35 on)",
			"path": container_field(0),
			"versions": [0, 34],
		},
		{
			"msg": "container \"sidecar\" does not set securityContext.runAsNonRoot and neither does the pod; set runAsNonRoot: true in the container's securityContext, or in the pod's (pods with hostUsers: false are exempt from policy v1.35 on)",
			"path": container_field(1),
			"versions": [0, 34],
		},
	}
}

test_fires_in_every_version_when_host_users_is_true_or_null if {
	v := run_as_non_root.violations with input as deployment({"hostUsers": true}, {"runAsNonRoot": false}, {})
	count(v) == 2
	every f in v { not f.versions }
	w := run_as_non_root.violations with input as deployment({"hostUsers": null}, {}, {})
	count(w) == 2
	every f in w { not f.versions }
}

test_fires_on_unnamed_and_null_containers if {
	pod := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [null, {"image": "x"}]}}
	v := run_as_non_root.violations with input as pod
	{f.msg | some f in v} == {
		"container #0 (unnamed) does not set securityContext.runAsNonRoot and neither does the pod; set runAsNonRoot: true in the pod's securityContext",
		"container #1 (unnamed) does not set securityContext.runAsNonRoot and neither does the pod; set runAsNonRoot: true in the pod's securityContext",
	}
}

test_passes_without_containers if {
	count(run_as_non_root.violations) == 0 with input as {"kind": "Pod", "metadata": {"name": "p"}, "spec": {}}
}

test_passes_on_non_workloads if {
	count(run_as_non_root.violations) == 0 with input as {"kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "b"}}
}

test_fires_when_security_contexts_are_null if {
	v := run_as_non_root.violations with input as deployment({"securityContext": null}, null, {})
	{f.path | some f in v} == {pod_field}
	count(v) == 2
}
