package kubegate.rules.pss.host_ports_test

import rego.v1

import data.kubegate.rules.pss.host_ports

deployment(ports) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web"},
	"spec": {"template": {"spec": {
		"initContainers": [{"name": "setup", "image": "busybox", "ports": [{"containerPort": 9000}]}],
		"containers": [{"name": "web", "image": "nginx", "ports": ports}],
	}}},
}

test_fires_on_host_port if {
	v := host_ports.violations with input as deployment([{"containerPort": 80}, {"containerPort": 8080, "hostPort": 8080}])
	v == {{
		"msg": "container \"web\" sets hostPort 8080; remove hostPort (use a Service to expose the port)",
		"path": ["spec", "template", "spec", "containers", 0, "ports", 1, "hostPort"],
	}}
}

test_fires_once_per_port_and_container_kind if {
	pod := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {
		"initContainers": [{"name": "setup", "ports": [{"containerPort": 1, "hostPort": 1}]}],
		"containers": [{"name": "web", "ports": [{"containerPort": 2, "hostPort": 2}, {"containerPort": 3, "hostPort": 3}]}],
		"ephemeralContainers": [{"name": "debug", "ports": [{"containerPort": 4, "hostPort": 4}]}],
	}}
	v := host_ports.violations with input as pod
	{f.path | some f in v} == {
		["spec", "initContainers", 0, "ports", 0, "hostPort"],
		["spec", "containers", 0, "ports", 0, "hostPort"],
		["spec", "containers", 0, "ports", 1, "hostPort"],
		["spec", "ephemeralContainers", 0, "ports", 0, "hostPort"],
	}
}

test_fires_on_negative_host_port if {
	# Only 0 is allowed; the API rejects negatives, upstream's check still flags them.
	count(host_ports.violations) == 1 with input as deployment([{"containerPort": 80, "hostPort": -1}])
}

test_passes_on_zero_null_or_absent_host_port if {
	count(host_ports.violations) == 0 with input as deployment([{"containerPort": 80, "hostPort": 0}])
	count(host_ports.violations) == 0 with input as deployment([{"containerPort": 80, "hostPort": null}])
	count(host_ports.violations) == 0 with input as deployment([{"containerPort": 80}])
	count(host_ports.violations) == 0 with input as deployment(null)
	count(host_ports.violations) == 0 with input as deployment([null])
}

test_passes_on_non_workloads if {
	count(host_ports.violations) == 0 with input as {"kind": "Service", "spec": {"ports": [{"port": 80, "hostPort": 80}]}}
}
