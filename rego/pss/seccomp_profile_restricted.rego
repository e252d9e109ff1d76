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
#   min_version: 19
#   overrides: [pss.seccompProfile_baseline]
#   fix: Set securityContext.seccompProfile.type to RuntimeDefault in the pod's securityContext and remove other types from the containers.
package kubegate.rules.pss.seccomp_profile_restricted

import rego.v1

import data.kubegate.lib.kubernetes as k8s

# Upstream (check_seccompProfile_restricted.go), from v1.19, replacing
# seccompProfile_baseline: a seccompProfile set on the pod or on a container
# (init and ephemeral included) must have type RuntimeDefault or Localhost (a
# profile without a type counts as type ""), and a container without one
# needs a valid pod-level profile. The seccomp annotations are not looked at.
# From v1.25 a pod with spec.os.name: windows is exempt, so its violations
# hold for v1.19..v1.24 only.
allowed := {"RuntimeDefault", "Localhost"}

# The rule bodies below build {"msg", "path"} objects into found; a Windows
# pod's violations then carry versions [19, 24]. Deciding that once per
# resource is cheaper than a function with a body per case per violation.
violations := {object.union(v, {"versions": [19, 24]}) | some v in found} if k8s.windows else := found

# The pod's seccompProfile, null when unset. Total (never undefined).
pod_profile := p if {
	p := k8s.pod_spec.securityContext.seccompProfile
} else := null

# The profile's type as Go reads it: unset or null is "".
profile_type(profile) := t if {
	t := profile.type
	is_string(t)
} else := ""

pod_field := array.concat(k8s.pod_spec_path, ["securityContext", "seccompProfile", "type"])

# What an invalid profile sets, for the message.
setting(profile) := sprintf("securityContext.seccompProfile.type: %s", [profile_type(profile)]) if {
	profile_type(profile) != ""
} else := "securityContext.seccompProfile without a type"

# The index of every container that sets a seccompProfile (non-null). A
# container outside it has none of its own; some container sets one when it
# is not empty, so the fix for the others can be written beside it;
# otherwise it belongs in the pod's securityContext.
set_at := {i | some i, c in k8s.containers; c.container.securityContext.seccompProfile != null}

container_sets if count(set_at) > 0

# A set profile is valid when its type is RuntimeDefault or Localhost (an
# unset, null or non-string type, which Go reads as "", is not). Written as
# `not ... == ...` because that is true for an undefined type, where `not
# t in allowed` would not be.
found contains {"msg": msg, "path": pod_field} if {
	pod_profile != null
	not pod_profile.type == "RuntimeDefault"
	not pod_profile.type == "Localhost"
	msg := sprintf("pod sets %s; set it to RuntimeDefault (or Localhost with a localhostProfile)%s", [setting(pod_profile), k8s.windows_note])
}

found contains {"msg": msg, "path": path} if {
	some i in set_at
	c := k8s.containers[i]
	profile := c.container.securityContext.seccompProfile
	not profile.type == "RuntimeDefault"
	not profile.type == "Localhost"
	path := array.concat(c.path, ["securityContext", "seccompProfile", "type"])
	msg := sprintf("%s sets %s; set it to RuntimeDefault (or Localhost with a localhostProfile)%s", [c.label, setting(profile), k8s.windows_note])
}

# A container without a profile inherits the pod's. When the pod sets an
# invalid one, the violation above already covers it.
found contains {"msg": msg, "path": path} if {
	pod_profile == null
	container_sets
	some i, c in k8s.containers
	not set_at[i]
	path := array.concat(c.path, ["securityContext", "seccompProfile", "type"])
	msg := concat("", [c.label, " has no securityContext.seccompProfile and neither does the pod; set seccompProfile.type: RuntimeDefault in the container's securityContext, or in the pod's", k8s.windows_note])
}

found contains {"msg": msg, "path": pod_field} if {
	pod_profile == null
	not container_sets
	some c in k8s.containers
	msg := concat("", [c.label, " has no securityContext.seccompProfile and neither does the pod; set seccompProfile.type: RuntimeDefault in the pod's securityContext", k8s.windows_note])
}
