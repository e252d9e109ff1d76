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
	name := volume_name(volume)
	types := [t | some t in restricted; volume[t] != null]
	path := volume_path(i, types)
	msg := message(name, types)
}

volume_name(volume) := n if {
	n := volume.name
	is_string(n)
} else := ""

volume_path(i, types) := k8s.pod_path(["volumes", i, types[0]]) if count(types) > 0

volume_path(i, types) := k8s.pod_path(["volumes", i]) if count(types) == 0

message(name, types) := sprintf("volume %q uses the restricted volume type %s; use a configMap, secret, emptyDir, projected, downwardAPI, csi, ephemeral, image or persistentVolumeClaim volume instead", [name, types[0]]) if count(types) > 0

message(name, types) := sprintf("volume %q sets none of the allowed volume types; make it a configMap, secret, emptyDir, projected, downwardAPI, csi, ephemeral, image or persistentVolumeClaim volume", [name]) if count(types) == 0
