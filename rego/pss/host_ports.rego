# METADATA
# title: Host ports
# description: >-
#   A hostPort binds the container's port on the node's own network
#   interfaces: it bypasses network policies, can collide with other pods and
#   node services, and limits where the pod can be scheduled. The Baseline Pod
#   Security Standard forbids it.
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
# custom:
#   kinds: [workloads]
#   id: pss.hostPorts
#   severity: error
#   level: baseline
#   fix: Remove hostPort from the container's ports and expose the port with a Service.
package kubegate.rules.pss.host_ports

import rego.v1

import data.kubegate.lib.kubernetes as k8s

# Upstream policy/check_hostPorts.go (v1.0+): any hostPort other than 0 (an
# int32 in Go, so null and absent are 0), in containers, initContainers and
# ephemeralContainers.
violations contains {"msg": msg, "path": path} if {
	some c in k8s.containers
	some j, port in c.container.ports
	host_port := port.hostPort
	is_number(host_port)
	host_port != 0
	path := array.concat(c.path, ["ports", j, "hostPort"])
	msg := sprintf("%s sets hostPort %v; remove hostPort (use a Service to expose the port)", [c.label, host_port])
}
