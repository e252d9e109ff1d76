# METADATA
# title: Containers run as root by UID
# description: >-
#   runAsUser: 0 makes the container's processes run as root, one kernel or
#   runtime bug away from root on the node. The Restricted Pod Security
#   Standard forbids it on the pod and on every container.
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
# custom:
#   kinds: [workloads]
#   id: pss.runAsUser
#   severity: warning
#   level: restricted
#   min_version: 23
#   fix: Set securityContext.runAsUser to a non-zero UID, or remove it and set runAsNonRoot to true.
package kubegate.rules.pss.run_as_user

import rego.v1

import data.kubegate.lib.kubernetes as k8s

# Upstream (check_runAsUser.go), from v1.23: neither the pod nor any
# container (init and ephemeral included) may set runAsUser: 0; unset is
# fine. A pod-level 0 is forbidden even when every container overrides it.
# From v1.35 a pod in a user namespace (spec.hostUsers: false) is exempt,
# unconditionally (no feature gate), so its violations hold for v1.23..v1.34.

violations contains violation(msg, path) if {
	k8s.pod_spec.securityContext.runAsUser == 0
	path := array.concat(k8s.pod_spec_path, ["securityContext", "runAsUser"])
	msg := sprintf("pod sets securityContext.runAsUser: 0 (root); set a non-zero UID such as 1000, or remove it%s", [k8s.userns_note])
}

violations contains violation(msg, path) if {
	some c in k8s.containers
	c.container.securityContext.runAsUser == 0
	path := array.concat(c.path, ["securityContext", "runAsUser"])
	msg := sprintf("%s sets securityContext.runAsUser: 0 (root); set a non-zero UID such as 1000, or remove it%s", [c.label, k8s.userns_note])
}

violation(msg, path) := {"msg": msg, "path": path, "versions": [23, 34]} if k8s.user_namespaced

violation(msg, path) := {"msg": msg, "path": path} if not k8s.user_namespaced

