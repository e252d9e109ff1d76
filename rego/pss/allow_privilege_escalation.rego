# METADATA
# title: Privilege escalation allowed
# description: >-
#   Unless allowPrivilegeEscalation is false, a process in the container can
#   gain more privileges than its parent, for example through a setuid binary.
#   The Restricted Pod Security Standard requires every container to turn it
#   off explicitly, because the default allows it.
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
# custom:
#   kinds: [workloads]
#   id: pss.allowPrivilegeEscalation
#   severity: warning
#   level: restricted
#   fix: Set securityContext.allowPrivilegeEscalation to false on every container.
package kubegate.rules.pss.allow_privilege_escalation

import rego.v1

import data.kubegate.lib.kubernetes as k8s

# Windows pods are exempt (policy v1.25+): the API rejects the field for them.
windows if k8s.pod_spec.os.name == "windows"

violations contains {"msg": msg, "path": path} if {
	not windows
	some c in k8s.containers
	not c.container.securityContext.allowPrivilegeEscalation == false
	path := array.concat(c.path, ["securityContext", "allowPrivilegeEscalation"])
	msg := sprintf("%s %s; set securityContext.allowPrivilegeEscalation: false", [k8s.container_label(c), problem(c.container)])
}

problem(container) := "sets securityContext.allowPrivilegeEscalation: true" if {
	container.securityContext.allowPrivilegeEscalation == true
} else := "does not set securityContext.allowPrivilegeEscalation, which defaults to true"
