package kubegate.rules.pss.allow_privilege_escalation_test

import rego.v1

import data.kubegate.rules.pss.allow_privilege_escalation

deployment(sc) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web"},
	"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx", "securityContext": sc}]}}},
}

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

test_fires_on_every_container_kind_of_pod if {
	pod := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {
		"initContainers": [{"name": "setup"}],
		"containers": [{"name": "web", "securityContext": {"allowPrivilegeEscalation": false}}, {"name": "sidecar"}],
		"ephemeralContainers": [{"name": "debug", "securityContext": {}}],
	}}
	v := allow_privilege_escalation.violations with input as pod
	{f.path | some f in v} == {
		["spec", "initContainers", 0, "securityContext", "allowPrivilegeEscalation"],
		["spec", "containers", 1, "securityContext", "allowPrivilegeEscalation"],
		["spec", "ephemeralContainers", 0, "securityContext", "allowPrivilegeEscalation"],
	}
}

test_fires_on_cronjob if {
	cronjob := {"kind": "CronJob", "metadata": {"name": "c"}, "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "job"}]}}}}}}
	v := allow_privilege_escalation.violations with input as cronjob
	{f.path | some f in v} == {["spec", "jobTemplate", "spec", "template", "spec", "containers", 0, "securityContext", "allowPrivilegeEscalation"]}
}

test_passes_when_false if {
	count(allow_privilege_escalation.violations) == 0 with input as deployment({"allowPrivilegeEscalation": false})
}

test_passes_on_windows_pods if {
	pod := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"os": {"name": "windows"}, "containers": [{"name": "web"}]}}
	count(allow_privilege_escalation.violations) == 0 with input as pod
}

test_passes_on_non_workloads if {
	count(allow_privilege_escalation.violations) == 0 with input as {"kind": "Secret", "metadata": {"name": "s"}}
}

test_fires_on_linux_pods if {
	pod := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"os": {"name": "linux"}, "containers": [{"name": "web"}]}}
	count(allow_privilege_escalation.violations) == 1 with input as pod
}
