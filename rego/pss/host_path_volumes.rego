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

# Upstream policy/check_hostPathVolumes.go (v1.0+): any non-null hostPath,
# even an empty one.
violations contains {"msg": msg, "path": path} if {
	some i, volume in k8s.pod_spec.volumes
	volume.hostPath != null
	path := array.concat(k8s.pod_spec_path, ["volumes", i, "hostPath"])
	name := k8s.as_string(object.get(volume, "name", ""))
	msg := sprintf("volume %q mounts %s from the node; use a configMap, secret, emptyDir or persistentVolumeClaim volume instead", [name, host_path(volume.hostPath)])
}

host_path(hp) := sprintf("host path %q", [hp.path]) if {
	is_string(hp.path)
	hp.path != ""
} else := "a host path"
