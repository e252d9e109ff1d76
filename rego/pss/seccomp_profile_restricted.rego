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

windows if k8s.pod_spec.os.name == "windows"

# The pod's and each container's seccompProfile, null when unset. Total
# (never undefined), since they are used under `not`.
pod_profile := p if {
	p := k8s.pod_spec.securityContext.seccompProfile
} else := null

container_profile(c) := p if {
	p := c.container.securityContext.seccompProfile
} else := null

# The profile's type as Go reads it: unset or null is "".
profile_type(profile) := t if {
	t := profile.type
	is_string(t)
} else := ""

pod_field := k8s.pod_path(["securityContext", "seccompProfile", "type"])

field_path(c) := array.concat(c.path, ["securityContext", "seccompProfile", "type"])

# What an invalid profile sets, for the message.
setting(profile) := sprintf("securityContext.seccompProfile.type: %s", [profile_type(profile)]) if {
	profile_type(profile) != ""
} else := "securityContext.seccompProfile without a type"

# Some container sets a seccompProfile itself, so the fix for the others can
# be written beside it; otherwise it belongs in the pod's securityContext.
container_sets if {
	some c in k8s.containers
	container_profile(c) != null
}

violations contains violation(msg, pod_field) if {
	pod_profile != null
	not profile_type(pod_profile) in allowed
	msg := sprintf("pod sets %s; set it to RuntimeDefault (or Localhost with a localhostProfile)%s", [setting(pod_profile), windows_note])
}

violations contains violation(msg, path) if {
	some c in k8s.containers
	profile := container_profile(c)
	profile != null
	not profile_type(profile) in allowed
	path := field_path(c)
	msg := sprintf("%s sets %s; set it to RuntimeDefault (or Localhost with a localhostProfile)%s", [k8s.container_ref(c), setting(profile), windows_note])
}

# A container without a profile inherits the pod's. When the pod sets an
# invalid one, the violation above already covers it.
violations contains violation(msg, path) if {
	pod_profile == null
	some c in k8s.containers
	container_profile(c) == null
	path := implicit_path(c)
	msg := sprintf("%s has no securityContext.seccompProfile and neither does the pod; %s%s", [k8s.container_ref(c), implicit_fix, windows_note])
}

implicit_path(c) := field_path(c) if container_sets

implicit_path(_) := pod_field if not container_sets

implicit_fix := "set seccompProfile.type: RuntimeDefault in the container's securityContext, or in the pod's" if container_sets

implicit_fix := "set seccompProfile.type: RuntimeDefault in the pod's securityContext" if not container_sets

violation(msg, path) := {"msg": msg, "path": path, "versions": [19, 24]} if windows

violation(msg, path) := {"msg": msg, "path": path} if not windows

windows_note := " (Windows pods are exempt from policy v1.25 on)" if windows

windows_note := "" if not windows
