# METADATA
# title: HostPath volumes
# description: >-
#   A hostPath volume mounts a directory of the node into the pod, which can
#   expose the container runtime socket, credentials or other pods' data and
#   is a common way to escape to the node. The Baseline Pod Security Standard
#   forbids it.
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
# custom:
#   kinds: [workloads]
#   id: pss.hostPathVolumes
#   severity: error
#   level: baseline
#   fix: Replace the hostPath volume with a configMap, secret, emptyDir or persistentVolumeClaim volume.
package kubegate.rules.pss.host_path_volumes

import rego.v1

import data.kubegate.lib.kubernetes as k8s

violations contains {"msg": msg, "path": path} if {
	some i, volume in k8s.pod_spec.volumes
	volume.hostPath != null
	path := k8s.pod_path(["volumes", i, "hostPath"])
	name := object.get(volume, "name", "")
	host_path := object.get(volume.hostPath, "path", "")
	msg := sprintf("volume %q mounts host path %q from the node; use a configMap, secret, emptyDir or persistentVolumeClaim volume instead", [name, host_path])
}
