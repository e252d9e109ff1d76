package kubegate.rules.pss.host_namespaces_test

import rego.v1

import data.kubegate.rules.pss.host_namespaces

pod(spec) := {
	"apiVersion": "v1",
	"kind": "Pod",
	"metadata": {"name": "p"},
	"spec": object.union({"containers": [{"name": "web", "image": "nginx"}]}, spec),
}

deployment(spec) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web"},
	"spec": {"template": {"spec": object.union({"containers": [{"name": "web", "image": "nginx"}]}, spec)}},
}

test_fires_on_host_network_of_pod if {
	v := host_namespaces.violations with input as pod({"hostNetwork": true})
	v == {{
		"msg": "pod sets hostNetwork: true and so shares the node's network namespace; remove it or set hostNetwork: false",
		"path": ["spec", "hostNetwork"],
	}}
}

test_fires_once_per_field_of_deployment if {
	v := host_namespaces.violations with input as deployment({"hostNetwork": true, "hostPID": true, "hostIPC": true})
	count(v) == 3
	{f.path | some f in v} == {
		["spec", "template", "spec", "hostNetwork"],
		["spec", "template", "spec", "hostPID"],
		["spec", "template", "spec", "hostIPC"],
	}
	some f in v
	f.msg == "pod sets hostPID: true and so shares the node's process namespace; remove it or set hostPID: false"
}

test_fires_on_host_ipc_of_cronjob if {
	cronjob := {
		"apiVersion": "batch/v1",
		"kind": "CronJob",
		"metadata": {"name": "c"},
		"spec": {"jobTemplate": {"spec": {"template": {"spec": {"hostIPC": true, "containers": [{"name": "job"}]}}}}},
	}
	v := host_namespaces.violations with input as cronjob
	{f.path | some f in v} == {["spec", "jobTemplate", "spec", "template", "spec", "hostIPC"]}
}

test_passes_when_false_or_absent if {
	count(host_namespaces.violations) == 0 with input as pod({"hostNetwork": false, "hostPID": false, "hostIPC": false})
	count(host_namespaces.violations) == 0 with input as deployment({})
	count(host_namespaces.violations) == 0 with input as deployment({"hostNetwork": null, "hostPID": null, "hostIPC": null})
}

test_passes_on_non_workloads if {
	count(host_namespaces.violations) == 0 with input as {"kind": "Service", "spec": {"hostNetwork": true}}
}
