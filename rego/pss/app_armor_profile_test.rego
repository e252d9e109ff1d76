package kubegate.rules.pss.app_armor_profile_test

import rego.v1

import data.kubegate.rules.pss.app_armor_profile

deployment(annotations, pod_sc, container_sc) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web", "annotations": {"container.apparmor.security.beta.kubernetes.io/web": "unconfined"}},
	"spec": {"template": {
		"metadata": {"annotations": annotations},
		"spec": {
			"securityContext": pod_sc,
			"containers": [{"name": "web", "image": "nginx", "securityContext": container_sc}],
		},
	}},
}

pod(annotations, spec) := {
	"apiVersion": "v1",
	"kind": "Pod",
	"metadata": {"name": "p", "annotations": annotations},
	"spec": object.union({"containers": [{"name": "web"}], "initContainers": [{"name": "setup"}]}, spec),
}

test_fires_on_unconfined_annotation_of_template if {
	v := app_armor_profile.violations with input as deployment({"container.apparmor.security.beta.kubernetes.io/web": "unconfined"}, {}, {})
	v == {{
		"msg": "annotation container.apparmor.security.beta.kubernetes.io/web sets AppArmor profile \"unconfined\"; set it to runtime/default or localhost/<profile>, or remove it and set securityContext.appArmorProfile.type: RuntimeDefault",
		"path": ["spec", "template", "metadata", "annotations", "container.apparmor.security.beta.kubernetes.io/web"],
	}}
}

test_fires_on_annotation_of_pod_whatever_the_container if {
	v := app_armor_profile.violations with input as pod(
		{
			"container.apparmor.security.beta.kubernetes.io/setup": "unconfined",
			"container.apparmor.security.beta.kubernetes.io/no-such-container": "docker-default",
			"container.apparmor.security.beta.kubernetes.io/": "Localhost/x",
			"container.apparmor.security.beta.kubernetes.io/web": "runtime/default",
		},
		{},
	)
	{f.path | some f in v} == {
		["metadata", "annotations", "container.apparmor.security.beta.kubernetes.io/setup"],
		["metadata", "annotations", "container.apparmor.security.beta.kubernetes.io/no-such-container"],
		["metadata", "annotations", "container.apparmor.security.beta.kubernetes.io/"],
	}
}

test_fires_on_unconfined_pod_profile if {
	v := app_armor_profile.violations with input as deployment({}, {"appArmorProfile": {"type": "Unconfined"}}, {})
	v == {{
		"msg": "pod sets securityContext.appArmorProfile.type: Unconfined; set it to RuntimeDefault, or Localhost with a localhostProfile",
		"path": ["spec", "template", "spec", "securityContext", "appArmorProfile", "type"],
	}}
}

test_fires_on_container_profile_without_type if {
	v := app_armor_profile.violations with input as deployment({}, {"appArmorProfile": {"type": "RuntimeDefault"}}, {"appArmorProfile": {}})
	v == {{
		"msg": "container \"web\" sets securityContext.appArmorProfile without a type; set it to RuntimeDefault, or Localhost with a localhostProfile",
		"path": ["spec", "template", "spec", "containers", 0, "securityContext", "appArmorProfile", "type"],
	}}
	count(app_armor_profile.violations) == 1 with input as deployment({}, {}, {"appArmorProfile": {"type": null}})
	count(app_armor_profile.violations) == 1 with input as deployment({}, {}, {"appArmorProfile": {"type": "runtimedefault"}})
}

test_fires_on_init_and_ephemeral_containers if {
	v := app_armor_profile.violations with input as pod({}, {
		"initContainers": [{"name": "setup", "securityContext": {"appArmorProfile": {"type": "Unconfined"}}}],
		"ephemeralContainers": [{"name": "debug", "securityContext": {"appArmorProfile": {"type": "Unconfined"}}}],
	})
	{f.path | some f in v} == {
		["spec", "initContainers", 0, "securityContext", "appArmorProfile", "type"],
		["spec", "ephemeralContainers", 0, "securityContext", "appArmorProfile", "type"],
	}
}

test_passes_on_allowed_profiles if {
	count(app_armor_profile.violations) == 0 with input as deployment(
		{
			"container.apparmor.security.beta.kubernetes.io/web": "runtime/default",
			"container.apparmor.security.beta.kubernetes.io/setup": "localhost/foo",
			"container.apparmor.security.beta.kubernetes.io/other": "",
			"container.apparmor.security.beta.kubernetes.io/null": null,
			"apparmor.security.beta.kubernetes.io/web": "unconfined",
			"env": "prod",
		},
		{"appArmorProfile": {"type": "RuntimeDefault"}},
		{"appArmorProfile": {"type": "Localhost", "localhostProfile": "p"}},
	)
}

test_passes_when_unset_or_null if {
	count(app_armor_profile.violations) == 0 with input as deployment(null, null, null)
	count(app_armor_profile.violations) == 0 with input as deployment({}, {"appArmorProfile": null}, {"appArmorProfile": null})
}

test_passes_on_resource_metadata_annotations if {
	# Only the pod template's annotations count, not the Deployment's own.
	count(app_armor_profile.violations) == 0 with input as deployment({}, {}, {})
}

test_passes_on_non_workloads if {
	count(app_armor_profile.violations) == 0 with input as {"kind": "ConfigMap", "metadata": {"annotations": {"container.apparmor.security.beta.kubernetes.io/web": "unconfined"}}}
}
