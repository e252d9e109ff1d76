# METADATA
# title: Capabilities not dropped
# description: >-
#   Every Linux capability a container keeps widens what an attacker inside it
#   can do to the kernel and the node. The Restricted Pod Security Standard
#   requires each container to drop ALL capabilities and to add back at most
#   NET_BIND_SERVICE.
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
# custom:
#   kinds: [workloads]
#   id: pss.capabilities_restricted
#   severity: warning
#   level: restricted
#   min_version: 22
#   overrides: [pss.capabilities_baseline]
#   fix: Set securityContext.capabilities.drop to ["ALL"] and add nothing but NET_BIND_SERVICE.
package kubegate.rules.pss.capabilities_restricted

import rego.v1

import data.kubegate.lib.kubernetes as k8s

# Upstream policy/check_capabilities_restricted.go: v1.22+ requires "ALL"
# (exactly) in capabilities.drop of every container, initContainer and
# ephemeralContainer, and nothing but NET_BIND_SERVICE in capabilities.add;
# from v1.25, pods with spec.os.name: windows are exempt, so their
# violations hold only up to v1.24.

# The rule bodies below build {"msg", "path"} objects into found; a Windows
# pod's violations then carry versions [0, 24]. Deciding that once per
# resource is cheaper than a function with a body per case per violation.
violations := {object.union(v, {"versions": k8s.until(24)}) | some v in found} if k8s.windows else := found

# A function, so that a missing securityContext or capabilities (undefined)
# counts as not dropping ALL.
drops_all(container) if "ALL" in container.securityContext.capabilities.drop

found contains {"msg": msg, "path": path} if {
	some c in k8s.containers
	not drops_all(c.container)
	path := array.concat(c.path, ["securityContext", "capabilities", "drop"])
	msg := sprintf("%s %s; set securityContext.capabilities.drop: [\"ALL\"]", [c.label, drop_problem(c.container)])
}

drop_problem(container) := "does not drop ALL capabilities in securityContext.capabilities.drop" if {
	count(container.securityContext.capabilities.drop) > 0
} else := "does not set securityContext.capabilities.drop"

found contains {"msg": msg, "path": path} if {
	some c in k8s.containers
	some j, capability in c.container.securityContext.capabilities.add
	capability != "NET_BIND_SERVICE"
	path := array.concat(c.path, ["securityContext", "capabilities", "add", j])
	msg := sprintf("%s adds capability %q in securityContext.capabilities.add; remove it (Restricted allows adding only NET_BIND_SERVICE)", [c.label, k8s.as_string(capability)])
}
