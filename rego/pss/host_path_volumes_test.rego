package kubegate.rules.pss.host_path_volumes_test

import rego.v1

import data.kubegate.rules.pss.host_path_volumes

deployment(volumes) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web"},
	"spec": {"template": {"spec": {
		"containers": [{"name": "web", "image": "nginx"}],
		"volumes": volumes,
	}}},
}

test_fires_on_host_path_volume if {
	v := host_path_volumes.violations with input as deployment([
		{"name": "cache", "emptyDir": {}},
		{"name": "docker", "hostPath": {"path": "/var/run/docker.sock", "type": "Socket"}},
	])
	v == {{
		"msg": "volume \"docker\" mounts host path \"/var/run/docker.sock\" from the node; use a configMap, secret, emptyDir or persistentVolumeClaim volume instead",
		"path": ["spec", "template", "spec", "volumes", 1, "hostPath"],
	}}
}

test_fires_once_per_volume_of_pod if {
	pod := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {
		"containers": [{"name": "web"}],
		"volumes": [{"name": "a", "hostPath": {"path": "/etc"}}, {"name": "b", "hostPath": {"path": "/var/log"}}],
	}}
	v := host_path_volumes.violations with input as pod
	{f.path | some f in v} == {["spec", "volumes", 0, "hostPath"], ["spec", "volumes", 1, "hostPath"]}
}

test_fires_on_host_path_without_path if {
	v := host_path_volumes.violations with input as deployment([{"name": "odd", "hostPath": {}}])
	{f.path | some f in v} == {["spec", "template", "spec", "volumes", 0, "hostPath"]}
}

test_fires_on_null_path_but_not_null_host_path if {
	v := host_path_volumes.violations with input as deployment([{"name": "n", "hostPath": null}, {"name": "odd", "hostPath": {"path": null}}])
	v == {{
		"msg": "volume \"odd\" mounts a host path from the node; use a configMap, secret, emptyDir or persistentVolumeClaim volume instead",
		"path": ["spec", "template", "spec", "volumes", 1, "hostPath"],
	}}
}

test_passes_without_host_path_volumes if {
	count(host_path_volumes.violations) == 0 with input as deployment([
		{"name": "cache", "emptyDir": {}},
		{"name": "config", "configMap": {"name": "web"}},
	])
	count(host_path_volumes.violations) == 0 with input as deployment([])
	count(host_path_volumes.violations) == 0 with input as deployment(null)
	count(host_path_volumes.violations) == 0 with input as {"kind": "Pod", "spec": {"containers": [{"name": "web"}]}}
}

test_passes_on_non_workloads if {
	count(host_path_volumes.violations) == 0 with input as {"kind": "PersistentVolume", "spec": {"volumes": [{"name": "x", "hostPath": {"path": "/data"}}]}}
}
