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
#   fix: Set securityContext.capabilities.drop to ["ALL"] and add nothing but NET_BIND_SERVICE.
package kubegate.rules.pss.capabilities_restricted

import rego.v1

import data.kubegate.lib.kubernetes as k8s

# Windows pods are exempt (policy v1.25+): the API rejects the field for them.
windows if k8s.pod_spec.os.name == "windows"

drops_all(container) if "ALL" in container.securityContext.capabilities.drop

violations contains {"msg": msg, "path": path} if {
	not windows
	some c in k8s.containers
	not drops_all(c.container)
	path := array.concat(c.path, ["securityContext", "capabilities", "drop"])
	msg := sprintf("%s does not drop all capabilities; add \"ALL\" to securityContext.capabilities.drop", [k8s.container_label(c)])
}

violations contains {"msg": msg, "path": path} if {
	not windows
	some c in k8s.containers
	some j, capability in c.container.securityContext.capabilities.add
	capability != "NET_BIND_SERVICE"
	path := array.concat(c.path, ["securityContext", "capabilities", "add", j])
	msg := sprintf("%s adds capability %q in securityContext.capabilities.add; remove it (Restricted allows adding only NET_BIND_SERVICE)", [k8s.container_label(c), capability])
}
