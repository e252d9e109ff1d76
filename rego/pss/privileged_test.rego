package kubegate.rules.pss.privileged_test

import rego.v1

import data.kubegate.rules.pss.privileged

deployment(sc) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web"},
	"spec": {"template": {"spec": {
		"initContainers": [{"name": "setup", "image": "busybox"}],
		"containers": [{"name": "web", "image": "nginx", "securityContext": sc}],
	}}},
}

test_fires_on_privileged_container if {
	v := privileged.violations with input as deployment({"privileged": true})
	v == {{
		"msg": "container \"web\" sets securityContext.privileged: true; remove it or set privileged: false",
		"path": ["spec", "template", "spec", "containers", 0, "securityContext", "privileged"],
	}}
}

test_fires_on_every_container_kind_of_pod if {
	pod := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {
		"initContainers": [{"name": "setup", "securityContext": {"privileged": true}}],
		"containers": [{"name": "web"}],
		"ephemeralContainers": [{"name": "debug", "securityContext": {"privileged": true}}],
	}}
	v := privileged.violations with input as pod
	{f.path | some f in v} == {
		["spec", "initContainers", 0, "securityContext", "privileged"],
		["spec", "ephemeralContainers", 0, "securityContext", "privileged"],
	}
}

test_fires_on_unnamed_container if {
	pod := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"securityContext": {"privileged": true}}]}}
	v := privileged.violations with input as pod
	v == {{
		"msg": "container #0 (unnamed) sets securityContext.privileged: true; remove it or set privileged: false",
		"path": ["spec", "containers", 0, "securityContext", "privileged"],
	}}
}

test_passes_when_false_absent_or_null if {
	count(privileged.violations) == 0 with input as deployment({"privileged": false})
	count(privileged.violations) == 0 with input as deployment({"privileged": null})
	count(privileged.violations) == 0 with input as deployment({})
	count(privileged.violations) == 0 with input as deployment(null)
}

test_passes_on_non_workloads if {
	count(privileged.violations) == 0 with input as {"kind": "ConfigMap", "spec": {"containers": [{"securityContext": {"privileged": true}}]}}
}
