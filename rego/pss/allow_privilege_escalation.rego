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
#   min_version: 8
#   fix: Set securityContext.allowPrivilegeEscalation to false on every container.
package kubegate.rules.pss.allow_privilege_escalation

import rego.v1

import data.kubegate.lib.kubernetes as k8s

# Upstream (check_allowPrivilegeEscalation.go): from v1.8 every container,
# init container and ephemeral container must set
# securityContext.allowPrivilegeEscalation: false (unset counts as true).
# From v1.25 a pod with spec.os.name: windows is exempt, so its violations
# hold for v1.8..v1.24 only.

# The rule bodies below build {"msg", "path"} objects into found; a Windows
# pod's violations then carry versions [8, 24]. Deciding that once per
# resource is cheaper than a function with a body per case per violation.
violations := {object.union(v, {"versions": [8, 24]}) | some v in found} if k8s.windows else := found

found contains {"msg": msg, "path": path} if {
	some c in k8s.containers
	c.container.securityContext.allowPrivilegeEscalation == true
	path := array.concat(c.path, ["securityContext", "allowPrivilegeEscalation"])
	msg := sprintf("%s sets securityContext.allowPrivilegeEscalation: true; set securityContext.allowPrivilegeEscalation: false%s", [c.label, k8s.windows_note])
}

# Unset, null or not a boolean. (`not x == v` is true when x is undefined.)
found contains {"msg": msg, "path": path} if {
	some c in k8s.containers
	not c.container.securityContext.allowPrivilegeEscalation == false
	not c.container.securityContext.allowPrivilegeEscalation == true
	path := array.concat(c.path, ["securityContext", "allowPrivilegeEscalation"])
	msg := sprintf("%s does not set securityContext.allowPrivilegeEscalation, which defaults to true; set securityContext.allowPrivilegeEscalation: false%s", [c.label, k8s.windows_note])
}
