package kubegate.rules.pss.seccomp_profile_baseline_test

import rego.v1

import data.kubegate.rules.pss.seccomp_profile_baseline

# A Deployment with template annotations and pod spec pod_spec merged over
# two containers, web and sidecar, with the given securityContexts.
deployment(annotations, pod_spec, web, sidecar) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web", "annotations": {"seccomp.security.alpha.kubernetes.io/pod": "unconfined"}},
	"spec": {"template": {
		"metadata": {"annotations": annotations},
		"spec": object.union(
			{"containers": [
				{"name": "web", "image": "nginx", "securityContext": web},
				{"name": "sidecar", "image": "envoy", "securityContext": sidecar},
			]},
			pod_spec,
		),
	}},
}

pod_annotation := "seccomp.security.alpha.kubernetes.io/pod"

annotation_field(key) := ["spec", "template", "metadata", "annotations", key]

pod_field := ["spec", "template", "spec", "securityContext", "seccompProfile", "type"]

container_field(i) := ["spec", "template", "spec", "containers", i, "securityContext", "seccompProfile", "type"]

unconfined := {"seccompProfile": {"type": "Unconfined"}}

test_fires_on_pod_annotation_until_v1_18 if {
	v := seccomp_profile_baseline.violations with input as deployment({pod_annotation: "unconfined"}, {}, {}, {})
	v == {{
		"msg": "pod annotation seccomp.security.alpha.kubernetes.io/pod: \"unconfined\" is forbidden; set it to runtime/default or localhost/<profile>, or remove it",
		"path": annotation_field(pod_annotation),
		"versions": [0, 18],
	}}
}

test_fires_on_container_annotations_until_v1_18 if {
	pod := {"kind": "Pod", "metadata": {"name": "p", "annotations": {
		"container.seccomp.security.alpha.kubernetes.io/setup": "unconfined",
		"container.seccomp.security.alpha.kubernetes.io/web": "localhost/web.json",
		"container.seccomp.security.alpha.kubernetes.io/debug": "",
		"container.seccomp.security.alpha.kubernetes.io/gone": "unconfined",
	}}, "spec": {
		"initContainers": [{"name": "setup"}],
		"containers": [{"name": "web"}],
		"ephemeralContainers": [{"name": "debug"}],
	}}
	v := seccomp_profile_baseline.violations with input as pod
	v == {
		{
			"msg": "annotation container.seccomp.security.alpha.kubernetes.io/setup: \"unconfined\" of init container \"setup\" is forbidden; set it to runtime/default or localhost/<profile>, or remove it",
			"path": ["metadata", "annotations", "container.seccomp.security.alpha.kubernetes.io/setup"],
			"versions": [0, 18],
		},
		{
			"msg": "annotation container.seccomp.security.alpha.kubernetes.io/debug: \"\" of ephemeral container \"debug\" is forbidden; set it to runtime/default or localhost/<profile>, or remove it",
			"path": ["metadata", "annotations", "container.seccomp.security.alpha.kubernetes.io/debug"],
			"versions": [0, 18],
		},
	}
}

test_fires_on_null_annotation_value if {
	v := seccomp_profile_baseline.violations with input as deployment({pod_annotation: null}, {}, {}, {})
	{[f.path, f.versions] | some f in v} == {[annotation_field(pod_annotation), [0, 18]]}
}

test_fires_on_annotation_of_unnamed_container if {
	pod := {"kind": "Pod", "metadata": {"name": "p", "annotations": {"container.seccomp.security.alpha.kubernetes.io/": "unconfined"}}, "spec": {"containers": [{"image": "x"}]}}
	v := seccomp_profile_baseline.violations with input as pod
	{f.path | some f in v} == {["metadata", "annotations", "container.seccomp.security.alpha.kubernetes.io/"]}
}

test_fires_on_pod_field_from_v1_19 if {
	v := seccomp_profile_baseline.violations with input as deployment({}, {"securityContext": unconfined}, {}, {})
	v == {{
		"msg": "pod sets securityContext.seccompProfile.type: Unconfined; set it to RuntimeDefault or Localhost, or remove the seccompProfile",
		"path": pod_field,
		"versions": [19, 9999],
	}}
}

test_fires_on_container_fields_from_v1_19 if {
	v := seccomp_profile_baseline.violations with input as deployment({}, {"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}}, unconfined, {"seccompProfile": {}})
	v == {
		{
			"msg": "container \"web\" sets securityContext.seccompProfile.type: Unconfined; set it to RuntimeDefault or Localhost, or remove the seccompProfile",
			"path": container_field(0),
			"versions": [19, 9999],
		},
		{
			"msg": "container \"sidecar\" sets securityContext.seccompProfile without a type; set it to RuntimeDefault or Localhost, or remove the seccompProfile",
			"path": container_field(1),
			"versions": [19, 9999],
		},
	}
}

test_fires_on_init_and_ephemeral_container_fields if {
	pod := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {
		"initContainers": [{"name": "setup", "securityContext": unconfined}],
		"containers": [{"name": "web"}],
		"ephemeralContainers": [{"name": "debug", "securityContext": {"seccompProfile": {"type": null}}}],
	}}
	v := seccomp_profile_baseline.violations with input as pod
	{f.path | some f in v} == {
		["spec", "initContainers", 0, "securityContext", "seccompProfile", "type"],
		["spec", "ephemeralContainers", 0, "securityContext", "seccompProfile", "type"],
	}
}

test_fires_on_both_annotation_and_field_in_their_versions if {
	v := seccomp_profile_baseline.violations with input as deployment({pod_annotation: "unconfined"}, {"securityContext": unconfined}, {}, {})
	{[f.path, f.versions] | some f in v} == {[annotation_field(pod_annotation), [0, 18]], [pod_field, [19, 9999]]}
}

test_passes_with_valid_annotations if {
	annotations := {
		pod_annotation: "runtime/default",
		"container.seccomp.security.alpha.kubernetes.io/web": "docker/default",
		"container.seccomp.security.alpha.kubernetes.io/sidecar": "localhost/sidecar.json",
	}
	count(seccomp_profile_baseline.violations) == 0 with input as deployment(annotations, {}, {}, {})
}

test_passes_with_valid_unset_or_null_profiles if {
	count(seccomp_profile_baseline.violations) == 0 with input as deployment({}, {}, {}, {})
	count(seccomp_profile_baseline.violations) == 0 with input as deployment(null, {"securityContext": null}, null, {"seccompProfile": null})
	count(seccomp_profile_baseline.violations) == 0 with input as deployment({}, {"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}}, {"seccompProfile": {"type": "Localhost", "localhostProfile": "p.json"}}, {})
}

test_passes_on_resource_metadata_annotation if {
	# Only the pod template's annotations count, not the Deployment's own.
	count(seccomp_profile_baseline.violations) == 0 with input as deployment({}, {}, {}, {})
}

test_passes_on_non_workloads if {
	count(seccomp_profile_baseline.violations) == 0 with input as {"kind": "ConfigMap", "metadata": {"name": "c", "annotations": {pod_annotation: "unconfined"}}}
}
