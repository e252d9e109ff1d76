# METADATA
# title: Host namespaces
# description: >-
#   A pod that shares the node's network, process or IPC namespace can see and
#   talk to everything else on the node: sniff its traffic, signal its
#   processes, read its shared memory. The Baseline Pod Security Standard
#   forbids it.
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
# custom:
#   kinds: [workloads]
#   id: pss.hostNamespaces
#   severity: error
#   level: baseline
#   fix: Remove hostNetwork, hostPID and hostIPC from the pod spec, or set them to false.
package kubegate.rules.pss.host_namespaces

import rego.v1

import data.kubegate.lib.kubernetes as k8s

# What sharing each namespace hands to the pod, for the message.
shares := {
	"hostNetwork": "the node's network namespace",
	"hostPID": "the node's process namespace",
	"hostIPC": "the node's IPC namespace",
}

# Upstream policy/check_hostNamespaces.go (v1.0+): only true is forbidden
# (a bool in Go, so null and absent are false).
violations contains {"msg": msg, "path": array.concat(k8s.pod_spec_path, [field])} if {
	some field, what in shares
	k8s.pod_spec[field] == true
	msg := sprintf("pod sets %s: true and so shares %s; remove it or set %s: false", [field, what, field])
}
