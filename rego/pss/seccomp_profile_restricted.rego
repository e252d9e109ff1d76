# METADATA
# title: Seccomp profile not restricted
# description: >-
#   Without a seccomp profile a container can make every system call, including
#   the rarely needed ones where most kernel exploits live. The Restricted Pod
#   Security Standard requires the RuntimeDefault or a Localhost profile, set
#   on the pod or on every container.
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
# custom:
#   kinds: [workloads]
#   id: pss.seccompProfile_restricted
#   severity: warning
#   level: restricted
#   fix: Set securityContext.seccompProfile.type to RuntimeDefault in the pod's securityContext and remove other types from the containers.
package kubegate.rules.pss.seccomp_profile_restricted

import rego.v1

import data.kubegate.lib.kubernetes as k8s

allowed := {"RuntimeDefault", "Localhost"}

# Windows pods are exempt (policy v1.25+): the API rejects the field for them.
windows if k8s.pod_spec.os.name == "windows"

# As upstream, a seccompProfile without a type counts as set, to "".
pod_profile := object.get(k8s.pod_spec, ["securityContext", "seccompProfile"], null)

pod_field := k8s.pod_path(["securityContext", "seccompProfile", "type"])

container_profile(c) := object.get(c.container, ["securityContext", "seccompProfile"], null)

field_path(c) := array.concat(c.path, ["securityContext", "seccompProfile", "type"])

# What an invalid profile sets, for the message.
setting(profile) := sprintf("securityContext.seccompProfile.type: %v", [profile.type]) if {
	object.get(profile, "type", "") != ""
} else := "securityContext.seccompProfile without a type"

# Some container sets a seccompProfile itself, so the fix for the others can
# be written beside it; otherwise it belongs in the pod's securityContext.
container_sets if {
	some c in k8s.containers
	container_profile(c) != null
}

violations contains {"msg": msg, "path": pod_field} if {
	not windows
	pod_profile != null
	not object.get(pod_profile, "type", "") in allowed
	msg := sprintf("pod sets %s; set it to RuntimeDefault (or Localhost with a localhostProfile)", [setting(pod_profile)])
}

violations contains {"msg": msg, "path": path} if {
	not windows
	some c in k8s.containers
	profile := container_profile(c)
	profile != null
	not object.get(profile, "type", "") in allowed
	path := field_path(c)
	msg := sprintf("%s sets %s; set it to RuntimeDefault (or Localhost with a localhostProfile)", [k8s.container_label(c), setting(profile)])
}

# A container without a profile inherits the pod's. When the pod sets an
# invalid one, the violation above already covers it.
violations contains {"msg": msg, "path": path} if {
	not windows
	pod_profile == null
	some c in k8s.containers
	container_profile(c) == null
	path := implicit_path(c)
	msg := sprintf("%s has no securityContext.seccompProfile and neither does the pod; %s", [k8s.container_label(c), implicit_fix])
}

implicit_path(c) := field_path(c) if container_sets

implicit_path(_) := pod_field if not container_sets

implicit_fix := "set seccompProfile.type: RuntimeDefault in the container's securityContext, or in the pod's" if container_sets

implicit_fix := "set seccompProfile.type: RuntimeDefault in the pod's securityContext" if not container_sets
