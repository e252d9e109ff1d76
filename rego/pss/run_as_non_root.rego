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

# Upstream (check_runAsNonRoot.go): the pod must not set runAsNonRoot: false,
# no container (init and ephemeral included) may set it to false, and a
# container that leaves it unset needs the pod to set true. From v1.35 a pod
# in a user namespace (spec.hostUsers: false) is exempt, unconditionally (no
# feature gate); before v1.35 it is checked like any other, so its
# violations hold for v1.0..v1.34 only.

# The rule bodies below build {"msg", "path"} objects into found; in a user
# namespace they then carry versions [0, 34]. Deciding that once per resource
# is cheaper than a function with a body per case for every violation.
violations := {object.union(v, {"versions": [0, 34]}) | some v in found} if k8s.user_namespaced else := found

pod_field := array.concat(k8s.pod_spec_path, ["securityContext", "runAsNonRoot"])

# The pod leaves runAsNonRoot unset (or sets it to null or to a non-boolean,
# which Go reads as unset). `not x == v` is true when x is undefined.
pod_unset if {
	not k8s.pod_spec.securityContext.runAsNonRoot == true
	not k8s.pod_spec.securityContext.runAsNonRoot == false
}

# Some container sets runAsNonRoot (true or false), so the fix for the
# others can be written beside it; otherwise it belongs in the pod's
# securityContext.
container_sets if {
	some c in k8s.containers
	is_boolean(c.container.securityContext.runAsNonRoot)
}

found contains {"msg": msg, "path": pod_field} if {
	k8s.pod_spec.securityContext.runAsNonRoot == false
	msg := sprintf("pod sets securityContext.runAsNonRoot: false; set runAsNonRoot: true%s", [k8s.userns_note])
}

found contains {"msg": msg, "path": path} if {
	some c in k8s.containers
	c.container.securityContext.runAsNonRoot == false
	path := array.concat(c.path, ["securityContext", "runAsNonRoot"])
	msg := sprintf("%s sets securityContext.runAsNonRoot: false; set runAsNonRoot: true%s", [c.label, k8s.userns_note])
}

# A container that leaves runAsNonRoot unset inherits the pod's. When the
# pod sets false, the violation above already covers it.
found contains {"msg": msg, "path": path} if {
	pod_unset
	container_sets
	some c in k8s.containers
	not c.container.securityContext.runAsNonRoot == true
	not c.container.securityContext.runAsNonRoot == false
	path := array.concat(c.path, ["securityContext", "runAsNonRoot"])
	msg := sprintf("%s does not set securityContext.runAsNonRoot and neither does the pod; set runAsNonRoot: true in the container's securityContext, or in the pod's%s", [c.label, k8s.userns_note])
}

found contains {"msg": msg, "path": pod_field} if {
	pod_unset
	not container_sets
	some c in k8s.containers
	msg := sprintf("%s does not set securityContext.runAsNonRoot and neither does the pod; set runAsNonRoot: true in the pod's securityContext%s", [c.label, k8s.userns_note])
}
