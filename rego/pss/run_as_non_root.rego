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
user_namespaced if k8s.pod_spec.hostUsers == false

# The pod's and each container's runAsNonRoot, null when unset. Total (never
# undefined, even for a null container entry), since they are used under
# `not`.
pod_value := v if {
	v := k8s.pod_spec.securityContext.runAsNonRoot
} else := null

pod_field := k8s.pod_path(["securityContext", "runAsNonRoot"])

container_value(c) := v if {
	v := c.container.securityContext.runAsNonRoot
} else := null

# Some container sets runAsNonRoot itself, so the fix for the others can be
# written beside it; otherwise it belongs in the pod's securityContext.
container_sets if {
	some c in k8s.containers
	container_value(c) in {true, false}
}

violations contains violation(msg, pod_field) if {
	pod_value == false
	msg := sprintf("pod sets securityContext.runAsNonRoot: false; set runAsNonRoot: true%s", [userns_note])
}

violations contains violation(msg, path) if {
	some c in k8s.containers
	container_value(c) == false
	path := array.concat(c.path, ["securityContext", "runAsNonRoot"])
	msg := sprintf("%s sets securityContext.runAsNonRoot: false; set runAsNonRoot: true%s", [k8s.container_ref(c), userns_note])
}

# A container that leaves runAsNonRoot unset inherits the pod's. When the
# pod sets false, the violation above already covers it.
violations contains violation(msg, path) if {
	not pod_value in {true, false}
	some c in k8s.containers
	not container_value(c) in {true, false}
	path := implicit_path(c)
	msg := sprintf("%s does not set securityContext.runAsNonRoot and neither does the pod; %s%s", [k8s.container_ref(c), implicit_fix, userns_note])
}

implicit_path(c) := array.concat(c.path, ["securityContext", "runAsNonRoot"]) if container_sets

implicit_path(_) := pod_field if not container_sets

implicit_fix := "set runAsNonRoot: true in the container's securityContext, or in the pod's" if container_sets

implicit_fix := "set runAsNonRoot: true in the pod's securityContext" if not container_sets

violation(msg, path) := {"msg": msg, "path": path, "versions": k8s.until(34)} if user_namespaced

violation(msg, path) := {"msg": msg, "path": path} if not user_namespaced

userns_note := " (pods with hostUsers: false are exempt from policy v1.35 on)" if user_namespaced

userns_note := "" if not user_namespaced
