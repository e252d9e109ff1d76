# METADATA
# title: Containers may run as root
# description: >-
#   A container that runs as root (UID 0) is one kernel or runtime bug away
#   from root on the node. The Restricted Pod Security Standard requires
#   runAsNonRoot: true, set on the pod or on every container, so that the
#   kubelet refuses to start an image that would run as root.
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
# custom:
#   kinds: [workloads]
#   id: pss.runAsNonRoot
#   severity: warning
#   level: restricted
#   fix: Set securityContext.runAsNonRoot to true in the pod's securityContext and remove runAsNonRoot false from the containers.
package kubegate.rules.pss.run_as_non_root

import rego.v1

import data.kubegate.lib.kubernetes as k8s

# Pods in a user namespace (hostUsers: false) are exempt (policy v1.34+):
# root in the container is not root on the node.
user_namespaced if k8s.pod_spec.hostUsers == false

pod_value := object.get(k8s.pod_spec, ["securityContext", "runAsNonRoot"], null)

pod_field := k8s.pod_path(["securityContext", "runAsNonRoot"])

container_value(c) := object.get(c.container, ["securityContext", "runAsNonRoot"], null)

# Some container sets runAsNonRoot itself, so the fix for the others can be
# written beside it; otherwise it belongs in the pod's securityContext.
container_sets if {
	some c in k8s.containers
	container_value(c) in {true, false}
}

violations contains {"msg": msg, "path": pod_field} if {
	not user_namespaced
	pod_value == false
	msg := "pod sets securityContext.runAsNonRoot: false; set runAsNonRoot: true"
}

violations contains {"msg": msg, "path": path} if {
	not user_namespaced
	some c in k8s.containers
	container_value(c) == false
	path := array.concat(c.path, ["securityContext", "runAsNonRoot"])
	msg := sprintf("%s sets securityContext.runAsNonRoot: false; set runAsNonRoot: true", [k8s.container_label(c)])
}

# A container that leaves runAsNonRoot unset inherits the pod's. When the
# pod sets false, the violation above already covers it.
violations contains {"msg": msg, "path": path} if {
	not user_namespaced
	not pod_value in {true, false}
	some c in k8s.containers
	not container_value(c) in {true, false}
	path := implicit_path(c)
	msg := sprintf("%s does not set securityContext.runAsNonRoot and neither does the pod; %s", [k8s.container_label(c), implicit_fix])
}

implicit_path(c) := array.concat(c.path, ["securityContext", "runAsNonRoot"]) if container_sets

implicit_path(_) := pod_field if not container_sets

implicit_fix := "set runAsNonRoot: true in the container's securityContext, or in the pod's" if container_sets

implicit_fix := "set runAsNonRoot: true in the pod's securityContext" if not container_sets
