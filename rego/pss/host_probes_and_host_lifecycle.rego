# METADATA
# title: Host in probes and lifecycle handlers
# description: >-
#   A host in an httpGet or tcpSocket probe or lifecycle handler makes the
#   kubelet open connections from the node to any address, which a pod author
#   can use to reach services on the node or elsewhere in the network that the
#   pod itself could not. The Baseline Pod Security Standard (from v1.34)
#   forbids it.
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
# custom:
#   kinds: [workloads]
#   id: pss.hostProbesAndHostLifecycle
#   severity: error
#   level: baseline
#   min_version: 34
#   fix: Remove host from httpGet and tcpSocket in the container's probes and lifecycle handlers, so that they target the pod's own IP.
package kubegate.rules.pss.host_probes_and_host_lifecycle

import rego.v1

import data.kubegate.lib.kubernetes as k8s

# Upstream policy/check_hostProbesAndhostLifecycle.go (v1.34+): a non-empty
# host (a string in Go, so null is "") in httpGet or tcpSocket of the
# liveness, readiness and startup probes and of the postStart and preStop
# handlers, in containers, initContainers and ephemeralContainers.
handlers := ["httpGet", "tcpSocket"]

violations contains {"msg": msg, "path": path} if {
	some c in k8s.containers
	some probe in ["livenessProbe", "readinessProbe", "startupProbe"]
	actions := c.container[probe]
	some handler in handlers
	host := actions[handler].host
	is_string(host)
	host != ""
	path := array.concat(c.path, [probe, handler, "host"])
	msg := sprintf("%s sets %s.%s.host %q; remove host so that the kubelet probes the pod's own IP", [c.label, probe, handler, host])
}

violations contains {"msg": msg, "path": path} if {
	some c in k8s.containers
	lifecycle := c.container.lifecycle
	some hook in ["postStart", "preStop"]
	actions := lifecycle[hook]
	some handler in handlers
	host := actions[handler].host
	is_string(host)
	host != ""
	path := array.concat(c.path, ["lifecycle", hook, handler, "host"])
	msg := sprintf("%s sets lifecycle.%s.%s.host %q; remove host so that the handler targets the pod's own IP", [c.label, hook, handler, host])
}
