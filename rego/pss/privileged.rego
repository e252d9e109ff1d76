# METADATA
# title: Privileged containers
# description: >-
#   A privileged container runs with every capability and full access to the
#   host's devices: escaping it to the node is trivial. The Baseline Pod
#   Security Standard forbids it.
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
# custom:
#   kinds: [workloads]
#   id: pss.privileged
#   severity: error
#   level: baseline
#   fix: Remove securityContext.privileged, or set it to false.
package kubegate.rules.pss.privileged

import rego.v1

import data.kubegate.lib.kubernetes as k8s

# Upstream policy/check_privileged.go (v1.0+): only an explicit true is
# forbidden, in containers, initContainers and ephemeralContainers.
violations contains {"msg": msg, "path": path} if {
	some c in k8s.containers
	c.container.securityContext.privileged == true
	path := array.concat(c.path, ["securityContext", "privileged"])
	msg := sprintf("%s sets securityContext.privileged: true; remove it or set privileged: false", [c.label])
}
