package kubegate.rules.pss.allow_privilege_escalation_test

import rego.v1

import data.kubegate.rules.pss.allow_privilege_escalation

deployment(sc) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web"},
	"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx", "securityContext": sc}]}}},
}

pod(spec) := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec}

test_fires_when_true if {
	v := allow_privilege_escalation.violations with input as deployment({"allowPrivilegeEscalation": true})
	v == {{
		"msg": "container \"web\" sets securityContext.allowPrivilegeEscalation: true; set securityContext.allowPrivilegeEscalation: false",
		"path": ["spec", "template", "spec", "containers", 0, "securityContext", "allowPrivilegeEscalation"],
	}}
}

test_fires_when_absent if {
	v := allow_privilege_escalation.violations with input as deployment({"runAsNonRoot": true})
	v == {{
		"msg": "container \"web\" does not set securityContext.allowPrivilegeEscalation, which defaults to true; set securityContext.allowPrivilegeEscalation: false",
		"path": ["spec", "template", "spec", "containers", 0, "securityContext", "allowPrivilegeEscalation"],
	}}
}

test_fires_when_null if {
	count(allow_privilege_escalation.violations) == 1 with input as deployment({"allowPrivilegeEscalation": null})
	count(allow_privilege_escalation.violations) == 1 with input as deployment(null)
}

test_fires_on_every_container_kind_of_pod if {
	p := pod({
		"initContainers": [{"name": "setup"}],
		"containers": [{"name": "web", "securityContext": {"allowPrivilegeEscalation": false}}, {"name": "sidecar"}],
		"ephemeralContainers": [{"name": "debug", "securityContext": {}}],
	})
	v := allow_privilege_escalation.violations with input as p
	{f.path | some f in v} == {
		["spec", "initContainers", 0, "securityContext", "allowPrivilegeEscalation"],
		["spec", "containers", 1, "securityContext", "allowPrivilegeEscalation"],
		["spec", "ephemeralContainers", 0, "securityContext", "allowPrivilegeEscalation"],
	}
}

test_fires_on_unnamed_container if {
	v := allow_privilege_escalation.violations with input as pod({"containers": [{"image": "nginx"}]})
	{f.msg | some f in v} == {"container #0 (unnamed) does not set securityContext.allowPrivilegeEscalation, which defaults to true; set securityContext.allowPrivilegeEscalation: false"}
}

test_fires_on_cronjob if {
	cronjob := {"kind": "CronJob", "metadata": {"name": "c"}, "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "job"}]}}}}}}
	v := allow_privilege_escalation.violations with input as cronjob
	{f.path | some f in v} == {["spec", "jobTemplate", "spec", "template", "spec", "containers", 0, "securityContext", "allowPrivilegeEscalation"]}
}

test_fires_on_windows_pods_before_v1_25 if {
	v := allow_privilege_escalation.violations with input as pod({"os": {"name": "windows"}, "containers": [{"name": "web"}]})
	v == {{
		"msg": "container \"web\" does not set securityContext.allowPrivilegeEscalation, which defaults to true; set securityContext.allowPrivilegeEscalation: false (Windows pods are exempt from policy v1.25 on)",
		"path": ["spec", "containers", 0, "securityContext", "allowPrivilegeEscalation"],
		"versions": [8, 24],
	}}
}

test_fires_in_every_version_on_linux_pods if {
	v := allow_privilege_escalation.violations with input as pod({"os": {"name": "linux"}, "containers": [{"name": "web"}]})
	count(v) == 1
	every f in v { not f.versions }
}

test_passes_when_false if {
	count(allow_privilege_escalation.violations) == 0 with input as deployment({"allowPrivilegeEscalation": false})
}

test_passes_on_windows_pods_that_set_false if {
	count(allow_privilege_escalation.violations) == 0 with input as pod({"os": {"name": "windows"}, "containers": [{"name": "web", "securityContext": {"allowPrivilegeEscalation": false}}]})
}

test_passes_without_containers if {
	count(allow_privilege_escalation.violations) == 0 with input as pod({})
}

test_passes_on_non_workloads if {
	count(allow_privilege_escalation.violations) == 0 with input as {"kind": "Secret", "metadata": {"name": "s"}}
}
