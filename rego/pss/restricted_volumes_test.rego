package kubegate.rules.pss.restricted_volumes_test

import rego.v1

import data.kubegate.rules.pss.restricted_volumes

deployment(volumes) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web"},
	"spec": {"template": {"spec": {
		"containers": [{"name": "web", "image": "nginx"}],
		"volumes": volumes,
	}}},
}

field(rest) := array.concat(["spec", "template", "spec", "volumes"], rest)

test_fires_on_host_path if {
	v := restricted_volumes.violations with input as deployment([
		{"name": "cache", "emptyDir": {}},
		{"name": "docker", "hostPath": {"path": "/var/run/docker.sock"}},
	])
	v == {{
		"msg": "volume \"docker\" uses the restricted volume type hostPath; use a configMap, secret, emptyDir, projected, downwardAPI, csi, ephemeral, image or persistentVolumeClaim volume instead",
		"path": field([1, "hostPath"]),
	}}
}

test_fires_on_every_restricted_type if {
	volumes := [{"name": t, t: {}} | some t in restricted_volumes.restricted]
	v := restricted_volumes.violations with input as deployment(volumes)
	{f.path | some f in v} == {field([i, t]) | some i, t in restricted_volumes.restricted}
}

test_fires_on_first_restricted_type_in_upstream_order if {
	v := restricted_volumes.violations with input as deployment([{"name": "x", "nfs": {"server": "s", "path": "/"}, "gitRepo": {"repository": "r"}}])
	{f.path | some f in v} == {field([0, "gitRepo"])}
}

test_fires_on_volume_without_source if {
	v := restricted_volumes.violations with input as deployment([{"name": "empty"}, {"name": "nulled", "emptyDir": null, "hostPath": null}, null, {"name": "odd", "somethingNew": {}}])
	v == {
		{
			"msg": "volume \"empty\" sets none of the allowed volume types; make it a configMap, secret, emptyDir, projected, downwardAPI, csi, ephemeral, image or persistentVolumeClaim volume",
			"path": field([0]),
		},
		{
			"msg": "volume \"nulled\" sets none of the allowed volume types; make it a configMap, secret, emptyDir, projected, downwardAPI, csi, ephemeral, image or persistentVolumeClaim volume",
			"path": field([1]),
		},
		{
			"msg": "volume \"\" sets none of the allowed volume types; make it a configMap, secret, emptyDir, projected, downwardAPI, csi, ephemeral, image or persistentVolumeClaim volume",
			"path": field([2]),
		},
		{
			"msg": "volume \"odd\" sets none of the allowed volume types; make it a configMap, secret, emptyDir, projected, downwardAPI, csi, ephemeral, image or persistentVolumeClaim volume",
			"path": field([3]),
		},
	}
}

test_fires_on_pod if {
	pod := {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "web"}], "volumes": [{"name": "d", "awsElasticBlockStore": {"volumeID": "v"}}]}}
	v := restricted_volumes.violations with input as pod
	{f.path | some f in v} == {["spec", "volumes", 0, "awsElasticBlockStore"]}
}

test_passes_on_allowed_types if {
	volumes := [{"name": t, t: {}} | some t in restricted_volumes.allowed]
	count(restricted_volumes.violations) == 0 with input as deployment(volumes)
}

test_passes_on_restricted_type_beside_an_allowed_one if {
	# Upstream's switch accepts a volume as soon as one allowed source is set.
	count(restricted_volumes.violations) == 0 with input as deployment([{"name": "x", "hostPath": {"path": "/"}, "emptyDir": {}}])
}

test_passes_without_volumes if {
	count(restricted_volumes.violations) == 0 with input as deployment([])
	count(restricted_volumes.violations) == 0 with input as deployment(null)
}

test_passes_on_non_workloads if {
	count(restricted_volumes.violations) == 0 with input as {"kind": "PersistentVolume", "metadata": {"name": "pv"}, "spec": {"hostPath": {"path": "/"}}}
}

test_passes_allowed_source_agrees_with_allowed if {
	{source | some source in restricted_volumes.allowed} == {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image", "persistentVolumeClaim", "projected", "secret"}
	every source in restricted_volumes.allowed {
		restricted_volumes.allowed_source({source: {}})
	}
}
