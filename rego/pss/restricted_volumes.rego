# METADATA
# title: Restricted volume types
# description: >-
#   Volume types other than the ephemeral, projected and claim-based ones give
#   the pod direct access to the node's files or to network storage outside
#   the cluster's control. The Restricted Pod Security Standard allows only
#   configMap, csi, downwardAPI, emptyDir, ephemeral, image,
#   persistentVolumeClaim, projected and secret volumes.
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
# custom:
#   kinds: [workloads]
#   id: pss.restrictedVolumes
#   severity: warning
#   level: restricted
#   overrides: [pss.hostPathVolumes]
#   fix: Replace the volume with a configMap, secret, emptyDir, projected, downwardAPI, csi, ephemeral, image or persistentVolumeClaim volume.
package kubegate.rules.pss.restricted_volumes

import rego.v1

import data.kubegate.lib.kubernetes as k8s

# Upstream (check_restrictedVolumes.go), v1.0+, replacing hostPathVolumes: a
# volume passes when any of the allowed sources is set (non-null), whatever
# else it sets (so a volume setting both hostPath and emptyDir passes); any
# other volume fails, including one with no source at all.
allowed := ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image", "persistentVolumeClaim", "projected", "secret"]

# Upstream's order for naming a failing volume's type.
restricted := [
	"hostPath", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "nfs", "iscsi", "glusterfs",
	"rbd", "flexVolume", "cinder", "cephfs", "flocker", "fc", "azureFile", "vsphereVolume",
	"quobyte", "azureDisk", "photonPersistentDisk", "portworxVolume", "scaleIO", "storageos",
]

allowed_source(volume) if {
	some source in allowed
	volume[source] != null
}

violations contains {"msg": msg, "path": path} if {
	some i, volume in k8s.pod_spec.volumes
	not allowed_source(volume)
	[path, msg] := failure(i, volume)
}

# The position of each restricted type in upstream's order (restricted
# above; a test checks that they agree), so that a failing volume's first
# one is found from its own fields. Literal, so it costs nothing to evaluate.
rank := {
	"hostPath": 0, "gcePersistentDisk": 1, "awsElasticBlockStore": 2, "gitRepo": 3, "nfs": 4, "iscsi": 5, "glusterfs": 6,
	"rbd": 7, "flexVolume": 8, "cinder": 9, "cephfs": 10, "flocker": 11, "fc": 12, "azureFile": 13, "vsphereVolume": 14,
	"quobyte": 15, "azureDisk": 16, "photonPersistentDisk": 17, "portworxVolume": 18, "scaleIO": 19, "storageos": 20,
}

# The path and message for a failing volume: its first restricted type
# (set, non-null) in upstream's order, or the volume itself when it sets
# none.
failure(i, volume) := [array.concat(k8s.pod_spec_path, ["volumes", i, type]), msg] if {
	ranked := sort([[rank[t], t] | some t, value in volume; value != null; rank[t]])
	type := ranked[0][1]
	msg := sprintf("volume %q uses the restricted volume type %s; use a configMap, secret, emptyDir, projected, downwardAPI, csi, ephemeral, image or persistentVolumeClaim volume instead", [volume_name(volume), type])
} else := [array.concat(k8s.pod_spec_path, ["volumes", i]), msg] if {
	msg := sprintf("volume %q sets none of the allowed volume types; make it a configMap, secret, emptyDir, projected, downwardAPI, csi, ephemeral, image or persistentVolumeClaim volume", [volume_name(volume)])
}

volume_name(volume) := n if {
	n := volume.name
	is_string(n)
} else := ""
