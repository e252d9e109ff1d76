package kubegate.rules.pss.host_probes_and_host_lifecycle_test

import rego.v1

import data.kubegate.rules.pss.host_probes_and_host_lifecycle

deployment(container) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web"},
	"spec": {"template": {"spec": {"containers": [object.union({"name": "web", "image": "nginx"}, container)]}}},
}

field(rest) := array.concat(["spec", "template", "spec", "containers", 0], rest)

test_fires_on_liveness_http_get_host if {
	v := host_probes_and_host_lifecycle.violations with input as deployment({"livenessProbe": {"httpGet": {"host": "bad.host", "port": 8080}}})
	v == {{
		"msg": "container \"web\" sets livenessProbe.httpGet.host \"bad.host\"; remove host so that the kubelet probes the pod's own IP",
		"path": field(["livenessProbe", "httpGet", "host"]),
	}}
}

test_fires_on_post_start_http_get_host if {
	v := host_probes_and_host_lifecycle.violations with input as deployment({"lifecycle": {"postStart": {"httpGet": {"host": "bad.host", "port": 8080}}}})
	v == {{
		"msg": "container \"web\" sets lifecycle.postStart.httpGet.host \"bad.host\"; remove host so that the handler targets the pod's own IP",
		"path": field(["lifecycle", "postStart", "httpGet", "host"]),
	}}
}

test_fires_on_every_probe_and_handler if {
	v := host_probes_and_host_lifecycle.violations with input as deployment({
		"livenessProbe": {"tcpSocket": {"host": "127.0.0.1", "port": 1}},
		"readinessProbe": {"tcpSocket": {"host": "::1", "port": 1}, "httpGet": {"host": "a", "port": 1}},
		"startupProbe": {"httpGet": {"host": "b", "port": 1}},
		"lifecycle": {"preStop": {"tcpSocket": {"host": "c", "port": 1}}},
	})
	{f.path | some f in v} == {
		field(["livenessProbe", "tcpSocket", "host"]),
		field(["readinessProbe", "tcpSocket", "host"]),
		field(["readinessProbe", "httpGet", "host"]),
		field(["startupProbe", "httpGet", "host"]),
		field(["lifecycle", "preStop", "tcpSocket", "host"]),
	}
}

test_fires_on_init_and_ephemeral_containers_of_pod if {
	pod := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {
		"initContainers": [{"name": "sidecar", "restartPolicy": "Always", "readinessProbe": {"tcpSocket": {"host": "8.8.8.8", "port": 8080}}}],
		"containers": [{"name": "web"}],
		"ephemeralContainers": [{"name": "debug", "lifecycle": {"preStop": {"httpGet": {"host": "x", "port": 1}}}}],
	}}
	v := host_probes_and_host_lifecycle.violations with input as pod
	{f.path | some f in v} == {
		["spec", "initContainers", 0, "readinessProbe", "tcpSocket", "host"],
		["spec", "ephemeralContainers", 0, "lifecycle", "preStop", "httpGet", "host"],
	}
}

test_passes_without_host if {
	count(host_probes_and_host_lifecycle.violations) == 0 with input as deployment({})
	count(host_probes_and_host_lifecycle.violations) == 0 with input as deployment({"livenessProbe": {"httpGet": {"port": 8080}}})
	count(host_probes_and_host_lifecycle.violations) == 0 with input as deployment({"readinessProbe": {"tcpSocket": {"port": 8080, "host": ""}}})
	count(host_probes_and_host_lifecycle.violations) == 0 with input as deployment({"startupProbe": {"httpGet": {"port": 8080, "host": null}}})
	count(host_probes_and_host_lifecycle.violations) == 0 with input as deployment({"lifecycle": {"postStart": {"exec": {"command": ["true"]}}, "preStop": null}})
	count(host_probes_and_host_lifecycle.violations) == 0 with input as deployment({"livenessProbe": {"grpc": {"port": 8080}}})
}

test_passes_on_unchecked_fields if {
	# Only the host of httpGet and tcpSocket counts; an httpGet header naming a host does not.
	count(host_probes_and_host_lifecycle.violations) == 0 with input as deployment({"livenessProbe": {"httpGet": {"port": 80, "httpHeaders": [{"name": "Host", "value": "example.com"}]}}})
}

test_passes_on_non_workloads if {
	count(host_probes_and_host_lifecycle.violations) == 0 with input as {"kind": "ConfigMap", "data": {"livenessProbe": "x"}}
}
